//! Controller tests against a store with every controller running, with short delays. Waiting
//! is on store changes with a deadline, not on fixed sleeps, except where a test must show that
//! nothing happens for a while.

mod deployment;
mod gc;
mod kserve;
mod kubelet;
mod slow_finalizer;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::spawn_all;
use crate::sim::context::{SimContext, SimSettings};
use crate::sim::faults::{Controllers, FaultState, Faults};
use crate::sim::kinds::{DEPLOYMENTS, NAMESPACES, PODS, ResourceType};
use crate::sim::meta;
use crate::sim::store::{DeleteOptions, DeleteOutcome, Propagation, Store, WriteOptions};

pub const NS: &str = "ns";
pub const TIMEOUT: Duration = Duration::from_secs(10);

pub fn fast_settings() -> SimSettings {
    SimSettings {
        seed: 7,
        pod_start_delay: Duration::from_millis(20),
        pod_ready_delay: Duration::from_millis(30),
        pod_delay_jitter: 0.2,
        log_lines_per_second: 0.0,
        log_floods: Vec::new(),
    }
}

/// A running simulated cluster; the controllers stop when it is dropped.
pub struct Sim {
    pub ctx: Arc<SimContext>,
    shutdown: CancellationToken,
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl Sim {
    pub fn start() -> Sim {
        Sim::with(fast_settings(), Controllers::default())
    }

    pub fn with(settings: SimSettings, controllers: Controllers) -> Sim {
        let seed = settings.seed;
        let faults = Faults::new(
            FaultState {
                controllers,
                ..Default::default()
            },
            seed,
        );
        let ctx = SimContext::new(settings, faults);
        ctx.store
            .create(
                &NAMESPACES,
                "",
                json!({"metadata": {"name": NS}}),
                &WriteOptions::default(),
            )
            .unwrap();
        let shutdown = CancellationToken::new();
        spawn_all(ctx.clone(), shutdown.clone());
        Sim { ctx, shutdown }
    }

    pub fn store(&self) -> &Store {
        &self.ctx.store
    }

    pub fn set_controllers(&self, f: impl FnOnce(&mut Controllers)) {
        self.ctx.faults.update(|s| f(&mut s.controllers));
    }

    pub fn create(&self, rt: &'static ResourceType, obj: Value) -> Arc<Value> {
        self.store()
            .create(rt, NS, obj, &WriteOptions::default())
            .unwrap()
    }

    pub fn get(&self, rt: &'static ResourceType, name: &str) -> Option<Arc<Value>> {
        self.store().get(rt, NS, name).ok()
    }

    pub fn delete(
        &self,
        rt: &'static ResourceType,
        name: &str,
        propagation: Option<Propagation>,
    ) -> DeleteOutcome {
        let opts = DeleteOptions {
            propagation,
            ..Default::default()
        };
        self.store().delete(rt, NS, name, &opts).unwrap()
    }

    /// Sets a field through a merge of the current object (like `kubectl patch`).
    pub fn patch(&self, rt: &'static ResourceType, name: &str, f: impl FnOnce(&mut Value)) {
        self.store()
            .patch(rt, NS, name, &WriteOptions::default(), |cur| {
                let mut new = cur.clone();
                f(&mut new);
                Ok(new)
            })
            .unwrap();
    }

    pub fn list(&self, rt: &'static ResourceType) -> Vec<Arc<Value>> {
        self.store().list(rt, Some(NS), &|_| true).0
    }

    /// Objects of `rt` whose controller is the object with `uid`.
    pub fn owned_by(&self, rt: &'static ResourceType, uid: &str) -> Vec<Arc<Value>> {
        self.store()
            .list(rt, Some(NS), &|o| super::objects::controlled_by(o, uid))
            .0
    }

    /// Waits until `f` returns something, re-checking on every store change (and every 50 ms
    /// for conditions that depend on time only), or panics after `timeout`.
    pub async fn wait<T>(
        &self,
        what: &str,
        timeout: Duration,
        mut f: impl FnMut(&Sim) -> Option<T>,
    ) -> T {
        let mut rx = self.store().subscribe();
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(v) = f(self) {
                return v;
            }
            if Instant::now() >= deadline {
                panic!("timed out after {timeout:?} waiting for {what}");
            }
            tokio::select! {
                _ = rx.recv() => {}
                _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                _ = tokio::time::sleep_until(deadline) => {}
            }
        }
    }

    /// Asserts that `f` holds for the whole of `period`.
    pub async fn holds(&self, what: &str, period: Duration, mut f: impl FnMut(&Sim) -> bool) {
        let end = Instant::now() + period;
        while Instant::now() < end {
            assert!(f(self), "{what} stopped holding");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(f(self), "{what} stopped holding");
    }
}

pub fn deployment(name: &str, replicas: i64) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "terminationGracePeriodSeconds": 1,
                    "containers": [{"name": "server", "image": "vllm/vllm-openai:v0.6.4"}],
                },
            },
        },
    })
}

pub fn condition_status(obj: &Value, type_: &str) -> Option<String> {
    super::objects::condition(obj, type_)
        .and_then(|c| c.get("status"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// Pods that are not terminating.
pub fn active(pods: &[Arc<Value>]) -> Vec<Arc<Value>> {
    pods.iter()
        .filter(|p| !meta::is_terminating(p))
        .cloned()
        .collect()
}

pub fn is_ready(pod: &Value) -> bool {
    condition_status(pod, "Ready").as_deref() == Some("True")
}

/// Creates a Deployment and waits until it is Available with all replicas.
pub async fn available_deployment(sim: &Sim, name: &str, replicas: i64) -> Arc<Value> {
    sim.create(&DEPLOYMENTS, deployment(name, replicas));
    sim.wait("the deployment to be available", TIMEOUT, |s| {
        let d = s.get(&DEPLOYMENTS, name)?;
        let ok = condition_status(&d, "Available").as_deref() == Some("True")
            && d.pointer("/status/availableReplicas")
                .and_then(Value::as_i64)
                == Some(replicas)
            && d.pointer("/status/replicas").and_then(Value::as_i64) == Some(replicas);
        ok.then_some(d)
    })
    .await
}

pub fn pod_names(sim: &Sim) -> Vec<String> {
    sim.list(&PODS)
        .iter()
        .map(|p| meta::name(p).to_string())
        .collect()
}
