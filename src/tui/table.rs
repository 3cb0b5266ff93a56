//! The endpoint table's state: filter, sort, and a selection that follows the endpoint (by the
//! root object's UID, then by namespace/name after a redeploy recreated it) across updates.

use crate::cluster::model::{EndpointKey, EndpointView};

use super::logbuf::contains_ignore_ascii_case;
use super::style::health_word;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// Worst health first, then namespace and name: problems on top.
    Status,
    Name,
    Namespace,
    /// Newest first.
    Age,
}

impl SortKey {
    pub fn next(self) -> SortKey {
        match self {
            SortKey::Status => SortKey::Name,
            SortKey::Name => SortKey::Namespace,
            SortKey::Namespace => SortKey::Age,
            SortKey::Age => SortKey::Status,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SortKey::Status => "status",
            SortKey::Name => "name",
            SortKey::Namespace => "namespace",
            SortKey::Age => "age",
        }
    }
}

#[derive(Debug, Clone)]
pub struct EndpointTable {
    pub sort: SortKey,
    pub filter: String,
    /// Indices into the app's endpoints, in display order.
    pub rows: Vec<usize>,
    /// Index into `rows`.
    pub selected: usize,
    /// First row shown.
    pub offset: usize,
    /// The endpoint chosen with `select`/`step`/`pin` (keys, sort, filter, kiosk cycling). None
    /// until then: the selection is the top row, the worst endpoint, however the data arrives.
    selected_uid: Option<String>,
    selected_key: Option<EndpointKey>,
}

impl Default for EndpointTable {
    fn default() -> Self {
        EndpointTable {
            sort: SortKey::Status,
            filter: String::new(),
            rows: Vec::new(),
            selected: 0,
            offset: 0,
            selected_uid: None,
            selected_key: None,
        }
    }
}

fn matches(e: &EndpointView, filter: &str) -> bool {
    filter.is_empty()
        || contains_ignore_ascii_case(&e.key.name, filter)
        || contains_ignore_ascii_case(&e.key.namespace, filter)
        || contains_ignore_ascii_case(health_word(e.health), filter)
}

impl EndpointTable {
    /// Filters and sorts `endpoints`, then puts the selection back on the endpoint chosen: the
    /// same UID, else the same namespace/name, else the row at the same position. Nothing chosen
    /// yet: the top row. (Following the top row by UID instead would pin whichever endpoint came
    /// first while the watches sync kind by kind, not the worst one.)
    pub fn rebuild(&mut self, endpoints: &[EndpointView]) {
        let mut rows: Vec<usize> = (0..endpoints.len())
            .filter(|&i| matches(&endpoints[i], &self.filter))
            .collect();
        let name_order = |a: &EndpointView, b: &EndpointView| {
            (&a.key.namespace, &a.key.name, a.key.mode).cmp(&(
                &b.key.namespace,
                &b.key.name,
                b.key.mode,
            ))
        };
        rows.sort_by(|&a, &b| {
            let (a, b) = (&endpoints[a], &endpoints[b]);
            match self.sort {
                SortKey::Status => a.health.cmp(&b.health).then_with(|| name_order(a, b)),
                SortKey::Name => a.key.name.cmp(&b.key.name).then_with(|| name_order(a, b)),
                SortKey::Namespace => name_order(a, b),
                SortKey::Age => b.created.cmp(&a.created).then_with(|| name_order(a, b)),
            }
        });
        self.rows = rows;
        let by_uid = self
            .selected_uid
            .as_ref()
            .and_then(|uid| self.rows.iter().position(|&i| &endpoints[i].uid == uid));
        let found = by_uid.or_else(|| {
            self.selected_key
                .as_ref()
                .and_then(|k| self.rows.iter().position(|&i| &endpoints[i].key == k))
        });
        let idx = found.unwrap_or(self.selected);
        if self.selected_key.is_some() {
            self.select(idx, endpoints);
        } else {
            self.selected = idx.min(self.rows.len().saturating_sub(1));
        }
    }

    /// The operator acts on the table (sort, filter): from now on the selection stays on the
    /// endpoint selected now.
    pub fn pin(&mut self, endpoints: &[EndpointView]) {
        if self.selected_key.is_none() {
            self.select(self.selected, endpoints);
        }
    }

    /// Selects row `idx` (clamped) and remembers which endpoint that is.
    pub fn select(&mut self, idx: usize, endpoints: &[EndpointView]) {
        self.selected = idx.min(self.rows.len().saturating_sub(1));
        match self.rows.get(self.selected).map(|&i| &endpoints[i]) {
            Some(e) => {
                self.selected_uid = Some(e.uid.clone());
                self.selected_key = Some(e.key.clone());
            }
            None => {
                // Nothing shown (empty fleet or filter): keep remembering the last endpoint, so
                // clearing the filter brings the selection back.
            }
        }
    }

    pub fn selected<'a>(&self, endpoints: &'a [EndpointView]) -> Option<&'a EndpointView> {
        self.rows.get(self.selected).and_then(|&i| endpoints.get(i))
    }

    /// Moves the selection by `delta` rows.
    pub fn step(&mut self, delta: isize, endpoints: &[EndpointView]) {
        let idx = self.selected.saturating_add_signed(delta);
        self.select(idx, endpoints);
    }

    /// Keeps the selected row within `height` rows from `offset`.
    pub fn scroll_into_view(&mut self, height: usize) {
        self.offset = visible_offset(self.offset, self.selected, self.rows.len(), height);
    }
}

/// The first row to show so `selected` is visible, moving as little as possible from `offset`.
pub fn visible_offset(offset: usize, selected: usize, len: usize, height: usize) -> usize {
    let height = height.max(1);
    let mut o = offset.min(len.saturating_sub(height));
    if selected < o {
        o = selected;
    } else if selected >= o + height {
        o = selected + 1 - height;
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_moves_minimally() {
        assert_eq!(visible_offset(0, 5, 100, 10), 0);
        assert_eq!(visible_offset(0, 12, 100, 10), 3);
        assert_eq!(visible_offset(8, 4, 100, 10), 4);
        assert_eq!(visible_offset(95, 99, 100, 10), 90);
        assert_eq!(visible_offset(50, 0, 3, 10), 0);
    }
}
