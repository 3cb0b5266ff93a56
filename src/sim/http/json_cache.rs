//! Serialized JSON of stored object versions, so a list of 5,000 pods or an event sent to 20
//! watchers serializes each object version once (the apiserver's watch cache does the same with
//! its `cachingObject`).
//!
//! Stored objects are immutable `Arc<Value>`s: every write stores a new one. An entry is keyed by
//! the `Arc`'s address and holds a `Weak` to it, which keeps that address from being reused while
//! the entry exists; an entry whose object is gone is stale and swept.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use bytes::Bytes;
use serde_json::Value;

#[derive(Default)]
pub struct JsonCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<usize, (Weak<Value>, Bytes)>,
    inserted_since_sweep: usize,
}

/// Entries inserted between sweeps, at least; a sweep is due once as many were inserted as the
/// cache held after the last one, which keeps sweeping amortised O(1) per insert.
const MIN_SWEEP_INTERVAL: usize = 4096;

fn key(obj: &Arc<Value>) -> usize {
    Arc::as_ptr(obj) as usize
}

impl JsonCache {
    /// The JSON of each object, in order.
    pub fn serialize_all(&self, objects: &[Arc<Value>]) -> Vec<Bytes> {
        let mut out: Vec<Option<Bytes>> = {
            let inner = self.lock();
            objects
                .iter()
                .map(|o| {
                    inner
                        .entries
                        .get(&key(o))
                        .filter(|(w, _)| w.strong_count() > 0)
                        .map(|(_, b)| b.clone())
                })
                .collect()
        };
        // Serialize what was missing without holding the lock.
        let mut fresh = Vec::new();
        for (slot, obj) in out.iter_mut().zip(objects) {
            if slot.is_none() {
                let b = Bytes::from(serde_json::to_vec(&**obj).unwrap_or_default());
                fresh.push((obj, b.clone()));
                *slot = Some(b);
            }
        }
        if !fresh.is_empty() {
            let mut inner = self.lock();
            inner.inserted_since_sweep += fresh.len();
            for (obj, b) in fresh {
                inner.entries.insert(key(obj), (Arc::downgrade(obj), b));
            }
            let interval = inner.entries.len().max(MIN_SWEEP_INTERVAL);
            if inner.inserted_since_sweep >= interval / 2 {
                inner.entries.retain(|_, (w, _)| w.strong_count() > 0);
                inner.inserted_since_sweep = 0;
            }
        }
        out.into_iter().map(Option::unwrap_or_default).collect()
    }

    pub fn serialize(&self, obj: &Arc<Value>) -> Bytes {
        self.serialize_all(std::slice::from_ref(obj))
            .pop()
            .unwrap_or_default()
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().entries.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn serializes_once_per_version_and_forgets_dropped_ones() {
        let cache = JsonCache::default();
        let a = Arc::new(json!({"metadata": {"name": "a", "resourceVersion": "1"}}));
        let first = cache.serialize(&a);
        assert_eq!(&first[..], serde_json::to_vec(&*a).unwrap().as_slice());
        // The same bytes, not a second serialization.
        assert_eq!(cache.serialize(&a).as_ptr(), first.as_ptr());
        // A new version is a new object.
        let a2 = Arc::new(json!({"metadata": {"name": "a", "resourceVersion": "2"}}));
        let second = cache.serialize(&a2);
        assert_ne!(first, second);
        drop(a);
        drop(a2);
        // Enough fresh inserts trigger a sweep of the stale entries.
        let keep: Vec<Arc<Value>> = (0..MIN_SWEEP_INTERVAL)
            .map(|i| Arc::new(json!(i)))
            .collect();
        cache.serialize_all(&keep);
        assert!(cache.len() <= keep.len(), "{}", cache.len());
        let all = cache.serialize_all(&keep);
        assert_eq!(&all[7][..], b"7");
    }
}
