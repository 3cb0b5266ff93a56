//! Ages and "for how long" as people read them in a table: `45s`, `12m3s`, `3h4m`, `2d5h`.

use jiff::{SignedDuration, Timestamp};

/// Formats whole seconds in at most two units. Negative values (clock skew) read as `0s`.
///
/// ```
/// use llmops_console::util::age::format_age_secs;
/// assert_eq!(format_age_secs(723), "12m3s");
/// assert_eq!(format_age_secs(7_200), "2h");
/// ```
pub fn format_age_secs(secs: i64) -> String {
    let s = secs.max(0);
    let (d, h, m, sec) = (s / 86_400, (s / 3_600) % 24, (s / 60) % 60, s % 60);
    let two = |a: i64, ua: &str, b: i64, ub: &str| {
        if b == 0 {
            format!("{a}{ua}")
        } else {
            format!("{a}{ua}{b}{ub}")
        }
    };
    if d > 0 {
        two(d, "d", h, "h")
    } else if h > 0 {
        two(h, "h", m, "m")
    } else if m > 0 {
        two(m, "m", sec, "s")
    } else {
        format!("{sec}s")
    }
}

/// How long from `since` to `now`.
pub fn format_age(since: Timestamp, now: Timestamp) -> String {
    format_age_secs(now.duration_since(since).as_secs())
}

/// A signed duration in the same style, for "grace period ends in ...".
pub fn format_signed(d: SignedDuration) -> String {
    format_age_secs(d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_units_at_most() {
        let cases = [
            (0, "0s"),
            (45, "45s"),
            (60, "1m"),
            (723, "12m3s"),
            (3_600 + 4 * 60 + 5, "1h4m"),
            (86_400 * 2 + 3_600 * 5 + 7, "2d5h"),
            (-5, "0s"),
        ];
        for (secs, want) in cases {
            assert_eq!(format_age_secs(secs), want, "{secs}");
        }
    }

    #[test]
    fn between_timestamps() {
        let a: Timestamp = "2026-11-01T10:00:00Z".parse().unwrap();
        let b: Timestamp = "2026-11-01T10:12:03Z".parse().unwrap();
        assert_eq!(format_age(a, b), "12m3s");
        assert_eq!(format_age(b, a), "0s");
    }
}
