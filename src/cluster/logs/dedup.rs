//! Log lines across reconnects: a follow stream that ends is reopened with `sinceTime` at the
//! last line's second (the API takes whole seconds), so the first second comes again. Lines
//! already passed on are recognised by timestamp and text, counted, so a line legitimately
//! repeated within that second is still shown as often as it was written.

use std::collections::HashMap;

use jiff::Timestamp;

/// Lines remembered for the overlap at most; a flood beyond it may show a few lines twice
/// rather than grow without bound.
const MAX_REMEMBERED: usize = 50_000;

/// One parsed log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// The kubelet's timestamp, when the line had one.
    pub ts: Option<Timestamp>,
    pub text: String,
}

/// Splits `2026-11-01T12:00:00.123456789Z text` into timestamp and text. A line without a
/// readable timestamp is kept whole.
pub fn parse_line(raw: &str) -> LogLine {
    let raw = raw.strip_suffix('\r').unwrap_or(raw);
    if let Some((ts, text)) = raw.split_once(' ')
        && let Ok(ts) = ts.parse::<Timestamp>()
    {
        return LogLine {
            ts: Some(ts),
            text: text.to_string(),
        };
    }
    LogLine {
        ts: None,
        text: raw.to_string(),
    }
}

/// The start of `ts`'s second: what `sinceTime` can say.
pub fn floor_second(ts: Timestamp) -> Timestamp {
    Timestamp::from_second(ts.as_second()).unwrap_or(ts)
}

/// How often each (timestamp, text) was passed on.
type Seen = HashMap<(Timestamp, String), u32>;

#[derive(Debug, Default)]
pub struct Dedup {
    last: Option<Timestamp>,
    /// (ts, text) -> times passed on, for lines in the last second seen.
    recent: Seen,
    /// After a reconnect: what may come again, and the newest timestamp it can have.
    replay: Option<(Seen, Timestamp)>,
}

impl Dedup {
    /// Where to resume: the second of the last line passed on.
    pub fn resume_from(&self) -> Option<Timestamp> {
        self.last.map(floor_second)
    }

    /// Call when a new stream opens after an earlier one.
    pub fn reconnected(&mut self) {
        if let Some(last) = self.last {
            self.replay = Some((self.recent.clone(), last));
        }
    }

    /// Whether to pass the line on (false: already seen before the reconnect).
    pub fn admit(&mut self, line: &LogLine) -> bool {
        let Some(ts) = line.ts else {
            return true;
        };
        if let Some((seen, until)) = self.replay.as_mut() {
            if ts <= *until {
                if self.last.is_some_and(|l| ts < floor_second(l)) {
                    // Older than the overlap: a server that ignored sinceTime.
                    return false;
                }
                if let Some(n) = seen.get_mut(&(ts, line.text.clone()))
                    && *n > 0
                {
                    *n -= 1;
                    return false;
                }
            } else {
                self.replay = None;
            }
        }
        self.remember(ts, &line.text);
        true
    }

    fn remember(&mut self, ts: Timestamp, text: &str) {
        let floor = floor_second(ts);
        if self.last.is_none_or(|l| floor > floor_second(l)) {
            self.recent.retain(|(t, _), _| *t >= floor);
        }
        if self.last.is_none_or(|l| ts > l) {
            self.last = Some(ts);
        }
        if self.recent.len() >= MAX_REMEMBERED {
            self.recent.clear();
        }
        *self.recent.entry((ts, text.to_string())).or_default() += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(ts: &str, text: &str) -> LogLine {
        parse_line(&format!("{ts} {text}"))
    }

    #[test]
    fn parses_kubelet_timestamps() {
        let l = parse_line("2026-11-01T12:00:00.123456789Z GET /health 200");
        assert_eq!(l.text, "GET /health 200");
        assert_eq!(
            l.ts,
            Some("2026-11-01T12:00:00.123456789Z".parse().unwrap())
        );
        let l = parse_line("no timestamp here\r");
        assert_eq!((l.ts, l.text.as_str()), (None, "no timestamp here"));
    }

    #[test]
    fn overlap_after_reconnect_is_dropped_once() {
        let mut d = Dedup::default();
        let a = line("2026-11-01T12:00:00.100Z", "a");
        let b = line("2026-11-01T12:00:00.200Z", "b");
        let b2 = line("2026-11-01T12:00:00.200Z", "b");
        let c = line("2026-11-01T12:00:01.500Z", "c");
        for l in [&a, &b, &b2, &c] {
            assert!(d.admit(l));
        }
        assert_eq!(
            d.resume_from(),
            Some("2026-11-01T12:00:01Z".parse().unwrap())
        );
        d.reconnected();
        // The server resends from 12:00:01: c again, then new lines.
        assert!(!d.admit(&c));
        let c2 = line("2026-11-01T12:00:01.500Z", "c");
        assert!(d.admit(&c2), "a second identical line written later is new");
        assert!(d.admit(&line("2026-11-01T12:00:02Z", "d")));
    }

    #[test]
    fn a_server_ignoring_since_time_repeats_nothing() {
        let mut d = Dedup::default();
        let lines = [
            line("2026-11-01T12:00:00.1Z", "a"),
            line("2026-11-01T12:00:00.2Z", "b"),
            line("2026-11-01T12:00:01.3Z", "c"),
        ];
        for l in &lines {
            assert!(d.admit(l));
        }
        d.reconnected();
        for l in &lines {
            assert!(!d.admit(l), "{l:?}");
        }
        assert!(d.admit(&line("2026-11-01T12:00:01.4Z", "e")));
    }

    #[test]
    fn lines_without_timestamps_always_pass() {
        let mut d = Dedup::default();
        let l = parse_line("plain");
        assert!(d.admit(&l));
        d.reconnected();
        assert!(d.admit(&l));
        assert_eq!(d.resume_from(), None);
    }
}
