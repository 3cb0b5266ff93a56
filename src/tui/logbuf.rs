//! A bounded buffer of pod log lines: the newest `capacity` lines are kept, older ones are
//! dropped and counted. Reconnects overlap (the follower asks again from a little before the last
//! line it saw), so lines already held are recognised by (pod, container, timestamp, text) and
//! skipped.
//!
//! The view is in one of three states ([`LogMode`]): following the tail, paused (`p`), or
//! scrolled back (scrolling up). Paused and scrolled back both freeze the view: they keep a
//! snapshot of the buffer as it was (shared `Arc`s, so taking it copies pointers, not text),
//! while the live buffer keeps taking new lines, counting them and evicting its oldest. So the
//! bound only ever drops lines nobody is reading, and resuming shows the real tail at once.
//! While frozen, memory is at most twice `capacity` lines.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

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

/// What the log view shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogMode {
    /// The newest lines, moving as they arrive.
    Following,
    /// Frozen by `p`; only `p` or `f` resume.
    Paused,
    /// Frozen by scrolling up; `p`, `f` or scrolling back down to the newest line resume.
    ScrolledBack,
}

/// The buffer as it was when the view froze.
#[derive(Debug, Clone)]
struct Frozen {
    entries: VecDeque<Arc<LogEntry>>,
    /// The newest seq in `entries`' time (lines after it are "new").
    last_seq: u64,
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
    entries: VecDeque<Arc<LogEntry>>,
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
    mode: LogMode,
    /// Set exactly when `mode` is not `Following`.
    frozen: Option<Frozen>,
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
            mode: LogMode::Following,
            frozen: None,
        }
    }

    /// Forgets everything (another endpoint's logs are coming), keeping capacity; the view follows again.
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
            self.entries.push_back(Arc::new(LogEntry {
                seq: self.next_seq,
                pod: pod.to_string(),
                container: container.to_string(),
                ts: line.ts,
                text: sanitize(&line.text).into_owned(),
            }));
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

    pub fn mode(&self) -> LogMode {
        self.mode
    }

    /// `f`, or resuming: show the tail and move with it.
    pub fn follow(&mut self) {
        self.mode = LogMode::Following;
        self.frozen = None;
    }

    /// `p`: freeze the view (a scrolled-back view stays where it is, now paused).
    pub fn pause(&mut self) {
        self.freeze();
        self.mode = LogMode::Paused;
    }

    /// Scrolling up: freeze the view; an explicit pause stays a pause.
    pub fn scroll_back(&mut self) {
        self.freeze();
        if self.mode == LogMode::Following {
            self.mode = LogMode::ScrolledBack;
        }
    }

    fn freeze(&mut self) {
        if self.frozen.is_none() {
            self.frozen = Some(Frozen {
                entries: self.entries.clone(),
                last_seq: self.next_seq - 1,
            });
        }
    }

    /// Lines that arrived since the view froze (also those already pushed out again).
    pub fn new_while_frozen(&self) -> u64 {
        self.frozen
            .as_ref()
            .map_or(0, |f| self.next_seq - 1 - f.last_seq)
    }

    /// The lines the view shows, newest first: the frozen snapshot or the live buffer, of `pod`
    /// (None: all), containing `filter` (ASCII case-insensitive; empty: all).
    pub fn visible_rev<'a>(
        &'a self,
        pod: Option<&'a str>,
        filter: &'a str,
    ) -> impl Iterator<Item = &'a LogEntry> + 'a {
        let entries = self.frozen.as_ref().map_or(&self.entries, |f| &f.entries);
        entries.iter().rev().map(|e| &**e).filter(move |e| {
            pod.is_none_or(|p| e.pod == p)
                && (filter.is_empty() || contains_ignore_ascii_case(&e.text, filter))
        })
    }

    /// How many lines the view can show (for clamping the scroll).
    pub fn visible_count(&self, pod: Option<&str>, filter: &str) -> usize {
        self.visible_rev(pod, filter).count()
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
        b.pause();
        b.push("p", "c", &[line(2, "b"), line(3, "c")], t(3));
        assert_eq!(b.visible_rev(None, "").count(), 1);
        assert_eq!(b.new_while_frozen(), 2);
        b.follow();
        assert_eq!(b.visible_rev(None, "").count(), 3);
        assert_eq!(b.mode(), LogMode::Following);
    }

    #[test]
    fn eviction_while_frozen_never_touches_the_view() {
        let mut b = LogBuf::new(3);
        let batch = |from: i64| -> Vec<LogLine> {
            (from..from + 3)
                .map(|i| line(i, &format!("l{i}")))
                .collect()
        };
        b.push("p", "c", &batch(0), t(0));
        b.scroll_back();
        assert_eq!(b.mode(), LogMode::ScrolledBack);
        b.pause();
        assert_eq!(b.mode(), LogMode::Paused);
        b.scroll_back();
        assert_eq!(b.mode(), LogMode::Paused, "scrolling keeps a pause");
        for i in 1..10 {
            b.push("p", "c", &batch(i * 3), t(i));
        }
        let texts: Vec<&str> = b.visible_rev(None, "").map(|e| e.text.as_str()).collect();
        assert_eq!(texts, ["l2", "l1", "l0"]);
        assert_eq!(b.new_while_frozen(), 27);
        assert_eq!(b.len(), 3, "the live buffer stays bounded");
        b.follow();
        let texts: Vec<&str> = b.visible_rev(None, "").map(|e| e.text.as_str()).collect();
        assert_eq!(texts, ["l29", "l28", "l27"]);
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
