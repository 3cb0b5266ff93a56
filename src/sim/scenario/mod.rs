//! Scenarios: the simulated cluster's starting fleet and faults, as readable YAML.
//!
//! `load` reads and validates a file (a built-in from `assets/scenarios/`, embedded in the binary,
//! or any path); `expand` turns it and a seed into a concrete [`Plan`] that the store and the
//! controllers apply. Same scenario + same seed = same names and timings.
//!
//! # Format (every key camelCase, unknown keys refused)
//!
//! ```yaml
//! name: conflict-409                 # DNS label
//! description: what it shows         # free text
//! seed: 409                          # default seed; --seed overrides (default 0)
//! settings:                          # all optional
//!   podStartDelay: 1s                # Pending -> Running        (default 1s)
//!   podReadyDelay: 3s                # Running -> Ready          (default 3s)
//!   jitter: 0.2                      # each delay drawn in ±20 % (default 0.2)
//!   logLinesPerSecond: 2             # per pod                   (default 2)
//!   terminationGracePeriodSeconds: 30                           # (default 30)
//! namespaces: [llm-prod, llm-staging]  # every namespace used must be listed
//! users:                             # `admin` (everything) exists unless defined here
//!   - name: operator
//!     rules:                         # allowed if any rule matches
//!       - verbs: [get, list, watch]  # get list watch create update patch delete
//!                                    # deletecollection, or "*"
//!         resources: ["*"]           # plurals, "*", or subresources: pods/log, */status
//!         apiGroups: ["", apps]      # optional: any group when absent
//!         namespaces: "*"            # "*" (default) or a list
//! endpoints:
//!   - name: llama-3-8b-instruct      # DNS-1035 label (<= 53 chars for kserve)
//!     namespace: llm-prod
//!     kind: kserve                   # kserve (InferenceService, raw mode) | raw (Deployment)
//!     replicas: 2                    # default 1
//!     maxReplicas: 4                 # HPA ceiling, default replicas
//!     image: ...                     # default per kind
//!     modelFormat: huggingface       # kserve only, default huggingface
//!     storageUri: hf://meta-llama/Meta-Llama-3-8B-Instruct
//!     gpus: 1                        # nvidia.com/gpu per pod, default 0
//!     count: 250                     # optional: <name>-0000 .. <name>-0249
//!     state: terminating             # ready (default) | terminating: deleted at load
//!     terminatingFor: 12m            # with terminating: backdates deletionTimestamp
//!     finalizerDelay: 6s             # Deployment + Service keep sim.llmops.io/slow-delete
//!                                    # this long after deletion starts (-> 409 on recreate)
//!     logLinesPerSecond: 5           # overrides settings
//!     labels: {team: search}         # added to every object of the endpoint
//!     annotations: {}
//! objects:                           # raw manifests of any served kind, created as written
//!   - apiVersion: v1
//!     kind: Pod
//!     metadata: {name: x, namespace: llm-prod, finalizers: [example.com/stuck-volume-cleanup]}
//!     spec: {...}
//!     x-sim: {deleteAtLoad: true, terminatingFor: 47m}   # control key, not part of the object
//! faults:
//!   controllers:                     # up (default) | down; kserveDeletion also: broken
//!     deployment: up                 #   (= reconciles, but never removes its finalizer)
//!     kserve: up
//!     kserveDeletion: broken
//!     garbageCollector: up
//!     kubelet: up
//!   latency: [{verb: list, resource: pods, ms: 800}]          # verb/resource default "*"
//!   errors:
//!     - {verb: delete, resource: inferenceservices, name: x, namespace: llm-prod,
//!        code: 500, count: 2}                                  # first 2 matching requests
//!     - {verb: list, code: 429, probability: 0.1, retryAfterSeconds: 2, reason: ..., message: ...}
//!   watchDropEverySeconds: 30
//!   logFlood:
//!     - {endpoint: vllm-debug, index: 0, linesPerSecond: 25000}  # n-th pod of an endpoint
//!     - {pod: exact-name, namespace: llm-prod, linesPerSecond: 5000}
//! ```
//!
//! Durations are `<int><unit>` sequences, units d h m s ms, largest first: `500ms`, `1m30s`.
//!
//! # Errors
//!
//! Every problem in a file is a [`ScenarioError::Invalid`] displayed as
//! `<file>:<line>:<column>: <field path>: <message>`, e.g.
//! `bad.yaml:12:15: endpoints[2].replicas: invalid type: string "three", expected u32`.
//! Type errors and unknown fields come from serde_yaml_ng, which knows the position and the path.
//! Semantic errors (unknown namespace, duplicate name, code not 4xx/5xx, ...) are found on the
//! parsed structs by `validate`, which names the field by path; `locate` then finds that path's
//! exact line and column by re-reading the source (see `locate.rs` for how).

mod duration;
mod expand;
mod load;
mod locate;
mod manifests;
mod model;

mod validate;

#[cfg(test)]
mod tests;

pub use crate::sim::rng::{NAME_ALPHABET, Rng};
pub use duration::HumanDuration;
pub use expand::{
    ADMIN_USER, DEFAULT_KSERVE_IMAGE, DEFAULT_MODEL_FORMAT, DEFAULT_RAW_IMAGE, EndpointPlan,
    ErrorFaultPlan, FaultPlan, ObjectPlan, Plan, PodLogFlood, PodTiming, Trigger, default_status,
    expand, instance_names,
};
pub use load::{BUILTIN, builtin_names, load, load_builtin, load_path, parse};
pub use locate::{FieldPath, Seg, locate};
pub use manifests::{
    DEPLOYMENT_MODE_ANNOTATION, ENDPOINT_LABEL, FINALIZER_DELAY_ANNOTATION, INGRESS_DOMAIN,
    SLOW_DELETE_FINALIZER,
};
pub use model::{
    BROKEN_ONLY_FOR_KSERVE_DELETION, ControllerState, Controllers, Endpoint, EndpointKind,
    EndpointState, ErrorFault, Faults, LatencyFault, LogFlood, NamespaceScope, ObjectEntry, Rule,
    SIM_CONTROL_KEY, Scenario, Settings, SimControl, User, Verb,
};

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// Something in the file is wrong; names the place.
    #[error("{file}:{line}:{column}: {}{message}", path_prefix(.path))]
    Invalid {
        file: String,
        /// 1-based.
        line: usize,
        /// 1-based.
        column: usize,
        /// Field path like `endpoints[2].replicas`; empty for YAML syntax errors.
        path: String,
        message: String,
    },
    #[error("{file}: cannot read the scenario: {source}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("no built-in scenario \"{name}\" (built-in: {available}); give a path to load a file")]
    UnknownBuiltin { name: String, available: String },
}

fn path_prefix(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!("{path}: ")
    }
}
