//! A finalizer the simulator itself removes, late: objects carrying `sim.llmops.io/slow-delete`
//! lose it `sim.llmops.io/finalizer-delay` (default 5 s) after their deletion started. Until then
//! the name stays taken, so a client that recreates too early gets 409 AlreadyExists.
//!
//! This belongs to no controller of `Faults::controllers()`: it always runs.

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;

use super::objects::{get, parse_duration, remove_finalizer};
use super::runner::{Controller, Resync};
use crate::sim::context::SimContext;
use crate::sim::faults::Controllers;
use crate::sim::kinds::{self, EVENTS, ResourceType};
use crate::sim::meta;
use crate::sim::store::{Change, ChangeKind};

pub const FINALIZER: &str = "sim.llmops.io/slow-delete";
pub const DELAY_ANNOTATION: &str = "sim.llmops.io/finalizer-delay";
pub const DEFAULT_DELAY: Duration = Duration::from_secs(5);
pub const MANAGER: &str = "sim-slow-finalizer";

/// (group, plural, namespace, name)
type Key = (&'static str, &'static str, String, String);

#[derive(Default)]
pub struct SlowFinalizer {
    /// Objects held by the finalizer, by uid: where they are and when their deletion was first
    /// seen.
    seen: HashMap<String, (Key, Instant)>,
}

fn held(obj: &serde_json::Value) -> bool {
    meta::is_terminating(obj) && meta::finalizers(obj).iter().any(|f| f == FINALIZER)
}

fn key(rt: &'static ResourceType, obj: &serde_json::Value) -> Key {
    (
        rt.group,
        rt.plural,
        meta::namespace(obj).to_string(),
        meta::name(obj).to_string(),
    )
}

impl Controller for SlowFinalizer {
    type Key = Key;

    fn active(&self, _: &Controllers) -> bool {
        true
    }

    fn observe(&mut self, _ctx: &SimContext, change: &Change, out: &mut Vec<Key>) {
        if change.kind == ChangeKind::Deleted {
            self.seen.remove(meta::uid(&change.object));
        } else if held(&change.object) {
            let k = key(change.rt, &change.object);
            self.seen
                .entry(meta::uid(&change.object).to_string())
                .or_insert_with(|| (k.clone(), Instant::now()));
            out.push(k);
        }
    }

    fn resync(&mut self, ctx: &SimContext, how: Resync, out: &mut Vec<Key>) {
        if how == Resync::Rebuild {
            // Events are many and never carry this finalizer.
            for rt in kinds::ALL.iter().copied().filter(|rt| *rt != &EVENTS) {
                let (objs, _) = ctx.store.list(rt, None, &|o| held(o));
                for o in objs {
                    let k = key(rt, &o);
                    self.seen
                        .entry(meta::uid(&o).to_string())
                        .or_insert_with(|| (k, Instant::now()));
                }
            }
        }
        out.extend(self.seen.values().map(|(k, _)| k.clone()));
    }

    fn reconcile(&mut self, ctx: &SimContext, _: &Controllers, key: &Key) -> Option<Duration> {
        let (group, plural, ns, name) = key;
        let rt = kinds::ALL
            .iter()
            .copied()
            .find(|rt| rt.group == *group && rt.plural == *plural)?;
        let obj = get(&ctx.store, rt, ns, name)?;
        if !held(&obj) {
            return None;
        }
        let delay = meta::annotation(&obj, DELAY_ANNOTATION)
            .and_then(parse_duration)
            .unwrap_or(DEFAULT_DELAY);
        let uid = meta::uid(&obj).to_string();
        let seen = self
            .seen
            .entry(uid.clone())
            .or_insert_with(|| (key.clone(), Instant::now()))
            .1;
        // The deletionTimestamp has one-second resolution: trust it only beyond that (an object
        // found terminating after a restart), and the moment this process saw it otherwise.
        let by_clock = meta::deletion_timestamp(&obj)
            .and_then(meta::parse_time)
            .and_then(|t| Duration::try_from(meta::now().duration_since(t)).ok())
            .map_or(Duration::ZERO, |d| d.saturating_sub(Duration::from_secs(1)));
        let elapsed = seen.elapsed().max(by_clock);
        if elapsed < delay {
            return Some(delay - elapsed);
        }
        match remove_finalizer(&ctx.store, rt, ns, name, &uid, FINALIZER, MANAGER) {
            Ok(_) => None,
            Err(e) if e.code == 404 => None,
            Err(_) => Some(Duration::from_millis(500)),
        }
    }
}
