//! The audit log: every API request the simulator received, so tests can prove what a client
//! did and did not do.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    /// Position in the log, from 1; `?since=` takes it.
    pub seq: u64,
    pub time: String,
    pub user: String,
    /// Kubernetes verb (get, list, watch, create, update, patch, delete, deletecollection) or
    /// the HTTP method for non-resource paths.
    pub verb: String,
    pub method: String,
    pub path: String,
    pub query: String,
    /// A DELETE's grace period, from its query or its DeleteOptions body (`None`: not given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grace_period_seconds: Option<i64>,
    pub code: u16,
}

impl AuditEntry {
    /// Whether this request could have changed the cluster.
    pub fn is_mutating(&self) -> bool {
        matches!(
            self.verb.as_str(),
            "create" | "update" | "patch" | "delete" | "deletecollection"
        ) && !self.path.ends_with("/selfsubjectaccessreviews")
            && !self.path.ends_with("/selfsubjectrulesreviews")
    }
}

const AUDIT_LIMIT: usize = 200_000;

#[derive(Default)]
pub struct AuditLog {
    inner: Mutex<(u64, VecDeque<AuditEntry>)>,
}

impl AuditLog {
    pub fn record(&self, mut entry: AuditEntry) {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        g.0 += 1;
        entry.seq = g.0;
        g.1.push_back(entry);
        while g.1.len() > AUDIT_LIMIT {
            g.1.pop_front();
        }
    }

    /// Entries with `seq > since`.
    pub fn since(&self, since: u64) -> Vec<AuditEntry> {
        let g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        g.1.iter().filter(|e| e.seq > since).cloned().collect()
    }

    pub fn last_seq(&self) -> u64 {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).0
    }
}
