//! Faults as data: latency, injected errors, controllers switched off or broken, dropped watch
//! streams, and per-user RBAC rules. The types are the scenario file's own (`scenario::model`), so
//! a scenario's `faults:` and the admin API speak the same JSON.

use std::collections::BTreeMap;
use std::sync::RwLock;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::rng::Rng;
pub use super::scenario::{ControllerState, Controllers, ErrorFault, LatencyFault, Rule, Verb};

impl Controllers {
    /// The state of a controller by its name in the admin API.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut ControllerState> {
        match name {
            "deployment" => Some(&mut self.deployment),
            "kserve" => Some(&mut self.kserve),
            "kserveDeletion" | "kserve-deletion" => Some(&mut self.kserve_deletion),
            "garbageCollector" | "garbage-collector" | "gc" => Some(&mut self.garbage_collector),
            "kubelet" => Some(&mut self.kubelet),
            _ => None,
        }
    }
}

/// What a request is, for matching faults and rules.
#[derive(Debug, Clone, Copy)]
pub struct RequestAttrs<'a> {
    pub verb: &'a str,
    pub group: &'a str,
    /// Plural resource.
    pub resource: &'a str,
    pub subresource: &'a str,
    pub namespace: &'a str,
    pub name: &'a str,
}

impl RequestAttrs<'_> {
    /// `pods` or `pods/log`, as RBAC rules name it.
    fn rbac_resource(&self) -> String {
        if self.subresource.is_empty() {
            self.resource.to_string()
        } else {
            format!("{}/{}", self.resource, self.subresource)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct FaultState {
    pub controllers: Controllers,
    pub latency: Vec<LatencyFault>,
    pub errors: Vec<ErrorFault>,
    /// End every watch stream after this many seconds (clients must re-watch).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub watch_drop_every_seconds: Option<u32>,
    /// RBAC rules by user name. A user not listed has no rights at all, except `admin`, who may
    /// do everything unless listed.
    pub users: BTreeMap<String, Vec<Rule>>,
}

pub struct Faults {
    state: RwLock<FaultState>,
    rng: std::sync::Mutex<Rng>,
    /// Bumped on every [`Faults::update`], so running streams can re-read what applies to them
    /// (an open watch must end once a drop interval is set, not only streams opened later).
    changes: tokio::sync::watch::Sender<u64>,
}

fn verb_matches(pattern: Verb, verb: &str) -> bool {
    Verb::parse(verb).is_some_and(|v| pattern.matches(v))
}

fn word_matches(pattern: &str, value: &str) -> bool {
    pattern.is_empty() || pattern == "*" || pattern == value
}

impl Faults {
    pub fn new(state: FaultState, seed: u64) -> Self {
        Faults {
            state: RwLock::new(state),
            rng: std::sync::Mutex::new(Rng::new(seed ^ 0x5EED_FA17)),
            changes: tokio::sync::watch::channel(0).0,
        }
    }

    /// Notified after every [`Faults::update`].
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changes.subscribe()
    }

    pub fn snapshot(&self) -> FaultState {
        self.state.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn update<T>(&self, f: impl FnOnce(&mut FaultState) -> T) -> T {
        let out = f(&mut self.state.write().unwrap_or_else(|p| p.into_inner()));
        self.changes.send_modify(|n| *n += 1);
        out
    }

    pub fn controllers(&self) -> Controllers {
        self.state
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .controllers
    }

    pub fn watch_drop_every(&self) -> Option<Duration> {
        self.state
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .watch_drop_every_seconds
            .filter(|s| *s > 0)
            .map(|s| Duration::from_secs(u64::from(s)))
    }

    /// Total added latency for a request.
    pub fn latency_for(&self, req: &RequestAttrs) -> Duration {
        let st = self.state.read().unwrap_or_else(|p| p.into_inner());
        let ms: u64 = st
            .latency
            .iter()
            .filter(|r| verb_matches(r.verb, req.verb) && word_matches(&r.resource, req.resource))
            .fold(0u64, |total, r| total.saturating_add(r.ms));
        Duration::from_millis(ms)
    }

    /// The injected error for this request, if a rule fires (consuming one of its `count`).
    pub fn injected_error(&self, req: &RequestAttrs) -> Option<ApiError> {
        let mut st = self.state.write().unwrap_or_else(|p| p.into_inner());
        let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        let mut fired = None;
        for (i, r) in st.errors.iter_mut().enumerate() {
            let hit = verb_matches(r.verb, req.verb)
                && word_matches(&r.resource, req.resource)
                && word_matches(r.name.as_deref().unwrap_or(""), req.name)
                && word_matches(r.namespace.as_deref().unwrap_or(""), req.namespace)
                && r.count != Some(0);
            if !hit {
                continue;
            }
            if let Some(p) = r.probability
                && rng.unit() >= p
            {
                continue;
            }
            if let Some(c) = r.count.as_mut() {
                *c -= 1;
            }
            fired = Some((i, error_for(r)));
            break;
        }
        let (i, err) = fired?;
        if st.errors[i].count == Some(0) {
            st.errors.remove(i);
        }
        Some(err)
    }

    /// Whether `user` may do this request.
    pub fn allowed(&self, user: &str, req: &RequestAttrs) -> bool {
        let st = self.state.read().unwrap_or_else(|p| p.into_inner());
        let Some(verb) = Verb::parse(req.verb) else {
            return false;
        };
        let ns = (!req.namespace.is_empty()).then_some(req.namespace);
        let resource = req.rbac_resource();
        match st.users.get(user) {
            None => user == "admin",
            Some(rules) => rules
                .iter()
                .any(|r| r.allows(verb, req.group, &resource, ns)),
        }
    }

    /// The rules that apply to `user` in `namespace`, as a SelfSubjectRulesReview reports them:
    /// the user's rules whose namespaces include it (a RoleBinding there, or a ClusterRoleBinding),
    /// or `None` for `admin` unrestricted (cluster-admin: everything).
    pub fn rules_in(&self, user: &str, namespace: &str) -> Option<Vec<Rule>> {
        let st = self.state.read().unwrap_or_else(|p| p.into_inner());
        let rules = st.users.get(user)?;
        Some(
            rules
                .iter()
                .filter(|r| r.namespaces.contains(namespace))
                .cloned()
                .collect(),
        )
    }

    pub fn knows_user(&self, user: &str) -> bool {
        user == "admin"
            || self
                .state
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .users
                .contains_key(user)
    }
}

/// The answer an error rule injects: its reason and message, else what the apiserver says for
/// the code (as a scenario's rules are resolved), with the body shape of that code.
fn error_for(r: &ErrorFault) -> ApiError {
    let (default_reason, default_message) = super::scenario::default_status(r.code);
    let message = r.message.as_deref().unwrap_or(default_message);
    let mut e = match r.code {
        429 => {
            let mut e = ApiError::too_many_requests(u64::from(r.retry_after_seconds.unwrap_or(1)));
            e.message = message.to_string();
            e
        }
        500 => ApiError::internal(
            message
                .strip_prefix("Internal error occurred: ")
                .unwrap_or(message),
        ),
        code => ApiError::new(code, default_reason, message),
    };
    if let Some(reason) = r.reason.as_deref().and_then(super::error::status_reason) {
        e.reason = reason;
    }
    if r.code == 503 {
        e.retry_after = r.retry_after_seconds.map(u64::from);
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::scenario::NamespaceScope;

    fn attrs<'a>(verb: &'a str, resource: &'a str, ns: &'a str) -> RequestAttrs<'a> {
        RequestAttrs {
            verb,
            group: "",
            resource,
            subresource: "",
            namespace: ns,
            name: "x",
        }
    }

    #[test]
    fn counted_errors_fire_then_disappear() {
        let rule: ErrorFault = serde_json::from_value(serde_json::json!({
            "verb": "delete", "resource": "pods", "code": 429, "count": 2, "retryAfterSeconds": 3
        }))
        .unwrap();
        let f = Faults::new(
            FaultState {
                errors: vec![rule],
                ..Default::default()
            },
            1,
        );
        assert!(f.injected_error(&attrs("get", "pods", "a")).is_none());
        let e = f.injected_error(&attrs("delete", "pods", "a")).unwrap();
        assert_eq!((e.code, e.retry_after), (429, Some(3)));
        assert!(f.injected_error(&attrs("delete", "pods", "a")).is_some());
        assert!(f.injected_error(&attrs("delete", "pods", "a")).is_none());
        assert!(f.snapshot().errors.is_empty());
    }

    #[test]
    fn updates_are_announced() {
        let f = Faults::new(FaultState::default(), 1);
        let mut rx = f.subscribe();
        assert!(!rx.has_changed().unwrap());
        f.update(|s| s.watch_drop_every_seconds = Some(1));
        assert!(rx.has_changed().unwrap());
        rx.mark_unchanged();
        assert_eq!(f.watch_drop_every(), Some(Duration::from_secs(1)));
    }

    #[test]
    fn rbac_rules() {
        let mut users = BTreeMap::new();
        users.insert(
            "viewer".to_string(),
            vec![Rule {
                verbs: vec![Verb::Get, Verb::List, Verb::Watch],
                resources: vec!["*".into()],
                api_groups: None,
                namespaces: NamespaceScope::All,
            }],
        );
        let f = Faults::new(
            FaultState {
                users,
                ..Default::default()
            },
            1,
        );
        assert!(f.allowed("viewer", &attrs("list", "pods", "a")));
        assert!(!f.allowed("viewer", &attrs("delete", "pods", "a")));
        assert!(f.allowed("admin", &attrs("delete", "pods", "a")));
        assert!(!f.allowed("nobody", &attrs("get", "pods", "a")));
        let log = RequestAttrs {
            subresource: "log",
            ..attrs("get", "pods", "a")
        };
        assert!(f.allowed("viewer", &log));
    }
}
