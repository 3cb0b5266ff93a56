//! Running the real console in tmux with a home of its own: config and state directories no user
//! configuration leaks into, the program wrapped so the screen it leaves behind can be read.

#![allow(dead_code)]

use std::path::PathBuf;

use tempfile::TempDir;

use super::BIN;
use super::tmux::{SCREEN_DEADLINE, Tmux, frame, sh_quote};

/// Config and state directories of their own.
pub struct ConsoleHome(TempDir);

impl ConsoleHome {
    pub fn new() -> ConsoleHome {
        ConsoleHome(tempfile::tempdir().expect("temp dir"))
    }

    pub fn config_dir(&self) -> PathBuf {
        self.0.path().join("config")
    }

    /// Writes `config.toml` in the console's config directory.
    pub fn write_config(&self, toml: &str) {
        let dir = self.config_dir();
        std::fs::create_dir_all(&dir).expect("config dir");
        std::fs::write(dir.join("config.toml"), toml).expect("config.toml");
    }

    pub fn env(&self) -> Vec<(&'static str, String)> {
        let p = |d: &str| self.0.path().join(d).display().to_string();
        vec![
            ("LLMOPS_CONSOLE_CONFIG_DIR", p("config")),
            ("LLMOPS_CONSOLE_STATE_DIR", p("state")),
            ("HOME", p("home")),
        ]
    }
}

/// `program`, then a shell that prints `EXIT=<code>` and the terminal's line discipline
/// (`TTY=icanon echo` once raw mode was left) and stays, so the screen the program left behind
/// can be captured.
pub fn wrapped(program: &str) -> String {
    format!(
        "{program}; echo \"EXIT=$?\"; \
         echo \"TTY=$(stty -a | tr -s ' ;' '\\n\\n' | grep -xE -- '-?(icanon|echo)' | tr '\\n' ' ')\"; \
         exec sleep 120"
    )
}

/// Starts `llmops-console ARGS` in tmux at `width`x`height`, `wrapped`.
pub fn start_console(home: &ConsoleHome, args: &[&str], width: u16, height: u16) -> Tmux {
    let mut program = sh_quote(BIN);
    for a in args {
        program.push(' ');
        program.push_str(&sh_quote(a));
    }
    let env = home.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Tmux::start(&wrapped(&program), width, height, &env)
}

/// The `ns/name` in the resources pane's title, if one is shown.
pub fn resources_title(screen: &str) -> Option<String> {
    let at = screen.find("Resources ")?;
    screen[at..].split_whitespace().nth(1).map(str::to_string)
}

/// Moves the endpoint selection down (`j`) until the resources pane shows `ns_name`.
pub fn select_endpoint(tmux: &Tmux, ns_name: &str) -> String {
    for _ in 0..20 {
        let screen = tmux.settled();
        let title = resources_title(&screen);
        if title.as_deref() == Some(ns_name) {
            return screen;
        }
        tmux.keys(&["j"]);
        tmux.wait_until(
            &format!("the selection moving off {title:?} towards {ns_name}"),
            SCREEN_DEADLINE,
            |s| resources_title(s) != title,
        );
    }
    panic!(
        "{ns_name} never got selected; the last screen:\n{}",
        frame(&tmux.capture())
    );
}
