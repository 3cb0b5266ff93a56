//! Driving the real binary in a terminal: a detached tmux session on a private server socket,
//! keys in with `send-keys`, screens out with `capture-pane -p`. The server is killed on drop.
//!
//! Every wait polls the screen (every 100 ms, up to a deadline) and fails with the last screen it
//! saw, so a failure shows what the operator would have seen.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::{run_with_deadline, shout};

/// Set (to anything) to make a missing tmux a failure instead of a skip; `.ci/run` sets it after
/// installing tmux, so a broken install can never pass as a skipped suite.
pub const REQUIRE_TMUX_ENV: &str = "LLMOPS_REQUIRE_TMUX";

/// How long a wait for screen content may take by default. Generous: the machines that run CI
/// are loaded, and a wait returns as soon as the screen shows what it waits for.
pub const SCREEN_DEADLINE: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(100);
/// How long one tmux command may take before the test fails instead of hanging.
const TMUX_DEADLINE: Duration = Duration::from_secs(20);

/// Whether tmux can be run. False (after saying so loudly) when it is missing and not required;
/// a panic when it is missing and `LLMOPS_REQUIRE_TMUX` is set.
pub fn tmux_available(test: &str) -> bool {
    let found = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return true;
    }
    let why = format!(
        "SKIPPED {test}: tmux is not installed, so the real console cannot be driven in a \
         terminal.\nRun `bash .ci/run` (it installs tmux with apt-get), or `apt-get install tmux`."
    );
    if std::env::var_os(REQUIRE_TMUX_ENV).is_some() {
        panic!("{why}\n({REQUIRE_TMUX_ENV} is set: a skip is a failure here)");
    }
    shout(&format!("!!!!!!!! {why}"));
    false
}

/// Quotes `s` for `sh -c`.
pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// One tmux server (private socket) with one session running one command.
pub struct Tmux {
    socket: String,
    target: String,
    /// Holds tmux.conf.
    _dir: TempDir,
}

impl Tmux {
    /// Starts `command` (run by `sh -c`) detached in a `width` x `height` window, with `env`
    /// added to its environment. There is no status line, so the pane is the whole window. The
    /// session ends when `command` does: to capture what a program leaves on the screen, keep
    /// the shell alive after it (`prog; echo done; exec sleep 120`). Not `remain-on-exit`: its
    /// "Pane is dead" line scrolls the screen by one line.
    pub fn start(command: &str, width: u16, height: u16, env: &[(&str, &str)]) -> Tmux {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let socket = format!(
            "llmops-e2e-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let conf = dir.path().join("tmux.conf");
        std::fs::write(
            &conf,
            "set -g status off\nset -g escape-time 0\nset -g history-limit 0\n\
             set -g default-shell /bin/sh\n",
        )
        .expect("tmux.conf");
        let tmux = Tmux {
            socket,
            target: "e2e:0.0".to_string(),
            _dir: dir,
        };
        let (w, h) = (width.to_string(), height.to_string());
        let mut args: Vec<String> = ["new-session", "-d", "-s", "e2e", "-x", &w, "-y", &h]
            .iter()
            .map(ToString::to_string)
            .collect();
        for (k, v) in env {
            args.push("-e".into());
            args.push(format!("{k}={v}"));
        }
        args.push(command.to_string());
        let output = tmux.run_with_conf(&conf, &args);
        assert!(
            output.status.success(),
            "tmux new-session failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        tmux
    }

    fn command(&self) -> Command {
        let mut c = Command::new("tmux");
        // Inside another tmux, $TMUX would make tmux refuse or talk to that server.
        c.env_remove("TMUX").arg("-L").arg(&self.socket);
        c
    }

    fn run_with_conf(&self, conf: &Path, args: &[String]) -> Output {
        let mut c = self.command();
        c.arg("-f").arg(conf).args(args);
        run_with_deadline(c, TMUX_DEADLINE)
    }

    fn tmux(&self, args: &[&str]) -> Output {
        let mut c = self.command();
        c.args(args);
        run_with_deadline(c, TMUX_DEADLINE)
    }

    fn tmux_ok(&self, args: &[&str]) -> String {
        let output = self.tmux(args);
        assert!(
            output.status.success(),
            "tmux {args:?} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Any tmux command on this server (`set-option -s set-clipboard on`, `show-buffer`); its
    /// stdout. A failing command fails the test.
    pub fn command_ok(&self, args: &[&str]) -> String {
        self.tmux_ok(args)
    }

    /// Sends keys by tmux name (`j`, `Enter`, `Escape`, `Down`, `C-c`), one `send-keys` each.
    pub fn keys(&self, keys: &[&str]) {
        for key in keys {
            self.tmux_ok(&["send-keys", "-t", &self.target, key]);
        }
    }

    /// Types `text` literally.
    pub fn type_text(&self, text: &str) {
        self.tmux_ok(&["send-keys", "-t", &self.target, "-l", text]);
    }

    /// The visible screen, one line per row, trailing blanks trimmed.
    pub fn capture(&self) -> String {
        let output = self.tmux(&["capture-pane", "-p", "-t", &self.target]);
        assert!(
            output.status.success(),
            "tmux capture-pane failed ({}): {}; the program in the pane has ended, and its \
             shell with it",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// A pane format variable, e.g. `#{pane_pid}`, `#{alternate_on}`, `#{cursor_flag}`.
    pub fn format(&self, format: &str) -> String {
        self.tmux_ok(&["display-message", "-p", "-t", &self.target, format])
            .trim()
            .to_string()
    }

    /// Resizes the window, as a user dragging the terminal would.
    pub fn resize(&self, width: u16, height: u16) {
        self.tmux_ok(&[
            "resize-window",
            "-t",
            &self.target,
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
        ]);
    }

    /// Polls the screen until `ready` holds for it; returns that screen. Fails, showing the last
    /// screen, after `deadline`.
    ///
    /// A screen counts once a second capture right after it is the same: a frame reaches tmux in
    /// several writes, and a capture in between shows the top of the new frame over the bottom
    /// of the old one.
    pub fn wait_until(
        &self,
        what: &str,
        deadline: Duration,
        ready: impl Fn(&str) -> bool,
    ) -> String {
        let started = Instant::now();
        loop {
            let screen = self.capture();
            if ready(&screen) && self.capture() == screen {
                return screen;
            }
            if started.elapsed() > deadline {
                panic!(
                    "the screen did not show {what} within {deadline:?}; the last screen:\n{}",
                    frame(&screen)
                );
            }
            thread::sleep(POLL);
        }
    }

    /// The screen once two captures in a row agree (no frame half written).
    pub fn settled(&self) -> String {
        self.wait_until("a whole frame", SCREEN_DEADLINE, |_| true)
    }

    /// Waits until the screen contains every one of `texts`.
    pub fn wait_for_all(&self, texts: &[&str]) -> String {
        self.wait_until(&format!("{texts:?}"), SCREEN_DEADLINE, |s| {
            texts.iter().all(|t| s.contains(t))
        })
    }

    /// Waits until the screen contains `text`.
    pub fn wait_for(&self, text: &str) -> String {
        self.wait_for_all(&[text])
    }

    /// Waits until the screen no longer contains `text`.
    pub fn wait_gone(&self, text: &str) -> String {
        self.wait_until(&format!("no {text:?}"), SCREEN_DEADLINE, |s| {
            !s.contains(text)
        })
    }

    /// The pid of the pane's process (the `sh -c` that runs the command).
    pub fn pane_pid(&self) -> u32 {
        let pid = self.format("#{pane_pid}");
        pid.parse()
            .unwrap_or_else(|_| panic!("tmux gave no pane pid: {pid:?}"))
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.command().arg("kill-server").output();
    }
}

/// The screen between rulers, for failure messages.
pub fn frame(screen: &str) -> String {
    let rule = "-".repeat(40);
    format!("{rule}\n{screen}\n{rule}")
}

/// Child processes of `parent`, from /proc (Linux).
pub fn children_of(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|stat| {
                    // `pid (comm) state ppid ...`; comm may hold spaces and parentheses.
                    let rest = stat.rsplit_once(')')?.1;
                    rest.split_whitespace().nth(1)?.parse::<u32>().ok()
                })
                == Some(parent)
        })
        .collect()
}

/// Waits for the one child of `parent` whose command line contains `needle`.
pub fn wait_for_child(parent: u32, needle: &str) -> u32 {
    let started = Instant::now();
    loop {
        let found = children_of(parent).into_iter().find(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(needle))
        });
        if let Some(pid) = found {
            return pid;
        }
        assert!(
            started.elapsed() < SCREEN_DEADLINE,
            "no child of pid {parent} runs {needle} after {SCREEN_DEADLINE:?}"
        );
        thread::sleep(POLL);
    }
}
