//! How current each watch's store is: whether it ever listed, when it was last confirmed
//! current, since when it is down and when it tries again. The panes mark stale rows from it and
//! the kiosk shows "confirmed" times; a kind that never listed is named with its error.
//!
//! Confirmations come from the watch streams themselves, never from polling: a list completing,
//! and every frame a watch response delivers while the kind is Live (an event or a BOOKMARK; the
//! API server sends a bookmark about once a minute on a quiet watch). kube-runtime's watcher
//! swallows bookmarks, so [`FrameClock`] wraps the watches' client and timestamps each frame of
//! a `watch=true` response before the watcher parses it.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http_body::{Body as HttpBody, Frame, SizeHint};
use jiff::{SignedDuration, Timestamp};
use kube::client::Body;
use kube::runtime::watcher;
use serde::Serialize;

use crate::cluster::error::{describe_kube_error, status_code};
use crate::cluster::model::{WatchKind, WatchState};

/// A confirmation is published at most this often per kind (the panes show seconds).
pub const CONFIRM_EVERY: SignedDuration = SignedDuration::from_secs(1);

/// The health of one watch, as data for the app.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WatchHealth {
    /// The store was complete at least once: its list finished, or the kind settled as
    /// Forbidden or Unavailable (an empty store that waiting will not fill).
    pub listed: bool,
    /// The last moment the store was known to match the server: its list finished, or a frame
    /// arrived on its watch while it was Live.
    pub confirmed: Option<Timestamp>,
    /// Since when a kind that had listed is not Live (None while Live, or before its first
    /// list): the moment its watch broke.
    pub down_since: Option<Timestamp>,
    /// When the next attempt starts, while the watch is retrying.
    pub retry_at: Option<Timestamp>,
}

/// Every watch's health, updated by the watch tasks and the frame clock.
#[derive(Debug, Default)]
pub struct HealthBook {
    kinds: BTreeMap<WatchKind, WatchHealth>,
}

impl HealthBook {
    pub fn new() -> HealthBook {
        HealthBook {
            kinds: WatchKind::ALL
                .iter()
                .map(|k| (*k, WatchHealth::default()))
                .collect(),
        }
    }

    pub fn all(&self) -> BTreeMap<WatchKind, WatchHealth> {
        self.kinds.clone()
    }

    fn entry(&mut self, wk: WatchKind) -> &mut WatchHealth {
        self.kinds.entry(wk).or_default()
    }

    /// The kind's list finished (InitDone): complete and current now.
    pub fn listed(&mut self, wk: WatchKind, now: Timestamp) {
        let h = self.entry(wk);
        h.listed = true;
        h.confirmed = Some(now);
        h.down_since = None;
        h.retry_at = None;
    }

    /// The kind's watch failed with `state`; the next attempt is `retry_in` from `now`.
    pub fn failed(
        &mut self,
        wk: WatchKind,
        state: &WatchState,
        now: Timestamp,
        retry_in: Duration,
    ) {
        let h = self.entry(wk);
        h.retry_at = SignedDuration::try_from(retry_in)
            .ok()
            .and_then(|d| now.checked_add(d).ok());
        match state {
            // Settled: an empty store is the truth for a kind we may not or cannot list.
            WatchState::Forbidden { .. } | WatchState::Unavailable { .. } => {
                h.listed = true;
                h.down_since = None;
            }
            // A 410 re-list is routine: the store stays whole until the new list replaces it.
            WatchState::Syncing | WatchState::Live => {}
            WatchState::Reconnecting { .. } => {
                if h.listed && h.down_since.is_none() {
                    h.down_since = Some(now);
                }
            }
        }
    }

    /// A frame arrived on the kind's watch at `now`. Returns whether the confirmation moved on
    /// by [`CONFIRM_EVERY`] (worth telling the app). Only a Live kind is confirmed: before its
    /// list is whole, a frame says nothing about the store.
    pub fn frame(&mut self, wk: WatchKind, live: bool, now: Timestamp) -> bool {
        if !live {
            return false;
        }
        let h = self.entry(wk);
        let due = h
            .confirmed
            .is_none_or(|c| now.duration_since(c) >= CONFIRM_EVERY);
        if due {
            h.confirmed = Some(now);
        }
        due
    }
}

/// What the frame clock calls for every data frame of a watch response.
pub type OnFrame = Arc<dyn Fn() + Send + Sync>;

/// A response body that calls `on_frame` for every data frame it yields.
pub struct FrameClock {
    inner: Body,
    on_frame: Option<OnFrame>,
}

impl HttpBody for FrameClock {
    type Data = bytes::Bytes;
    type Error = kube::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        if let (Poll::Ready(Some(Ok(frame))), Some(f)) = (&polled, &this.on_frame)
            && frame.is_data()
        {
            f();
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Whether a request is a watch (`watch=true` or `watch=1` in the query).
fn is_watch(uri: &http::Uri) -> bool {
    uri.query().is_some_and(|q| {
        q.split('&')
            .any(|p| p.eq_ignore_ascii_case("watch=true") || p == "watch=1")
    })
}

/// kube's client as a service whose watch responses carry a [`FrameClock`].
#[derive(Clone)]
struct Clocked {
    inner: kube::Client,
    on_frame: OnFrame,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

impl tower_service::Service<http::Request<Body>> for Clocked {
    type Response = http::Response<FrameClock>;
    type Error = kube::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // The inner client has its own buffer and readiness; `send` waits for it.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        let on_frame = is_watch(req.uri()).then(|| self.on_frame.clone());
        let client = self.inner.clone();
        Box::pin(async move {
            let resp = client.send(req).await?;
            Ok(resp.map(|inner| FrameClock { inner, on_frame }))
        })
    }
}

/// A client that behaves as `client` and calls `on_frame` for each frame of a watch response.
/// Call within a tokio runtime (kube's client spawns its buffer task).
pub fn clocked_client(client: &kube::Client, on_frame: OnFrame) -> kube::Client {
    let default_ns = client.default_namespace().to_string();
    kube::Client::new(
        Clocked {
            inner: client.clone(),
            on_frame,
        },
        default_ns,
    )
}

/// What a failed watch means for its kind.
pub(super) fn classify(err: &watcher::Error) -> WatchState {
    let (code, message) = match err {
        watcher::Error::InitialListFailed(e)
        | watcher::Error::WatchStartFailed(e)
        | watcher::Error::WatchFailed(e) => (status_code(e), describe_kube_error(e)),
        watcher::Error::WatchError(status) => (
            Some(status.code),
            crate::text::sanitize(&format!("{}: {}", status.code, status.message)).into_owned(),
        ),
        watcher::Error::NoResourceVersion => (None, err.to_string()),
    };
    match code {
        // The resume point expired (history compacted): a routine re-list, not an alarm.
        Some(410) => WatchState::Syncing,
        Some(403) => WatchState::Forbidden { message },
        Some(404) => WatchState::Unavailable { message },
        _ => WatchState::Reconnecting { error: message },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_793_714_400 + s).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    const POD: WatchKind = WatchKind::Resource(crate::cluster::model::Kind::Pod);

    fn reconnecting() -> WatchState {
        WatchState::Reconnecting {
            error: "connection refused".into(),
        }
    }

    #[test]
    fn a_kind_that_never_listed_is_not_down_but_says_when_it_retries() {
        let mut b = HealthBook::new();
        b.failed(POD, &reconnecting(), at(0), Duration::from_secs(4));
        let h = &b.all()[&POD];
        assert!(!h.listed);
        assert_eq!(h.down_since, None);
        assert_eq!(h.retry_at, Some(at(4)));
        assert_eq!(h.confirmed, None);
    }

    #[test]
    fn down_since_is_the_first_failure_after_live_and_a_list_clears_it() {
        let mut b = HealthBook::new();
        b.listed(POD, at(0));
        b.failed(POD, &reconnecting(), at(10), Duration::from_secs(1));
        b.failed(POD, &reconnecting(), at(11), Duration::from_secs(2));
        let h = &b.all()[&POD];
        assert_eq!(h.down_since, Some(at(10)), "the first failure counts");
        assert_eq!(h.retry_at, Some(at(13)));
        assert_eq!(h.confirmed, Some(at(0)), "nothing confirmed while down");
        b.listed(POD, at(20));
        let h = &b.all()[&POD];
        assert_eq!((h.down_since, h.retry_at), (None, None));
        assert_eq!(h.confirmed, Some(at(20)));
    }

    #[test]
    fn a_routine_relist_or_a_forbidden_kind_is_not_down() {
        let mut b = HealthBook::new();
        b.listed(POD, at(0));
        b.failed(POD, &WatchState::Syncing, at(5), Duration::from_secs(1));
        assert_eq!(b.all()[&POD].down_since, None);
        let forbidden = WatchState::Forbidden {
            message: "403".into(),
        };
        b.failed(
            WatchKind::Lease,
            &forbidden,
            at(5),
            Duration::from_secs(300),
        );
        let h = &b.all()[&WatchKind::Lease];
        assert!(h.listed, "a forbidden kind is settled");
        assert_eq!(h.down_since, None);
    }

    #[test]
    fn frames_confirm_only_a_live_kind_at_most_once_a_second() {
        let mut b = HealthBook::new();
        assert!(!b.frame(POD, false, at(0)), "not live: no confirmation");
        assert_eq!(b.all()[&POD].confirmed, None);
        b.listed(POD, at(0));
        assert!(!b.frame(POD, true, at(0)));
        assert!(b.frame(POD, true, at(1)));
        assert!(!b.frame(POD, true, at(1)));
        assert!(b.frame(POD, true, at(61)), "a bookmark a minute later");
        assert_eq!(b.all()[&POD].confirmed, Some(at(61)));
    }

    #[test]
    fn only_watch_requests_are_clocked() {
        let u = |s: &str| s.parse::<http::Uri>().unwrap_or_default();
        assert!(is_watch(&u(
            "/api/v1/pods?&watch=true&timeoutSeconds=290&allowWatchBookmarks=true"
        )));
        assert!(!is_watch(&u("/api/v1/pods?&limit=500")));
        assert!(!is_watch(&u("/api/v1/pods")));
    }
}
