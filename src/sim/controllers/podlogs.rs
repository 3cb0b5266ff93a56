//! What simulated model servers print: vLLM / KServe style startup lines, engine metrics and
//! uvicorn access lines, deterministic per seed and pod (only the clock in them varies), and
//! floods of pre-formatted lines for the log-flood scenario.

use std::fmt::Write as _;

use serde_json::Value;
use tokio::time::Instant;

use super::objects::{rng_for, str_at};
use crate::sim::meta;
use crate::sim::rng::Rng;

/// At most this many lines per pod per tick (a pod that was paused does not burst).
const MAX_LINES_PER_TICK: f64 = 200.0;
/// Distinct pre-formatted lines a flood cycles through.
const FLOOD_POOL: usize = 2048;

/// The model name and storage URI a pod's log talks about.
fn model_of(pod: &Value) -> (String, String) {
    let model = meta::label(pod, "serving.kserve.io/inferenceservice")
        .or_else(|| meta::label(pod, "app"))
        .map(str::to_string)
        .unwrap_or_else(|| {
            let n = meta::name(pod);
            let parts: Vec<&str> = n.rsplitn(3, '-').collect();
            parts.last().copied().unwrap_or(n).to_string()
        });
    let mut uri = meta::annotation(pod, "serving.kserve.io/storage-initializer-sourceuri")
        .unwrap_or("")
        .to_string();
    if let Some(containers) = pod.pointer("/spec/containers").and_then(Value::as_array) {
        for c in containers {
            let args = c
                .get("args")
                .and_then(Value::as_array)
                .into_iter()
                .flatten();
            for a in args.filter_map(Value::as_str) {
                if let Some(u) = a.strip_prefix("--storage_uri=") {
                    uri = u.to_string();
                }
            }
            let env = c.get("env").and_then(Value::as_array).into_iter().flatten();
            for e in env {
                if str_at(e, "/name") == "STORAGE_URI" && uri.is_empty() {
                    uri = str_at(e, "/value").to_string();
                }
            }
        }
    }
    if uri.is_empty() {
        uri = format!("s3://models/{model}/");
    }
    (model, uri)
}

fn clock() -> String {
    meta::now().strftime("%m-%d %H:%M:%S").to_string()
}

/// The regular log of one running pod.
pub struct PodLogGen {
    rng: Rng,
    model: String,
    uri: String,
    carry: f64,
    last: Instant,
}

impl PodLogGen {
    pub fn new(seed: u64, pod: &Value, now: Instant) -> Self {
        let (model, uri) = model_of(pod);
        PodLogGen {
            rng: rng_for(seed, &["log", meta::namespace(pod), meta::name(pod)]),
            model,
            uri,
            carry: 0.0,
            last: now,
        }
    }

    /// What the server prints while starting.
    pub fn startup_lines(&mut self) -> Vec<String> {
        let t = clock();
        let load = 4.0 + self.rng.unit() * 20.0;
        let blocks = 8000 + self.rng.below(30_000);
        let (model, uri) = (&self.model, &self.uri);
        vec![
            format!("INFO {t} api_server.py:585] vLLM API server version 0.6.4.post1"),
            format!(
                "INFO {t} api_server.py:586] args: Namespace(host='0.0.0.0', port=8080, model='/mnt/models', served_model_name=['{model}'], max_model_len=8192)"
            ),
            format!("INFO {t} storage.py:64] Copying contents of {uri} to local /mnt/models"),
            format!("INFO {t} model_runner.py:1072] Loading model weights from {uri}"),
            format!("INFO {t} model_runner.py:1077] Model loaded in {load:.1}s"),
            format!("INFO {t} gpu_executor.py:122] # GPU blocks: {blocks}, # CPU blocks: 2048"),
            "INFO:     Started server process [1]".to_string(),
            "INFO:     Waiting for application startup.".to_string(),
            "INFO:     Application startup complete.".to_string(),
            "INFO:     Uvicorn running on http://0.0.0.0:8080 (Press CTRL+C to quit)".to_string(),
        ]
    }

    /// Lines due since the last call at `rate` lines per second.
    pub fn due(&mut self, rate: f64, now: Instant) -> Vec<String> {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.carry = (self.carry + rate * elapsed).min(MAX_LINES_PER_TICK);
        let n = self.carry.floor();
        self.carry -= n;
        if n < 1.0 {
            return Vec::new();
        }
        let t = clock();
        (0..n as usize).map(|_| self.line(&t)).collect()
    }

    fn line(&mut self, t: &str) -> String {
        let r = &mut self.rng;
        match r.below(100) {
            0..=49 => access_line(r, &self.model),
            50..=79 => format!(
                "INFO {t} metrics.py:341] Avg prompt throughput: {:.1} tokens/s, Avg generation throughput: {:.1} tokens/s, Running: {} reqs, Swapped: 0 reqs, Waiting: {} reqs, GPU KV cache usage: {:.1}%, CPU KV cache usage: 0.0%.",
                r.unit() * 900.0,
                20.0 + r.unit() * 180.0,
                r.below(9),
                r.below(3),
                r.unit() * 95.0
            ),
            80..=94 => format!("INFO {t} engine.py:267] Added request cmpl-{}-0.", hex32(r)),
            95..=98 => format!(
                "INFO {t} logger.py:37] Received request chatcmpl-{}: params: SamplingParams(n=1, temperature={:.1}, top_p=1.0, max_tokens={}), lora_request: None.",
                hex32(r),
                r.unit(),
                64 << r.below(4)
            ),
            _ => format!(
                "WARNING {t} scheduler.py:1089] Sequence group cmpl-{}-0 is preempted by PreemptionMode.RECOMPUTE mode because there is not enough KV cache space. This can affect the end-to-end performance. Increase gpu_memory_utilization or tensor_parallel_size to provide more KV cache memory.",
                hex32(r)
            ),
        }
    }
}

fn hex32(r: &mut Rng) -> String {
    let mut s = String::with_capacity(32);
    let _ = write!(s, "{:016x}{:016x}", r.next_u64(), r.next_u64());
    s
}

fn access_line(r: &mut Rng, model: &str) -> String {
    let ip = format!("10.0.{}.{}", r.below(8), 2 + r.below(250));
    let port = 30_000 + r.below(30_000);
    let (method, path, code) = match r.below(20) {
        0..=9 => ("POST", "/v1/completions".to_string(), "200 OK"),
        10..=15 => ("POST", "/v1/chat/completions".to_string(), "200 OK"),
        16 => ("POST", format!("/v2/models/{model}/infer"), "200 OK"),
        17 => ("GET", "/health".to_string(), "200 OK"),
        18 => ("GET", "/metrics".to_string(), "200 OK"),
        _ => ("POST", "/v1/completions".to_string(), "400 Bad Request"),
    };
    format!("INFO:     {ip}:{port} - \"{method} {path} HTTP/1.1\" {code}")
}

/// A flooding pod: cycles through a pool of pre-formatted lines, so tens of thousands of lines
/// per second cost little more than copying them.
pub struct Flood {
    pub namespace: String,
    pub pod: String,
    pool: Vec<String>,
    next: usize,
    carry: f64,
    last: Instant,
}

impl Flood {
    pub fn new(seed: u64, pod: &Value, now: Instant) -> Self {
        let (model, _) = model_of(pod);
        let mut rng = rng_for(seed, &["flood", meta::namespace(pod), meta::name(pod)]);
        let t = clock();
        let pool = (0..FLOOD_POOL)
            .map(|i| {
                if i % 16 == 15 {
                    format!(
                        "INFO {t} engine.py:267] Added request cmpl-{}-0.",
                        hex32(&mut rng)
                    )
                } else {
                    access_line(&mut rng, &model)
                }
            })
            .collect();
        Flood {
            namespace: meta::namespace(pod).to_string(),
            pod: meta::name(pod).to_string(),
            pool,
            next: 0,
            carry: 0.0,
            last: now,
        }
    }

    /// Lines due since the last call at `rate` lines per second (at most half a second's worth,
    /// so a stalled runtime does not produce one giant batch).
    pub fn due(&mut self, rate: f64, now: Instant) -> Vec<String> {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.carry = (self.carry + rate * elapsed).min(rate / 2.0);
        let n = self.carry.floor();
        self.carry -= n;
        let n = n as usize;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(self.pool[self.next].clone());
            self.next = (self.next + 1) % self.pool.len();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;

    fn pod() -> Value {
        json!({
            "metadata": {"name": "llama-predictor-5d4f8b7c9x-abcde", "namespace": "ns",
                         "labels": {"serving.kserve.io/inferenceservice": "llama"}},
            "spec": {"containers": [{"name": "kserve-container", "args": ["--storage_uri=s3://bucket/llama/"]}]}
        })
    }

    #[test]
    fn lines_are_deterministic_per_seed_and_rate_bound() {
        let now = Instant::now();
        let mut a = PodLogGen::new(1, &pod(), now);
        let mut b = PodLogGen::new(1, &pod(), now);
        let start = a.startup_lines();
        assert!(
            start
                .iter()
                .any(|l| l.contains("Loading model weights from s3://bucket/llama/"))
        );
        assert!(
            start
                .iter()
                .any(|l| l.contains("Uvicorn running on http://0.0.0.0:8080"))
        );
        b.startup_lines();
        let later = now + Duration::from_secs(2);
        let la = a.due(5.0, later);
        assert_eq!(la.len(), 10);
        b.due(5.0, later);
        // Same seed, same content (the clock is passed in here).
        let (x, y): (Vec<String>, Vec<String>) =
            (0..20).map(|_| (a.line("T"), b.line("T"))).unzip();
        assert_eq!(x, y);
        let mut c = PodLogGen::new(2, &pod(), now);
        assert_ne!(x, (0..20).map(|_| c.line("T")).collect::<Vec<_>>());
        assert!(a.due(5.0, later).is_empty());
    }

    #[test]
    fn flood_delivers_its_rate() {
        let now = Instant::now();
        let mut f = Flood::new(1, &pod(), now);
        let total: usize = (1..=100)
            .map(|i| f.due(20_000.0, now + Duration::from_millis(10 * i)).len())
            .sum();
        assert!((19_990..=20_000).contains(&total), "{total}");
    }
}
