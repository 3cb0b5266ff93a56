//! core/v1 Events as controllers record them: named `<involved-name>.<16 hex>`, with the
//! involved object's reference, and repeats folded into `count` like client-go's aggregation.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::sim::error::ApiError;
use crate::sim::kinds::EVENTS;
use crate::sim::meta;
use crate::sim::store::{Store, WriteOptions};

pub const NORMAL: &str = "Normal";
pub const WARNING: &str = "Warning";

/// Repeats remembered for aggregation; the memory is dropped when it grows past this.
const RECENT_LIMIT: usize = 4096;

/// Last suffix handed out; client-go uses the creation time in nanoseconds, kept strictly
/// increasing here so two events in the same nanosecond still get distinct names.
static LAST_SUFFIX: AtomicU64 = AtomicU64::new(0);

fn next_suffix() -> u64 {
    let now = u64::try_from(meta::now().as_nanosecond()).unwrap_or(0);
    let mut last = LAST_SUFFIX.load(Ordering::Relaxed);
    loop {
        let next = now.max(last + 1);
        match LAST_SUFFIX.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return next,
            Err(seen) => last = seen,
        }
    }
}

/// Creates one Event about `involved`.
pub fn record_event(
    store: &Store,
    involved: &Value,
    type_: &str,
    reason: &str,
    message: &str,
    component: &str,
) -> Result<Arc<Value>, ApiError> {
    record_event_on(store, involved, type_, reason, message, component, None)
}

fn record_event_on(
    store: &Store,
    involved: &Value,
    type_: &str,
    reason: &str,
    message: &str,
    component: &str,
    host: Option<&str>,
) -> Result<Arc<Value>, ApiError> {
    let ns = match meta::namespace(involved) {
        "" => "default",
        ns => ns,
    };
    let now = meta::format_time(meta::now());
    let mut source = json!({ "component": component });
    if let Some(h) = host {
        meta::set_field(&mut source, "host", json!(h));
    }
    let mut reference = json!({
        "kind": involved.get("kind").cloned().unwrap_or(Value::Null),
        "namespace": meta::namespace(involved),
        "name": meta::name(involved),
        "uid": meta::uid(involved),
        "apiVersion": involved.get("apiVersion").cloned().unwrap_or(Value::Null),
        "resourceVersion": meta::resource_version(involved),
    });
    // Every ObjectReference field is omitempty: an object without a uid is referenced without one.
    if let Some(r) = reference.as_object_mut() {
        r.retain(|_, v| !v.is_null() && v.as_str() != Some(""));
    }
    let event = json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": format!("{}.{:016x}", meta::name(involved), next_suffix()),
            "namespace": ns,
        },
        "involvedObject": reference,
        "reason": reason,
        "message": message,
        "type": type_,
        "source": source,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
        "eventTime": null,
        "reportingComponent": component,
        "reportingInstance": host.unwrap_or(""),
    });
    let opts = WriteOptions {
        field_manager: Some(component.to_string()),
        ..Default::default()
    };
    store.create(&EVENTS, ns, event, &opts)
}

/// What client-go's aggregation compares (`getEventKey`): who reports, about which object (by
/// kind, namespace, name and uid, so objects without a uid are not folded together), and what.
type RepeatKey = [String; 9];

/// Records events for the controllers, folding an identical repeat (same object, type, reason
/// and message) into the existing Event's `count` instead of creating another one.
pub struct EventRecorder {
    store: Arc<Store>,
    recent: Mutex<HashMap<RepeatKey, String>>,
    /// Set while the simulator warms up: the initial fleet's creation events would have aged
    /// out on a cluster that has been up for a while (events live an hour), and skipping them
    /// saves tens of thousands of writes on large scenarios.
    quiet: Option<Arc<crate::sim::context::SimContext>>,
}

impl EventRecorder {
    pub fn new(store: Arc<Store>) -> Arc<EventRecorder> {
        Arc::new(EventRecorder {
            store,
            recent: Mutex::new(HashMap::new()),
            quiet: None,
        })
    }

    /// A recorder that stays silent while `ctx` is warming up.
    pub fn for_context(ctx: Arc<crate::sim::context::SimContext>) -> Arc<EventRecorder> {
        Arc::new(EventRecorder {
            store: ctx.store.clone(),
            recent: Mutex::new(HashMap::new()),
            quiet: Some(ctx),
        })
    }

    pub fn record(&self, involved: &Value, type_: &str, reason: &str, message: &str, by: &str) {
        self.record_on(involved, type_, reason, message, by, None);
    }

    /// As [`EventRecorder::record`], with `source.host` (kubelet events name their node).
    pub fn record_on(
        &self,
        involved: &Value,
        type_: &str,
        reason: &str,
        message: &str,
        by: &str,
        host: Option<&str>,
    ) {
        if self.quiet.as_ref().is_some_and(|c| c.is_warming()) {
            return;
        }
        let ns = match meta::namespace(involved) {
            "" => "default".to_string(),
            ns => ns.to_string(),
        };
        let key: RepeatKey = [
            format!("{by}\u{0}{}", host.unwrap_or("")),
            involved
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            ns.clone(),
            meta::name(involved).to_string(),
            meta::uid(involved).to_string(),
            type_.to_string(),
            reason.to_string(),
            message.to_string(),
            involved
                .get("apiVersion")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        ];
        let existing = self.recent().get(&key).cloned();
        if let Some(name) = existing {
            let now = meta::format_time(meta::now());
            let bumped = self.store.patch(
                &EVENTS,
                &ns,
                &name,
                &WriteOptions {
                    field_manager: Some(by.to_string()),
                    ..Default::default()
                },
                |cur| {
                    let mut new = cur.clone();
                    let count = cur.get("count").and_then(Value::as_i64).unwrap_or(1);
                    meta::set_field(&mut new, "count", json!(count + 1));
                    meta::set_field(&mut new, "lastTimestamp", json!(now));
                    Ok(new)
                },
            );
            if bumped.is_ok() {
                return;
            }
        }
        match record_event_on(&self.store, involved, type_, reason, message, by, host) {
            Ok(ev) => {
                let mut recent = self.recent();
                if recent.len() >= RECENT_LIMIT {
                    recent.clear();
                }
                recent.insert(key, meta::name(&ev).to_string());
            }
            Err(e) => tracing::debug!(reason, error = %e.message, "event not recorded"),
        }
    }

    fn recent(&self) -> std::sync::MutexGuard<'_, HashMap<RepeatKey, String>> {
        self.recent.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::kinds::{DEPLOYMENTS, NAMESPACES};

    #[test]
    fn events_reference_the_object_and_fold_repeats() {
        let store = Store::new(1);
        let o = WriteOptions::default();
        store
            .create(&NAMESPACES, "", json!({"metadata": {"name": "ns"}}), &o)
            .unwrap();
        let d = store
            .create(
                &DEPLOYMENTS,
                "ns",
                json!({"metadata": {"name": "web"}, "spec": {"selector": {}, "template": {}}}),
                &o,
            )
            .unwrap();
        let ev = record_event(
            &store,
            &d,
            NORMAL,
            "ScalingReplicaSet",
            "m",
            "deployment-controller",
        )
        .unwrap();
        let name = meta::name(&ev);
        assert!(name.starts_with("web."));
        assert_eq!(name.len(), "web.".len() + 16);
        assert_eq!(ev["involvedObject"]["uid"], d["metadata"]["uid"]);
        assert_eq!(ev["involvedObject"]["kind"], "Deployment");
        assert_eq!(ev["involvedObject"]["apiVersion"], "apps/v1");
        assert_eq!(ev["source"]["component"], "deployment-controller");

        let rec = EventRecorder::new(store.clone());
        rec.record(&d, WARNING, "X", "same", "c");
        rec.record(&d, WARNING, "X", "same", "c");
        rec.record(&d, WARNING, "X", "other", "c");
        let (events, _) = store.list(&EVENTS, Some("ns"), &|e| e["reason"] == "X");
        assert_eq!(events.len(), 2);

        // References without a uid (an object a client describes, not one read back) are told
        // apart by kind and name: neither object's event is folded into the other's.
        for name in ["a", "b", "a"] {
            let r = json!({"kind": "Pod", "apiVersion": "v1",
                           "metadata": {"name": name, "namespace": "ns"}});
            rec.record(&r, WARNING, "NoUid", "m", "c");
        }
        let (no_uid, _) = store.list(&EVENTS, Some("ns"), &|e| e["reason"] == "NoUid");
        let mut seen: Vec<(String, i64)> = no_uid
            .iter()
            .map(|e| {
                assert!(e["involvedObject"].get("uid").is_none(), "{e}");
                let name = e["involvedObject"]["name"].as_str().unwrap().to_string();
                (name, e["count"].as_i64().unwrap())
            })
            .collect();
        seen.sort();
        assert_eq!(seen, [("a".to_string(), 2), ("b".to_string(), 1)]);
        assert!(
            events
                .iter()
                .any(|e| e["count"] == 2 && e["message"] == "same")
        );
    }
}
