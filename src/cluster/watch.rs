//! Watches into stores: one kube-runtime `watcher` per kind (list, then watch with bookmarks,
//! resuming from the last resourceVersion), applied to a reflector store; a coalesced change
//! notice for the app; the state of each watch for the status bar.
//!
//! At idle nothing is requested: the watches stay open, the API server sends bookmarks, and a
//! watch that times out (290 s) is resumed with another `watch` from its last resourceVersion.
//! A watch that fails is reported as Reconnecting and started again (list, then watch) after
//! kube-runtime's default backoff (0.8 s doubling to 30 s, with jitter), so its state turns Live
//! exactly when its store is whole again. A kind that RBAC forbids (403) or that the server does
//! not serve (404, KServe not installed) is emptied, reported, and retried only every
//! `restricted_retry` (5 min) in case permissions or CRDs change.

mod events;
pub mod scope;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use kube::Resource;
use kube::api::Api;
use kube::core::{ApiResource, DynamicObject, NamespaceResourceScope};
use kube::runtime::reflector::{ObjectRef, Store, store::Writer};
use kube::runtime::utils::Backoff;
use kube::runtime::watcher::{self, DefaultBackoff};
use serde::de::DeserializeOwned;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;
use tokio_util::sync::{CancellationToken, DropGuard};

use super::client::Scope;
use super::error::{describe_kube_error, status_code};
use super::kinds::{
    DeploymentObject, EventObject, HpaObject, IngressObject, LEASE_PREFIX, LeaseObject, PodObject,
    ReplicaSetObject, ServiceObject, inference_service_resource,
};
use super::model::{EventView, Kind, WatchKind, WatchState};
use super::snapshot::Snapshot;
pub use events::{EventIndex, EventQuery, event_view};

/// Tuning of [`ClusterWatch`].
#[derive(Debug, Clone)]
pub struct WatchConfig {
    /// Watch events within this window after the first become one [`ClusterNotice::Changed`].
    pub coalesce_window: Duration,
    /// Events kept per involved object, and overall.
    pub events_per_object: usize,
    pub events_total: usize,
    /// Notices buffered for a slow app (changes keep coalescing meanwhile, nothing is lost).
    pub notice_capacity: usize,
    /// Retry interval for kinds that are Forbidden or Unavailable.
    pub restricted_retry: Duration,
}

impl Default for WatchConfig {
    fn default() -> Self {
        WatchConfig {
            coalesce_window: Duration::from_millis(75),
            events_per_object: 50,
            events_total: 5_000,
            notice_capacity: 64,
            restricted_retry: Duration::from_secs(300),
        }
    }
}

/// What the app hears from the watches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterNotice {
    /// These stores changed since the last notice; take a new snapshot.
    Changed(BTreeSet<WatchKind>),
    /// A watch changed state (Live, Reconnecting, Forbidden, Unavailable).
    WatchState(WatchKind, WatchState),
}

#[derive(Clone)]
struct Stores {
    isvc: Store<DynamicObject>,
    deploy: Store<DeploymentObject>,
    rs: Store<ReplicaSetObject>,
    pod: Store<PodObject>,
    svc: Store<ServiceObject>,
    hpa: Store<HpaObject>,
    ing: Store<IngressObject>,
    lease: Store<LeaseObject>,
}

#[derive(Default)]
struct Pending {
    changed: BTreeSet<WatchKind>,
    states: Vec<(WatchKind, WatchState)>,
}

/// Index of a kind's "store changed since the last snapshot" flag.
fn dirty_slot(wk: WatchKind) -> Option<usize> {
    match wk {
        WatchKind::Resource(k) => Kind::ALL.iter().position(|x| *x == k),
        WatchKind::Lease => Some(Kind::ALL.len()),
        WatchKind::Event => None,
    }
}

struct Shared {
    stores: Stores,
    isvc_resource: ApiResource,
    dirty: [AtomicBool; Kind::ALL.len() + 1],
    cache: Mutex<Snapshot>,
    events: Mutex<EventIndex>,
    states: Mutex<BTreeMap<WatchKind, WatchState>>,
    pending: Mutex<Pending>,
    wake: Notify,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    fn mark_changed(&self, wk: WatchKind) {
        if let Some(slot) = dirty_slot(wk) {
            self.dirty[slot].store(true, Ordering::Release);
        }
        lock(&self.pending).changed.insert(wk);
        self.wake.notify_one();
    }

    fn set_state(&self, wk: WatchKind, state: WatchState) {
        let mut states = lock(&self.states);
        if states.get(&wk) == Some(&state) {
            return;
        }
        states.insert(wk, state.clone());
        drop(states);
        lock(&self.pending).states.push((wk, state));
        self.wake.notify_one();
    }

    fn take_dirty(&self, wk: WatchKind) -> bool {
        dirty_slot(wk).is_some_and(|s| self.dirty[s].swap(false, Ordering::AcqRel))
    }
}

/// The console's watches. Dropping it stops them.
pub struct ClusterWatch {
    shared: Arc<Shared>,
    cancel: CancellationToken,
    _guard: DropGuard,
    tasks: Vec<JoinHandle<()>>,
}

/// Where a watch's events go.
trait Sink<K>: Send + 'static {
    /// Applies one event; returns whether what readers see changed.
    fn apply(&mut self, ev: &watcher::Event<K>) -> bool;
    /// Empties the store (the kind is forbidden or gone).
    fn clear(&mut self);
}

/// A reflector writer, optionally keeping only objects whose name has a prefix.
struct StoreSink<K: Resource + Clone + 'static>
where
    K::DynamicType: Eq + Hash + Clone,
{
    writer: Writer<K>,
    name_prefix: Option<&'static str>,
}

impl<K> Sink<K> for StoreSink<K>
where
    K: Resource + Clone + Send + Sync + 'static,
    K::DynamicType: Eq + Hash + Clone + Send + Sync,
{
    fn apply(&mut self, ev: &watcher::Event<K>) -> bool {
        let keep = |o: &K| {
            self.name_prefix
                .is_none_or(|p| o.meta().name.as_deref().is_some_and(|n| n.starts_with(p)))
        };
        let (keep, visible) = match ev {
            watcher::Event::Apply(o) | watcher::Event::Delete(o) => (keep(o), true),
            watcher::Event::InitApply(o) => (keep(o), false),
            watcher::Event::Init => (true, false),
            watcher::Event::InitDone => (true, true),
        };
        if keep {
            self.writer.apply_watcher_event(ev);
        }
        keep && visible
    }

    fn clear(&mut self) {
        self.writer.apply_watcher_event(&watcher::Event::Init);
        self.writer.apply_watcher_event(&watcher::Event::InitDone);
    }
}

struct EventSink(Arc<Shared>);

impl Sink<EventObject> for EventSink {
    fn apply(&mut self, ev: &watcher::Event<EventObject>) -> bool {
        lock(&self.0.events).apply(ev)
    }
    fn clear(&mut self) {
        lock(&self.0.events).clear();
    }
}

/// What a failed watch means for its kind.
fn classify(err: &watcher::Error) -> WatchState {
    let (code, message) = match err {
        watcher::Error::InitialListFailed(e)
        | watcher::Error::WatchStartFailed(e)
        | watcher::Error::WatchFailed(e) => (status_code(e), describe_kube_error(e)),
        watcher::Error::WatchError(status) => (
            Some(status.code),
            crate::text::sanitize(&format!("{}: {}", status.code, status.message)).into_owned(),
        ),
        watcher::Error::NoResourceVersion => (None, err.to_string()),
    };
    match code {
        // The resume point expired (history compacted): a routine re-list, not an alarm.
        Some(410) => WatchState::Syncing,
        Some(403) => WatchState::Forbidden { message },
        Some(404) => WatchState::Unavailable { message },
        _ => WatchState::Reconnecting { error: message },
    }
}

async fn run_watch<K, S>(
    api: Api<K>,
    wk: WatchKind,
    mut sink: S,
    shared: Arc<Shared>,
    cancel: CancellationToken,
    restricted_retry: Duration,
) where
    K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    S: Sink<K>,
{
    let mut backoff = DefaultBackoff::default();
    loop {
        let mut stream = std::pin::pin!(watcher::watcher(api.clone(), watcher::Config::default()));
        let mut restricted = false;
        loop {
            let item = tokio::select! {
                _ = cancel.cancelled() => return,
                item = stream.next() => item,
            };
            match item {
                // A watcher stream never ends by itself; treat it as a break all the same.
                None => break,
                Some(Ok(ev)) => {
                    // managedFields are large and never shown: keep them out of memory.
                    let ev = ev.modify(|o| o.meta_mut().managed_fields = None);
                    let done = matches!(ev, watcher::Event::InitDone);
                    if sink.apply(&ev) {
                        shared.mark_changed(wk);
                    }
                    if done {
                        shared.set_state(wk, WatchState::Live);
                        backoff.reset();
                    }
                }
                Some(Err(err)) => {
                    let state = classify(&err);
                    tracing::warn!(kind = %wk, error = %err, "watch failed");
                    restricted = matches!(
                        state,
                        WatchState::Forbidden { .. } | WatchState::Unavailable { .. }
                    );
                    if restricted {
                        sink.clear();
                        shared.mark_changed(wk);
                    }
                    shared.set_state(wk, state);
                    break;
                }
            }
        }
        let delay = if restricted {
            restricted_retry
        } else {
            backoff.next().unwrap_or(Duration::from_secs(30))
        };
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(delay) => {}
        }
    }
}

fn api_for<K>(client: &kube::Client, scope: &Scope) -> Api<K>
where
    K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>,
{
    match scope {
        Scope::All => Api::all(client.clone()),
        Scope::Namespace(ns) => Api::namespaced(client.clone(), ns),
    }
}

/// Sends pending notices: at most one `Changed` per window, state changes first.
async fn coalesce(
    shared: Arc<Shared>,
    tx: mpsc::Sender<ClusterNotice>,
    window: Duration,
    cancel: CancellationToken,
) {
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = shared.wake.notified() => {}
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(window) => {}
        }
        let pending = std::mem::take(&mut *lock(&shared.pending));
        let mut notices: Vec<ClusterNotice> = pending
            .states
            .into_iter()
            .map(|(k, s)| ClusterNotice::WatchState(k, s))
            .collect();
        if !pending.changed.is_empty() {
            notices.push(ClusterNotice::Changed(pending.changed));
        }
        for n in notices {
            tokio::select! {
                _ = cancel.cancelled() => return,
                // A closed receiver just means nobody listens; the stores stay readable.
                _ = tx.send(n) => {}
            }
        }
    }
}

impl ClusterWatch {
    /// Starts one watch per kind in `scope`. Call within a tokio runtime.
    pub fn start(
        client: kube::Client,
        scope: &Scope,
        cfg: WatchConfig,
    ) -> (ClusterWatch, mpsc::Receiver<ClusterNotice>) {
        let isvc_resource = inference_service_resource();
        let isvc_writer = Writer::<DynamicObject>::new(isvc_resource.clone());
        let deploy = Writer::default();
        let rs = Writer::default();
        let pod = Writer::default();
        let svc = Writer::default();
        let hpa = Writer::default();
        let ing = Writer::default();
        let lease = Writer::default();
        let stores = Stores {
            isvc: isvc_writer.as_reader(),
            deploy: deploy.as_reader(),
            rs: rs.as_reader(),
            pod: pod.as_reader(),
            svc: svc.as_reader(),
            hpa: hpa.as_reader(),
            ing: ing.as_reader(),
            lease: lease.as_reader(),
        };
        let states = WatchKind::ALL
            .iter()
            .map(|k| (*k, WatchState::Syncing))
            .collect();
        let shared = Arc::new(Shared {
            stores,
            isvc_resource: isvc_resource.clone(),
            dirty: Default::default(),
            cache: Mutex::new(Snapshot::default()),
            events: Mutex::new(EventIndex::new(cfg.events_per_object, cfg.events_total)),
            states: Mutex::new(states),
            pending: Mutex::new(Pending::default()),
            wake: Notify::new(),
        });
        let cancel = CancellationToken::new();
        let (tx, rx) = mpsc::channel(cfg.notice_capacity.max(1));
        let mut tasks = Vec::new();
        let retry = cfg.restricted_retry;
        macro_rules! spawn_kind {
            ($api:expr, $wk:expr, $writer:expr, $prefix:expr) => {
                tasks.push(tokio::spawn(run_watch(
                    $api,
                    $wk,
                    StoreSink {
                        writer: $writer,
                        name_prefix: $prefix,
                    },
                    shared.clone(),
                    cancel.child_token(),
                    retry,
                )))
            };
        }
        let isvc_api: Api<DynamicObject> = match scope {
            Scope::All => Api::all_with(client.clone(), &isvc_resource),
            Scope::Namespace(ns) => Api::namespaced_with(client.clone(), ns, &isvc_resource),
        };
        let r = WatchKind::Resource;
        spawn_kind!(isvc_api, r(Kind::InferenceService), isvc_writer, None);
        spawn_kind!(api_for(&client, scope), r(Kind::Deployment), deploy, None);
        spawn_kind!(api_for(&client, scope), r(Kind::ReplicaSet), rs, None);
        spawn_kind!(api_for(&client, scope), r(Kind::Pod), pod, None);
        spawn_kind!(api_for(&client, scope), r(Kind::Service), svc, None);
        spawn_kind!(
            api_for(&client, scope),
            r(Kind::HorizontalPodAutoscaler),
            hpa,
            None
        );
        spawn_kind!(api_for(&client, scope), r(Kind::Ingress), ing, None);
        // Leases: a prefix cannot be a field selector, so all are watched and ours kept.
        spawn_kind!(
            api_for(&client, scope),
            WatchKind::Lease,
            lease,
            Some(LEASE_PREFIX)
        );
        tasks.push(tokio::spawn(run_watch(
            api_for::<EventObject>(&client, scope),
            WatchKind::Event,
            EventSink(shared.clone()),
            shared.clone(),
            cancel.child_token(),
            retry,
        )));
        tasks.push(tokio::spawn(coalesce(
            shared.clone(),
            tx,
            cfg.coalesce_window,
            cancel.child_token(),
        )));
        let watch = ClusterWatch {
            shared,
            _guard: cancel.clone().drop_guard(),
            cancel,
            tasks,
        };
        (watch, rx)
    }

    /// The stores now. Kinds unchanged since the last call reuse their lists, so this is cheap.
    pub fn snapshot(&self) -> Snapshot {
        let s = &self.shared;
        let mut cache = lock(&s.cache);
        let r = WatchKind::Resource;
        if s.take_dirty(r(Kind::InferenceService)) {
            cache.inference_services = Arc::new(s.stores.isvc.state());
        }
        if s.take_dirty(r(Kind::Deployment)) {
            cache.deployments = Arc::new(s.stores.deploy.state());
        }
        if s.take_dirty(r(Kind::ReplicaSet)) {
            cache.replica_sets = Arc::new(s.stores.rs.state());
        }
        if s.take_dirty(r(Kind::Pod)) {
            cache.pods = Arc::new(s.stores.pod.state());
        }
        if s.take_dirty(r(Kind::Service)) {
            cache.services = Arc::new(s.stores.svc.state());
        }
        if s.take_dirty(r(Kind::HorizontalPodAutoscaler)) {
            cache.hpas = Arc::new(s.stores.hpa.state());
        }
        if s.take_dirty(r(Kind::Ingress)) {
            cache.ingresses = Arc::new(s.stores.ing.state());
        }
        if s.take_dirty(WatchKind::Lease) {
            cache.leases = Arc::new(s.stores.lease.state());
        }
        cache.clone()
    }

    /// One object as JSON (apiVersion, kind, metadata, spec, status; no managedFields), for the
    /// manifest view.
    pub fn object_json(&self, kind: Kind, ns: &str, name: &str) -> Option<serde_json::Value> {
        fn get<K>(store: &Store<K>, ns: &str, name: &str) -> Option<serde_json::Value>
        where
            K: Resource<DynamicType = ()> + Clone + serde::Serialize + 'static,
        {
            let obj = store.get(&ObjectRef::new(name).within(ns))?;
            serde_json::to_value(&*obj).ok()
        }
        let st = &self.shared.stores;
        match kind {
            Kind::InferenceService => {
                let key = ObjectRef::new_with(name, self.shared.isvc_resource.clone()).within(ns);
                serde_json::to_value(&*st.isvc.get(&key)?).ok()
            }
            Kind::Deployment => get(&st.deploy, ns, name),
            Kind::ReplicaSet => get(&st.rs, ns, name),
            Kind::Pod => get(&st.pod, ns, name),
            Kind::Service => get(&st.svc, ns, name),
            Kind::HorizontalPodAutoscaler => get(&st.hpa, ns, name),
            Kind::Ingress => get(&st.ing, ns, name),
        }
    }

    /// Recent events about an object, oldest first.
    pub fn events_for(&self, q: &EventQuery) -> Vec<EventView> {
        lock(&self.shared.events).events_for(q)
    }

    /// The state of every watch.
    pub fn watch_states(&self) -> BTreeMap<WatchKind, WatchState> {
        lock(&self.shared.states).clone()
    }

    /// Whether every watch has synced and none is broken. Forbidden or Unavailable kinds count
    /// as settled: they will not become Live by waiting.
    pub fn settled(&self) -> bool {
        lock(&self.shared.states)
            .values()
            .all(|s| !matches!(s, WatchState::Syncing | WatchState::Reconnecting { .. }))
    }

    /// Stops every watch and waits for the tasks to end.
    pub async fn shutdown(self) {
        self.cancel.cancel();
        for t in self.tasks {
            let _ = t.await;
        }
    }
}
