//! Recent core/v1 Events per involved object, bounded: at most `per_object` per object and
//! `total` overall, the oldest going first. Fed by the Event watch; read by the detail and
//! events panes through [`super::ClusterWatch::events_for`].

use std::collections::{BTreeSet, HashMap};

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Event;
use kube::runtime::watcher;

use crate::cluster::model::EventView;

/// Which object's events to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventQuery {
    /// Events about exactly this object (not an earlier one of the same name), and those about
    /// its kind, namespace and name that carry no `involvedObject.uid` at all: producers may
    /// leave it out, and such events must not vanish from the panes.
    Object {
        uid: String,
        kind: String,
        namespace: String,
        name: String,
    },
    /// Events about any object of that kind, namespace and name (incl. earlier incarnations).
    Ref {
        kind: String,
        namespace: String,
        name: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct ObjKey {
    kind: String,
    namespace: String,
    name: String,
}

#[derive(Debug, Clone)]
struct Stored {
    /// The Event's own UID.
    uid: String,
    view: EventView,
}

type OrderKey = (Option<Timestamp>, String);

#[derive(Debug)]
pub struct EventIndex {
    per_object: usize,
    total: usize,
    by_object: HashMap<ObjKey, Vec<Stored>>,
    /// Event UID -> the object it is about.
    by_event: HashMap<String, ObjKey>,
    /// Involved object UID -> key, for [`EventQuery::Object`].
    by_involved: HashMap<String, ObjKey>,
    /// Every stored event, oldest first, for eviction.
    order: BTreeSet<OrderKey>,
    /// Events of a re-list, swapped in at InitDone.
    buffer: Option<Vec<Event>>,
}

/// The time an Event last happened, by the first field its producer set.
fn last_seen(e: &Event) -> Option<Timestamp> {
    e.last_timestamp
        .as_ref()
        .map(|t| t.0)
        .or_else(|| {
            e.series
                .as_ref()
                .and_then(|s| s.last_observed_time.as_ref())
                .map(|t| t.0)
        })
        .or_else(|| e.event_time.as_ref().map(|t| t.0))
        .or_else(|| e.first_timestamp.as_ref().map(|t| t.0))
        .or_else(|| e.metadata.creation_timestamp.as_ref().map(|t| t.0))
}

/// An Event as the panes show it.
pub fn event_view(e: &Event) -> EventView {
    let source = match &e.source {
        Some(s) if s.component.as_deref().is_some_and(|c| !c.is_empty()) => {
            match s.host.as_deref().filter(|h| !h.is_empty()) {
                Some(h) => format!("{}, {h}", s.component.as_deref().unwrap_or_default()),
                None => s.component.clone().unwrap_or_default(),
            }
        }
        _ => match (&e.reporting_component, &e.reporting_instance) {
            (Some(c), Some(i)) if !c.is_empty() && !i.is_empty() => format!("{c}, {i}"),
            (Some(c), _) => c.clone(),
            _ => String::new(),
        },
    };
    let count = e
        .series
        .as_ref()
        .and_then(|s| s.count)
        .or(e.count)
        .unwrap_or(1);
    EventView {
        type_: e.type_.clone().unwrap_or_default(),
        reason: e.reason.clone().unwrap_or_default(),
        message: e.message.clone().unwrap_or_default(),
        count: u32::try_from(count).unwrap_or(0),
        last_seen: last_seen(e),
        source,
        involved_uid: e.involved_object.uid.clone().unwrap_or_default(),
    }
}

fn key_of(e: &Event) -> ObjKey {
    let o = &e.involved_object;
    ObjKey {
        kind: o.kind.clone().unwrap_or_default(),
        namespace: o.namespace.clone().unwrap_or_default(),
        name: o.name.clone().unwrap_or_default(),
    }
}

impl EventIndex {
    pub fn new(per_object: usize, total: usize) -> EventIndex {
        EventIndex {
            per_object: per_object.max(1),
            total: total.max(1),
            by_object: HashMap::new(),
            by_event: HashMap::new(),
            by_involved: HashMap::new(),
            order: BTreeSet::new(),
            buffer: None,
        }
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Applies one watch event. Returns whether what readers see changed.
    pub fn apply(&mut self, ev: &watcher::Event<Event>) -> bool {
        match ev {
            watcher::Event::Init => {
                self.buffer = Some(Vec::new());
                false
            }
            watcher::Event::InitApply(e) => {
                self.buffer.get_or_insert_with(Vec::new).push(e.clone());
                false
            }
            watcher::Event::InitDone => {
                let buffered = self.buffer.take().unwrap_or_default();
                self.clear();
                for e in &buffered {
                    self.upsert(e);
                }
                true
            }
            watcher::Event::Apply(e) => {
                self.upsert(e);
                true
            }
            watcher::Event::Delete(e) => {
                if let Some(uid) = e.metadata.uid.as_deref() {
                    self.remove(uid);
                }
                true
            }
        }
    }

    pub fn clear(&mut self) {
        self.by_object.clear();
        self.by_event.clear();
        self.by_involved.clear();
        self.order.clear();
    }

    fn upsert(&mut self, e: &Event) {
        let Some(uid) = e.metadata.uid.clone().filter(|u| !u.is_empty()) else {
            return;
        };
        self.remove(&uid);
        let key = key_of(e);
        let view = event_view(e);
        if !view.involved_uid.is_empty() {
            self.by_involved
                .insert(view.involved_uid.clone(), key.clone());
        }
        self.order.insert((view.last_seen, uid.clone()));
        self.by_event.insert(uid.clone(), key.clone());
        let list = self.by_object.entry(key).or_default();
        let at = list.partition_point(|s| (s.view.last_seen, &s.uid) <= (view.last_seen, &uid));
        list.insert(at, Stored { uid, view });
        if list.len() > self.per_object {
            let oldest = list[0].uid.clone();
            self.remove(&oldest);
        }
        while self.order.len() > self.total {
            let Some((_, oldest)) = self.order.iter().next().cloned() else {
                break;
            };
            self.remove(&oldest);
        }
    }

    fn remove(&mut self, event_uid: &str) {
        let Some(key) = self.by_event.remove(event_uid) else {
            return;
        };
        let Some(list) = self.by_object.get_mut(&key) else {
            return;
        };
        if let Some(pos) = list.iter().position(|s| s.uid == event_uid) {
            let s = list.remove(pos);
            self.order.remove(&(s.view.last_seen, s.uid));
        }
        if list.is_empty() {
            self.by_object.remove(&key);
            self.by_involved.retain(|_, k| *k != key);
        }
    }

    /// The object's recent events, oldest first.
    pub fn events_for(&self, q: &EventQuery) -> Vec<EventView> {
        match q {
            EventQuery::Object {
                uid,
                kind,
                namespace,
                name,
            } => {
                let by_name = ObjKey {
                    kind: kind.clone(),
                    namespace: namespace.clone(),
                    name: name.clone(),
                };
                // The uid's own key first (an event may name the object differently, e.g. no
                // namespace), then the name's key for uid-less events.
                let mut keys: Vec<&ObjKey> = self.by_involved.get(uid).into_iter().collect();
                if !keys.contains(&&by_name) {
                    keys.push(&by_name);
                }
                let mut out: Vec<EventView> = Vec::new();
                for k in keys {
                    let Some(list) = self.by_object.get(k) else {
                        continue;
                    };
                    out.extend(
                        list.iter()
                            .filter(|s| {
                                s.view.involved_uid == *uid
                                    || (s.view.involved_uid.is_empty() && *k == by_name)
                            })
                            .map(|s| s.view.clone()),
                    );
                }
                out.sort_by_key(|v| v.last_seen);
                out
            }
            EventQuery::Ref {
                kind,
                namespace,
                name,
            } => {
                let key = ObjKey {
                    kind: kind.clone(),
                    namespace: namespace.clone(),
                    name: name.clone(),
                };
                self.by_object
                    .get(&key)
                    .map(|list| list.iter().map(|s| s.view.clone()).collect())
                    .unwrap_or_default()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(uid: &str, obj: &str, obj_uid: &str, at: &str, reason: &str) -> Event {
        serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": format!("{obj}.{uid}"), "namespace": "ns", "uid": uid},
            "involvedObject": {"kind": "Pod", "namespace": "ns", "name": obj, "uid": obj_uid},
            "type": "Warning", "reason": reason, "message": "m", "count": 3,
            "lastTimestamp": at,
            "source": {"component": "kubelet", "host": "node-1"},
        }))
        .unwrap()
    }

    fn at(i: u32) -> String {
        format!("2026-11-01T10:{:02}:{:02}Z", i / 60, i % 60)
    }

    fn by_uid(name: &str, uid: &str) -> EventQuery {
        EventQuery::Object {
            uid: uid.into(),
            kind: "Pod".into(),
            namespace: "ns".into(),
            name: name.into(),
        }
    }

    #[test]
    fn events_without_an_involved_uid_stay_with_their_object() {
        let mut ix = EventIndex::new(10, 10);
        ix.apply(&watcher::Event::Apply(event(
            "e1",
            "p",
            "u",
            &at(1),
            "Pulled",
        )));
        ix.apply(&watcher::Event::Apply(event(
            "e2",
            "p",
            "",
            &at(2),
            "NoUid",
        )));
        // Another incarnation of the name: not this object's.
        ix.apply(&watcher::Event::Apply(event(
            "e3",
            "p",
            "old",
            &at(3),
            "Old",
        )));
        let reasons: Vec<String> = ix
            .events_for(&by_uid("p", "u"))
            .into_iter()
            .map(|v| v.reason)
            .collect();
        assert_eq!(reasons, ["Pulled", "NoUid"]);
        // Only uid-less events known: still shown.
        let only: Vec<String> = ix
            .events_for(&by_uid("p", "never-seen"))
            .into_iter()
            .map(|v| v.reason)
            .collect();
        assert_eq!(only, ["NoUid"]);
    }

    fn by_ref(name: &str) -> EventQuery {
        EventQuery::Ref {
            kind: "Pod".into(),
            namespace: "ns".into(),
            name: name.into(),
        }
    }

    #[test]
    fn view_fields() {
        let v = event_view(&event("e1", "p", "u1", &at(5), "BackOff"));
        assert_eq!(v.type_, "Warning");
        assert_eq!(v.reason, "BackOff");
        assert_eq!(v.count, 3);
        assert_eq!(v.source, "kubelet, node-1");
        assert_eq!(v.last_seen, Some(at(5).parse().unwrap()));
    }

    #[test]
    fn bounded_per_object_and_in_total() {
        let mut ix = EventIndex::new(3, 5);
        for i in 0..5 {
            ix.apply(&watcher::Event::Apply(event(
                &format!("a{i}"),
                "a",
                "ua",
                &at(i),
                &format!("r{i}"),
            )));
        }
        let reasons: Vec<_> = ix
            .events_for(&by_ref("a"))
            .into_iter()
            .map(|v| v.reason)
            .collect();
        assert_eq!(reasons, ["r2", "r3", "r4"]);
        for i in 10..14 {
            ix.apply(&watcher::Event::Apply(event(
                &format!("b{i}"),
                "b",
                "ub",
                &at(i),
                "x",
            )));
        }
        // 3 of b (per object), and of a only the newest that fit in 5 overall.
        assert_eq!(ix.len(), 5);
        assert_eq!(ix.events_for(&by_ref("b")).len(), 3);
        assert_eq!(ix.events_for(&by_uid("a", "ua")).len(), 2);
    }

    #[test]
    fn updates_replace_and_deletes_remove() {
        let mut ix = EventIndex::new(10, 10);
        ix.apply(&watcher::Event::Apply(event("e", "p", "u", &at(1), "A")));
        ix.apply(&watcher::Event::Apply(event("e", "p", "u", &at(2), "B")));
        let got = ix.events_for(&by_uid("p", "u"));
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].reason, "B");
        ix.apply(&watcher::Event::Delete(event("e", "p", "u", &at(2), "B")));
        assert!(ix.is_empty());
        assert!(ix.events_for(&by_uid("p", "u")).is_empty());
    }

    #[test]
    fn a_relist_replaces_everything_at_init_done() {
        let mut ix = EventIndex::new(10, 10);
        ix.apply(&watcher::Event::Apply(event("old", "p", "u", &at(1), "A")));
        assert!(!ix.apply(&watcher::Event::Init));
        ix.apply(&watcher::Event::InitApply(event(
            "new",
            "q",
            "v",
            &at(2),
            "B",
        )));
        // Until InitDone readers still see the old contents.
        assert_eq!(ix.events_for(&by_ref("p")).len(), 1);
        assert!(ix.apply(&watcher::Event::InitDone));
        assert!(ix.events_for(&by_ref("p")).is_empty());
        assert_eq!(ix.events_for(&by_ref("q")).len(), 1);
    }

    #[test]
    fn uid_query_skips_an_earlier_object_of_the_same_name() {
        let mut ix = EventIndex::new(10, 10);
        ix.apply(&watcher::Event::Apply(event("e1", "p", "old", &at(1), "A")));
        ix.apply(&watcher::Event::Apply(event("e2", "p", "new", &at(2), "B")));
        assert_eq!(ix.events_for(&by_ref("p")).len(), 2);
        let new = ix.events_for(&by_uid("p", "new"));
        assert_eq!(new.len(), 1);
        assert_eq!(new[0].reason, "B");
    }
}
