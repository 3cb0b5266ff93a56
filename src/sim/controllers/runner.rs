//! The loop every controller runs: store changes in, a de-duplicating work queue with delayed
//! requeues, a full resync when the controller (re)starts or its change stream lagged, and
//! timers only when something is due, so an idle cluster costs (almost) nothing.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::sim::context::SimContext;
use crate::sim::faults::Controllers;
use crate::sim::store::Change;

/// Safety-net resync period. Everything runs off change notifications and timers; a resync of a
/// 5,000-pod fleet costs a few hundred milliseconds of CPU, so it stays rare to keep an idle
/// simulator idle.
pub const RESYNC_PERIOD: Duration = Duration::from_secs(60);
/// How often the controller states (faults) are polled for changes.
pub const STATE_POLL: Duration = Duration::from_millis(200);
/// Keys reconciled between two yields to the runtime.
const KEYS_PER_YIELD: usize = 64;
/// Changes taken from the stream at once before reconciling.
const CHANGES_PER_BATCH: usize = 8192;

/// Why a controller resyncs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resync {
    /// First start, or the change stream lagged: caches are rebuilt from the store.
    Rebuild,
    /// The periodic safety net, or a change of controller states: caches (kept from the change
    /// stream even while the controller is inactive) are trusted, every key is checked again.
    Recheck,
}

/// One controller: what it reacts to and what it does for one key.
pub trait Controller: Send + 'static {
    type Key: Clone + Eq + Hash + Ord + Send + std::fmt::Debug;

    /// Whether the controller may act under these controller states (re-read before every key).
    fn active(&self, states: &Controllers) -> bool;

    /// Keys to reconcile because of a change; caches are updated here too. Called whether or
    /// not the controller is active (it then resyncs when it becomes active again).
    fn observe(&mut self, ctx: &SimContext, change: &Change, out: &mut Vec<Self::Key>);

    /// Every key to check again; with [`Resync::Rebuild`] caches are rebuilt from the store.
    fn resync(&mut self, ctx: &SimContext, how: Resync, out: &mut Vec<Self::Key>);

    /// Brings one key to its desired state; `Some(d)` asks to run it again after `d`.
    fn reconcile(
        &mut self,
        ctx: &SimContext,
        states: &Controllers,
        key: &Self::Key,
    ) -> Option<Duration>;

    /// When the controller's own timer (e.g. log writing) next wants to run, if at all.
    fn next_tick(&self) -> Option<Instant> {
        None
    }

    fn tick(&mut self, _ctx: &SimContext, _now: Instant) {}
}

/// Work queue: ready keys in FIFO order without duplicates, plus keys due later.
pub struct Queue<K> {
    ready: VecDeque<K>,
    queued: HashSet<K>,
    timers: BinaryHeap<Reverse<(Instant, u64)>>,
    timer_keys: HashMap<u64, K>,
    due: HashMap<K, (Instant, u64)>,
    seq: u64,
}

impl<K: Clone + Eq + Hash> Default for Queue<K> {
    fn default() -> Self {
        Queue {
            ready: VecDeque::new(),
            queued: HashSet::new(),
            timers: BinaryHeap::new(),
            timer_keys: HashMap::new(),
            due: HashMap::new(),
            seq: 0,
        }
    }
}

impl<K: Clone + Eq + Hash> Queue<K> {
    pub fn add(&mut self, key: K) {
        if self.queued.insert(key.clone()) {
            self.ready.push_back(key);
        }
    }

    /// Runs `key` after `delay`, unless it is already due earlier.
    pub fn add_after(&mut self, key: K, delay: Duration, now: Instant) {
        if delay.is_zero() {
            self.add(key);
            return;
        }
        let at = now + delay;
        if let Some((t, _)) = self.due.get(&key)
            && *t <= at
        {
            return;
        }
        self.seq += 1;
        let seq = self.seq;
        if let Some((_, old)) = self.due.insert(key.clone(), (at, seq)) {
            self.timer_keys.remove(&old);
        }
        self.timer_keys.insert(seq, key);
        self.timers.push(Reverse((at, seq)));
    }

    /// Moves keys whose time has come to the ready list.
    pub fn promote(&mut self, now: Instant) {
        while let Some(Reverse((at, seq))) = self.timers.peek().copied() {
            if at > now {
                break;
            }
            self.timers.pop();
            if let Some(key) = self.timer_keys.remove(&seq) {
                self.due.remove(&key);
                self.add(key);
            }
        }
    }

    pub fn pop(&mut self) -> Option<K> {
        let key = self.ready.pop_front()?;
        self.queued.remove(&key);
        Some(key)
    }

    pub fn next_deadline(&mut self) -> Option<Instant> {
        // Drop cancelled timers so they do not cause empty wake-ups.
        while let Some(Reverse((at, seq))) = self.timers.peek().copied() {
            if self.timer_keys.contains_key(&seq) {
                return Some(at);
            }
            self.timers.pop();
        }
        None
    }
}

/// Publishes the controller states whenever they change (polled from the faults, which the
/// admin API may change at any time).
pub fn watch_states(
    ctx: Arc<SimContext>,
    shutdown: CancellationToken,
) -> (watch::Receiver<Controllers>, tokio::task::JoinHandle<()>) {
    let (tx, rx) = watch::channel(ctx.faults.controllers());
    let handle = tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(STATE_POLL) => {}
            }
            let now = ctx.faults.controllers();
            tx.send_if_modified(|cur| {
                if *cur == now {
                    false
                } else {
                    *cur = now;
                    true
                }
            });
        }
    });
    (rx, handle)
}

pub fn spawn<C: Controller>(
    ctx: Arc<SimContext>,
    shutdown: CancellationToken,
    states: watch::Receiver<Controllers>,
    controller: C,
) -> tokio::task::JoinHandle<()> {
    // Subscribed before the task starts, so nothing committed after spawn is missed.
    let rx = ctx.store.subscribe();
    tokio::spawn(run(ctx, shutdown, states, rx, controller))
}

async fn run<C: Controller>(
    ctx: Arc<SimContext>,
    shutdown: CancellationToken,
    mut states: watch::Receiver<Controllers>,
    mut rx: tokio::sync::broadcast::Receiver<Arc<Change>>,
    mut c: C,
) {
    let mut queue: Queue<C::Key> = Queue::default();
    let mut keys = Vec::new();
    let mut active = false;
    // Caches are built on the first activation, and again after the stream lagged.
    let mut rebuild = true;
    let mut resync_at = Instant::now() + RESYNC_PERIOD;
    loop {
        let now_active = c.active(&ctx.faults.controllers());
        if now_active && !active {
            let how = if rebuild {
                Resync::Rebuild
            } else {
                Resync::Recheck
            };
            rebuild = false;
            c.resync(&ctx, how, &mut keys);
            keys.drain(..).for_each(|k| queue.add(k));
        }
        active = now_active;
        if active {
            let now = Instant::now();
            queue.promote(now);
            let mut done = 0usize;
            while let Some(key) = queue.pop() {
                let st = ctx.faults.controllers();
                if !c.active(&st) {
                    queue.add(key);
                    active = false;
                    break;
                }
                if let Some(delay) = c.reconcile(&ctx, &st, &key) {
                    queue.add_after(key, delay, Instant::now());
                }
                done += 1;
                if done.is_multiple_of(KEYS_PER_YIELD) {
                    tokio::task::yield_now().await;
                    if shutdown.is_cancelled() {
                        return;
                    }
                }
            }
            let now = Instant::now();
            if active && c.next_tick().is_some_and(|at| at <= now) {
                c.tick(&ctx, now);
            }
        }
        let deadline = if active {
            let timers = queue.next_deadline();
            let tick = c.next_tick();
            match (timers, tick) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        } else {
            None
        };
        tokio::select! {
            biased;
            _ = shutdown.cancelled() => return,
            r = rx.recv() => {
                let mut lagged = false;
                match r {
                    Ok(change) => c.observe(&ctx, &change, &mut keys),
                    Err(RecvError::Lagged(_)) => lagged = true,
                    Err(RecvError::Closed) => return,
                }
                for _ in 0..CHANGES_PER_BATCH {
                    match rx.try_recv() {
                        Ok(change) => c.observe(&ctx, &change, &mut keys),
                        Err(TryRecvError::Lagged(_)) => lagged = true,
                        Err(TryRecvError::Empty) => break,
                        Err(TryRecvError::Closed) => return,
                    }
                }
                keys.drain(..).for_each(|k| queue.add(k));
                if lagged {
                    // Rebuilt at once, or when an inactive controller becomes active again.
                    rebuild = true;
                    active = false;
                }
            }
            r = states.changed() => {
                if r.is_err() {
                    return;
                }
                // A state change (e.g. Broken -> Up) may unblock work that no change will
                // announce: resync once.
                active = false;
            }
            _ = sleep_until_opt(deadline) => {}
            _ = tokio::time::sleep_until(resync_at) => {
                resync_at = Instant::now() + RESYNC_PERIOD;
                if active {
                    c.resync(&ctx, Resync::Recheck, &mut keys);
                    keys.drain(..).for_each(|k| queue.add(k));
                }
            }
        }
    }
}

async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_dedupes_and_keeps_the_earliest_timer() {
        let mut q: Queue<&str> = Queue::default();
        q.add("a");
        q.add("a");
        q.add("b");
        assert_eq!(q.pop(), Some("a"));
        assert_eq!(q.pop(), Some("b"));
        assert_eq!(q.pop(), None);
        let now = Instant::now();
        q.add_after("c", Duration::from_secs(5), now);
        q.add_after("c", Duration::from_secs(1), now);
        q.add_after("c", Duration::from_secs(9), now);
        assert_eq!(q.next_deadline(), Some(now + Duration::from_secs(1)));
        q.promote(now + Duration::from_secs(2));
        assert_eq!(q.pop(), Some("c"));
        assert_eq!(q.next_deadline(), None);
    }
}
