//! The orchestration engine: redeploy, force-delete and strip-finalizers as plans of named steps,
//! run as tokio tasks that report every step as a [`progress::OpEvent`]. Locked by a Lease
//! (`lease`), journalled on disk and in a backup ConfigMap before anything is deleted
//! (`journal`, `backup`), verified by watch (`wait`), rolled back on failure.
//!
//! No terminal code here: the TUI and the headless commands are two front ends of [`engine::Engine`].

pub mod backup;
pub mod journal;
pub mod manifest;
pub mod progress;
pub mod record;
pub mod request;

pub use progress::{OpEvent, OpKind, Progress, Step, StepState};
pub use record::{EndpointId, ObjectId, OpRecord, OpState};
pub use request::{EscalationPolicy, ObjectTarget, Request};
