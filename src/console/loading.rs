//! What `demo` says while its simulator loads: a large fleet takes seconds, and a blank terminal
//! for that long looks hung. One line on stderr, rewritten in place on a terminal (one line per
//! phase otherwise), gone before the console takes the screen.

use std::io::{IsTerminal, Write};

use tokio::sync::watch;

use crate::sim::load::{LoadPhase, LoadProgress};

/// `starting simulator: loading large-fleet (2,400/5,000 pods ready)`.
pub fn progress_line(scenario: &str, p: &LoadProgress) -> String {
    let what = match p.phase {
        LoadPhase::Creating => "creating objects".to_string(),
        LoadPhase::Settling if p.wanted > 0 => format!(
            "{}/{} pods ready",
            thousands(p.ready.min(p.wanted)),
            thousands(p.wanted)
        ),
        LoadPhase::Settling => "starting controllers".to_string(),
        LoadPhase::Terminating => "deleting what the scenario leaves Terminating".to_string(),
        LoadPhase::Done => "ready, opening the console".to_string(),
    };
    format!("starting simulator: loading {scenario} ({what})")
}

/// `5000` -> `5,000`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Prints the progress of `rx` on stderr until its sender is dropped. On a terminal the line is
/// rewritten in place and cleared at the end.
pub async fn report(scenario: String, mut rx: watch::Receiver<LoadProgress>) {
    let tty = std::io::stderr().is_terminal();
    let mut last_phase = None;
    loop {
        let p = *rx.borrow_and_update();
        let line = progress_line(&scenario, &p);
        if tty {
            say(&format!("\r\x1b[K{line}"));
        } else if last_phase != Some(p.phase) {
            say(&format!("{line}\n"));
        }
        last_phase = Some(p.phase);
        if rx.changed().await.is_err() {
            break;
        }
    }
    if tty {
        say("\r\x1b[K");
    }
}

/// Writes to stderr; a closed stderr is no reason to fail the demo.
fn say(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    let _ = err.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn says_how_far_loading_got() {
        let p = LoadProgress {
            phase: LoadPhase::Settling,
            ready: 2400,
            wanted: 5000,
        };
        assert_eq!(
            progress_line("large-fleet", &p),
            "starting simulator: loading large-fleet (2,400/5,000 pods ready)"
        );
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
