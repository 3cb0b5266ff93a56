//! Helpers the controllers share: seeded hashing and jitter, owner references, conditions, and
//! the few write shapes controllers use (status writes, finalizer edits).

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::sim::error::ApiError;
use crate::sim::kinds::ResourceType;
use crate::sim::meta;
use crate::sim::rng::Rng;
use crate::sim::selectors::LabelSelector;
use crate::sim::store::{Store, WriteOptions};

/// FNV-1a over the seed and the parts (with separators), finished with a SplitMix step so that
/// close inputs give unrelated outputs.
pub fn hash64(seed: u64, parts: &[&str]) -> u64 {
    let mut h = Fnv::new(seed);
    for p in parts {
        h.write(p.as_bytes());
        h.write(&[0xFF]);
    }
    h.finish()
}

/// A hash of a JSON value that does not depend on map key order.
pub fn hash_value(seed: u64, v: &Value) -> u64 {
    let mut h = Fnv::new(seed);
    feed(&mut h, v);
    h.finish()
}

struct Fnv(u64);

impl Fnv {
    fn new(seed: u64) -> Self {
        let mut f = Fnv(0xcbf2_9ce4_8422_2325);
        f.write(&seed.to_le_bytes());
        f
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn finish(&self) -> u64 {
        Rng::new(self.0).next_u64()
    }
}

fn feed(h: &mut Fnv, v: &Value) {
    match v {
        Value::Null => h.write(b"n"),
        Value::Bool(b) => h.write(if *b { b"t" } else { b"f" }),
        Value::Number(n) => {
            h.write(b"#");
            h.write(n.to_string().as_bytes());
        }
        Value::String(s) => {
            h.write(b"s");
            h.write(&(s.len() as u64).to_le_bytes());
            h.write(s.as_bytes());
        }
        Value::Array(a) => {
            h.write(b"[");
            a.iter().for_each(|x| feed(h, x));
            h.write(b"]");
        }
        Value::Object(m) => {
            h.write(b"{");
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            for k in keys {
                h.write(&(k.len() as u64).to_le_bytes());
                h.write(k.as_bytes());
                feed(h, &m[k.as_str()]);
            }
            h.write(b"}");
        }
    }
}

/// A deterministic generator for one named thing (a pod, a flood) under the simulation seed.
pub fn rng_for(seed: u64, parts: &[&str]) -> Rng {
    Rng::new(hash64(seed, parts))
}

/// `base` scaled by a deterministic factor in [1 - fraction, 1 + fraction) derived from the
/// seed and `parts` (fraction 0.2: [0.8, 1.2); 0: exactly `base`).
pub fn jitter(base: Duration, fraction: f64, seed: u64, parts: &[&str]) -> Duration {
    let fraction = if fraction.is_finite() {
        fraction.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let f = 1.0 - fraction + 2.0 * fraction * rng_for(seed, parts).unit();
    base.mul_f64(f)
}

/// The ownerReference a controller puts on the objects it creates.
pub fn owner_ref(owner: &Value) -> Value {
    json!({
        "apiVersion": owner.get("apiVersion").cloned().unwrap_or(Value::Null),
        "kind": owner.get("kind").cloned().unwrap_or(Value::Null),
        "name": meta::name(owner),
        "uid": meta::uid(owner),
        "controller": true,
        "blockOwnerDeletion": true,
    })
}

/// The ownerReference with `controller: true`, if any.
pub fn controller_ref(obj: &Value) -> Option<&Value> {
    // Plain lookups rather than JSON pointers: this runs over every pod on hot paths.
    obj.get("metadata")?
        .get("ownerReferences")?
        .as_array()?
        .iter()
        .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
}

/// Whether `obj`'s controller is the object with this uid.
pub fn controlled_by(obj: &Value, uid: &str) -> bool {
    !uid.is_empty()
        && controller_ref(obj)
            .and_then(|r| r.get("uid"))
            .and_then(Value::as_str)
            == Some(uid)
}

/// Name of the controlling owner when it is of this kind.
pub fn controller_name<'a>(obj: &'a Value, kind: &str) -> Option<&'a str> {
    let r = controller_ref(obj)?;
    if r.get("kind").and_then(Value::as_str) != Some(kind) {
        return None;
    }
    r.get("name").and_then(Value::as_str)
}

/// The object's `spec.selector` as a selector, unless it is missing, invalid or selects
/// everything (nothing is adopted on such a selector).
pub fn selector_of(obj: &Value) -> Option<LabelSelector> {
    let sel = obj.get("spec")?.get("selector")?;
    LabelSelector::from_label_selector_json(sel)
        .ok()
        .filter(|s| !s.is_everything())
}

/// Makes `owner` the controller of `obj`, an orphan (adoption, as the real controllers do for
/// objects their selector matches). Nothing changes if `obj` got a controller meanwhile or is
/// being deleted; the caller checks the result with [`controlled_by`].
pub fn adopt(
    store: &Store,
    rt: &'static ResourceType,
    obj: &Value,
    owner: &Value,
    manager: &str,
) -> Result<Arc<Value>, ApiError> {
    let uid = meta::uid(obj).to_string();
    let reference = owner_ref(owner);
    store.patch(
        rt,
        meta::namespace(obj),
        meta::name(obj),
        &write_opts(manager),
        |cur| {
            let mut new = cur.clone();
            if meta::uid(cur) != uid || controller_ref(cur).is_some() || meta::is_terminating(cur) {
                return Ok(new);
            }
            let md = meta::metadata_mut(&mut new);
            let refs = md.entry("ownerReferences").or_insert_with(|| json!([]));
            match refs.as_array_mut() {
                Some(a) => a.push(reference),
                None => *refs = json!([reference]),
            }
            Ok(new)
        },
    )
}

pub fn write_opts(manager: &str) -> WriteOptions {
    WriteOptions {
        field_manager: Some(manager.to_string()),
        ..Default::default()
    }
}

pub fn status_opts(manager: &str) -> WriteOptions {
    WriteOptions {
        field_manager: Some(manager.to_string()),
        status_only: true,
        ..Default::default()
    }
}

/// The object, or `None` when it does not exist.
pub fn get(store: &Store, rt: &'static ResourceType, ns: &str, name: &str) -> Option<Arc<Value>> {
    store.get(rt, ns, name).ok()
}

pub fn generation(obj: &Value) -> i64 {
    obj.pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(0)
}

pub fn int_at(obj: &Value, pointer: &str) -> Option<i64> {
    obj.pointer(pointer).and_then(Value::as_i64)
}

pub fn str_at<'a>(obj: &'a Value, pointer: &str) -> &'a str {
    obj.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// Writes `status` through the status subresource, only if the object still has `uid`.
/// Unchanged status is not written (the store skips no-op updates).
pub fn write_status(
    store: &Store,
    rt: &'static ResourceType,
    obj: &Value,
    status: Value,
    manager: &str,
) -> Result<Arc<Value>, ApiError> {
    if obj.get("status") == Some(&status) {
        // Nothing to write (the store would skip it too, after copying the object twice).
        return Ok(Arc::new(obj.clone()));
    }
    let uid = meta::uid(obj).to_string();
    store.patch(
        rt,
        meta::namespace(obj),
        meta::name(obj),
        &status_opts(manager),
        |cur| {
            let mut new = cur.clone();
            if meta::uid(cur) == uid {
                meta::set_field(&mut new, "status", status);
            }
            Ok(new)
        },
    )
}

/// Adds a finalizer (a merge of `metadata.finalizers`), unless present or the object is being
/// deleted.
pub fn add_finalizer(
    store: &Store,
    rt: &'static ResourceType,
    obj: &Value,
    finalizer: &str,
    manager: &str,
) -> Result<Arc<Value>, ApiError> {
    let uid = meta::uid(obj).to_string();
    store.patch(
        rt,
        meta::namespace(obj),
        meta::name(obj),
        &write_opts(manager),
        |cur| {
            let mut new = cur.clone();
            let mut fins = meta::finalizers(cur);
            if meta::uid(cur) == uid
                && !meta::is_terminating(cur)
                && !fins.iter().any(|f| f == finalizer)
            {
                fins.push(finalizer.to_string());
                meta::set_finalizers(&mut new, &fins);
            }
            Ok(new)
        },
    )
}

/// Removes one finalizer, leaving the others; the store deletes the object when it was the last
/// one of a terminating object.
pub fn remove_finalizer(
    store: &Store,
    rt: &'static ResourceType,
    ns: &str,
    name: &str,
    uid: &str,
    finalizer: &str,
    manager: &str,
) -> Result<Arc<Value>, ApiError> {
    store.patch(rt, ns, name, &write_opts(manager), |cur| {
        let mut new = cur.clone();
        let fins = meta::finalizers(cur);
        if meta::uid(cur) == uid && fins.iter().any(|f| f == finalizer) {
            let kept: Vec<String> = fins.into_iter().filter(|f| f != finalizer).collect();
            meta::set_finalizers(&mut new, &kept);
        }
        Ok(new)
    })
}

/// A condition to set.
pub struct Cond<'a> {
    pub type_: &'a str,
    pub status: &'a str,
    pub reason: &'a str,
    pub message: &'a str,
}

/// The condition of this type in `status.conditions`.
pub fn condition<'a>(obj: &'a Value, type_: &str) -> Option<&'a Value> {
    obj.pointer("/status/conditions")
        .and_then(Value::as_array)?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(type_))
}

pub fn condition_true(obj: &Value, type_: &str) -> bool {
    condition(obj, type_)
        .and_then(|c| c.get("status"))
        .and_then(Value::as_str)
        == Some("True")
}

/// Sets a condition in place. `lastTransitionTime` moves only when the status changes;
/// `lastUpdateTime` (Deployments use it) whenever anything but the times changes.
pub fn set_condition(conds: &mut Vec<Value>, c: &Cond, now: &str, update_time: bool) {
    let pos = conds
        .iter()
        .position(|x| x.get("type").and_then(Value::as_str) == Some(c.type_));
    let old = pos.map(|i| conds[i].clone());
    let field = |k: &str| {
        old.as_ref()
            .and_then(|o| o.get(k))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let same_status = old.is_some() && field("status") == c.status;
    let unchanged = same_status && field("reason") == c.reason && field("message") == c.message;
    if unchanged {
        return;
    }
    let mut m = Map::new();
    m.insert("type".into(), json!(c.type_));
    m.insert("status".into(), json!(c.status));
    if !c.reason.is_empty() {
        m.insert("reason".into(), json!(c.reason));
    }
    if !c.message.is_empty() {
        m.insert("message".into(), json!(c.message));
    }
    let transition = if same_status {
        field("lastTransitionTime")
    } else {
        now.to_string()
    };
    m.insert("lastTransitionTime".into(), json!(transition));
    if update_time {
        m.insert("lastUpdateTime".into(), json!(now));
    }
    match pos {
        Some(i) => conds[i] = Value::Object(m),
        None => conds.push(Value::Object(m)),
    }
}

/// The conditions array of a status under construction.
pub fn conditions_of(status: &Value) -> Vec<Value> {
    status
        .get("conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// Parses a Go-style duration (`6s`, `500ms`, `1m30s`, `1.5s`); a bare number is seconds.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(secs) = s.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let num_end = rest
            .find(|ch: char| !(ch.is_ascii_digit() || ch == '.'))
            .unwrap_or(rest.len());
        let n: f64 = rest[..num_end].parse().ok()?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|ch: char| ch.is_ascii_digit() || ch == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_end] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        total += n * scale;
        rest = &rest[unit_end..];
    }
    total.is_finite().then(|| Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_hash_ignores_key_order_and_depends_on_seed() {
        let a = json!({"a": 1, "b": [1, "x"]});
        let b: Value = serde_json::from_str(r#"{"b": [1, "x"], "a": 1}"#).unwrap();
        assert_eq!(hash_value(1, &a), hash_value(1, &b));
        assert_ne!(hash_value(1, &a), hash_value(2, &a));
        assert_ne!(
            hash_value(1, &a),
            hash_value(1, &json!({"a": 2, "b": [1, "x"]}))
        );
    }

    #[test]
    fn jitter_stays_within_twenty_percent() {
        let base = Duration::from_millis(1000);
        for i in 0..50 {
            let d = jitter(base, 0.2, 7, &["pod", &i.to_string()]);
            assert!(d >= Duration::from_millis(800) && d < Duration::from_millis(1200));
        }
        assert_eq!(jitter(base, 0.2, 7, &["p"]), jitter(base, 0.2, 7, &["p"]));
        assert_eq!(jitter(base, 0.0, 7, &["p"]), base, "jitter 0 is exact");
    }

    #[test]
    fn conditions_keep_transition_time_while_status_holds() {
        let mut c = Vec::new();
        let cond = |s, r| Cond {
            type_: "Available",
            status: s,
            reason: r,
            message: "",
        };
        set_condition(&mut c, &cond("False", "A"), "t1", true);
        set_condition(&mut c, &cond("False", "B"), "t2", true);
        assert_eq!(c[0]["lastTransitionTime"], "t1");
        assert_eq!(c[0]["lastUpdateTime"], "t2");
        set_condition(&mut c, &cond("True", "B"), "t3", true);
        assert_eq!(c[0]["lastTransitionTime"], "t3");
        set_condition(&mut c, &cond("True", "B"), "t4", true);
        assert_eq!(c[0]["lastUpdateTime"], "t3");
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn durations_parse_like_go() {
        assert_eq!(parse_duration("6s"), Some(Duration::from_secs(6)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("x"), None);
        assert_eq!(parse_duration("-1"), None);
    }
}
