//! What the console shows, as plain data: endpoints, their resources as a tree, the state of each
//! object, and the state of the watches. Produced by pure derivation from the watch stores
//! (`derive.rs`) and consumed by the TUI and the `status` command. No kube or ratatui types here,
//! so fixtures and snapshots are easy.

use jiff::Timestamp;
use serde::Serialize;

/// The kinds the console watches and shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Kind {
    InferenceService,
    Deployment,
    ReplicaSet,
    Pod,
    Service,
    HorizontalPodAutoscaler,
    Ingress,
}

impl Kind {
    /// Parses a manifest Kind (`Pod`) or a kubectl short name (`pod`, `isvc`, `deploy`).
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| {
            k.name().eq_ignore_ascii_case(s)
                || k.short().eq_ignore_ascii_case(s)
                || format!("{}s", k.name()).eq_ignore_ascii_case(s)
        })
    }

    pub const ALL: [Kind; 7] = [
        Kind::InferenceService,
        Kind::Deployment,
        Kind::ReplicaSet,
        Kind::Pod,
        Kind::Service,
        Kind::HorizontalPodAutoscaler,
        Kind::Ingress,
    ];

    /// Short name as kubectl prints it (`isvc`, `deploy`, `rs`, `pod`, `svc`, `hpa`, `ing`).
    pub fn short(self) -> &'static str {
        match self {
            Kind::InferenceService => "isvc",
            Kind::Deployment => "deploy",
            Kind::ReplicaSet => "rs",
            Kind::Pod => "pod",
            Kind::Service => "svc",
            Kind::HorizontalPodAutoscaler => "hpa",
            Kind::Ingress => "ing",
        }
    }

    /// The Kind as in manifests (`InferenceService`).
    pub fn name(self) -> &'static str {
        match self {
            Kind::InferenceService => "InferenceService",
            Kind::Deployment => "Deployment",
            Kind::ReplicaSet => "ReplicaSet",
            Kind::Pod => "Pod",
            Kind::Service => "Service",
            Kind::HorizontalPodAutoscaler => "HorizontalPodAutoscaler",
            Kind::Ingress => "Ingress",
        }
    }
}

/// How an endpoint is served. Spelled `kserve` / `raw` everywhere (the TUI's MODE column,
/// `status`, its JSON, journals, the lease annotation); journals written before that spelled
/// them `Kserve` / `Raw`, still read.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// A KServe InferenceService (its children in RawDeployment mode).
    #[serde(alias = "Kserve")]
    Kserve,
    /// A plain Deployment selected by the configured label.
    #[serde(alias = "Raw")]
    Raw,
}

impl Mode {
    /// The one spelling shown and written: `kserve`, `raw`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Kserve => "kserve",
            Mode::Raw => "raw",
        }
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Identity of an endpoint: stable across updates (the selection follows it by UID of the root
/// object where possible, by this key otherwise).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct EndpointKey {
    pub namespace: String,
    pub name: String,
    pub mode: Mode,
}

/// Health of one object or a whole endpoint, worst first in `Ord`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Health {
    Failed,
    Terminating,
    Degraded,
    /// A redeploy (or another console operation) holds the endpoint's lease.
    Redeploying,
    Progressing,
    Unknown,
    Ready,
}

/// Why and since when an object is Terminating.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Terminating {
    /// The object's deletionTimestamp. For pods in their grace period this is the *end* of the
    /// grace period, as the API sets it; `since` is then derived as deletionTimestamp - grace.
    pub deletion_timestamp: Timestamp,
    /// When deletion was requested (best estimate, see above).
    pub since: Timestamp,
    /// The finalizers still blocking removal (empty: only the grace period is left).
    pub finalizers: Vec<String>,
    /// deletionGracePeriodSeconds, when set.
    pub grace_period_seconds: Option<i64>,
}

/// One object of an endpoint, as a node of its resource tree.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceNode {
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub health: Health,
    /// One short human line: `2/2 ready`, `Running`, `CrashLoopBackOff`, `ClusterIP 10.96.0.12`,
    /// `2-5 replicas, cpu 80%`, `llama-llm-prod.example.com`.
    pub summary: String,
    pub created: Option<Timestamp>,
    pub terminating: Option<Terminating>,
    /// All finalizers (also on live objects).
    pub finalizers: Vec<String>,
    /// `Kind/name` of the controlling owner chain, nearest first.
    pub owners: Vec<String>,
    pub children: Vec<ResourceNode>,
}

/// Lease `llmops-console-<endpoint>` held by an operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeaseInfo {
    pub holder: String,
    pub step: Option<String>,
    pub operation_id: Option<String>,
    pub acquired: Option<Timestamp>,
    pub renewed: Option<Timestamp>,
    /// Renewed within its duration (an expired lease is shown but not counted as held). Judged
    /// at derivation; the TUI judges it again on every tick (`derive::expire_leases`), so a
    /// lease whose holder died stops counting when it expires, event or not.
    pub live: bool,
    /// When it stops being live without another renewal: renewTime (else acquireTime) plus
    /// leaseDurationSeconds capped at `derive::MAX_LEASE_SECS`. None: it is never live.
    pub expires: Option<Timestamp>,
    /// What was wrong with the lease's fields (absent renewTime, a capped duration, a
    /// renewTime in the future), for the panes and `status`.
    pub note: Option<String>,
}

impl LeaseInfo {
    /// Held and within its (capped) duration at `now`.
    pub fn live_at(&self, now: Timestamp) -> bool {
        !self.holder.is_empty() && self.expires.is_some_and(|until| until > now)
    }

    /// Held by someone but not renewed in time: the holder has most likely died.
    pub fn expired(&self) -> bool {
        !self.live && !self.holder.is_empty()
    }
}

/// One endpoint row with everything the panes need.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EndpointView {
    pub key: EndpointKey,
    /// UID of the root object (InferenceService or Deployment).
    pub uid: String,
    /// The endpoint's health: `Redeploying` while a live lease is held, else `objects_health`.
    pub health: Health,
    /// The health of its objects alone, whatever a lease says (what shows once the lease of a
    /// dead holder expires).
    pub objects_health: Health,
    pub ready: u32,
    pub desired: u32,
    pub created: Option<Timestamp>,
    pub lease: Option<LeaseInfo>,
    /// Roots of the resource tree: the InferenceService (with Deployment -> ReplicaSet -> Pods
    /// below it, and Service, HPA, Ingress) or, for raw mode, the Deployment and its siblings.
    /// Leftovers (objects matching the endpoint but not owned) are roots too.
    pub resources: Vec<ResourceNode>,
    /// The oldest Terminating object of the endpoint, for the table's column.
    pub oldest_terminating: Option<Terminating>,
    /// Short reasons for a non-Ready health (`pod x: CrashLoopBackOff`, `isvc: finalizer ...`).
    pub reasons: Vec<String>,
}

/// State of one watch stream, for the status bar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum WatchState {
    /// Listing (first sync not done yet).
    Syncing,
    Live,
    /// The stream broke; the watcher is backing off and will retry.
    Reconnecting {
        error: String,
    },
    /// RBAC forbids it; shown as a notice, the rest of the console works.
    Forbidden {
        message: String,
    },
    /// The API server does not serve the kind (404: KServe's CRD not installed); shown as a
    /// notice, retried slowly in case it gets installed.
    Unavailable {
        message: String,
    },
}

impl WatchState {
    /// Whether the kind's store is complete and current.
    pub fn is_live(&self) -> bool {
        matches!(self, WatchState::Live)
    }
}

/// Everything the console watches: the endpoint kinds, the redeploy leases and core/v1 Events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum WatchKind {
    Resource(Kind),
    /// `coordination.k8s.io/v1` Leases named `llmops-console-*`.
    Lease,
    /// `core/v1` Events.
    Event,
}

impl WatchKind {
    pub const ALL: [WatchKind; 9] = [
        WatchKind::Resource(Kind::InferenceService),
        WatchKind::Resource(Kind::Deployment),
        WatchKind::Resource(Kind::ReplicaSet),
        WatchKind::Resource(Kind::Pod),
        WatchKind::Resource(Kind::Service),
        WatchKind::Resource(Kind::HorizontalPodAutoscaler),
        WatchKind::Resource(Kind::Ingress),
        WatchKind::Lease,
        WatchKind::Event,
    ];

    /// The Kind as in manifests (`Pod`, `Lease`, `Event`).
    pub fn name(self) -> &'static str {
        match self {
            WatchKind::Resource(k) => k.name(),
            WatchKind::Lease => "Lease",
            WatchKind::Event => "Event",
        }
    }
}

impl std::fmt::Display for WatchKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One core/v1 Event about an object, for the detail and events panes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventView {
    /// `Normal` or `Warning`.
    pub type_: String,
    pub reason: String,
    pub message: String,
    /// How often it happened (client-go folds repeats into one Event).
    pub count: u32,
    /// lastTimestamp, else eventTime, else firstTimestamp, else the Event's creation.
    pub last_seen: Option<Timestamp>,
    /// Reporting component (and host): `kubelet, node-1`, `deployment-controller`.
    pub source: String,
    /// UID of the object it is about.
    pub involved_uid: String,
}
