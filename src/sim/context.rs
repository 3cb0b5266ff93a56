//! What every part of a running simulator shares.

use std::sync::Arc;
use std::time::Duration;

use super::audit::AuditLog;
use super::faults::Faults;
use super::logs::LogHub;
use super::store::Store;

/// Timings and rates of the simulated cluster (a scenario's `settings`).
#[derive(Debug, Clone)]
pub struct SimSettings {
    pub seed: u64,
    /// A scheduled pod goes Pending -> Running after this.
    pub pod_start_delay: Duration,
    /// A running pod becomes Ready after this.
    pub pod_ready_delay: Duration,
    /// Each pod's delays are spread by up to this fraction either way (the scenario's
    /// `settings.jitter`; 0 makes them exact).
    pub pod_delay_jitter: f64,
    /// Log lines each running pod writes per second.
    pub log_lines_per_second: f64,
    /// Pods writing far faster than the others: (namespace, pod name prefix, lines per second).
    pub log_floods: Vec<LogFlood>,
}

#[derive(Debug, Clone)]
pub struct LogFlood {
    pub namespace: String,
    /// The first running pod whose name starts with this floods.
    pub pod_prefix: String,
    pub lines_per_second: u64,
}

impl Default for SimSettings {
    fn default() -> Self {
        SimSettings {
            seed: 42,
            pod_start_delay: Duration::from_millis(300),
            pod_ready_delay: Duration::from_millis(700),
            pod_delay_jitter: 0.2,
            log_lines_per_second: 2.0,
            log_floods: Vec::new(),
        }
    }
}

pub struct SimContext {
    /// Who requests without credentials act as. kubectl never sends a bearer token over plain
    /// HTTP (kubernetes/kubectl#744), so the simulator's `--user` is also its anonymous user.
    pub default_user: std::sync::RwLock<String>,
    pub store: Arc<Store>,
    pub faults: Arc<Faults>,
    pub logs: Arc<LogHub>,
    pub audit: Arc<AuditLog>,
    pub settings: SimSettings,
    /// While set, the kubelet starts pods without the scenario's delays, so a scenario's initial
    /// fleet is already running when the simulator starts serving.
    warming: std::sync::atomic::AtomicBool,
}

impl SimContext {
    pub fn new(settings: SimSettings, faults: Faults) -> Arc<SimContext> {
        Arc::new(SimContext {
            default_user: std::sync::RwLock::new("admin".to_string()),
            store: Store::new(settings.seed),
            faults: Arc::new(faults),
            logs: Arc::new(LogHub::default()),
            audit: Arc::new(AuditLog::default()),
            settings,
            warming: std::sync::atomic::AtomicBool::new(false),
        })
    }

    pub fn default_user(&self) -> String {
        self.default_user
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn set_default_user(&self, user: &str) {
        *self.default_user.write().unwrap_or_else(|p| p.into_inner()) = user.to_string();
    }

    pub fn is_warming(&self) -> bool {
        self.warming.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn set_warming(&self, on: bool) {
        self.warming.store(on, std::sync::atomic::Ordering::Relaxed);
    }
}
