//! The orchestration engine: redeploy, force-delete and strip-finalizers as plans of named steps,
//! run as tokio tasks that report every step as a [`progress::OpEvent`]. Locked by a Lease
//! (`lease`), journalled on disk and in a backup ConfigMap before anything is deleted
//! (`journal`, `backup`), verified by watch (`wait`), rolled back on failure.
//!
//! No terminal code here: the TUI and the headless commands are two front ends of [`engine::Engine`].

pub mod backup;
mod converge;
mod ctx;
mod destroy;
pub mod engine;
mod finish;
pub mod inventory;
pub mod journal;
pub mod kapi;
pub mod lease;
pub mod manifest;
pub mod preflight;
pub mod progress;
pub mod record;
pub mod recover;
mod redeploy;
pub mod request;
mod run;
mod single;
pub mod unfinished;
pub mod wait;

pub use engine::{
    Engine, EngineSettings, OperationHandle, RecoverMode, RecoverOptions, StartError,
};
pub use progress::{OpEvent, OpKind, Progress, Step, StepState};
pub use record::{EndpointId, ObjectId, OpRecord, OpState};
pub use request::{EscalationPolicy, ObjectTarget, Request};
