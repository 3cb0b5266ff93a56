//! Console performance on the simulator, measured on the real binary in a real terminal (tmux):
//!
//! - large-fleet: time from start to the complete endpoint table (1,000 endpoints), idle CPU of the
//!   console process over a window (default 60 s), its peak RSS (VmHWM);
//! - log-flood: lines/s that reach the console's log view, the lag of the newest line, and the
//!   dropped count, read from the log tab's own header.
//!
//! `cargo bench --bench console_large_fleet` (release). Needs tmux; prints why and exits when it is
//! missing. `IDLE_SECS=N` shortens the idle window.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_llmops-console");

struct Sim {
    child: Child,
    kubeconfig: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Sim {
    fn start(scenario: &str) -> Sim {
        let dir = tempfile::tempdir().expect("temp dir");
        let kubeconfig = dir.path().join("kubeconfig");
        let mut child = Command::new(BIN)
            .args([
                "sim",
                "--listen",
                "127.0.0.1:0",
                "--scenario",
                scenario,
                "--write-kubeconfig",
            ])
            .arg(&kubeconfig)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the simulator");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("read");
        assert!(line.starts_with("listening on "), "simulator said {line:?}");
        Sim {
            child,
            kubeconfig,
            _dir: dir,
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(cmd: &str) -> Tmux {
        let socket = format!("llmops-bench-{}", std::process::id());
        let ok = Command::new("tmux")
            .args([
                "-L",
                &socket,
                "new-session",
                "-d",
                "-x",
                "200",
                "-y",
                "50",
                cmd,
            ])
            .status()
            .expect("tmux")
            .success();
        assert!(ok, "tmux new-session failed");
        Tmux { socket }
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p"])
            .output()
            .expect("capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn pane_pid(&self) -> u32 {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "display", "-p", "#{pane_pid}"])
            .output()
            .expect("display");
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .expect("pane pid")
    }

    fn keys(&self, keys: &str) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "send-keys", keys])
            .status();
    }

    fn wait_for(&self, text: &str, limit: Duration) -> Option<Duration> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if self.screen().contains(text) {
                return Some(start.elapsed());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

/// utime + stime of a process, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the `(comm)`; utime and stime are the 14th and 15th fields overall.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn status_kb(pid: u32, key: &str) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn large_fleet(idle: Duration) {
    let sim = Sim::start("large-fleet");
    let cmd = format!("exec {BIN} --kubeconfig {} -A", sim.kubeconfig.display());
    let started = Instant::now();
    let tmux = Tmux::start(&cmd);
    let pid = tmux.pane_pid();
    match tmux.wait_for("Endpoints 1000/1000", Duration::from_secs(60)) {
        Some(_) => println!(
            "large-fleet: start to complete endpoint table (1000 rows on screen): {:.0} ms",
            started.elapsed().as_secs_f64() * 1000.0
        ),
        None => {
            println!(
                "large-fleet: the table did not complete within 60 s; last screen:\n{}",
                tmux.screen()
            );
            return;
        }
    }
    // Let the initial burst (events, first renders) pass, then measure a quiet window.
    std::thread::sleep(Duration::from_secs(3));
    let cpu0 = cpu_seconds(pid);
    let t0 = Instant::now();
    std::thread::sleep(idle);
    let cpu = cpu_seconds(pid) - cpu0;
    let pct = 100.0 * cpu / t0.elapsed().as_secs_f64();
    println!(
        "large-fleet: idle CPU over {:.0} s: {:.2}% of a core ({:.2} s CPU)",
        t0.elapsed().as_secs_f64(),
        pct,
        cpu
    );
    println!(
        "large-fleet: console RSS now {} MB, peak (VmHWM) {} MB",
        status_kb(pid, "VmRSS:") / 1024,
        status_kb(pid, "VmHWM:") / 1024
    );
    tmux.keys("q");
}

/// `all pods (2) · following · ... · 1234/10000 lines · dropped 5 · 20123.4/s` from the log
/// tab's header: (lines in the buffer, dropped, rate).
fn header_numbers(screen: &str) -> Option<(u64, u64, f64)> {
    let line = screen.lines().find(|l| l.contains(" lines · dropped "))?;
    let line = line.trim_matches(|c: char| c == '┃' || c == '│' || c.is_whitespace());
    let parts: Vec<&str> = line.split(" · ").map(str::trim).collect();
    let lines = parts
        .iter()
        .find(|p| p.ends_with(" lines"))?
        .split('/')
        .next()?
        .parse()
        .ok()?;
    let dropped = parts
        .iter()
        .find_map(|p| p.strip_prefix("dropped "))?
        .parse()
        .ok()?;
    let rate = parts
        .iter()
        .rev()
        .find_map(|p| p.strip_suffix("/s"))?
        .parse()
        .ok()?;
    Some((lines, dropped, rate))
}

/// Seconds since midnight (UTC) of the latest `HH:MM:SS.mmm` on screen.
fn newest_time_of_day(screen: &str) -> Option<f64> {
    let mut best: Option<f64> = None;
    for line in screen.lines() {
        let chars: Vec<char> = line.chars().collect();
        for i in 0..chars.len().saturating_sub(11) {
            let w: String = chars[i..i + 12].iter().collect();
            let b = w.as_bytes();
            let digits = [0, 1, 3, 4, 6, 7, 9, 10, 11];
            if w.len() == 12
                && b[2] == b':'
                && b[5] == b':'
                && b[8] == b'.'
                && digits.iter().all(|&k| b[k].is_ascii_digit())
            {
                let n = |a: usize, z: usize| w[a..z].parse::<f64>().unwrap_or(0.0);
                let t = n(0, 2) * 3600.0 + n(3, 5) * 60.0 + n(6, 12);
                best = Some(best.map_or(t, |x: f64| x.max(t)));
                break;
            }
        }
    }
    best
}

fn log_flood() {
    let sim = Sim::start("log-flood");
    let cmd = format!("exec {BIN} --kubeconfig {} -A", sim.kubeconfig.display());
    let tmux = Tmux::start(&cmd);
    if tmux
        .wait_for("vllm-debug", Duration::from_secs(30))
        .is_none()
    {
        println!(
            "log-flood: the console did not show vllm-debug; last screen:\n{}",
            tmux.screen()
        );
        return;
    }
    // Select the flooding endpoint (filter), open its logs.
    tmux.keys("/");
    tmux.keys("vllm-debug");
    tmux.keys("Enter");
    std::thread::sleep(Duration::from_millis(300));
    tmux.keys("l");
    let mut samples = Vec::new();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_secs(1));
        if let Some(n) = header_numbers(&tmux.screen()) {
            samples.push(n);
        }
    }
    match samples.last() {
        Some((lines, dropped, rate)) => println!(
            "log-flood: view header after 10 s: rate {rate:.0} lines/s, buffer {lines} lines, dropped {dropped} (counted, shown on screen)"
        ),
        None => println!(
            "log-flood: no log header found; last screen:\n{}",
            tmux.screen()
        ),
    }
    // Lag: with timestamps shown, the newest line on screen against the wall clock at capture.
    tmux.keys("t");
    std::thread::sleep(Duration::from_millis(500));
    let mut lags: Vec<f64> = Vec::new();
    for _ in 0..10 {
        let screen = tmux.screen();
        let now = jiff::Timestamp::now();
        if let Some(newest) = newest_time_of_day(&screen) {
            let now_secs = (now.as_millisecond().rem_euclid(86_400_000)) as f64 / 1000.0;
            lags.push((now_secs - newest).rem_euclid(86_400.0));
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    lags.sort_by(f64::total_cmp);
    match (lags.get(lags.len() / 2), lags.last()) {
        (Some(med), Some(max)) => println!(
            "log-flood: lag of the newest line on screen (10 captures): median {:.0} ms, max {:.0} ms (includes the capture itself)",
            med * 1000.0,
            max * 1000.0
        ),
        _ => println!(
            "log-flood: no timestamps found on screen (the console shows local time; run with TZ=UTC)"
        ),
    }
    tmux.keys("q");
}

fn main() {
    if Command::new("tmux").arg("-V").output().is_err() {
        println!("console_large_fleet: SKIPPED: tmux is not installed (apt-get install tmux)");
        return;
    }
    if !Path::new(BIN).exists() {
        println!("console_large_fleet: SKIPPED: {BIN} is not built");
        return;
    }
    let idle = std::env::var("IDLE_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .map_or(Duration::from_secs(60), Duration::from_secs);
    large_fleet(idle);
    log_flood();
}
