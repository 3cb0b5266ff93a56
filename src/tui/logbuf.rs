//! A bounded buffer of pod log lines: the newest `capacity` lines are kept, older ones are
//! dropped and counted. Reconnects overlap (the follower asks again from a little before the last
//! line it saw), so lines already held are recognised by (pod, container, timestamp, text) and
//! skipped. Pausing freezes the view while new lines keep arriving and are counted.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};

use jiff::Timestamp;

use super::msg::LogLine;
use super::text::sanitize;

/// Seconds over which the lines/s rate is averaged.
const RATE_WINDOW_SECS: i64 = 5;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// Arrival order, over the buffer's whole life.
    pub seq: u64,
    pub pod: String,
    pub container: String,
    pub ts: Option<Timestamp>,
    /// Already neutralised.
    pub text: String,
}

#[derive(Debug, Default, Clone)]
struct LastSeen {
    ts: Option<Timestamp>,
    /// Hashes of the texts seen at `ts` (several lines can share a timestamp).
    at_ts: Vec<u64>,
}

#[derive(Debug, Clone)]
pub struct LogBuf {
    capacity: usize,
    entries: VecDeque<LogEntry>,
    next_seq: u64,
    /// Pushed out by the capacity bound.
    evicted: u64,
    /// Dropped upstream (the follower fell behind).
    upstream_dropped: u64,
    /// Overlap after reconnects, skipped.
    duplicates: u64,
    last_seen: HashMap<(String, String), LastSeen>,
    /// (unix second, lines) of recent arrivals, for the rate.
    arrivals: VecDeque<(i64, u64)>,
    /// While paused: the last seq the view shows.
    paused_at: Option<u64>,
}

fn text_hash(text: &str) -> u64 {
    let mut h = DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

impl LogBuf {
    pub fn new(capacity: usize) -> LogBuf {
        LogBuf {
            capacity: capacity.max(1),
            entries: VecDeque::new(),
            next_seq: 1,
            evicted: 0,
            upstream_dropped: 0,
            duplicates: 0,
            last_seen: HashMap::new(),
            arrivals: VecDeque::new(),
            paused_at: None,
        }
    }

    /// Forgets everything (another endpoint's logs are coming), keeping capacity and pause off.
    pub fn clear(&mut self) {
        *self = LogBuf::new(self.capacity);
    }

    /// Adds one container's batch; returns how many lines were new.
    pub fn push(&mut self, pod: &str, container: &str, lines: &[LogLine], now: Timestamp) -> usize {
        let key = (pod.to_string(), container.to_string());
        let mut added = 0u64;
        for line in lines {
            let seen = self.last_seen.entry(key.clone()).or_default();
            if let Some(ts) = line.ts {
                let h = text_hash(&line.text);
                match seen.ts {
                    Some(last) if ts < last => {
                        self.duplicates += 1;
                        continue;
                    }
                    Some(last) if ts == last => {
                        if seen.at_ts.contains(&h) {
                            self.duplicates += 1;
                            continue;
                        }
                        seen.at_ts.push(h);
                    }
                    _ => {
                        seen.ts = Some(ts);
                        seen.at_ts = vec![h];
                    }
                }
            }
            self.entries.push_back(LogEntry {
                seq: self.next_seq,
                pod: pod.to_string(),
                container: container.to_string(),
                ts: line.ts,
                text: sanitize(&line.text).into_owned(),
            });
            self.next_seq += 1;
            added += 1;
            if self.entries.len() > self.capacity {
                self.entries.pop_front();
                self.evicted += 1;
            }
        }
        self.count_arrivals(added, now);
        usize::try_from(added).unwrap_or(usize::MAX)
    }

    fn count_arrivals(&mut self, n: u64, now: Timestamp) {
        let sec = now.as_second();
        match self.arrivals.back_mut() {
            Some((s, c)) if *s == sec => *c += n,
            _ => self.arrivals.push_back((sec, n)),
        }
        while self
            .arrivals
            .front()
            .is_some_and(|(s, _)| *s <= sec - RATE_WINDOW_SECS)
        {
            self.arrivals.pop_front();
        }
    }

    pub fn add_upstream_dropped(&mut self, n: u64) {
        self.upstream_dropped = self.upstream_dropped.saturating_add(n);
    }

    /// Lines lost: pushed out by the bound or dropped before reaching the buffer.
    pub fn dropped(&self) -> u64 {
        self.evicted + self.upstream_dropped
    }

    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Lines per second over the last few seconds.
    pub fn rate(&self, now: Timestamp) -> f64 {
        let sec = now.as_second();
        let n: u64 = self
            .arrivals
            .iter()
            .filter(|(s, _)| *s > sec - RATE_WINDOW_SECS && *s <= sec)
            .map(|(_, c)| *c)
            .sum();
        n as f64 / RATE_WINDOW_SECS as f64
    }

    pub fn paused(&self) -> bool {
        self.paused_at.is_some()
    }

    pub fn set_paused(&mut self, paused: bool) {
        self.paused_at = paused.then(|| self.next_seq - 1);
    }

    /// Lines that arrived since the pause (also those already pushed out again).
    pub fn new_while_paused(&self) -> u64 {
        self.paused_at.map_or(0, |p| self.next_seq - 1 - p)
    }

    /// The lines the view shows, newest first: up to the pause point, of `pod` (None: all),
    /// containing `filter` (ASCII case-insensitive; empty: all).
    pub fn visible_rev<'a>(
        &'a self,
        pod: Option<&'a str>,
        filter: &'a str,
    ) -> impl Iterator<Item = &'a LogEntry> + 'a {
        let until = self.paused_at.unwrap_or(u64::MAX);
        self.entries.iter().rev().filter(move |e| {
            e.seq <= until
                && pod.is_none_or(|p| e.pod == p)
                && (filter.is_empty() || contains_ignore_ascii_case(&e.text, filter))
        })
    }
}

/// Substring search ignoring ASCII case, without allocating.
pub fn contains_ignore_ascii_case(hay: &str, needle: &str) -> bool {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    if n.is_empty() {
        return true;
    }
    h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + s).unwrap()
    }

    fn line(s: i64, text: &str) -> LogLine {
        LogLine {
            ts: Some(t(s)),
            text: text.into(),
        }
    }

    #[test]
    fn bound_keeps_newest_and_counts_dropped() {
        let mut b = LogBuf::new(3);
        let lines: Vec<LogLine> = (0..5).map(|i| line(i, &format!("l{i}"))).collect();
        assert_eq!(b.push("p", "c", &lines, t(5)), 5);
        assert_eq!(b.len(), 3);
        assert_eq!(b.dropped(), 2);
        let texts: Vec<&str> = b.visible_rev(None, "").map(|e| e.text.as_str()).collect();
        assert_eq!(texts, ["l4", "l3", "l2"]);
        b.add_upstream_dropped(7);
        assert_eq!(b.dropped(), 9);
    }

    #[test]
    fn reconnect_overlap_is_not_duplicated() {
        let mut b = LogBuf::new(100);
        b.push("p", "c", &[line(1, "a"), line(2, "b"), line(2, "c")], t(2));
        // The stream reconnects from second 1: a, b and c again, then d.
        let again = [line(1, "a"), line(2, "b"), line(2, "c"), line(3, "d")];
        assert_eq!(b.push("p", "c", &again, t(3)), 1);
        assert_eq!(b.duplicates(), 3);
        // The same text in another pod is another line.
        assert_eq!(b.push("q", "c", &[line(2, "b")], t(3)), 1);
        // Lines without timestamps cannot be matched and are kept.
        let bare = LogLine {
            ts: None,
            text: "x".into(),
        };
        assert_eq!(b.push("p", "c", &[bare.clone(), bare], t(3)), 2);
    }

    #[test]
    fn pause_freezes_the_view_and_counts_new_lines() {
        let mut b = LogBuf::new(100);
        b.push("p", "c", &[line(1, "a")], t(1));
        b.set_paused(true);
        b.push("p", "c", &[line(2, "b"), line(3, "c")], t(3));
        assert_eq!(b.visible_rev(None, "").count(), 1);
        assert_eq!(b.new_while_paused(), 2);
        b.set_paused(false);
        assert_eq!(b.visible_rev(None, "").count(), 3);
    }

    #[test]
    fn filter_pod_and_rate() {
        let mut b = LogBuf::new(100);
        b.push(
            "p",
            "c",
            &[line(1, "GET /health"), line(1, "POST /v1")],
            t(10),
        );
        b.push("q", "c", &[line(1, "get /metrics")], t(11));
        assert_eq!(b.visible_rev(None, "get").count(), 2);
        assert_eq!(b.visible_rev(Some("p"), "get").count(), 1);
        assert!((b.rate(t(11)) - 3.0 / 5.0).abs() < 1e-9);
        assert_eq!(b.rate(t(30)), 0.0);
    }

    #[test]
    fn lines_are_neutralised_on_entry() {
        let mut b = LogBuf::new(10);
        b.push("p", "c", &[line(1, "\x1b[31mred\u{9b}2J")], t(1));
        let e = b.visible_rev(None, "").next().map(|e| e.text.clone());
        assert_eq!(e.as_deref(), Some("^[[31mred<U+009B>2J"));
    }
}
