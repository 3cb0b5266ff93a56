//! Which objects make up which endpoint (DESIGN.md, Endpoints).
//!
//! 1. Roots: every InferenceService; every Deployment matching the raw selector that is neither
//!    owned by an InferenceService nor labelled as one's child.
//! 2. Ownership: everything below a root through controlling ownerReferences (by UID).
//! 3. Names and labels: for an InferenceService, objects labelled
//!    `serving.kserve.io/inferenceservice=<name>`; for a raw Deployment, the Service, HPA and
//!    Ingress sharing its name or labelled `app=<name>` (and HPAs scaling it); with what they own.
//! 4. Selectors: pods with no owner in the snapshot that a member Deployment's selector matches
//!    (a leftover of an old ReplicaSet, say).
//! 5. Leftovers without a root: objects labelled for an InferenceService (or, with a key-only raw
//!    selector, carrying the raw label) whose root is gone form an endpoint of their own, so
//!    nothing a redeploy must clean up is invisible.
//!
//! Ownership claims first for all endpoints, then names and labels in endpoint order; each
//! object belongs to at most one endpoint.

use std::collections::{BTreeMap, HashMap};

use super::index::{Index, PodSelector};
use super::select::{RawSelector, selector_matches};
use crate::cluster::kinds::ISVC_LABEL;
use crate::cluster::model::{Kind, Mode};

pub struct Group<'a> {
    pub ns: &'a str,
    pub name: &'a str,
    pub mode: Mode,
    /// The InferenceService or Deployment; `None` for leftovers whose root is gone.
    pub root: Option<usize>,
    pub members: Vec<usize>,
}

struct Claims {
    owner: Vec<Option<usize>>,
}

impl Claims {
    fn claim(&mut self, g: usize, nodes: impl IntoIterator<Item = usize>, groups: &mut [Group]) {
        for n in nodes {
            if self.owner[n].is_none() {
                self.owner[n] = Some(g);
                groups[g].members.push(n);
            }
        }
    }
}

fn is_sibling_kind(k: Kind) -> bool {
    matches!(
        k,
        Kind::Service | Kind::HorizontalPodAutoscaler | Kind::Ingress
    )
}

pub fn group<'a>(ix: &Index<'a>, raw: &RawSelector) -> Vec<Group<'a>> {
    let nodes = &ix.nodes;
    let mut groups: Vec<Group<'a>> = Vec::new();
    for (i, n) in nodes.iter().enumerate() {
        let root_mode = match n.kind {
            Kind::InferenceService => Some(Mode::Kserve),
            Kind::Deployment
                if raw.matches(n.labels())
                    && n.label(ISVC_LABEL).is_none()
                    && !ix.owned_by_isvc(i) =>
            {
                Some(Mode::Raw)
            }
            _ => None,
        };
        if let Some(mode) = root_mode {
            groups.push(Group {
                ns: n.ns(),
                name: n.name(),
                mode,
                root: Some(i),
                members: Vec::new(),
            });
        }
    }
    groups.sort_by(|a, b| (a.ns, a.name, a.mode).cmp(&(b.ns, b.name, b.mode)));
    let mut claims = Claims {
        owner: vec![None; nodes.len()],
    };

    // 2. Ownership.
    for g in 0..groups.len() {
        if let Some(root) = groups[g].root {
            claims.claim(g, ix.descendants(root), &mut groups);
        }
    }

    // 3. Names and labels, among what is still unclaimed.
    let mut by_isvc_label: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    let mut siblings: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    for (i, n) in nodes.iter().enumerate() {
        if claims.owner[i].is_some() {
            continue;
        }
        if let Some(v) = n.label(ISVC_LABEL) {
            by_isvc_label.entry((n.ns(), v)).or_default().push(i);
        }
        if is_sibling_kind(n.kind) {
            let mut keys = vec![n.name()];
            keys.extend(n.label("app"));
            if let Some(("Deployment", target)) = n.scale_target {
                keys.push(target);
            }
            keys.sort_unstable();
            keys.dedup();
            for k in keys {
                siblings.entry((n.ns(), k)).or_default().push(i);
            }
        }
    }
    for g in 0..groups.len() {
        let key = (groups[g].ns, groups[g].name);
        let found = match groups[g].mode {
            Mode::Kserve => by_isvc_label.get(&key),
            Mode::Raw => siblings.get(&key),
        };
        for &c in found.map(Vec::as_slice).unwrap_or_default() {
            if claims.owner[c].is_none() {
                claims.claim(g, ix.descendants(c), &mut groups);
            }
        }
    }

    // 5. Leftovers whose root is gone, grouped by the name their labels give.
    let mut orphans: BTreeMap<(&str, &str, Mode), Vec<usize>> = BTreeMap::new();
    for (i, n) in nodes.iter().enumerate() {
        if claims.owner[i].is_some() || !ix.unowned(i) {
            continue;
        }
        if let Some(v) = n.label(ISVC_LABEL).filter(|v| !v.is_empty()) {
            orphans
                .entry((n.ns(), v, Mode::Kserve))
                .or_default()
                .push(i);
        } else if raw.value.is_none()
            && let Some(v) = n.label(&raw.key).filter(|v| !v.is_empty())
        {
            orphans.entry((n.ns(), v, Mode::Raw)).or_default().push(i);
        }
    }
    for ((ns, name, mode), found) in orphans {
        // An object carrying a live endpoint's label whose owner is gone (a pod left by an old
        // ReplicaSet, say) is that endpoint's leftover, not an endpoint of its own.
        let live = groups
            .iter()
            .position(|g| g.ns == ns && g.name == name && g.mode == mode);
        let g = match live {
            Some(g) => g,
            None => {
                groups.push(Group {
                    ns,
                    name,
                    mode,
                    root: None,
                    members: Vec::new(),
                });
                groups.len() - 1
            }
        };
        for c in found {
            claims.claim(g, ix.descendants(c), &mut groups);
        }
    }

    // 4. Unowned pods by the selectors of member Deployments.
    let mut loose: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, n) in nodes.iter().enumerate() {
        if n.kind == Kind::Pod && claims.owner[i].is_none() && ix.unowned(i) {
            loose.entry(n.ns()).or_default().push(i);
        }
    }
    if !loose.is_empty() {
        for g in 0..groups.len() {
            let Some(pods) = loose.get(groups[g].ns) else {
                continue;
            };
            let selectors: Vec<_> = groups[g]
                .members
                .iter()
                .filter(|&&m| nodes[m].kind == Kind::Deployment)
                .filter_map(|&m| nodes[m].selector.as_ref())
                .collect();
            let matched: Vec<usize> = pods
                .iter()
                .copied()
                .filter(|&p| claims.owner[p].is_none())
                .filter(|&p| {
                    selectors.iter().any(|s| match s {
                        PodSelector::Label(sel) => selector_matches(sel, nodes[p].labels()),
                    })
                })
                .collect();
            claims.claim(g, matched, &mut groups);
        }
    }
    groups.sort_by(|a, b| (a.ns, a.name, a.mode).cmp(&(b.ns, b.name, b.mode)));
    groups
}
