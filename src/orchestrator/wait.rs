//! Waiting by watch, never by sleeping and re-getting: deletion verified per UID, readiness from
//! the object's own status. Dropped streams, 410 Gone and server errors are the watcher's to
//! recover from (it re-lists); each is told to the caller as a note.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use futures::StreamExt;
use jiff::Timestamp;
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::kapi;
use super::progress::StuckObject;
use super::record::ObjectId;
use crate::cluster::model::Kind;
use crate::text::sanitize;

/// What a wait tells its caller along the way.
#[derive(Debug, Clone, PartialEq)]
pub enum WaitNote {
    /// An object went.
    Gone(ObjectId),
    /// An object is still there, Terminating (finalizers may be empty: grace period).
    Terminating(StuckObject),
    /// Readiness so far (`1/3 replicas available`).
    Status(String),
    /// The watch broke and is being re-established.
    WatchError(String),
}

/// How a wait ended, when not in success.
#[derive(Debug, Clone, PartialEq)]
pub enum WaitError {
    /// The deadline passed; these are still there.
    Deadline(Vec<StuckObject>),
    Cancelled,
}

/// The owner an object not yet being deleted waits behind: its first ownerReference, as
/// `Kind name` (sanitised). `None` when it has none.
fn owner_of(obj: &Value) -> Option<String> {
    let owner = obj
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)?
        .first()?;
    let field = |k: &str| owner.get(k).and_then(Value::as_str).unwrap_or("?");
    Some(format!(
        "{} {}",
        sanitize(field("kind")),
        sanitize(field("name"))
    ))
}

pub(crate) fn stuck_of(id: &ObjectId, obj: Option<&Value>, now: Timestamp) -> StuckObject {
    let (finalizers, age, awaiting_gc) = match obj {
        Some(o) => {
            // Negative for a pod still in its grace period: its deletionTimestamp is the end
            // of that period, not the moment deletion was asked.
            let since = kapi::deletion_timestamp(o).map(|t| now.duration_since(t).as_secs());
            // No deletionTimestamp: nobody deleted it yet; a dependent is deleted by the
            // garbage collector once its owner is gone, so it is waiting, not Terminating.
            let awaiting = if since.is_none() { owner_of(o) } else { None };
            (kapi::finalizers(o), since, awaiting)
        }
        None => (Vec::new(), None, None),
    };
    StuckObject {
        object: id.clone(),
        finalizers: finalizers
            .iter()
            .map(|f| sanitize(f).into_owned())
            .collect(),
        terminating_for_seconds: age,
        awaiting_gc,
    }
}

/// Waits until none of `targets` exists any more (by UID: a new object of the same name does
/// not count), or the deadline passes.
pub async fn wait_gone(
    client: &kube::Client,
    targets: &[ObjectId],
    deadline: Duration,
    cancel: &CancellationToken,
    mut note: impl FnMut(WaitNote),
) -> Result<(), WaitError> {
    let mut pending: HashMap<String, ObjectId> =
        targets.iter().map(|t| (t.uid.clone(), t.clone())).collect();
    if pending.is_empty() {
        return Ok(());
    }
    // One watch per (namespace, kind) involved.
    let mut groups: BTreeMap<(String, Kind), ()> = BTreeMap::new();
    for t in targets {
        if let Some(k) = Kind::parse(&t.kind) {
            groups.insert((t.namespace.clone(), k), ());
        }
    }
    let streams = groups.into_keys().map(|(ns, kind)| {
        let api = kapi::api(client, &ns, kind);
        watcher::watcher(api, watcher::Config::default())
            .default_backoff()
            .map(move |ev| (kind, ev))
            .boxed()
    });
    let mut merged = futures::stream::select_all(streams);
    // Last seen state of every pending object, for the report at the deadline.
    let mut last: HashMap<String, Value> = HashMap::new();
    // Per kind: UIDs seen during the current (re-)list.
    let mut listing: HashMap<Kind, HashSet<String>> = HashMap::new();
    let sleep = tokio::time::sleep(deadline);
    tokio::pin!(sleep);
    loop {
        if pending.is_empty() {
            return Ok(());
        }
        let item = tokio::select! {
            _ = cancel.cancelled() => return Err(WaitError::Cancelled),
            _ = &mut sleep => {
                let now = Timestamp::now();
                let mut stuck: Vec<StuckObject> = pending
                    .iter()
                    .map(|(uid, id)| stuck_of(id, last.get(uid), now))
                    .collect();
                stuck.sort_by(|a, b| a.object.cmp(&b.object));
                return Err(WaitError::Deadline(stuck));
            }
            item = merged.next() => item,
        };
        let Some((kind, ev)) = item else {
            // Every stream ended: cannot happen with watchers (they retry forever); treat as a
            // deadline so the caller reports what is left instead of hanging.
            let now = Timestamp::now();
            let stuck = pending
                .iter()
                .map(|(uid, id)| stuck_of(id, last.get(uid), now))
                .collect();
            return Err(WaitError::Deadline(stuck));
        };
        match ev {
            Err(e) => note(WaitNote::WatchError(format!(
                "watch {}: {}",
                kind.name(),
                sanitize(&e.to_string())
            ))),
            Ok(watcher::Event::Init) => {
                listing.insert(kind, HashSet::new());
            }
            Ok(watcher::Event::InitApply(o)) => {
                let v = serde_json::to_value(&o).unwrap_or(Value::Null);
                let uid = kapi::uid(&v).to_string();
                listing.entry(kind).or_default().insert(uid.clone());
                observe(&mut pending, &mut last, uid, v, &mut note);
            }
            Ok(watcher::Event::InitDone) => {
                let seen = listing.remove(&kind).unwrap_or_default();
                let gone: Vec<String> = pending
                    .iter()
                    .filter(|(uid, id)| Kind::parse(&id.kind) == Some(kind) && !seen.contains(*uid))
                    .map(|(uid, _)| uid.clone())
                    .collect();
                for uid in gone {
                    if let Some(id) = pending.remove(&uid) {
                        note(WaitNote::Gone(id));
                    }
                }
            }
            Ok(watcher::Event::Apply(o)) => {
                let v = serde_json::to_value(&o).unwrap_or(Value::Null);
                let uid = kapi::uid(&v).to_string();
                observe(&mut pending, &mut last, uid, v, &mut note);
            }
            Ok(watcher::Event::Delete(o)) => {
                let uid = o.metadata.uid.clone().unwrap_or_default();
                if let Some(id) = pending.remove(&uid) {
                    note(WaitNote::Gone(id));
                }
            }
        }
    }
}

/// Remembers a pending object's latest state and tells when its Terminating state changed.
fn observe(
    pending: &mut HashMap<String, ObjectId>,
    last: &mut HashMap<String, Value>,
    uid: String,
    v: Value,
    note: &mut impl FnMut(WaitNote),
) {
    let Some(id) = pending.get(&uid) else {
        return;
    };
    let before = last
        .get(&uid)
        .map(|o| (kapi::deletion_timestamp(o).is_some(), kapi::finalizers(o)));
    let after = (kapi::deletion_timestamp(&v).is_some(), kapi::finalizers(&v));
    if after.0 && before.as_ref() != Some(&after) {
        note(WaitNote::Terminating(stuck_of(
            id,
            Some(&v),
            Timestamp::now(),
        )));
    }
    last.insert(uid, v);
}

/// Readiness of a workload from its JSON: `Ok(summary)` when ready, `Err(summary)` while not.
pub fn readiness(kind: Kind, v: &Value) -> Result<String, String> {
    let int = |p: &str| v.pointer(p).and_then(Value::as_i64).unwrap_or(0);
    let cond = |t: &str| {
        v.pointer("/status/conditions")
            .and_then(Value::as_array)
            .and_then(|cs| {
                cs.iter()
                    .find(|c| c.get("type").and_then(Value::as_str) == Some(t))
            })
            .and_then(|c| c.get("status").and_then(Value::as_str))
            == Some("True")
    };
    match kind {
        Kind::Deployment => {
            let want = v
                .pointer("/spec/replicas")
                .and_then(Value::as_i64)
                .unwrap_or(1);
            let gen_ok = int("/status/observedGeneration") >= int("/metadata/generation");
            let avail = int("/status/availableReplicas");
            let updated = int("/status/updatedReplicas");
            let line = format!("{avail}/{want} replicas available");
            if gen_ok && avail >= want && updated >= want && (want == 0 || cond("Available")) {
                Ok(line)
            } else {
                Err(line)
            }
        }
        Kind::InferenceService => {
            if cond("Ready") {
                Ok("Ready".to_string())
            } else {
                let not_ready: Vec<String> = v
                    .pointer("/status/conditions")
                    .and_then(Value::as_array)
                    .map(|cs| {
                        cs.iter()
                            .filter(|c| c.get("status").and_then(Value::as_str) != Some("True"))
                            .filter_map(|c| c.get("type").and_then(Value::as_str))
                            .map(|t| sanitize(t).into_owned())
                            .collect()
                    })
                    .unwrap_or_default();
                Err(if not_ready.is_empty() {
                    "waiting for status".to_string()
                } else {
                    format!("not yet: {}", not_ready.join(", "))
                })
            }
        }
        // Services, HPAs and Ingresses are ready once they exist.
        _ => Ok("created".to_string()),
    }
}

/// Waits until the object `ns/name` with `uid` is ready (see [`readiness`]).
pub async fn wait_ready(
    client: &kube::Client,
    id: &ObjectId,
    deadline: Duration,
    cancel: &CancellationToken,
    mut note: impl FnMut(WaitNote),
) -> Result<String, WaitError> {
    let Some(kind) = Kind::parse(&id.kind) else {
        return Ok("created".into());
    };
    if !matches!(kind, Kind::Deployment | Kind::InferenceService) {
        return Ok("created".into());
    }
    let api = kapi::api(client, &id.namespace, kind);
    let cfg = watcher::Config::default().fields(&format!("metadata.name={}", id.name));
    let mut stream = watcher::watcher(api, cfg).default_backoff().boxed();
    let sleep = tokio::time::sleep(deadline);
    tokio::pin!(sleep);
    let mut last_line = String::new();
    loop {
        let ev = tokio::select! {
            _ = cancel.cancelled() => return Err(WaitError::Cancelled),
            _ = &mut sleep => {
                return Err(WaitError::Deadline(vec![StuckObject {
                    object: id.clone(),
                    finalizers: vec![],
                    terminating_for_seconds: None,
                    awaiting_gc: None,
                }]));
            }
            ev = stream.next() => ev,
        };
        let obj = match ev {
            None => continue,
            Some(Err(e)) => {
                note(WaitNote::WatchError(format!(
                    "watch {}: {}",
                    kind.name(),
                    sanitize(&e.to_string())
                )));
                continue;
            }
            Some(Ok(watcher::Event::Apply(o) | watcher::Event::InitApply(o))) => o,
            Some(Ok(_)) => continue,
        };
        let v = serde_json::to_value(&obj).unwrap_or(Value::Null);
        if kapi::uid(&v) != id.uid {
            continue;
        }
        match readiness(kind, &v) {
            Ok(line) => return Ok(line),
            Err(line) => {
                if line != last_line {
                    note(WaitNote::Status(line.clone()));
                    last_line = line;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn deployment_ready_needs_generation_and_available() {
        let mut d = json!({"metadata": {"generation": 2}, "spec": {"replicas": 2},
            "status": {"observedGeneration": 1, "availableReplicas": 2, "updatedReplicas": 2,
                       "conditions": [{"type": "Available", "status": "True"}]}});
        assert!(readiness(Kind::Deployment, &d).is_err(), "old generation");
        d["status"]["observedGeneration"] = json!(2);
        assert_eq!(
            readiness(Kind::Deployment, &d),
            Ok("2/2 replicas available".into())
        );
        d["status"]["availableReplicas"] = json!(1);
        assert_eq!(
            readiness(Kind::Deployment, &d),
            Err("1/2 replicas available".into())
        );
    }

    #[test]
    fn an_owned_object_without_deletion_timestamp_awaits_garbage_collection() {
        let id = ObjectId {
            kind: "Deployment".into(),
            namespace: "llm-prod".into(),
            name: "llama-predictor".into(),
            uid: "u1".into(),
        };
        let now = Timestamp::now();
        let owned = json!({"metadata": {"uid": "u1", "ownerReferences": [
            {"kind": "InferenceService", "name": "llama\u{1b}[31m", "uid": "u0"}]}});
        let s = stuck_of(&id, Some(&owned), now);
        assert_eq!(
            s.awaiting_gc.as_deref(),
            Some("InferenceService llama^[[31m")
        );
        assert_eq!(s.terminating_for_seconds, None);
        // Deleted (deletionTimestamp set): Terminating, whatever its owner.
        let mut deleted = owned.clone();
        deleted["metadata"]["deletionTimestamp"] = json!(now.to_string());
        assert_eq!(stuck_of(&id, Some(&deleted), now).awaiting_gc, None);
        // No owner and never deleted: not waiting for anything the collector does.
        let lone = json!({"metadata": {"uid": "u1"}});
        assert_eq!(stuck_of(&id, Some(&lone), now).awaiting_gc, None);
    }

    #[test]
    fn isvc_ready_from_condition() {
        let v = json!({"status": {"conditions": [
            {"type": "PredictorReady", "status": "False"}, {"type": "Ready", "status": "False"}]}});
        assert_eq!(
            readiness(Kind::InferenceService, &v),
            Err("not yet: PredictorReady, Ready".into())
        );
        let v = json!({"status": {"conditions": [{"type": "Ready", "status": "True"}]}});
        assert!(readiness(Kind::InferenceService, &v).is_ok());
    }
}
