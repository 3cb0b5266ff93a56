//! Reading captured screens: rows, the pane cells of a row, durations as the console prints
//! them (`12m3s`, `3d0h`), the help overlay, a clock.

use super::tmux::frame;

/// The line of `screen` that contains `needle`.
pub fn line_with<'a>(screen: &'a str, needle: &str) -> &'a str {
    screen
        .lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} on the screen:\n{}", frame(screen)))
}

/// The pane's part of the line of `screen` that contains `needle`: wide layouts put two panes
/// side by side, and a check on one must not be satisfied by the other.
pub fn cell_with<'a>(screen: &'a str, needle: &str) -> &'a str {
    line_with(screen, needle)
        .split(['│', '┃'])
        .find(|cell| cell.contains(needle))
        .unwrap_or_default()
}

/// Whether `text` has `word` followed by a duration of at least `min_minutes` minutes
/// (`12m3s`, `1h2m`, `3d0h`).
pub fn has_duration_after(text: &str, word: &str, min_minutes: u64) -> bool {
    text.match_indices(word).any(|(i, _)| {
        let rest = text[i + word.len()..].trim_start();
        let token: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        duration_minutes(&token).is_some_and(|m| m >= min_minutes)
    })
}

/// `12m3s` -> 12, `1h2m` -> 62, `3d0h` -> 4320; None when it is not a duration.
pub fn duration_minutes(token: &str) -> Option<u64> {
    let mut total = 0u64;
    let mut number = String::new();
    let mut units = 0;
    for c in token.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let n: u64 = number.parse().ok()?;
        number.clear();
        units += 1;
        total += match c {
            'd' => n * 24 * 60,
            'h' => n * 60,
            'm' => n,
            's' => 0,
            _ => return None,
        };
    }
    (units > 0 && number.is_empty()).then_some(total)
}

/// The rows inside the help overlay's double frame.
pub fn help_overlay(screen: &str) -> Vec<String> {
    screen
        .lines()
        .filter_map(|l| {
            let mut parts = l.split('║');
            parts.next()?;
            let inside = parts.next()?;
            parts.next().map(|_| inside.to_string())
        })
        .collect()
}

/// `HH:MM:SS` somewhere in `text`.
pub fn has_clock(text: &str) -> bool {
    let b = text.as_bytes();
    b.windows(8).any(|w| {
        w.iter().enumerate().all(|(i, c)| {
            if i == 2 || i == 5 {
                *c == b':'
            } else {
                c.is_ascii_digit()
            }
        })
    })
}
