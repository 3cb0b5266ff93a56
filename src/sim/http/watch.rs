//! Watch streams: one JSON event per line, synthetic ADDED for a watch from "now", resume from a
//! resourceVersion, BOOKMARKs, 410 as an ERROR event, selector transitions as ADDED/DELETED, and
//! endings on timeoutSeconds, on the drop-every fault, on an admin drop and at shutdown. A
//! resourceVersion that is not a number or lies in the future is answered as in [`super::rv`].

use std::sync::Arc;
use std::time::Duration;

use axum::response::Response;
use bytes::Bytes;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;

use super::query::Filter;
use super::response::{error_response, stream_response};
use super::table::{self, TableOptions};
use super::{ApiRequest, HttpState, rv};
use crate::sim::error::ApiError;
use crate::sim::faults::Faults;
use crate::sim::kinds::ResourceType;
use crate::sim::store::{Change, ChangeKind, WatchFrom};

/// How often a watch that asked for bookmarks gets one: the apiserver's watch cache sends one
/// about every minute (`bookmarkFrequency`), plus one shortly before the watch times out.
/// Clients (the console's "confirmed" time) must not count on more.
const BOOKMARK_EVERY: Duration = Duration::from_secs(60);
/// How long before a watch's timeout its last bookmark is sent.
const PRE_TIMEOUT_BOOKMARK: Duration = Duration::from_secs(2);
/// A watch without timeoutSeconds ends after this (the apiserver picks 30-60 min).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);

pub fn serve(st: &Arc<HttpState>, req: &ApiRequest) -> Response {
    match start(st, req) {
        Ok(resp) => resp,
        Err(e) => error_response(&e),
    }
}

fn start(st: &Arc<HttpState>, req: &ApiRequest) -> Result<Response, ApiError> {
    let rt = req.route.rt;
    let filter = Filter::from_query(&req.query, rt, req.route.namespace.as_deref())?;
    req.query.validate_list_options(true)?;
    let initial_events = req.query.flag("sendInitialEvents");
    let requested = rv::parse(req.query.get("resourceVersion")).map_err(rv::unparsable)?;
    let from = match requested {
        _ if initial_events => WatchFrom::Current,
        0 => WatchFrom::Current,
        rv => WatchFrom::After(rv),
    };
    let bookmarks = req.query.flag("allowWatchBookmarks");
    let table = table::requested(&req.headers, &req.query)?;
    let timeout = req
        .query
        .int("timeoutSeconds")?
        .filter(|t| *t > 0)
        .map_or(DEFAULT_TIMEOUT, |t| Duration::from_secs(t as u64));
    let (tx, rx) = mpsc::channel::<Bytes>(256);
    if initial_events && requested > st.ctx.store.current_rv() {
        // The initial state must be at least that fresh: wait for it as the watch cache does,
        // else end with the 504 it gives up with, as an ERROR event.
        let task = WatchTask::new(st, rt, filter, tx, bookmarks, true, table, timeout);
        let store = st.ctx.store.clone();
        tokio::spawn(async move {
            if !rv::wait_for(&store, requested).await {
                let e = rv::too_large(requested, store.current_rv(), Some(1));
                let _ = task.tx.send(event_line("ERROR", &e.status_body())).await;
                return;
            }
            match store.watch(rt, WatchFrom::Current) {
                Ok(w) => task.run(w).await,
                Err(e) => {
                    let _ = task.tx.send(event_line("ERROR", &e.status_body())).await;
                }
            }
        });
        return Ok(stream_response("application/json", rx));
    }
    match st.ctx.store.watch(rt, from) {
        Err(e) if e.code == 410 => {
            // Too old: 200 with one ERROR event, then the stream ends.
            let line = event_line("ERROR", &e.status_body());
            tokio::spawn(async move {
                let _ = tx.send(line).await;
            });
        }
        Err(e) => return Err(e),
        Ok(w) => {
            let task = WatchTask::new(
                st,
                rt,
                filter,
                tx,
                bookmarks,
                initial_events,
                table,
                timeout,
            );
            tokio::spawn(task.run(w));
        }
    }
    Ok(stream_response("application/json", rx))
}

fn event_line(kind: &str, object: &Value) -> Bytes {
    event_line_json(kind, &serde_json::to_vec(object).unwrap_or_default())
}

/// `{"type":"<kind>","object":<json>}` and a newline.
fn event_line_json(kind: &str, object: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(object.len() + 32);
    out.extend_from_slice(b"{\"type\":\"");
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(b"\",\"object\":");
    out.extend_from_slice(object);
    out.extend_from_slice(b"}\n");
    Bytes::from(out)
}

fn bookmark(rt: &ResourceType, rv: u64, initial_end: bool) -> Value {
    let mut md = json!({"resourceVersion": rv.to_string()});
    if initial_end {
        md["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    json!({"kind": rt.kind, "apiVersion": rt.api_version(), "metadata": md})
}

struct WatchTask {
    /// Serialized versions of objects, shared by every watcher of a change.
    json: Arc<super::json_cache::JsonCache>,
    rt: &'static ResourceType,
    filter: Filter,
    tx: mpsc::Sender<Bytes>,
    bookmarks: bool,
    initial_events_bookmark: bool,
    /// Events carry one-row Tables instead of objects (kubectl get -w).
    table: Option<TableOptions>,
    /// Whether a Table with column definitions went out: only the first event carries them.
    headers_sent: bool,
    /// The request's timeoutSeconds (or the default).
    timeout: Duration,
    /// For the drop-every fault, which also shortens streams opened before it was set.
    faults: Arc<Faults>,
    shutdown: tokio_util::sync::CancellationToken,
    dropped: tokio::sync::watch::Receiver<u64>,
}

impl WatchTask {
    #[allow(clippy::too_many_arguments)]
    fn new(
        st: &HttpState,
        rt: &'static ResourceType,
        filter: Filter,
        tx: mpsc::Sender<Bytes>,
        bookmarks: bool,
        initial_events_bookmark: bool,
        table: Option<TableOptions>,
        timeout: Duration,
    ) -> WatchTask {
        WatchTask {
            json: st.json.clone(),
            rt,
            filter,
            tx,
            bookmarks,
            initial_events_bookmark,
            table,
            headers_sent: false,
            timeout,
            faults: st.ctx.faults.clone(),
            shutdown: st.shutdown.clone(),
            dropped: st.drop_watches.subscribe(),
        }
    }

    /// One event line; with Table output its object becomes a one-row Table, as the apiserver
    /// does for every event it encodes. Otherwise the bytes come from the shared cache of
    /// serialized versions (every watcher of a change sends the same bytes).
    fn line(&mut self, kind: &str, obj: &Arc<Value>) -> Bytes {
        match self.table {
            Some(opts) => self.table_line(kind, obj, opts),
            None => event_line_json(kind, &self.json.serialize(obj)),
        }
    }

    fn bookmark_line(&mut self, rv: u64, initial_end: bool) -> Bytes {
        let b = bookmark(self.rt, rv, initial_end);
        match self.table {
            Some(opts) => self.table_line("BOOKMARK", &b, opts),
            None => event_line("BOOKMARK", &b),
        }
    }

    fn table_line(&mut self, kind: &str, object: &Value, opts: TableOptions) -> Bytes {
        let headers = !self.headers_sent;
        self.headers_sent = true;
        let table = table::for_object(self.rt, object, opts, headers, crate::sim::meta::now());
        event_line(kind, &table)
    }

    /// The event this watcher sees for a change, after selectors: a change that makes an object
    /// match is ADDED, one that makes it stop matching is DELETED carrying the object as it last
    /// matched, stamped with the change's revision (as the apiserver's watch cache does).
    fn translate(&self, c: &Change) -> Option<(&'static str, Arc<Value>)> {
        if !std::ptr::eq(c.rt, self.rt) && c.rt != self.rt {
            return None;
        }
        let now = self.filter.matches(&c.object);
        let before = c
            .previous
            .as_deref()
            .is_some_and(|p| self.filter.matches(p));
        match c.kind {
            ChangeKind::Added if now => Some(("ADDED", c.object.clone())),
            ChangeKind::Modified if now && before => Some(("MODIFIED", c.object.clone())),
            ChangeKind::Modified if now => Some(("ADDED", c.object.clone())),
            ChangeKind::Modified if before => {
                let mut last = c.previous.as_deref().cloned().unwrap_or_default();
                crate::sim::meta::metadata_mut(&mut last)
                    .insert("resourceVersion".into(), json!(c.rv.to_string()));
                Some(("DELETED", Arc::new(last)))
            }
            ChangeKind::Deleted if now || before => Some(("DELETED", c.object.clone())),
            _ => None,
        }
    }

    /// When the stream ends: its timeout, or the drop-every fault's interval if shorter.
    fn deadline(&self, started: tokio::time::Instant) -> tokio::time::Instant {
        let limit = match self.faults.watch_drop_every() {
            Some(every) => self.timeout.min(every),
            None => self.timeout,
        };
        started + limit
    }

    async fn run(mut self, w: crate::sim::store::WatchStart) {
        let started = tokio::time::Instant::now();
        let mut fault_changes = self.faults.subscribe();
        let mut rx = w.rx;
        let mut last_rv = w.start_rv;
        let mut caught_up = w.caught_up;
        for c in &w.initial {
            if let Some((kind, obj)) = self.translate(c) {
                let line = self.line(kind, &obj);
                if self.tx.send(line).await.is_err() {
                    return;
                }
            }
        }
        if self.initial_events_bookmark {
            let line = self.bookmark_line(last_rv, true);
            if self.tx.send(line).await.is_err() {
                return;
            }
        }
        let deadline = tokio::time::sleep_until(self.deadline(started));
        tokio::pin!(deadline);
        // Like the apiserver's cacheWatcher, one more bookmark shortly before the stream times
        // out, so a client resumes from a fresh revision.
        let pre_timeout = tokio::time::sleep(self.timeout.saturating_sub(PRE_TIMEOUT_BOOKMARK));
        tokio::pin!(pre_timeout);
        let mut pre_timeout_due = self.bookmarks && self.timeout > PRE_TIMEOUT_BOOKMARK;
        let mut ticker =
            tokio::time::interval_at(tokio::time::Instant::now() + BOOKMARK_EVERY, BOOKMARK_EVERY);
        let start_drop = *self.dropped.borrow();
        loop {
            tokio::select! {
                _ = &mut deadline => return,
                _ = self.shutdown.cancelled() => return,
                changed = fault_changes.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    deadline.as_mut().reset(self.deadline(started));
                }
                changed = self.dropped.changed() => {
                    if changed.is_err() || *self.dropped.borrow() != start_drop {
                        return;
                    }
                }
                _ = &mut pre_timeout, if pre_timeout_due && caught_up => {
                    pre_timeout_due = false;
                    let line = self.bookmark_line(last_rv, false);
                    if self.tx.send(line).await.is_err() {
                        return;
                    }
                }
                _ = ticker.tick(), if self.bookmarks && caught_up => {
                    let line = self.bookmark_line(last_rv, false);
                    if self.tx.send(line).await.is_err() {
                        return;
                    }
                }
                msg = rx.recv() => match msg {
                    Ok(c) => {
                        caught_up |= c.rv >= w.start_rv;
                        if c.rv <= w.start_rv {
                            continue;
                        }
                        last_rv = last_rv.max(c.rv);
                        if let Some((kind, obj)) = self.translate(&c) {
                            let line = self.line(kind, &obj);
                            if self.tx.send(line).await.is_err() {
                                return;
                            }
                        }
                    }
                    // Fell too far behind: end the stream; the client re-watches from its last
                    // resourceVersion (or re-lists on 410), as with a real apiserver.
                    Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => return,
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::kinds::CONFIGMAPS;

    fn task(table: Option<TableOptions>) -> WatchTask {
        let (tx, _rx) = mpsc::channel(1);
        let (_drop_tx, dropped) = tokio::sync::watch::channel(0);
        WatchTask {
            json: Default::default(),
            rt: &CONFIGMAPS,
            filter: Filter {
                labels: None,
                fields: None,
                namespace: None,
            },
            tx,
            bookmarks: false,
            initial_events_bookmark: false,
            table,
            headers_sent: false,
            timeout: DEFAULT_TIMEOUT,
            shutdown: tokio_util::sync::CancellationToken::new(),
            dropped,
            faults: Arc::new(Faults::new(Default::default(), 1)),
        }
    }

    fn parse(line: &Bytes) -> Value {
        assert!(line.ends_with(b"\n"));
        serde_json::from_slice(line).unwrap()
    }

    #[test]
    fn table_events_carry_one_row_and_headers_only_first() {
        let cm = Arc::new(json!({"kind": "ConfigMap", "apiVersion": "v1",
                        "metadata": {"name": "a", "namespace": "n", "resourceVersion": "5"},
                        "data": {"k": "v"}}));
        let opts = TableOptions {
            api_version: "meta.k8s.io/v1",
            include: table::Include::Metadata,
        };
        let mut t = task(Some(opts));
        let first = parse(&t.line("ADDED", &cm));
        assert_eq!(first["type"], "ADDED");
        assert_eq!(first["object"]["kind"], "Table");
        assert_eq!(first["object"]["metadata"]["resourceVersion"], "5");
        assert_eq!(
            first["object"]["columnDefinitions"]
                .as_array()
                .unwrap()
                .len(),
            3
        );
        assert_eq!(first["object"]["rows"][0]["cells"][0], "a");
        assert_eq!(first["object"]["rows"][0]["cells"][1], 1);
        let second = parse(&t.line("MODIFIED", &cm));
        assert_eq!(second["object"]["columnDefinitions"], Value::Null);
        assert_eq!(second["object"]["rows"].as_array().unwrap().len(), 1);

        // Without Table output the object goes out as it is.
        let mut plain = task(None);
        assert_eq!(parse(&plain.line("DELETED", &cm))["object"], *cm);
    }
}
