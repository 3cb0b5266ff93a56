//! The simulator's object store: every object as JSON, one resourceVersion counter for the whole
//! cluster (as etcd's revision), a bounded history of changes for watches, and a broadcast of each
//! change to watchers and controllers.
//!
//! All API semantics that do not depend on HTTP live here (create, update, patch, delete with
//! finalizers and grace periods), so controllers and the REST layer go through the same rules.

mod defaults;
mod delete;
mod pod_defaults;
pub mod validation;
mod write;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;
use tokio::sync::broadcast;

use super::error::ApiError;
use super::kinds::{NAMESPACES, ResourceType};
use super::meta;
use super::rng::Rng;

pub use delete::{DeleteOptions, DeleteOutcome, Precondition, Propagation, namespace_finalizers};
pub use write::WriteOptions;

/// What happened to an object, as a watch reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Modified,
    Deleted,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "ADDED",
            ChangeKind::Modified => "MODIFIED",
            ChangeKind::Deleted => "DELETED",
        }
    }
}

/// One committed change. `object` is the object at revision `rv` (for a deletion: the last stored
/// object, stamped with the deletion revision).
#[derive(Debug, Clone)]
pub struct Change {
    pub rv: u64,
    pub kind: ChangeKind,
    pub rt: &'static ResourceType,
    pub object: Arc<Value>,
    /// The object before this change (none for ADDED).
    pub previous: Option<Arc<Value>>,
}

impl Change {
    pub fn namespace(&self) -> &str {
        meta::namespace(&self.object)
    }
    pub fn name(&self) -> &str {
        meta::name(&self.object)
    }
}

/// Where a watch starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchFrom {
    /// No resourceVersion or "0": synthetic ADDED for every current object first.
    Current,
    /// Changes after this revision.
    After(u64),
}

/// A started watch: the events to send first, then everything on `rx` with `rv > start_rv`.
pub struct WatchStart {
    pub initial: Vec<Arc<Change>>,
    pub rx: broadcast::Receiver<Arc<Change>>,
    pub start_rv: u64,
    /// Whether the store had reached the requested revision. A watch from a future revision
    /// starts there (nothing older is sent) and, like the apiserver's cache watcher, sends no
    /// bookmark until the store gets that far.
    pub caught_up: bool,
}

type TypeKey = (&'static str, &'static str);
type ObjKey = (String, String);

fn type_key(rt: &ResourceType) -> TypeKey {
    (rt.group, rt.plural)
}

/// How many changes a watch can resume from; older revisions answer 410 Expired.
const DEFAULT_HISTORY: usize = 20_000;
/// Changes a slow watcher may fall behind before its stream is ended (it then re-watches), and a
/// controller before it resyncs. The channel keeps its last this-many changes (each with its
/// object and the previous version) alive, so it stays below the history: at 65,536 it held
/// every version a 5,000-pod fleet went through while settling (about 80 MB more).
const BROADCAST_CAPACITY: usize = 8_192;

pub(crate) struct State {
    rv: u64,
    objects: HashMap<TypeKey, BTreeMap<ObjKey, Arc<Value>>>,
    history: VecDeque<Arc<Change>>,
    history_limit: usize,
    /// Every change with `rv <= compacted_rv` has been dropped from the history.
    compacted_rv: u64,
    pub(crate) rng: Rng,
    next_cluster_ip: u32,
}

/// How long a read waits for a resourceVersion the store has not reached (the apiserver's watch
/// cache `blockTimeout`).
pub const RV_BLOCK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

pub struct Store {
    state: Mutex<State>,
    tx: broadcast::Sender<Arc<Change>>,
    /// [`RV_BLOCK_TIMEOUT`] unless a test shortens it, in milliseconds.
    rv_block_timeout_ms: std::sync::atomic::AtomicU64,
}

impl Store {
    pub fn new(seed: u64) -> Arc<Store> {
        let (tx, _) = broadcast::channel(BROADCAST_CAPACITY);
        Arc::new(Store {
            state: Mutex::new(State {
                rv: 1,
                objects: HashMap::new(),
                history: VecDeque::new(),
                history_limit: DEFAULT_HISTORY,
                compacted_rv: 1,
                rng: Rng::new(seed),
                next_cluster_ip: 10,
            }),
            tx,
            rv_block_timeout_ms: std::sync::atomic::AtomicU64::new(
                RV_BLOCK_TIMEOUT.as_millis() as u64
            ),
        })
    }

    /// How long a get, list or watch waits for a future resourceVersion before answering 504.
    pub fn rv_block_timeout(&self) -> std::time::Duration {
        let ms = self
            .rv_block_timeout_ms
            .load(std::sync::atomic::Ordering::Relaxed);
        std::time::Duration::from_millis(ms)
    }

    /// Shortens (or restores) that wait; for tests that send many such requests.
    pub fn set_rv_block_timeout(&self, timeout: std::time::Duration) {
        let ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        self.rv_block_timeout_ms
            .store(ms, std::sync::atomic::Ordering::Relaxed);
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock would poison it; the state is still consistent because
        // every mutation is committed in one step at the end, so carry on with it.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Changes from now on (controllers use this; watches use [`Store::watch`]).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Change>> {
        self.tx.subscribe()
    }

    pub fn current_rv(&self) -> u64 {
        self.lock().rv
    }

    /// Drops the whole watch history, so any watch resuming from an older revision gets 410.
    pub fn compact(&self) {
        let mut st = self.lock();
        st.history.clear();
        st.compacted_rv = st.rv;
    }

    pub fn set_history_limit(&self, limit: usize) {
        let mut st = self.lock();
        st.history_limit = limit.max(1);
        trim_history(&mut st);
    }

    pub fn get(
        &self,
        rt: &'static ResourceType,
        namespace: &str,
        name: &str,
    ) -> Result<Arc<Value>, ApiError> {
        let st = self.lock();
        lookup(&st, rt, namespace, name).ok_or_else(|| ApiError::not_found(rt, name))
    }

    /// Every object of `rt` (in `namespace`, or all when `None`) accepted by `filter`, in key
    /// order, with the revision the list is consistent at.
    pub fn list(
        &self,
        rt: &'static ResourceType,
        namespace: Option<&str>,
        filter: &dyn Fn(&Value) -> bool,
    ) -> (Vec<Arc<Value>>, u64) {
        let st = self.lock();
        let items = match st.objects.get(&type_key(rt)) {
            None => Vec::new(),
            Some(map) => match namespace {
                Some(ns) if rt.namespaced => map
                    .range((ns.to_string(), String::new())..)
                    .take_while(|((n, _), _)| n == ns)
                    .map(|(_, v)| v)
                    .filter(|v| filter(v))
                    .cloned()
                    .collect(),
                _ => map.values().filter(|v| filter(v)).cloned().collect(),
            },
        };
        (items, st.rv)
    }

    /// Starts a watch on `rt`. Namespace and selector filtering is the caller's.
    pub fn watch(
        &self,
        rt: &'static ResourceType,
        from: WatchFrom,
    ) -> Result<WatchStart, ApiError> {
        let st = self.lock();
        // Subscribing under the lock means no change can fall between history and stream.
        let rx = self.tx.subscribe();
        let key = type_key(rt);
        let initial = match from {
            WatchFrom::Current => st
                .objects
                .get(&key)
                .map(|m| {
                    m.values()
                        .map(|o| {
                            Arc::new(Change {
                                rv: meta::resource_version(o).parse().unwrap_or(0),
                                kind: ChangeKind::Added,
                                rt,
                                object: o.clone(),
                                previous: None,
                            })
                        })
                        .collect()
                })
                .unwrap_or_default(),
            WatchFrom::After(rv) => {
                if rv < st.compacted_rv {
                    return Err(ApiError::expired(rv, st.compacted_rv + 1));
                }
                st.history
                    .iter()
                    .filter(|c| c.rv > rv && type_key(c.rt) == key)
                    .cloned()
                    .collect()
            }
        };
        let requested = match from {
            WatchFrom::Current => st.rv,
            WatchFrom::After(rv) => rv,
        };
        Ok(WatchStart {
            initial,
            rx,
            start_rv: st.rv.max(requested),
            caught_up: requested <= st.rv,
        })
    }

    /// Runs `f` with the state locked; for the write paths in the submodules.
    fn with_state<T>(&self, f: impl FnOnce(&mut State, &mut Vec<Arc<Change>>) -> T) -> T {
        let mut pending = Vec::new();

        {
            let mut st = self.lock();
            let out = f(&mut st, &mut pending);
            for c in &pending {
                st.history.push_back(c.clone());
            }
            trim_history(&mut st);
            // Sent while still locked so that every receiver sees changes in revision order.
            for c in pending.drain(..) {
                let _ = self.tx.send(c);
            }
            out
        }
    }
}

fn trim_history(st: &mut State) {
    while st.history.len() > st.history_limit {
        if let Some(c) = st.history.pop_front() {
            st.compacted_rv = c.rv;
        }
    }
}

fn lookup(st: &State, rt: &ResourceType, namespace: &str, name: &str) -> Option<Arc<Value>> {
    let ns = if rt.namespaced { namespace } else { "" };
    st.objects
        .get(&type_key(rt))
        .and_then(|m| m.get(&(ns.to_string(), name.to_string())))
        .cloned()
}

impl State {
    fn next_rv(&mut self) -> u64 {
        self.rv += 1;
        self.rv
    }

    fn insert(&mut self, rt: &'static ResourceType, obj: Arc<Value>) {
        let ns = if rt.namespaced {
            meta::namespace(&obj).to_string()
        } else {
            String::new()
        };
        let name = meta::name(&obj).to_string();
        self.objects
            .entry(type_key(rt))
            .or_default()
            .insert((ns, name), obj);
    }

    fn remove(&mut self, rt: &'static ResourceType, namespace: &str, name: &str) {
        let ns = if rt.namespaced { namespace } else { "" };
        if let Some(m) = self.objects.get_mut(&type_key(rt)) {
            m.remove(&(ns.to_string(), name.to_string()));
        }
    }

    fn namespace_state(&self, ns: &str) -> Option<Arc<Value>> {
        lookup(self, &NAMESPACES, "", ns)
    }
}

#[cfg(test)]
mod tests;
