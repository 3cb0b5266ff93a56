//! Helpers for the orchestrator acceptance tests (`tests/orchestrator_*.rs`): the simulator with a
//! REST and admin client ([`cluster`]), the real binary run against it with its own state and
//! config directories ([`console`]), and an endpoint's objects, specs and readiness
//! ([`endpoint`]).
//!
//! Each test binary compiles this module on its own and uses part of it.
#![allow(dead_code)]

pub mod cluster;
pub mod console;
pub mod endpoint;

use std::time::Duration;

/// Bounds a broken run (an operation that hangs, an endpoint that never becomes Ready); never an
/// assertion about speed.
pub const DEADLINE: Duration = Duration::from_secs(90);

/// A scenario file of this suite, by name (`tests/orchestrator/scenarios/NAME.yaml`).
pub fn scenario(name: &str) -> String {
    format!(
        "{}/tests/orchestrator/scenarios/{name}.yaml",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// A named job for [`parallel`].
pub type Job<'a, T> = (String, Box<dyn FnOnce() -> T + Send + 'a>);

/// Runs `jobs` on up to `workers` threads and returns their results in the order given. A panic
/// in a job fails the test after every other job has finished, naming the job.
pub fn parallel<T: Send>(workers: usize, jobs: Vec<Job<'_, T>>) -> Vec<T> {
    let total = jobs.len();
    // Popped from the end: reversed so they start in the order given.
    let mut queued: Vec<_> = jobs.into_iter().enumerate().collect();
    queued.reverse();
    let queue = std::sync::Mutex::new(queued);
    let results = std::sync::Mutex::new((0..total).map(|_| None).collect::<Vec<Option<T>>>());
    let failures = std::sync::Mutex::new(Vec::<String>::new());
    std::thread::scope(|s| {
        for _ in 0..workers.max(1) {
            s.spawn(|| {
                loop {
                    let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop();
                    let Some((i, (name, job))) = next else { break };
                    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)) {
                        Ok(v) => results.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(v),
                        Err(e) => {
                            let why = e
                                .downcast_ref::<String>()
                                .cloned()
                                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                                .unwrap_or_else(|| "(no message)".into());
                            failures
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .push(format!("--- {name} ---\n{why}"));
                        }
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap_or_else(|p| p.into_inner());
    assert!(
        failures.is_empty(),
        "{} of {total} jobs failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    results
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_iter()
        .map(|r| r.expect("every job gave a result"))
        .collect()
}
