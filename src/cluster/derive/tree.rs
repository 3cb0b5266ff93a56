//! An endpoint's members as a tree: each object under its controlling owner when the owner is a
//! member too (InferenceService -> Deployment -> ReplicaSet -> Pods), the rest as roots, the
//! endpoint's own root first.

use std::collections::{HashMap, HashSet};

use super::index::Index;
use crate::cluster::model::ResourceNode;

pub fn build_tree(ix: &Index, members: &[usize], root: Option<usize>) -> Vec<ResourceNode> {
    let set: HashSet<usize> = members.iter().copied().collect();
    let parent = |i: usize| {
        let r = ix.nodes[i].owner_ref()?;
        let p = *ix.by_uid.get(r.uid.as_str())?;
        (p != i && set.contains(&p)).then_some(p)
    };
    let mut kids: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut tops = Vec::new();
    let mut sorted = members.to_vec();
    // Index order is kind, namespace, name: the order the panes list siblings in.
    sorted.sort_unstable();
    for &i in &sorted {
        match parent(i) {
            Some(p) => kids.entry(p).or_default().push(i),
            None => tops.push(i),
        }
    }
    if let Some(r) = root
        && let Some(pos) = tops.iter().position(|&t| t == r)
    {
        tops.remove(pos);
        tops.insert(0, r);
    }
    let mut seen = HashSet::new();
    let mut out: Vec<ResourceNode> = tops
        .iter()
        .filter_map(|&t| node(ix, t, &kids, &mut seen))
        .collect();
    // Members in an ownership cycle have no top; show them rather than lose them.
    for &i in &sorted {
        if !seen.contains(&i)
            && let Some(n) = node(ix, i, &kids, &mut seen)
        {
            out.push(n);
        }
    }
    out
}

fn node(
    ix: &Index,
    i: usize,
    kids: &HashMap<usize, Vec<usize>>,
    seen: &mut HashSet<usize>,
) -> Option<ResourceNode> {
    if !seen.insert(i) {
        return None;
    }
    let n = &ix.nodes[i];
    let children = kids
        .get(&i)
        .map(|ks| ks.iter().filter_map(|&k| node(ix, k, kids, seen)).collect())
        .unwrap_or_default();
    Some(ResourceNode {
        kind: n.kind,
        namespace: n.ns().to_string(),
        name: n.name().to_string(),
        uid: n.uid().to_string(),
        health: n.state.health,
        summary: n.state.summary.clone(),
        created: n.meta.creation_timestamp.as_ref().map(|t| t.0),
        terminating: n.state.terminating.clone(),
        finalizers: n.meta.finalizers.clone().unwrap_or_default(),
        owners: ix.chain(i).into_iter().map(|(s, _, _)| s).collect(),
        children,
    })
}

/// Every node of a forest, parents before children.
pub fn flatten(nodes: &[ResourceNode]) -> Vec<&ResourceNode> {
    let mut out = Vec::new();
    fn walk<'a>(n: &'a ResourceNode, out: &mut Vec<&'a ResourceNode>) {
        out.push(n);
        for c in &n.children {
            walk(c, out);
        }
    }
    for n in nodes {
        walk(n, &mut out);
    }
    out
}
