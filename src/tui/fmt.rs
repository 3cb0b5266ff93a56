//! Short human forms of times and counts for the panes. Pure: `now` is always a parameter.

use jiff::{Timestamp, tz::TimeZone};

/// Elapsed time as the panes show it: `45s`, `12m3s`, `5h7m`, `3d4h`. Negative (clock skew) is `0s`.
pub fn elapsed_secs(secs: i64) -> String {
    let s = secs.max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3_600 => format!("{}m{}s", s / 60, s % 60),
        3_600..86_400 => format!("{}h{}m", s / 3_600, (s % 3_600) / 60),
        86_400..864_000 => format!("{}d{}h", s / 86_400, (s % 86_400) / 3_600),
        _ => format!("{}d", s / 86_400),
    }
}

/// Seconds from `since` to `now`.
pub fn secs_between(since: Timestamp, now: Timestamp) -> i64 {
    now.as_second() - since.as_second()
}

/// Age of something created at `created`, `-` when unknown.
pub fn age(created: Option<Timestamp>, now: Timestamp) -> String {
    created.map_or_else(|| "-".to_string(), |c| elapsed_secs(secs_between(c, now)))
}

/// Wall-clock `HH:MM:SS` in `tz`.
pub fn clock(now: Timestamp, tz: &TimeZone) -> String {
    now.to_zoned(tz.clone()).strftime("%H:%M:%S").to_string()
}

/// `12:03:04` of a log line's timestamp, in `tz`, with milliseconds.
pub fn log_time(ts: Timestamp, tz: &TimeZone) -> String {
    ts.to_zoned(tz.clone()).strftime("%H:%M:%S%.3f").to_string()
}

/// A rate with one decimal below 10: `0.4/s`, `12/s`.
pub fn rate(per_sec: f64) -> String {
    if per_sec < 10.0 {
        format!("{per_sec:.1}/s")
    } else {
        format!("{per_sec:.0}/s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elapsed_forms() {
        assert_eq!(elapsed_secs(-5), "0s");
        assert_eq!(elapsed_secs(45), "45s");
        assert_eq!(elapsed_secs(133), "2m13s");
        assert_eq!(elapsed_secs(47 * 60 + 12), "47m12s");
        assert_eq!(elapsed_secs(5 * 3600 + 7 * 60 + 9), "5h7m");
        assert_eq!(elapsed_secs(3 * 86_400 + 4 * 3600), "3d4h");
        assert_eq!(elapsed_secs(400 * 86_400 + 4 * 3600), "400d");
    }

    #[test]
    fn clock_in_utc() {
        let t: Timestamp = "2026-11-03T14:05:09.250Z".parse().unwrap();
        assert_eq!(clock(t, &TimeZone::UTC), "14:05:09");
        assert_eq!(log_time(t, &TimeZone::UTC), "14:05:09.250");
        assert_eq!(rate(0.44), "0.4/s");
        assert_eq!(rate(123.4), "123/s");
    }
}
