//! From a validated [`Scenario`] and a seed to a concrete [`Plan`]: `count` entries expanded into
//! numbered endpoints, defaults filled in, every delay drawn with its jitter. Pure and
//! deterministic: the same scenario and seed give an identical plan.
//!
//! Each endpoint draws from its own stream (`Rng::derive(seed, "endpoint/<ns>/<name>")`), so adding
//! or removing one endpoint leaves every other endpoint's timings as they were.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use super::model::{
    Controllers, Endpoint, EndpointKind, EndpointState, LatencyFault, NamespaceScope, Rule,
    Scenario, User, Verb,
};
use crate::sim::rng::Rng;

/// Default images, when an endpoint names none.
pub const DEFAULT_RAW_IMAGE: &str = "vllm/vllm-openai:v0.8.5";
pub const DEFAULT_KSERVE_IMAGE: &str = "kserve/huggingfaceserver:v0.15.2";
pub const DEFAULT_MODEL_FORMAT: &str = "huggingface";
/// The implicit user with every right, unless the scenario defines a user of that name.
pub const ADMIN_USER: &str = "admin";

/// Everything the store and controllers need to build the initial cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub scenario: String,
    pub description: String,
    /// File the scenario came from.
    pub origin: String,
    pub seed: u64,
    pub pod_start_delay: Duration,
    pub pod_ready_delay: Duration,
    /// Fraction of spread applied to delays the controllers draw later (new pods after a redeploy).
    pub jitter: f64,
    pub log_lines_per_second: f64,
    pub termination_grace_period_seconds: u32,
    pub namespaces: Vec<String>,
    /// Includes the implicit `admin` unless the scenario defines one.
    pub users: Vec<User>,
    /// In file order, `count` entries expanded in place.
    pub endpoints: Vec<EndpointPlan>,
    pub objects: Vec<ObjectPlan>,
    pub faults: FaultPlan,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EndpointPlan {
    pub name: String,
    pub namespace: String,
    pub kind: EndpointKind,
    pub replicas: u32,
    pub max_replicas: u32,
    pub image: String,
    /// `Some` for kserve endpoints.
    pub model_format: Option<String>,
    pub storage_uri: Option<String>,
    pub gpus: u32,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub state: EndpointState,
    /// With `Terminating`: backdate deletionTimestamp by this much.
    pub terminating_for: Option<Duration>,
    /// Deployment and Service carry `sim.llmops.io/slow-delete`, removed this long after deletion.
    pub finalizer_delay: Option<Duration>,
    pub termination_grace_period_seconds: u32,
    /// One per replica, in creation order.
    pub pods: Vec<PodTiming>,
    /// Index of the entry in `endpoints:` it was expanded from.
    pub source_index: usize,
}

/// Delays and log rate for the n-th pod of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PodTiming {
    /// Created -> Running.
    pub start_delay: Duration,
    /// Running -> Ready.
    pub ready_delay: Duration,
    pub log_lines_per_second: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ObjectPlan {
    /// The manifest as written (without `x-sim`).
    pub manifest: Value,
    pub delete_at_load: bool,
    pub terminating_for: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FaultPlan {
    pub controllers: Controllers,
    pub latency: Vec<LatencyFault>,
    pub errors: Vec<ErrorFaultPlan>,
    pub watch_drop_every: Option<Duration>,
    /// Floods that name a pod exactly (floods by endpoint are in that endpoint's `pods`).
    pub pod_log_floods: Vec<PodLogFlood>,
}

/// An injected error with its Status text resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorFaultPlan {
    pub verb: Verb,
    pub resource: String,
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub code: u16,
    pub reason: String,
    pub message: String,
    pub trigger: Trigger,
    pub retry_after_seconds: Option<u32>,
}

/// When a matching request fails.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Trigger {
    Always,
    /// The first n matching requests.
    Count(u32),
    /// Each matching request with this probability (from the seeded Rng).
    Probability(f64),
}

#[derive(Debug, Clone, PartialEq)]
pub struct PodLogFlood {
    pub namespace: String,
    pub pod: String,
    pub lines_per_second: f64,
}

impl Plan {
    /// Pods the endpoints ask for (sum of replicas); pods from `objects` not included.
    pub fn pod_count(&self) -> usize {
        self.endpoints.iter().map(|e| e.replicas as usize).sum()
    }

    pub fn endpoint(&self, namespace: &str, name: &str) -> Option<&EndpointPlan> {
        self.endpoints
            .iter()
            .find(|e| e.namespace == namespace && e.name == name)
    }

    pub fn user(&self, name: &str) -> Option<&User> {
        self.users.iter().find(|u| u.name == name)
    }

    /// A seeded stream for one purpose of the store or a controller (`"uids"`, `"names"`,
    /// `"faults"`): same seed, same uids and generated names.
    pub fn rng(&self, purpose: &str) -> Rng {
        Rng::derive(self.seed, purpose)
    }
}

/// `<name>-0000` .. `<name>-<count-1>` for a `count` entry, else just the name.
pub fn instance_names(e: &Endpoint) -> Vec<String> {
    match e.count {
        None => vec![e.name.clone()],
        Some(n) => (0..n).map(|i| format!("{}-{i:04}", e.name)).collect(),
    }
}

/// The concrete plan for `s` under `seed`. Expects a validated scenario (what `load` returns);
/// on an unvalidated one it still never panics, it just carries the bad values along.
pub fn expand(s: &Scenario, seed: u64) -> Plan {
    let st = &s.settings;
    let mut endpoints = Vec::new();
    for (source_index, e) in s.endpoints.iter().enumerate() {
        for name in instance_names(e) {
            let mut rng = Rng::derive(seed, &format!("endpoint/{}/{name}", e.namespace));
            let rate = e.log_lines_per_second.unwrap_or(st.log_lines_per_second);
            let pods = (0..e.replicas)
                .map(|_| PodTiming {
                    start_delay: rng.jitter(st.pod_start_delay.0, st.jitter),
                    ready_delay: rng.jitter(st.pod_ready_delay.0, st.jitter),
                    log_lines_per_second: rate,
                })
                .collect();
            let kserve = e.kind == EndpointKind::Kserve;
            let default_image = if kserve {
                DEFAULT_KSERVE_IMAGE
            } else {
                DEFAULT_RAW_IMAGE
            };
            endpoints.push(EndpointPlan {
                name,
                namespace: e.namespace.clone(),
                kind: e.kind,
                replicas: e.replicas,
                max_replicas: e.max_replicas.unwrap_or(e.replicas.max(1)),
                image: e.image.clone().unwrap_or_else(|| default_image.to_string()),
                model_format: kserve.then(|| {
                    e.model_format
                        .clone()
                        .unwrap_or_else(|| DEFAULT_MODEL_FORMAT.to_string())
                }),
                storage_uri: e.storage_uri.clone(),
                gpus: e.gpus,
                labels: e.labels.clone(),
                annotations: e.annotations.clone(),
                state: e.state,
                terminating_for: match e.state {
                    EndpointState::Terminating => {
                        Some(e.terminating_for.map(|d| d.0).unwrap_or_default())
                    }
                    EndpointState::Ready => None,
                },
                finalizer_delay: e.finalizer_delay.map(|d| d.0),
                termination_grace_period_seconds: st.termination_grace_period_seconds,
                pods,
                source_index,
            });
        }
    }

    let mut pod_log_floods = Vec::new();
    for lf in &s.faults.log_flood {
        match (&lf.endpoint, &lf.pod, &lf.namespace) {
            (Some(name), _, ns) => {
                let index = lf.index.unwrap_or(0) as usize;
                let target = endpoints
                    .iter_mut()
                    .find(|e| e.name == *name && ns.as_deref().is_none_or(|n| n == e.namespace));
                if let Some(pod) = target.and_then(|e| e.pods.get_mut(index)) {
                    pod.log_lines_per_second = lf.lines_per_second;
                }
            }
            (None, Some(pod), Some(ns)) => pod_log_floods.push(PodLogFlood {
                namespace: ns.clone(),
                pod: pod.clone(),
                lines_per_second: lf.lines_per_second,
            }),
            _ => {}
        }
    }

    let mut users = s.users.clone();
    if !users.iter().any(|u| u.name == ADMIN_USER) {
        users.insert(0, admin());
    }

    Plan {
        scenario: s.name.clone(),
        description: s.description.trim().to_string(),
        origin: s.origin.clone(),
        seed,
        pod_start_delay: st.pod_start_delay.0,
        pod_ready_delay: st.pod_ready_delay.0,
        jitter: st.jitter,
        log_lines_per_second: st.log_lines_per_second,
        termination_grace_period_seconds: st.termination_grace_period_seconds,
        namespaces: s.namespaces.clone(),
        users,
        endpoints,
        objects: s
            .objects
            .iter()
            .map(|o| ObjectPlan {
                manifest: o.manifest.clone(),
                delete_at_load: o.sim.delete_at_load,
                terminating_for: o.sim.terminating_for.map(|d| d.0),
            })
            .collect(),
        faults: FaultPlan {
            controllers: s.faults.controllers,
            latency: s.faults.latency.clone(),
            errors: s.faults.errors.iter().map(resolve_error).collect(),
            watch_drop_every: s
                .faults
                .watch_drop_every_seconds
                .map(|n| Duration::from_secs(u64::from(n))),
            pod_log_floods,
        },
    }
}

fn admin() -> User {
    User {
        name: ADMIN_USER.to_string(),
        rules: vec![Rule {
            verbs: vec![Verb::Any],
            resources: vec!["*".to_string()],
            api_groups: None,
            namespaces: NamespaceScope::All,
        }],
    }
}

fn resolve_error(e: &super::model::ErrorFault) -> ErrorFaultPlan {
    let (reason, message) = default_status(e.code);
    ErrorFaultPlan {
        verb: e.verb,
        resource: e.resource.clone(),
        name: e.name.clone(),
        namespace: e.namespace.clone(),
        code: e.code,
        reason: e.reason.clone().unwrap_or_else(|| reason.to_string()),
        message: e.message.clone().unwrap_or_else(|| message.to_string()),
        trigger: match (e.count, e.probability) {
            (Some(n), _) => Trigger::Count(n),
            (None, Some(p)) => Trigger::Probability(p),
            (None, None) => Trigger::Always,
        },
        retry_after_seconds: e.retry_after_seconds,
    }
}

/// `reason` and `message` of a Status for an injected error, as the apiserver words them.
pub fn default_status(code: u16) -> (&'static str, &'static str) {
    match code {
        400 => (
            "BadRequest",
            "the server rejected our request for an unknown reason",
        ),
        401 => ("Unauthorized", "Unauthorized"),
        403 => ("Forbidden", "forbidden (injected by the scenario)"),
        404 => (
            "NotFound",
            "the server could not find the requested resource",
        ),
        405 => (
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        ),
        409 => (
            "Conflict",
            "Operation cannot be fulfilled: the object has been modified; please apply your changes to the latest version and try again",
        ),
        410 => ("Expired", "the resource version is too old"),
        415 => (
            "UnsupportedMediaType",
            "the body of the request was in an unknown format",
        ),
        422 => (
            "Invalid",
            "the server rejected our request due to an error in our request",
        ),
        429 => (
            "TooManyRequests",
            "Too many requests, please try again later.",
        ),
        500 => ("InternalError", "Internal error occurred: injected fault"),
        503 => (
            "ServiceUnavailable",
            "the server is currently unable to handle the request",
        ),
        504 => (
            "Timeout",
            "Timeout: request did not complete within the allowed duration",
        ),
        _ => ("", "injected fault"),
    }
}
