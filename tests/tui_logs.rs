//! Issue 9 item 5 against the real binary: in `log-flood` (25,000 lines a second) a paused or
//! scrolled-back log view stays frozen on screen while the flood overflows the bounded buffer
//! many times over; `f` goes back to the tail and follows.

mod common;

use std::thread;
use std::time::{Duration, Instant};

use common::console::{ConsoleHome, select_endpoint, start_console};
use common::tmux::{Tmux, frame, tmux_available};

const FIRST_SCREEN: Duration = Duration::from_secs(90);
/// Small, so the flood overflows it many times while the view is frozen.
const BUFFER_LINES: u64 = 2_000;
const W: u16 = 160;
const H: u16 = 40;

/// Polls raw captures (a flooding log view never gives two equal captures in a row).
fn poll_until(tmux: &Tmux, what: &str, deadline: Duration, ready: impl Fn(&str) -> bool) -> String {
    let started = Instant::now();
    loop {
        let screen = tmux.capture();
        if ready(&screen) {
            return screen;
        }
        if started.elapsed() > deadline {
            panic!(
                "the screen did not show {what} within {deadline:?}; the last screen:\n{}",
                frame(&screen)
            );
        }
        thread::sleep(Duration::from_millis(100));
    }
}

/// The log pane's lines: everything under the header that names the log state, up to the last
/// two rows (footer and status bar, which tick).
fn log_lines(screen: &str) -> Vec<String> {
    let rows: Vec<&str> = screen.lines().collect();
    let Some(head) = rows
        .iter()
        .position(|r| r.contains("PAUSED") || r.contains("following") || r.contains("scrolled"))
    else {
        return Vec::new();
    };
    let end = rows.len().saturating_sub(2).max(head + 1);
    rows[head + 1..end]
        .iter()
        .map(|r| r.trim_end().to_string())
        .filter(|r| r.chars().any(char::is_alphanumeric))
        .collect()
}

/// The number in "(N new)" of the log header.
fn new_count(screen: &str) -> Option<u64> {
    let at = screen.find(" new)")?;
    let digits: String = screen[..at]
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_digit() || *c == ',')
        .filter(char::is_ascii_digit)
        .collect();
    digits.chars().rev().collect::<String>().parse().ok()
}

/// Waits until the frozen view has counted more new lines than the buffer holds, checking on every
/// capture that the lines on screen did not change.
fn assert_frozen_through_overflow(tmux: &Tmux, state: &str) {
    let frozen = poll_until(tmux, state, Duration::from_secs(10), |s| {
        s.contains(state) && log_lines(s).len() >= 5
    });
    let shown = log_lines(&frozen);
    let started = Instant::now();
    loop {
        let screen = tmux.capture();
        assert!(
            !screen.contains("no log lines yet"),
            "the {state} view went blank:\n{}",
            frame(&screen)
        );
        if screen.contains(state) {
            assert_eq!(
                log_lines(&screen),
                shown,
                "the {state} view changed under the reader:\n{}",
                frame(&screen)
            );
        }
        if new_count(&screen).is_some_and(|n| n > 3 * BUFFER_LINES) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "fewer than {} new lines counted in 30 s while {state}:\n{}",
            3 * BUFFER_LINES,
            frame(&screen)
        );
        thread::sleep(Duration::from_millis(150));
    }
}

#[test]
fn a_paused_or_scrolled_back_log_view_stays_frozen_through_a_flood() {
    if !tmux_available("a_paused_or_scrolled_back_log_view_stays_frozen_through_a_flood") {
        return;
    }
    let home = ConsoleHome::new();
    home.write_config(&format!("[logs]\nbuffer_lines = {BUFFER_LINES}\n"));
    let tmux = start_console(&home, &["demo", "--scenario", "log-flood"], W, H);
    tmux.wait_until("the watches live", FIRST_SCREEN, |s| {
        s.contains("watches live") && s.contains("vllm-debug")
    });
    select_endpoint(&tmux, "llm-staging/vllm-debug");
    tmux.keys(&["l"]);
    let following = poll_until(&tmux, "following lines", FIRST_SCREEN, |s| {
        s.contains("following") && log_lines(s).len() >= 5
    });
    assert!(new_count(&following).is_none(), "{}", frame(&following));

    // `p` pauses: the lines stay, new ones are counted.
    tmux.keys(&["p"]);
    assert_frozen_through_overflow(&tmux, "PAUSED");

    // `f` goes to the tail and follows again: the lines move on.
    tmux.keys(&["f"]);
    let tail = poll_until(&tmux, "following again", Duration::from_secs(10), |s| {
        s.contains("following")
    });
    let moved = poll_until(
        &tmux,
        "new lines while following",
        Duration::from_secs(10),
        |s| s.contains("following") && log_lines(s) != log_lines(&tail),
    );
    assert!(!moved.contains("PAUSED"), "{}", frame(&moved));

    // Scrolling up pauses too ("scrolled ↑N"), frozen the same way.
    tmux.keys(&["Up"]);
    assert_frozen_through_overflow(&tmux, "scrolled");

    tmux.keys(&["q"]);
    poll_until(&tmux, "the console gone", Duration::from_secs(20), |s| {
        s.contains("EXIT=0")
    });
}
