//! The console's watches over a scope that may span several namespaces: one [`ClusterWatch`]
//! for all namespaces or one namespace, or one per namespace when the user may list only some
//! (see `cluster::access`). Snapshots, objects and events are merged; notices carry the
//! namespace of the watch they come from, so a kind refused in one namespace is reported as
//! refused there. Dropping a `ScopedWatch` stops all of its watches, and its notices end.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::{ClusterNotice, ClusterWatch, EventQuery, WatchConfig};
use crate::cluster::access::Watched;
use crate::cluster::client::Scope;
use crate::cluster::model::{EventView, Kind, WatchKind};
use crate::cluster::snapshot::Snapshot;

/// A notice of one of the watches; `namespace` is set when the scope has one watch set per
/// namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopedNotice {
    pub namespace: Option<String>,
    pub notice: ClusterNotice,
}

impl ScopedNotice {
    /// How the status bar names the watch: `Pod`, or `Pod in staging`.
    pub fn watch_label(namespace: Option<&str>, kind: WatchKind) -> String {
        match namespace {
            None => kind.name().to_string(),
            Some(ns) => format!("{} in {ns}", kind.name()),
        }
    }
}

pub struct ScopedWatch {
    /// `(namespace, watch)`: the namespace is `None` for a single watch set over `Scope`.
    watches: Vec<(Option<String>, ClusterWatch)>,
    watched: Watched,
    /// Keeps the notice channel open while this lives, even with no watch at all.
    _tx: mpsc::Sender<ScopedNotice>,
}

impl ScopedWatch {
    /// Starts the watches of `watched`. Call within a tokio runtime.
    pub fn start(
        client: kube::Client,
        watched: &Watched,
        cfg: WatchConfig,
    ) -> (ScopedWatch, mpsc::Receiver<ScopedNotice>) {
        let sets: Vec<(Option<String>, Scope)> = match watched {
            Watched::Scope(s) => vec![(None, s.clone())],
            Watched::Namespaces(list) => list
                .iter()
                .map(|ns| (Some(ns.clone()), Scope::Namespace(ns.clone())))
                .collect(),
        };
        let (tx, rx) = mpsc::channel(cfg.notice_capacity.max(1));
        let mut watches = Vec::with_capacity(sets.len());
        for (label, scope) in sets {
            let (watch, mut notices) = ClusterWatch::start(client.clone(), &scope, cfg.clone());
            let (tx, namespace) = (tx.clone(), label.clone());
            // Ends when the watch is dropped (its notices close) or nobody listens.
            tokio::spawn(async move {
                while let Some(notice) = notices.recv().await {
                    let n = ScopedNotice {
                        namespace: namespace.clone(),
                        notice,
                    };
                    if tx.send(n).await.is_err() {
                        break;
                    }
                }
            });
            watches.push((label, watch));
        }
        let sw = ScopedWatch {
            watches,
            watched: watched.clone(),
            _tx: tx,
        };
        (sw, rx)
    }

    /// Where these watches look.
    pub fn watched(&self) -> &Watched {
        &self.watched
    }

    /// The namespace scope the app filters by: the one namespace, or `None` for several or all.
    pub fn namespace(&self) -> Option<&str> {
        match &self.watched {
            Watched::Scope(s) => s.namespace(),
            Watched::Namespaces(_) => None,
        }
    }

    /// All stores now, merged.
    pub fn snapshot(&self) -> Snapshot {
        let mut parts = self.watches.iter().map(|(_, w)| w.snapshot());
        let Some(mut out) = parts.next() else {
            return Snapshot::default();
        };
        for s in parts {
            fn join<T>(a: &mut Arc<Vec<Arc<T>>>, b: &Arc<Vec<Arc<T>>>) {
                Arc::make_mut(a).extend(b.iter().cloned());
            }
            join(&mut out.inference_services, &s.inference_services);
            join(&mut out.deployments, &s.deployments);
            join(&mut out.replica_sets, &s.replica_sets);
            join(&mut out.pods, &s.pods);
            join(&mut out.services, &s.services);
            join(&mut out.hpas, &s.hpas);
            join(&mut out.ingresses, &s.ingresses);
            join(&mut out.leases, &s.leases);
        }
        out
    }

    /// The watch set that holds objects of `ns`.
    fn for_namespace(&self, ns: &str) -> Option<&ClusterWatch> {
        self.watches
            .iter()
            .find(|(label, _)| label.as_deref().is_none_or(|l| l == ns))
            .map(|(_, w)| w)
    }

    pub fn object_json(&self, kind: Kind, ns: &str, name: &str) -> Option<serde_json::Value> {
        self.for_namespace(ns)?.object_json(kind, ns, name)
    }

    pub fn events_for(&self, q: &EventQuery) -> Vec<EventView> {
        let (EventQuery::Object { namespace, .. } | EventQuery::Ref { namespace, .. }) = q;
        self.for_namespace(namespace)
            .map(|w| w.events_for(q))
            .unwrap_or_default()
    }
}
