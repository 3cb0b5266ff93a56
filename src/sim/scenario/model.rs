//! The scenario file as written: serde structs that refuse unknown fields. Defaults live here;
//! cross-field rules (namespaces exist, names are DNS labels, ...) live in `validate`.
//!
//! No `#[serde(flatten)]` or untagged enums on purpose: both buffer the input and lose the line
//! numbers that every error message must carry. The two "either this or that" shapes (a namespace
//! list or `*`, a manifest with an `x-sim` key beside it) have hand-written visitors instead.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Serialize, Serializer};

use super::duration::HumanDuration;

#[derive(Debug, Clone, PartialEq, serde::Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Scenario {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Default seed; `--seed` overrides it.
    #[serde(default)]
    pub seed: u64,
    #[serde(default)]
    pub settings: Settings,
    pub namespaces: Vec<String>,
    #[serde(default)]
    pub users: Vec<User>,
    #[serde(default)]
    pub endpoints: Vec<Endpoint>,
    #[serde(default)]
    pub objects: Vec<ObjectEntry>,
    #[serde(default)]
    pub faults: Faults,
    /// Where it was read from (`assets/scenarios/healthy.yaml`, a path); set by the loader.
    #[serde(skip)]
    pub origin: String,
}

#[derive(Debug, Clone, PartialEq, serde::Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Settings {
    /// Pod created -> Running.
    #[serde(default = "default_pod_start_delay")]
    pub pod_start_delay: HumanDuration,
    /// Running -> Ready (model loading).
    #[serde(default = "default_pod_ready_delay")]
    pub pod_ready_delay: HumanDuration,
    /// Timing spread per endpoint and pod: 0.2 means each delay is drawn in ±20 %.
    #[serde(default = "default_jitter")]
    pub jitter: f64,
    /// Log lines each pod writes per second, unless its endpoint or a `logFlood` says otherwise.
    #[serde(default = "default_log_lines_per_second")]
    pub log_lines_per_second: f64,
    #[serde(default = "default_grace")]
    pub termination_grace_period_seconds: u32,
}

fn default_pod_start_delay() -> HumanDuration {
    HumanDuration::from_millis(1_000)
}
fn default_pod_ready_delay() -> HumanDuration {
    HumanDuration::from_millis(3_000)
}
fn default_jitter() -> f64 {
    0.2
}
fn default_log_lines_per_second() -> f64 {
    2.0
}
fn default_grace() -> u32 {
    30
}
fn default_replicas() -> u32 {
    1
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            pod_start_delay: default_pod_start_delay(),
            pod_ready_delay: default_pod_ready_delay(),
            jitter: default_jitter(),
            log_lines_per_second: default_log_lines_per_second(),
            termination_grace_period_seconds: default_grace(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct User {
    pub name: String,
    #[serde(default)]
    pub rules: Vec<Rule>,
}

/// One RBAC rule, shaped like a Role's: allowed when verb, resource, group and namespace all match.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Rule {
    pub verbs: Vec<Verb>,
    /// Plurals (`inferenceservices`), `*`, or subresources (`pods/log`, `*/status`).
    pub resources: Vec<String>,
    /// API groups (`""` core, `apps`, `serving.kserve.io`); absent means any.
    #[serde(default)]
    pub api_groups: Option<Vec<String>>,
    #[serde(default)]
    pub namespaces: NamespaceScope,
}

impl User {
    /// Whether any rule allows the request, with Kubernetes RBAC matching: `resource` is the plural
    /// or `plural/subresource` (`pods/log`), `api_group` is `""` for core, `namespace` is `None` for
    /// cluster-scoped or all-namespaces requests (which only namespace-unrestricted rules allow).
    pub fn allows(
        &self,
        verb: Verb,
        api_group: &str,
        resource: &str,
        namespace: Option<&str>,
    ) -> bool {
        self.rules
            .iter()
            .any(|r| r.allows(verb, api_group, resource, namespace))
    }
}

impl Rule {
    pub fn allows(
        &self,
        verb: Verb,
        api_group: &str,
        resource: &str,
        namespace: Option<&str>,
    ) -> bool {
        let verb_ok = self.verbs.iter().any(|v| v.matches(verb));
        let group_ok = self
            .api_groups
            .as_ref()
            .is_none_or(|gs| gs.iter().any(|g| g == "*" || g == api_group));
        let sub = resource.split_once('/').map(|(_, s)| s);
        let resource_ok = self.resources.iter().any(|r| {
            r == "*" || r == resource || sub.is_some_and(|s| r.strip_prefix("*/") == Some(s))
        });
        let ns_ok = match (&self.namespaces, namespace) {
            (NamespaceScope::All, _) => true,
            (NamespaceScope::Only(list), Some(ns)) => list.iter().any(|n| n == ns),
            (NamespaceScope::Only(_), None) => false,
        };
        verb_ok && group_ok && resource_ok && ns_ok
    }
}

/// Kubernetes API verbs; `*` is any.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Deserialize, Serialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Verb {
    Get,
    List,
    Watch,
    Create,
    Update,
    Patch,
    Delete,
    Deletecollection,
    #[serde(rename = "*")]
    Any,
}

impl Verb {
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::List => "list",
            Verb::Watch => "watch",
            Verb::Create => "create",
            Verb::Update => "update",
            Verb::Patch => "patch",
            Verb::Delete => "delete",
            Verb::Deletecollection => "deletecollection",
            Verb::Any => "*",
        }
    }

    /// The verb named `s` (`get`, `deletecollection`, `*`).
    pub fn parse(s: &str) -> Option<Verb> {
        Some(match s {
            "get" => Verb::Get,
            "list" => Verb::List,
            "watch" => Verb::Watch,
            "create" => Verb::Create,
            "update" => Verb::Update,
            "patch" => Verb::Patch,
            "delete" => Verb::Delete,
            "deletecollection" => Verb::Deletecollection,
            "*" => Verb::Any,
            _ => return None,
        })
    }

    /// Whether this pattern covers the request verb `v`.
    pub fn matches(self, v: Verb) -> bool {
        self == Verb::Any || self == v
    }
}

/// Namespaces a rule applies to: `*` (the default, all of them) or a list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum NamespaceScope {
    #[default]
    All,
    Only(Vec<String>),
}

impl NamespaceScope {
    pub fn contains(&self, ns: &str) -> bool {
        match self {
            NamespaceScope::All => true,
            NamespaceScope::Only(list) => list.iter().any(|n| n == ns),
        }
    }
}

impl Serialize for NamespaceScope {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            NamespaceScope::All => s.serialize_str("*"),
            NamespaceScope::Only(list) => list.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for NamespaceScope {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = NamespaceScope;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("\"*\" or a list of namespaces")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<NamespaceScope, E> {
                if v == "*" {
                    Ok(NamespaceScope::All)
                } else {
                    Err(E::invalid_value(de::Unexpected::Str(v), &self))
                }
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<NamespaceScope, A::Error> {
                let mut list = Vec::new();
                while let Some(ns) = seq.next_element::<String>()? {
                    list.push(ns);
                }
                if list.iter().any(|n| n == "*") {
                    return Ok(NamespaceScope::All);
                }
                Ok(NamespaceScope::Only(list))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EndpointKind {
    /// A KServe InferenceService in RawDeployment mode.
    Kserve,
    /// A plain Deployment with its Service, HPA and Ingress.
    Raw,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EndpointState {
    #[default]
    Ready,
    /// Deleted at load: it stays Terminating behind its finalizer(s).
    Terminating,
}

#[derive(Debug, Clone, PartialEq, serde::Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Endpoint {
    pub name: String,
    pub namespace: String,
    pub kind: EndpointKind,
    #[serde(default = "default_replicas")]
    pub replicas: u32,
    /// HPA ceiling; defaults to `replicas`.
    #[serde(default)]
    pub max_replicas: Option<u32>,
    /// Container image; a default per kind when absent.
    #[serde(default)]
    pub image: Option<String>,
    /// KServe only: `spec.predictor.model.modelFormat.name`; default `huggingface`.
    #[serde(default)]
    pub model_format: Option<String>,
    #[serde(default)]
    pub storage_uri: Option<String>,
    /// `nvidia.com/gpu` limit per pod.
    #[serde(default)]
    pub gpus: u32,
    /// Expand into `count` endpoints named `<name>-0000` .. `<name>-<count-1>`.
    #[serde(default)]
    pub count: Option<u32>,
    #[serde(default)]
    pub state: EndpointState,
    /// With `state: terminating`: how long ago the deletion started (backdates deletionTimestamp).
    #[serde(default)]
    pub terminating_for: Option<HumanDuration>,
    /// Its Deployment and Service carry finalizer `sim.llmops.io/slow-delete`, which the simulator
    /// removes this long after their deletion starts (so an immediate recreate gets 409).
    #[serde(default)]
    pub finalizer_delay: Option<HumanDuration>,
    /// Per-pod log rate for this endpoint, overriding `settings.logLinesPerSecond`.
    #[serde(default)]
    pub log_lines_per_second: Option<f64>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

/// A raw manifest (any served kind) plus the simulator's control key `x-sim` beside its fields.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectEntry {
    /// The manifest without `x-sim`.
    pub manifest: serde_json::Value,
    pub sim: SimControl,
}

#[derive(Debug, Clone, PartialEq, Default, serde::Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SimControl {
    /// Delete the object right after loading it, so finalizers keep it Terminating.
    #[serde(default)]
    pub delete_at_load: bool,
    /// Backdate that deletion by this much.
    #[serde(default)]
    pub terminating_for: Option<HumanDuration>,
}

pub const SIM_CONTROL_KEY: &str = "x-sim";

impl Serialize for ObjectEntry {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = self.manifest.clone();
        if let (Some(obj), true) = (m.as_object_mut(), self.sim != SimControl::default()) {
            let sim = serde_json::to_value(&self.sim).map_err(serde::ser::Error::custom)?;
            obj.insert(SIM_CONTROL_KEY.to_string(), sim);
        }
        m.serialize(s)
    }
}

impl<'de> Deserialize<'de> for ObjectEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ObjectEntry;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a Kubernetes manifest (a mapping with apiVersion, kind, metadata)")
            }
            // Streaming through the map (instead of reading a Value and picking `x-sim` out of
            // it) keeps the location of any error inside `x-sim`.
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ObjectEntry, A::Error> {
                let mut manifest = serde_json::Map::new();
                let mut sim = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key == SIM_CONTROL_KEY {
                        if sim.is_some() {
                            return Err(de::Error::duplicate_field(SIM_CONTROL_KEY));
                        }
                        sim = Some(map.next_value::<SimControl>()?);
                    } else {
                        let value = map.next_value::<serde_json::Value>()?;
                        manifest.insert(key, value);
                    }
                }
                Ok(ObjectEntry {
                    manifest: serde_json::Value::Object(manifest),
                    sim: sim.unwrap_or_default(),
                })
            }
        }
        d.deserialize_map(V)
    }
}

#[derive(Debug, Clone, PartialEq, Default, serde::Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Faults {
    #[serde(default)]
    pub controllers: Controllers,
    #[serde(default)]
    pub latency: Vec<LatencyFault>,
    #[serde(default)]
    pub errors: Vec<ErrorFault>,
    /// Every watch stream is cut after this many seconds (clients must resume from a bookmark).
    #[serde(default)]
    pub watch_drop_every_seconds: Option<u32>,
    #[serde(default)]
    pub log_flood: Vec<LogFlood>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Controllers {
    #[serde(default)]
    pub deployment: ControllerState,
    /// The KServe controller's reconcile of live InferenceServices.
    #[serde(default)]
    pub kserve: ControllerState,
    /// The KServe controller's deletion handling; `broken`: it never removes its finalizer.
    #[serde(default)]
    pub kserve_deletion: ControllerState,
    #[serde(default)]
    pub garbage_collector: ControllerState,
    #[serde(default)]
    pub kubelet: ControllerState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ControllerState {
    #[default]
    Up,
    Down,
    /// Runs, but does the wrong thing (only defined for `kserveDeletion`).
    Broken,
}

#[derive(Debug, Clone, PartialEq, serde::Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LatencyFault {
    #[serde(default = "any_verb")]
    pub verb: Verb,
    #[serde(default = "any_resource")]
    pub resource: String,
    pub ms: u64,
}

#[derive(Debug, Clone, PartialEq, serde::Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ErrorFault {
    #[serde(default = "any_verb")]
    pub verb: Verb,
    #[serde(default = "any_resource")]
    pub resource: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub namespace: Option<String>,
    pub code: u16,
    /// Status `reason`; derived from the code when absent (429 -> TooManyRequests).
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    /// Fail the first `count` matching requests, then stop.
    #[serde(default)]
    pub count: Option<u32>,
    /// Fail each matching request with this probability (seeded).
    #[serde(default)]
    pub probability: Option<f64>,
    /// `Retry-After` header (429 and 503 only).
    #[serde(default)]
    pub retry_after_seconds: Option<u32>,
}

fn any_verb() -> Verb {
    Verb::Any
}
/// Longest latency a fault may add: longer would only hang clients.
pub const MAX_LATENCY_MS: u64 = 600_000;

/// Why a controller other than kserveDeletion cannot be `broken`.
pub const BROKEN_ONLY_FOR_KSERVE_DELETION: &str =
    "`broken` is only defined for kserveDeletion; use up or down";

impl Controllers {
    /// The controllers (by their scenario/admin name) set to `broken`, which only
    /// kserveDeletion may be.
    pub fn wrongly_broken(&self) -> Vec<&'static str> {
        [
            ("deployment", self.deployment),
            ("kserve", self.kserve),
            ("garbageCollector", self.garbage_collector),
            ("kubelet", self.kubelet),
        ]
        .into_iter()
        .filter(|(_, state)| *state == ControllerState::Broken)
        .map(|(name, _)| name)
        .collect()
    }
}

impl LatencyFault {
    /// What is wrong with this rule by itself, as (field, message): the scenario loader and the
    /// admin API refuse the same rules with the same words.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if self.ms > MAX_LATENCY_MS {
            out.push(("ms", format!("{} ms is more than 10 minutes", self.ms)));
        }
        out
    }
}

impl ErrorFault {
    /// What is wrong with this rule by itself, as (field, message); see [`LatencyFault::problems`].
    /// References to the rest of a scenario (namespaces, names) are the loader's to check.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if !(400..=599).contains(&self.code) {
            out.push((
                "code",
                format!("{} is not an error code (4xx or 5xx)", self.code),
            ));
        }
        if self.count.is_some() && self.probability.is_some() {
            out.push(("probability", "give count or probability, not both".into()));
        }
        if self.count == Some(0) {
            out.push(("count", "count 0 would never fail; remove the fault".into()));
        }
        if let Some(p) = self.probability
            && !(0.0..=1.0).contains(&p)
        {
            out.push(("probability", format!("{p} is not in [0, 1]")));
        }
        if self.retry_after_seconds.is_some() && !matches!(self.code, 429 | 503) {
            out.push((
                "retryAfterSeconds",
                format!("Retry-After goes with 429 or 503, not {}", self.code),
            ));
        }
        if let Some(r) = &self.reason
            && crate::sim::error::status_reason(r).is_none()
        {
            out.push(("reason", format!("{r:?} is not a Kubernetes StatusReason")));
        }
        out
    }
}

fn any_resource() -> String {
    "*".to_string()
}

/// One pod writing logs fast: either `endpoint` (+ pod `index`, default 0) or an exact `pod` name.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LogFlood {
    #[serde(default)]
    pub endpoint: Option<String>,
    #[serde(default)]
    pub index: Option<u32>,
    #[serde(default)]
    pub pod: Option<String>,
    /// Needed with `pod`, and with `endpoint` when that name exists in several namespaces.
    #[serde(default)]
    pub namespace: Option<String>,
    pub lines_per_second: f64,
}
