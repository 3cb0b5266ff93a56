//! The controllers that make the simulated cluster live. Each is a tokio task that reacts to
//! store changes (and its own timers), writes through the same `Store` API the REST layer uses
//! (so every write bumps resourceVersion and reaches watchers), names itself as field manager,
//! and checks its `ControllerState` before every action: Down does nothing and resyncs when it
//! comes back.
//!
//! - `deployment` / `replicaset`: Deployment -> ReplicaSet -> Pods, with status.
//! - `kubelet`: scheduling, pod start/readiness, logs, the end of graceful deletion.
//! - `kserve`: InferenceService (raw mode) -> Deployment, Service, HPA, Ingress, with status and
//!   its finalizer.
//! - `gc`: background, foreground and orphan garbage collection by ownerReferences.
//! - `slow_finalizer`: a finalizer the simulator removes after a delay (409 race scenarios).
//! - `namespace`: deleting a namespace deletes its content, then the namespace.
//! - `events`: core/v1 Events recorded by all of the above.

pub mod deployment;
pub mod events;
pub mod gc;
pub mod index;
pub mod kserve;
pub mod kserve_children;
pub mod kubelet;
pub mod namespace;
pub mod objects;
pub mod pod_status;
pub mod podlogs;
pub mod replicaset;
pub mod runner;
pub mod slow_finalizer;

use std::sync::Arc;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::context::SimContext;
use events::EventRecorder;

/// Starts every controller; they stop when `shutdown` is cancelled.
pub fn spawn_all(ctx: Arc<SimContext>, shutdown: CancellationToken) -> Vec<JoinHandle<()>> {
    let events = EventRecorder::for_context(ctx.clone());
    let (states, poller) = runner::watch_states(ctx.clone(), shutdown.clone());
    let deployment = deployment::DeploymentController::new(ctx.settings.seed, events.clone());
    let kubelet = kubelet::Kubelet::new(&ctx, events.clone());
    let kserve = kserve::KServeController::new(events);
    let (c, s, st) = (&ctx, &shutdown, &states);
    vec![
        poller,
        runner::spawn(c.clone(), s.clone(), st.clone(), deployment),
        runner::spawn(c.clone(), s.clone(), st.clone(), kubelet),
        runner::spawn(c.clone(), s.clone(), st.clone(), kserve),
        runner::spawn(
            c.clone(),
            s.clone(),
            st.clone(),
            gc::GarbageCollector::default(),
        ),
        runner::spawn(
            c.clone(),
            s.clone(),
            st.clone(),
            slow_finalizer::SlowFinalizer::default(),
        ),
        runner::spawn(
            c.clone(),
            s.clone(),
            st.clone(),
            namespace::NamespaceController,
        ),
    ]
}

#[cfg(test)]
mod tests;
