//! The journal record of one operation: enough to finish it or undo it after a crash, on this
//! machine (the journal file) or another (the same record in the backup ConfigMap).

use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::progress::{OpKind, Step};
use crate::cluster::model::Mode;

/// An endpoint as operations name it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EndpointId {
    pub namespace: String,
    pub name: String,
    /// `None` until the endpoint was found (and for a strip of an object outside any endpoint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<Mode>,
}

impl fmt::Display for EndpointId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// One object: kind as in manifests (`Deployment`), name, and the UID it had or has.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ObjectId {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub uid: String,
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
    }
}

/// Where an operation stands, as the journal knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OpState {
    /// Started and not finished: after a crash this is what `recover` finds.
    Running,
    Succeeded,
    /// Failed before anything was deleted, or failed and rolled back cleanly.
    Failed,
    /// Failed after deletion and the rollback could not restore everything: the backup is kept
    /// and `recover` offers resume or rollback.
    NeedsRecovery,
    Cancelled,
    /// The user dropped the operation's backup (`recover OP --discard`): nothing is left to
    /// recover, the record stays as the history of what was there.
    Discarded,
}

impl OpState {
    /// As in the journal and on screen: `needs-recovery`.
    pub fn name(self) -> &'static str {
        match self {
            OpState::Running => "running",
            OpState::Succeeded => "succeeded",
            OpState::Failed => "failed",
            OpState::NeedsRecovery => "needs-recovery",
            OpState::Cancelled => "cancelled",
            OpState::Discarded => "discarded",
        }
    }

    /// `recover --list` shows these.
    pub fn unfinished(self) -> bool {
        matches!(self, OpState::Running | OpState::NeedsRecovery)
    }
}

/// A step as it went, for the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRecord {
    pub step: Step,
    pub state: super::progress::StepState,
    pub at: Timestamp,
    pub message: String,
}

/// The journal's record of one operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpRecord {
    /// `<kind>-<endpoint>-<utc time>-<pid>`: sortable, unique on a host, safe as a file name.
    pub id: String,
    pub kind: OpKind,
    pub endpoint: EndpointId,
    /// `user@host/pid`, as in the lease.
    pub holder: String,
    /// Kubeconfig context and server it ran against.
    pub context: String,
    pub server: String,
    /// The cluster's identity when it could be read (the UID of namespace `kube-system`): tells
    /// a cluster recreated at the same address from the one the operation ran against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_uid: Option<String>,
    pub started: Timestamp,
    pub updated: Timestamp,
    pub state: OpState,
    /// The last step started.
    pub step: Step,
    /// Sanitised manifests of every object that will be recreated, as read before deletion.
    pub backup: Vec<Value>,
    /// Every object of the endpoint before deletion (recreated or not), with its UID: after a
    /// crash these tell "old, still to delete" from "new, already created".
    pub old_objects: Vec<ObjectId>,
    /// The spec to create (backup plus overrides, or an edited manifest), once decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided: Option<Vec<Value>>,
    /// `--set` overrides as given (`image=...`), for the record and for resume.
    #[serde(default)]
    pub overrides: Vec<String>,
    /// Objects this operation created.
    #[serde(default)]
    pub created: Vec<ObjectId>,
    #[serde(default)]
    pub steps: Vec<StepRecord>,
    /// Set when this machine's journal took the record over from a backup ConfigMap found only
    /// in the cluster (a recovery started from it): where it came from. The record stays
    /// unverified for what it claims, although it now sits in the journal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adopted_from: Option<String>,
    /// Final message, once finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
}

impl OpRecord {
    /// Operation id for `kind` on `endpoint` started at `now` by process `pid`.
    pub fn make_id(kind: OpKind, endpoint: &str, now: Timestamp, pid: u32) -> String {
        // 20261126T093812Z: no ':' so it is a file name everywhere.
        let t = now
            .strftime("%Y%m%dT%H%M%S%.3fZ")
            .to_string()
            .replace('.', "");
        let short: String = endpoint.chars().take(40).collect();
        format!("{}-{short}-{t}-{pid}", kind.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_ids_are_valid_recover_arguments() {
        let now: Timestamp = "2026-11-26T09:38:12.345Z"
            .parse()
            .unwrap_or_else(|_| Timestamp::now());
        let id = OpRecord::make_id(OpKind::Redeploy, "llama-3-8b-instruct", now, 4242);
        assert_eq!(id, "redeploy-llama-3-8b-instruct-20261126T093812345Z-4242");
        assert!(crate::cli::parse_op_id(&id).is_ok());
    }
}
