//! Scheduler and kubelet in one: binds new pods to `sim-node-1..3`, starts them after
//! `pod_start_delay`, makes them Ready after `pod_ready_delay` (each ±20%, deterministic per seed
//! and pod), writes their logs, and finishes graceful deletions.
//!
//! Graceful deletion is sped up: the kubelet waits `min(deletionGracePeriodSeconds, 2 s)` after it
//! first sees the deletion, then sends the final `DELETE` with `gracePeriodSeconds: 0`. A pod
//! that still has finalizers then stays Terminating until they go.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;

use super::events::{EventRecorder, NORMAL};
use super::objects::{condition_true, get, hash64, jitter, status_opts, str_at, write_opts};
use super::pod_status::{Stage, containers, pod_status};
use super::podlogs::{Flood, PodLogGen};
use super::runner::{Controller, Resync};
use crate::sim::context::SimContext;
use crate::sim::faults::{ControllerState, Controllers};
use crate::sim::kinds::PODS;
use crate::sim::meta;
use crate::sim::store::{Change, ChangeKind, DeleteOptions, Precondition};

pub const MANAGER: &str = "kubelet";
pub const SCHEDULER: &str = "default-scheduler";
pub const NODES: [&str; 3] = ["sim-node-1", "sim-node-2", "sim-node-3"];
/// The longest a graceful pod deletion really waits (simulation speed; the real kubelet waits
/// up to the whole grace period).
pub const MAX_GRACE_WAIT: Duration = Duration::from_secs(2);
const LOG_TICK: Duration = Duration::from_millis(100);
const FLOOD_TICK: Duration = Duration::from_millis(10);
const RETRY: Duration = Duration::from_millis(500);

type PodKey = (String, String);

/// What the kubelet remembers about a pod it runs.
struct PodRun {
    uid: String,
    scheduled_at: Option<Instant>,
    running_at: Option<Instant>,
    terminating_since: Option<Instant>,
    killed: bool,
}

impl PodRun {
    fn new(uid: &str) -> Self {
        PodRun {
            uid: uid.to_string(),
            scheduled_at: None,
            running_at: None,
            terminating_since: None,
            killed: false,
        }
    }
}

pub struct Kubelet {
    seed: u64,
    events: Arc<EventRecorder>,
    pods: HashMap<PodKey, PodRun>,
    /// The log writers of running pods (the pods whose containers run).
    logs: HashMap<PodKey, PodLogGen>,
    /// Per configured flood: the pod flooding now.
    floods: Vec<Option<Flood>>,
    floods_dirty: bool,
    log_rate: f64,
    next_log: Instant,
    next_flood: Instant,
}

impl Kubelet {
    pub fn new(ctx: &SimContext, events: Arc<EventRecorder>) -> Self {
        Kubelet {
            seed: ctx.settings.seed,
            events,
            pods: HashMap::new(),
            logs: HashMap::new(),
            floods: ctx.settings.log_floods.iter().map(|_| None).collect(),
            floods_dirty: true,
            log_rate: ctx.settings.log_lines_per_second,
            next_log: Instant::now(),
            next_flood: Instant::now(),
        }
    }

    fn forget(&mut self, ctx: &SimContext, ns: &str, name: &str) {
        let key = (ns.to_string(), name.to_string());
        self.pods.remove(&key);
        self.stop_log(&key);
        ctx.logs.remove(ns, name);
    }

    fn start_log(&mut self, key: &PodKey, writer: PodLogGen) {
        self.logs.insert(key.clone(), writer);
        self.floods_dirty = true;
    }

    fn stop_log(&mut self, key: &PodKey) {
        if self.logs.remove(key).is_some() {
            self.floods_dirty = true;
        }
    }
}

impl Controller for Kubelet {
    type Key = PodKey;

    fn active(&self, states: &Controllers) -> bool {
        states.kubelet != ControllerState::Down
    }

    fn observe(&mut self, ctx: &SimContext, change: &Change, out: &mut Vec<PodKey>) {
        if change.rt != &PODS {
            return;
        }
        let (ns, name) = (change.namespace(), change.name());
        if change.kind == ChangeKind::Deleted {
            // The log goes with the pod, whatever state the kubelet is in.
            self.forget(ctx, ns, name);
            return;
        }
        out.push((ns.to_string(), name.to_string()));
    }

    fn resync(&mut self, ctx: &SimContext, _: Resync, out: &mut Vec<PodKey>) {
        let (pods, _) = ctx.store.list(&PODS, None, &|_| true);
        let live: std::collections::HashSet<PodKey> = pods
            .iter()
            .map(|p| (meta::namespace(p).to_string(), meta::name(p).to_string()))
            .collect();
        let gone: Vec<PodKey> = self
            .pods
            .keys()
            .filter(|k| !live.contains(*k))
            .cloned()
            .collect();
        for (ns, name) in gone {
            self.forget(ctx, &ns, &name);
        }
        out.extend(live);
        // Logs missed while the kubelet was down come as one bounded burst (see `podlogs`),
        // like a container that kept writing while nobody read it.
        self.floods_dirty = true;
    }

    fn reconcile(&mut self, ctx: &SimContext, _: &Controllers, key: &PodKey) -> Option<Duration> {
        let (ns, name) = key;
        let Some(pod) = get(&ctx.store, &PODS, ns, name) else {
            self.forget(ctx, ns, name);
            return None;
        };
        let uid = meta::uid(&pod);
        let run = self
            .pods
            .entry(key.clone())
            .or_insert_with(|| PodRun::new(uid));
        if run.uid != uid {
            *run = PodRun::new(uid);
            self.stop_log(key);
        }
        if meta::is_terminating(&pod) {
            return self.terminate(ctx, &pod);
        }
        match str_at(&pod, "/status/phase") {
            "Succeeded" | "Failed" => None,
            "Running" => self.progress_running(ctx, &pod),
            _ if str_at(&pod, "/spec/nodeName").is_empty() => self.schedule(ctx, &pod),
            _ => self.progress_pending(ctx, &pod),
        }
    }

    fn next_tick(&self) -> Option<Instant> {
        let flood = self.floods.iter().any(Option::is_some) || self.floods_dirty;
        let flood = (flood && !self.floods.is_empty()).then_some(self.next_flood);
        let writing = !self.logs.is_empty() && self.log_rate > 0.0;
        let logs = writing.then_some(self.next_log);
        match (flood, logs) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn tick(&mut self, ctx: &SimContext, now: Instant) {
        if now >= self.next_flood {
            self.next_flood = now + FLOOD_TICK;
            self.write_floods(ctx, now);
        }
        if now >= self.next_log {
            self.next_log = now + LOG_TICK;
            let rate = ctx.settings.log_lines_per_second;
            let flooding: Vec<(String, String)> = self
                .floods
                .iter()
                .flatten()
                .map(|f| (f.namespace.clone(), f.pod.clone()))
                .collect();
            for ((ns, name), log) in self.logs.iter_mut() {
                let lines = log.due(rate, now);
                if !lines.is_empty() && !flooding.iter().any(|(a, b)| a == ns && b == name) {
                    ctx.logs.append(ns, name, lines);
                }
            }
        }
    }
}

impl Kubelet {
    fn node_for(&self, pod: &Value) -> &'static str {
        let h = hash64(self.seed, &["node", meta::namespace(pod), meta::name(pod)]);
        NODES[(h % NODES.len() as u64) as usize]
    }

    /// The scenario's delay for this pod, or none while the simulator warms up (pods that exist
    /// when a scenario loads start out running, as on a cluster that has been up for a while).
    fn delay(&self, ctx: &SimContext, base: Duration, pod: &Value, what: &str) -> Duration {
        if ctx.is_warming() {
            return Duration::ZERO;
        }
        jitter(
            base,
            ctx.settings.pod_delay_jitter,
            self.seed,
            &[what, meta::namespace(pod), meta::name(pod)],
        )
    }

    fn write_pod_status(&self, ctx: &SimContext, pod: &Value, status: Value) -> bool {
        let uid = meta::uid(pod).to_string();
        let res = ctx.store.patch(
            &PODS,
            meta::namespace(pod),
            meta::name(pod),
            &status_opts(MANAGER),
            |cur| {
                let mut new = cur.clone();
                if meta::uid(cur) == uid {
                    meta::set_field(&mut new, "status", status);
                }
                Ok(new)
            },
        );
        res.is_ok()
    }

    fn schedule(&mut self, ctx: &SimContext, pod: &Value) -> Option<Duration> {
        let node = self.node_for(pod);
        let uid = meta::uid(pod).to_string();
        let bound = ctx.store.patch(
            &PODS,
            meta::namespace(pod),
            meta::name(pod),
            &write_opts(SCHEDULER),
            |cur| {
                let mut new = cur.clone();
                if meta::uid(cur) == uid && str_at(cur, "/spec/nodeName").is_empty() {
                    meta::object_field_mut(&mut new, "spec").insert("nodeName".into(), json!(node));
                }
                Ok(new)
            },
        );
        let Ok(pod) = bound else {
            return Some(RETRY);
        };
        self.events.record(
            &pod,
            NORMAL,
            "Scheduled",
            &format!(
                "Successfully assigned {}/{} to {node}",
                meta::namespace(&pod),
                meta::name(&pod)
            ),
            SCHEDULER,
        );
        self.progress_pending(ctx, &pod)
    }

    fn progress_pending(&mut self, ctx: &SimContext, pod: &Value) -> Option<Duration> {
        let now = Instant::now();
        let start = self.delay(ctx, ctx.settings.pod_start_delay, pod, "start");
        let key = (
            meta::namespace(pod).to_string(),
            meta::name(pod).to_string(),
        );
        let run = self.pods.get_mut(&key)?;
        let scheduled_at = *run.scheduled_at.get_or_insert(now);
        let due = scheduled_at + start;
        if now < due {
            if pod.pointer("/status/containerStatuses").is_none() {
                let status = pod_status(pod, self.seed, Stage::Creating);
                if !self.write_pod_status(ctx, pod, status) {
                    return Some(RETRY);
                }
            }
            return Some(due - now);
        }
        let status = pod_status(pod, self.seed, Stage::Running { ready: false });
        if !self.write_pod_status(ctx, pod, status) {
            return Some(RETRY);
        }
        let node = str_at(pod, "/spec/nodeName").to_string();
        for c in containers(pod) {
            let (cname, image) = (str_at(c, "/name"), str_at(c, "/image"));
            let host = Some(node.as_str());
            let msg = format!("Container image \"{image}\" already present on machine");
            self.events
                .record_on(pod, NORMAL, "Pulled", &msg, MANAGER, host);
            let msg = format!("Created container: {cname}");
            self.events
                .record_on(pod, NORMAL, "Created", &msg, MANAGER, host);
            let msg = format!("Started container {cname}");
            self.events
                .record_on(pod, NORMAL, "Started", &msg, MANAGER, host);
        }
        if let Some(run) = self.pods.get_mut(&key) {
            run.running_at = Some(now);
            let mut log = PodLogGen::new(self.seed, pod, now);
            ctx.logs.append(&key.0, &key.1, log.startup_lines());
            self.start_log(&key, log);
        }
        Some(self.delay(ctx, ctx.settings.pod_ready_delay, pod, "ready"))
    }

    fn progress_running(&mut self, ctx: &SimContext, pod: &Value) -> Option<Duration> {
        let now = Instant::now();
        let ready_delay = self.delay(ctx, ctx.settings.pod_ready_delay, pod, "ready");
        let key = (
            meta::namespace(pod).to_string(),
            meta::name(pod).to_string(),
        );
        if !self.logs.contains_key(&key) {
            let log = PodLogGen::new(self.seed, pod, now);
            self.start_log(&key, log);
        }
        let run = self.pods.get_mut(&key)?;
        if condition_true(pod, "Ready") {
            return None;
        }
        let due = *run.running_at.get_or_insert(now) + ready_delay;
        if now < due {
            return Some(due - now);
        }
        let status = pod_status(pod, self.seed, Stage::Running { ready: true });
        if !self.write_pod_status(ctx, pod, status) {
            return Some(RETRY);
        }
        None
    }

    fn terminate(&mut self, ctx: &SimContext, pod: &Value) -> Option<Duration> {
        let now = Instant::now();
        let key = (
            meta::namespace(pod).to_string(),
            meta::name(pod).to_string(),
        );
        self.stop_log(&key);
        let run = self.pods.get_mut(&key)?;
        let since = *run.terminating_since.get_or_insert(now);
        let first = !run.killed;
        run.killed = true;
        if first && pod.pointer("/status/containerStatuses").is_some() {
            let was_running = str_at(pod, "/status/phase") == "Running";
            let status = pod_status(pod, self.seed, Stage::Terminated);
            if !self.write_pod_status(ctx, pod, status) {
                if let Some(run) = self.pods.get_mut(&key) {
                    run.killed = false;
                }
                return Some(RETRY);
            }
            if was_running {
                let host = str_at(pod, "/spec/nodeName");
                for c in containers(pod) {
                    let msg = format!("Stopping container {}", str_at(c, "/name"));
                    self.events
                        .record_on(pod, NORMAL, "Killing", &msg, MANAGER, Some(host));
                }
            }
        }
        let grace = pod
            .pointer("/metadata/deletionGracePeriodSeconds")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        if grace <= 0 {
            // Already past its grace period: only finalizers keep it.
            return None;
        }
        let wait = Duration::from_secs(grace.unsigned_abs()).min(MAX_GRACE_WAIT);
        let due = since + wait;
        if now < due {
            return Some(due - now);
        }
        let opts = DeleteOptions {
            grace_period_seconds: Some(0),
            preconditions: Precondition {
                uid: Some(meta::uid(pod).to_string()),
                resource_version: None,
            },
            ..Default::default()
        };
        match ctx.store.delete(&PODS, &key.0, &key.1, &opts) {
            Ok(_) => None,
            Err(e) if e.code == 404 || e.code == 409 => None,
            Err(_) => Some(RETRY),
        }
    }

    /// Assigns each configured flood to its pod (the first running pod, by name, whose name
    /// starts with the prefix) and writes what is due.
    fn write_floods(&mut self, ctx: &SimContext, now: Instant) {
        if self.floods_dirty {
            self.floods_dirty = false;
            for (i, cfg) in ctx.settings.log_floods.iter().enumerate() {
                let running = |ns: &str, name: &str| {
                    self.logs.contains_key(&(ns.to_string(), name.to_string()))
                };
                let keep = self.floods[i]
                    .as_ref()
                    .is_some_and(|f| running(&f.namespace, &f.pod));
                if keep {
                    continue;
                }
                let candidate = self
                    .logs
                    .keys()
                    .filter(|(ns, name)| *ns == cfg.namespace && name.starts_with(&cfg.pod_prefix))
                    .min()
                    .cloned();
                self.floods[i] = candidate.and_then(|(ns, name)| {
                    let pod = get(&ctx.store, &PODS, &ns, &name)?;
                    Some(Flood::new(self.seed, &pod, now))
                });
            }
        }
        for (i, cfg) in ctx.settings.log_floods.iter().enumerate() {
            if let Some(f) = self.floods[i].as_mut() {
                let lines = f.due(cfg.lines_per_second as f64, now);
                if !lines.is_empty() {
                    ctx.logs.append(&f.namespace, &f.pod, lines);
                }
            }
        }
    }
}
