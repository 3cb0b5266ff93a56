//! The cluster side of the console: kube-rs client, watches into reflector stores, endpoint
//! grouping and pure status derivation, pod log streams. No terminal code here.

pub mod access;
pub mod client;
pub mod derive;
pub mod error;
pub mod kinds;
pub mod logs;
pub mod model;
pub mod snapshot;
pub mod status_cmd;
pub mod watch;

pub use client::{ClusterTarget, ContextInfo, Scope, connect};
pub use derive::{GroupingConfig, derive_endpoints};
pub use error::ClusterError;
pub use snapshot::Snapshot;
pub use watch::{ClusterNotice, ClusterWatch, EventQuery, WatchConfig};
