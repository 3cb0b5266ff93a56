//! The resource tree of the selected endpoint, flattened into rows with tree glyphs, and a
//! selection that follows the object by UID across updates.

use jiff::Timestamp;

use crate::cluster::model::{EndpointKey, Health, Kind, ResourceNode, Terminating};

use super::msg::ObjectRef;

/// One line of the resource pane.
#[derive(Debug, Clone, PartialEq)]
pub struct TreeRow {
    /// `├─ `, `│  └─ `, ... (empty for roots).
    pub prefix: String,
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub health: Health,
    pub summary: String,
    pub created: Option<Timestamp>,
    pub terminating: Option<Terminating>,
    pub finalizers: Vec<String>,
    pub owners: Vec<String>,
}

impl TreeRow {
    pub fn object_ref(&self) -> ObjectRef {
        ObjectRef {
            kind: self.kind,
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            uid: self.uid.clone(),
        }
    }
}

/// Depth-first rows of `roots`, children under their parent.
pub fn flatten(roots: &[ResourceNode]) -> Vec<TreeRow> {
    let mut rows = Vec::new();
    for root in roots {
        push(&mut rows, root, String::new(), None);
    }
    rows
}

/// `indent` is what the ancestors draw; `last` is whether this node is its parent's last child
/// (None for roots).
fn push(rows: &mut Vec<TreeRow>, node: &ResourceNode, indent: String, last: Option<bool>) {
    let prefix = match last {
        None => String::new(),
        Some(true) => format!("{indent}└─ "),
        Some(false) => format!("{indent}├─ "),
    };
    rows.push(TreeRow {
        prefix,
        kind: node.kind,
        namespace: node.namespace.clone(),
        name: node.name.clone(),
        uid: node.uid.clone(),
        health: node.health,
        summary: node.summary.clone(),
        created: node.created,
        terminating: node.terminating.clone(),
        finalizers: node.finalizers.clone(),
        owners: node.owners.clone(),
    });
    let child_indent = match last {
        None => String::new(),
        Some(true) => format!("{indent}   "),
        Some(false) => format!("{indent}│  "),
    };
    let n = node.children.len();
    for (i, child) in node.children.iter().enumerate() {
        push(rows, child, child_indent.clone(), Some(i + 1 == n));
    }
}

#[derive(Debug, Clone, Default)]
pub struct TreeState {
    /// The endpoint these rows belong to.
    pub endpoint: Option<EndpointKey>,
    pub rows: Vec<TreeRow>,
    pub selected: usize,
    pub offset: usize,
    /// The object chosen with `select`/`step`. None until then: the selection is the root.
    selected_uid: Option<String>,
}

impl TreeState {
    /// New rows for `endpoint`. The selection stays on the object chosen (by UID) when the
    /// endpoint is the same one; a new endpoint starts at its root, and stays there until an
    /// object is chosen, also when the root arrives after its children (the InferenceService
    /// watch syncing after the Deployments').
    pub fn rebuild(&mut self, endpoint: Option<&EndpointKey>, roots: &[ResourceNode]) {
        let same = self.endpoint.as_ref() == endpoint;
        self.rows = flatten(roots);
        self.endpoint = endpoint.cloned();
        if !same {
            self.selected = 0;
            self.offset = 0;
            self.selected_uid = None;
        }
        let found = self
            .selected_uid
            .as_ref()
            .and_then(|uid| self.rows.iter().position(|r| &r.uid == uid));
        let idx = found.unwrap_or(self.selected);
        if self.selected_uid.is_some() {
            self.select(idx);
        } else {
            self.selected = idx.min(self.rows.len().saturating_sub(1));
        }
    }

    pub fn select(&mut self, idx: usize) {
        self.selected = idx.min(self.rows.len().saturating_sub(1));
        if let Some(r) = self.rows.get(self.selected) {
            self.selected_uid = Some(r.uid.clone());
        }
    }

    pub fn step(&mut self, delta: isize) {
        self.select(self.selected.saturating_add_signed(delta));
    }

    pub fn selected(&self) -> Option<&TreeRow> {
        self.rows.get(self.selected)
    }

    /// Pod names in the tree, in tree order.
    pub fn pods(&self) -> Vec<String> {
        self.rows
            .iter()
            .filter(|r| r.kind == Kind::Pod)
            .map(|r| r.name.clone())
            .collect()
    }
}
