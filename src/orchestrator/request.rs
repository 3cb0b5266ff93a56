//! What a front end asks the engine to do. The CLI builds one from flags, the TUI from a
//! confirmed dialog; both hand it to `Engine::start`.

use std::time::Duration;

use serde_json::Value;

use super::progress::OpKind;
use super::record::EndpointId;
use crate::cli::SetOverride;
use crate::cluster::model::Kind;

/// What to do when finalizers keep deleted objects from going.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EscalationPolicy {
    /// Report the blocking finalizers and fail at the deadline (the CLI's default).
    #[default]
    Never,
    /// Force-delete pods (grace 0), strip finalizers, delete again.
    Strip,
    /// Ask the front end ([`super::progress::Question`]); the TUI's default.
    Ask,
}

/// One object of the endpoint, for force-delete and strip-finalizers of a single object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectTarget {
    pub kind: Kind,
    pub name: String,
}

/// A plan to run.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub kind: OpKind,
    /// The endpoint (mode `None`: found by name; KServe first when both exist).
    pub endpoint: EndpointId,
    /// Force-delete / strip-finalizers of this one object instead of the whole endpoint.
    pub target: Option<ObjectTarget>,
    pub finalizers: EscalationPolicy,
    /// Redeploy: `--set KEY=VALUE` applied to the backup.
    pub overrides: Vec<SetOverride>,
    /// Redeploy: manifests edited in `$EDITOR` (replacing the backup's root object).
    pub edited: Option<Vec<Value>>,
    /// Deadline for verifying deletion.
    pub timeout: Duration,
    /// Deadline for the recreated endpoint to become ready.
    pub ready_timeout: Duration,
}

impl Request {
    /// Defaults of DESIGN.md: 120 s to verify deletion, 600 s to become ready.
    pub fn new(kind: OpKind, endpoint: EndpointId) -> Request {
        Request {
            kind,
            endpoint,
            target: None,
            finalizers: EscalationPolicy::Never,
            overrides: Vec::new(),
            edited: None,
            timeout: Duration::from_secs(120),
            ready_timeout: Duration::from_secs(600),
        }
    }
}
