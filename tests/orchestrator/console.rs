//! The real binary run against the simulator, as an operator's shell would run it: its own
//! state directory (journal, audit log) and config directory, the simulator's kubeconfig, no
//! terminal on stdin. Finished runs ([`Run`]) and running ones ([`Running`], stderr read line by
//! line so a test can act when a step starts).

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

use super::cluster::Cluster;
use crate::common::BIN;

/// The user in the holder identity (`USER@host/pid`) of every run.
pub const USER: &str = "orch-tester";

/// One operator's machine: a kubeconfig and private state and config directories.
pub struct Console {
    pub kubeconfig: PathBuf,
    state: TempDir,
    config: TempDir,
}

impl Console {
    pub fn new(cluster: &Cluster) -> Console {
        Console {
            kubeconfig: cluster.sim.kubeconfig.clone(),
            state: tempfile::tempdir().expect("state dir"),
            config: tempfile::tempdir().expect("config dir"),
        }
    }

    pub fn state_dir(&self) -> &Path {
        self.state.path()
    }

    pub fn journal_dir(&self) -> PathBuf {
        self.state.path().join("journal")
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(args)
            .env("LLMOPS_CONSOLE_STATE_DIR", self.state.path())
            .env("LLMOPS_CONSOLE_CONFIG_DIR", self.config.path())
            .env("USER", USER)
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG")
            .env_remove("KUBECONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }

    /// Runs to the end (failing the test after `deadline`).
    pub fn run(&self, args: &[&str], deadline: Duration) -> Run {
        self.spawn(args).finish(deadline)
    }

    /// Starts it; stderr is read line by line.
    pub fn spawn(&self, args: &[&str]) -> Running {
        Running::spawn(self.command(args), args)
    }

    /// The journal record of operation `op_id`.
    pub fn journal(&self, op_id: &str) -> Value {
        let path = self.journal_dir().join(format!("{op_id}.json"));
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("journal {}: {e}", path.display()));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("journal {}: {e}", path.display()))
    }

    /// Every journal record on this machine.
    pub fn journals(&self) -> Vec<Value> {
        let Ok(dir) = std::fs::read_dir(self.journal_dir()) else {
            return Vec::new();
        };
        dir.filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .filter_map(|t| serde_json::from_str(&t).ok())
            .collect()
    }

    /// The local audit log.
    pub fn audit_log(&self) -> String {
        std::fs::read_to_string(self.state.path().join("audit.log")).unwrap_or_default()
    }
}

/// A finished run.
#[derive(Debug, Clone)]
pub struct Run {
    pub args: Vec<String>,
    /// The exit code; `None` when a signal ended it.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Everything about the run, for failure messages.
    pub fn explain(&self) -> String {
        format!(
            "`llmops-console {}` exited {:?}\n--- stdout:\n{}\n--- stderr:\n{}",
            self.args.join(" "),
            self.code,
            self.stdout,
            self.stderr
        )
    }

    /// Fails the test unless the exit code is `code`.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "wrong exit code:\n{}",
            self.explain()
        );
        self
    }

    /// The result object of a `-o json` run (stdout).
    pub fn result(&self) -> Value {
        serde_json::from_str(self.stdout.trim())
            .unwrap_or_else(|e| panic!("stdout is not one JSON object ({e}):\n{}", self.explain()))
    }

    /// Progress lines (text or JSON) of `step` in `state`.
    pub fn progress(&self, step: &str, state: &str) -> Vec<String> {
        self.stderr
            .lines()
            .filter(|l| is_progress(l, step, state))
            .map(str::to_string)
            .collect()
    }

    /// Fails the test unless stdout or stderr contains `text`.
    pub fn expect_text(&self, text: &str) -> &Self {
        assert!(
            self.stdout.contains(text) || self.stderr.contains(text),
            "no {text:?} in the output:\n{}",
            self.explain()
        );
        self
    }
}

/// Whether `line` is a progress line of `step` in `state`: `[  1.234s] STEP  STATE  message` or
/// the JSON line of `-o json`.
pub fn is_progress(line: &str, step: &str, state: &str) -> bool {
    if line.starts_with('{') {
        return serde_json::from_str::<Value>(line)
            .is_ok_and(|v| v["step"] == step && v["state"] == state);
    }
    let Some(rest) = line.trim_start().strip_prefix('[') else {
        return false;
    };
    let Some((_, after)) = rest.split_once("s] ") else {
        return false;
    };
    let mut words = after.split_whitespace();
    words.next() == Some(step) && words.next() == Some(state)
}

/// A run in progress.
pub struct Running {
    child: Child,
    args: Vec<String>,
    lines: mpsc::Receiver<String>,
    stderr: Arc<Mutex<String>>,
    stdout: Option<thread::JoinHandle<String>>,
    stderr_done: Option<thread::JoinHandle<()>>,
}

impl Running {
    fn spawn(mut command: Command, args: &[&str]) -> Running {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {BIN} {}: {e}", args.join(" ")));
        let mut out = child.stdout.take().expect("piped stdout");
        let err = child.stderr.take().expect("piped stderr");
        let stdout = thread::spawn(move || {
            let mut s = String::new();
            let _ = out.read_to_string(&mut s);
            s
        });
        let (tx, lines) = mpsc::channel();
        let stderr = Arc::new(Mutex::new(String::new()));
        let all = stderr.clone();
        let stderr_done = thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                {
                    let mut a = all.lock().unwrap_or_else(|p| p.into_inner());
                    a.push_str(&line);
                    a.push('\n');
                }
                let _ = tx.send(line);
            }
        });
        Running {
            child,
            args,
            lines,
            stderr,
            stdout: Some(stdout),
            stderr_done: Some(stderr_done),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Waits for a stderr line satisfying `wanted` and gives it; `None` if the process ends
    /// first. Fails the test after `deadline`.
    pub fn wait_line(
        &mut self,
        deadline: Duration,
        wanted: impl Fn(&str) -> bool,
    ) -> Option<String> {
        let started = Instant::now();
        loop {
            let left = deadline.saturating_sub(started.elapsed());
            match self.lines.recv_timeout(left.max(Duration::from_millis(1))) {
                Ok(line) if wanted(&line) => return Some(line),
                Ok(_) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => return None,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if started.elapsed() >= deadline {
                        let _ = self.child.kill();
                        panic!(
                            "`llmops-console {}`: no awaited line within {deadline:?}; stderr:\n{}",
                            self.args.join(" "),
                            self.stderr()
                        );
                    }
                }
            }
        }
    }

    /// Waits for the progress line `STEP running` (the first of the step); `None` if the process
    /// ends first.
    pub fn wait_step(&mut self, step: &str, deadline: Duration) -> Option<String> {
        self.wait_line(deadline, |l| is_progress(l, step, "running"))
    }

    /// SIGKILL, and reaps the process (so its pid is gone, as after a kill -9 in a shell).
    pub fn kill9(mut self) -> Run {
        let _ = self.child.kill();
        self.finish(Duration::from_secs(10))
    }

    /// Sends SIGINT (Ctrl-C).
    pub fn sigint(&self) {
        signal(self.pid(), "INT");
    }

    /// Sends SIGTERM (`kill`, `timeout`, systemd stopping a unit).
    pub fn sigterm(&self) {
        signal(self.pid(), "TERM");
    }

    /// Sends SIGHUP (the terminal or the SSH connection went away).
    pub fn sighup(&self) {
        signal(self.pid(), "HUP");
    }

    /// Waits for the exit (failing the test, after killing it, past `deadline`).
    pub fn finish(mut self, deadline: Duration) -> Run {
        let started = Instant::now();
        let status = loop {
            if let Some(s) = self.child.try_wait().expect("child status") {
                break s;
            }
            if started.elapsed() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "`llmops-console {}` still running after {deadline:?}; killed it. stderr:\n{}",
                    self.args.join(" "),
                    self.stderr()
                );
            }
            thread::sleep(Duration::from_millis(20));
        };
        let stdout = self
            .stdout
            .take()
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default();
        if let Some(h) = self.stderr_done.take() {
            let _ = h.join();
        }
        Run {
            args: self.args.clone(),
            code: status.code(),
            stdout,
            stderr: self
                .stderr
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
        }
    }
}

/// `kill -NAME pid`; fails the test if kill does.
pub fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status()
        .unwrap_or_else(|e| panic!("kill -{name}: {e}"));
    assert!(status.success(), "kill -{name} {pid} failed");
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
