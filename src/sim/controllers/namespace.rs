//! The namespace controller: a deleted namespace stays Terminating (held by its
//! `spec.finalizers: [kubernetes]`) while everything in it is deleted, each object the ordinary
//! way (pods gracefully, finalizers honoured); once it is empty the controller removes
//! `kubernetes` from `spec.finalizers` and the store removes the namespace. An object held forever
//! by a finalizer keeps its namespace Terminating forever, as on a real cluster.
//!
//! Part of kube-controller-manager, not of any controller a scenario can break: it always runs.

use std::time::Duration;

use serde_json::json;

use super::objects::{get, write_opts};
use super::runner::{Controller, Resync};
use crate::sim::context::SimContext;
use crate::sim::faults::Controllers;
use crate::sim::kinds::{self, NAMESPACES};
use crate::sim::meta;
use crate::sim::store::{Change, DeleteOptions, namespace_finalizers};

pub const MANAGER: &str = "namespace-controller";
const FINALIZER: &str = "kubernetes";
/// How soon a namespace whose content is still going is looked at again (deletions of its
/// objects requeue it sooner).
const RECHECK: Duration = Duration::from_millis(500);

#[derive(Default)]
pub struct NamespaceController;

fn terminating_namespace(change: &Change) -> bool {
    std::ptr::eq(change.rt, &NAMESPACES) && meta::is_terminating(&change.object)
}

impl Controller for NamespaceController {
    type Key = String;

    fn active(&self, _: &Controllers) -> bool {
        true
    }

    fn observe(&mut self, ctx: &SimContext, change: &Change, out: &mut Vec<String>) {
        if terminating_namespace(change) {
            out.push(meta::name(&change.object).to_string());
        } else if change.rt.namespaced {
            // Content changing in a terminating namespace may let it finish.
            let ns = change.namespace();
            if get(&ctx.store, &NAMESPACES, "", ns).is_some_and(|n| meta::is_terminating(&n)) {
                out.push(ns.to_string());
            }
        }
    }

    fn resync(&mut self, ctx: &SimContext, _: Resync, out: &mut Vec<String>) {
        let (namespaces, _) = ctx
            .store
            .list(&NAMESPACES, None, &|o| meta::is_terminating(o));
        out.extend(namespaces.iter().map(|n| meta::name(n).to_string()));
    }

    fn reconcile(&mut self, ctx: &SimContext, _: &Controllers, ns: &String) -> Option<Duration> {
        let namespace = get(&ctx.store, &NAMESPACES, "", ns)?;
        if !meta::is_terminating(&namespace) {
            return None;
        }
        let mut remaining = 0usize;
        for rt in kinds::ALL.iter().copied().filter(|rt| rt.namespaced) {
            let (objects, _) = ctx.store.list(rt, Some(ns), &|_| true);
            remaining += objects.len();
            for obj in objects.iter().filter(|o| !meta::is_terminating(o)) {
                // Not found: already gone; anything else is retried with the namespace.
                let _ = ctx
                    .store
                    .delete(rt, ns, meta::name(obj), &DeleteOptions::default());
            }
        }
        if remaining > 0 {
            return Some(RECHECK);
        }
        if !namespace_finalizers(&NAMESPACES, &namespace)
            .iter()
            .any(|f| f == FINALIZER)
        {
            return None;
        }
        let uid = meta::uid(&namespace).to_string();
        let finalized = ctx
            .store
            .patch(&NAMESPACES, "", ns, &write_opts(MANAGER), |cur| {
                let mut new = cur.clone();
                if meta::uid(cur) == uid {
                    let kept: Vec<String> = namespace_finalizers(&NAMESPACES, cur)
                        .into_iter()
                        .filter(|f| f != FINALIZER)
                        .collect();
                    meta::object_field_mut(&mut new, "spec")
                        .insert("finalizers".into(), json!(kept));
                }
                Ok(new)
            });
        match finalized {
            Ok(_) => None,
            Err(e) if e.code == 404 => None,
            Err(_) => Some(RECHECK),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::sim::context::SimSettings;
    use crate::sim::faults::{FaultState, Faults};
    use crate::sim::kinds::{CONFIGMAPS, PODS};
    use crate::sim::store::{DeleteOutcome, WriteOptions};

    fn ctx() -> Arc<SimContext> {
        SimContext::new(
            SimSettings::default(),
            Faults::new(FaultState::default(), 1),
        )
    }

    fn create(
        ctx: &SimContext,
        rt: &'static kinds::ResourceType,
        ns: &str,
        obj: serde_json::Value,
    ) {
        ctx.store
            .create(rt, ns, obj, &WriteOptions::default())
            .unwrap();
    }

    #[test]
    fn a_deleted_namespace_empties_then_goes() {
        let ctx = ctx();
        create(&ctx, &NAMESPACES, "", json!({"metadata": {"name": "tmp"}}));
        create(&ctx, &CONFIGMAPS, "tmp", json!({"metadata": {"name": "a"}}));
        create(
            &ctx,
            &CONFIGMAPS,
            "tmp",
            json!({"metadata": {"name": "held", "finalizers": ["x/y"]}}),
        );
        let DeleteOutcome::Terminating(ns) = ctx
            .store
            .delete(&NAMESPACES, "", "tmp", &DeleteOptions::default())
            .unwrap()
        else {
            panic!("a namespace is held by spec.finalizers");
        };
        assert_eq!(ns["status"]["phase"], "Terminating");
        // No new content in a terminating namespace.
        let e = ctx
            .store
            .create(
                &PODS,
                "tmp",
                json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}}),
                &WriteOptions::default(),
            )
            .unwrap_err();
        assert_eq!(e.code, 403);

        let mut c = NamespaceController;
        let states = Controllers::default();
        // The held object keeps the namespace.
        assert!(c.reconcile(&ctx, &states, &"tmp".to_string()).is_some());
        assert!(get(&ctx.store, &CONFIGMAPS, "tmp", "a").is_none());
        assert!(get(&ctx.store, &CONFIGMAPS, "tmp", "held").is_some());
        assert!(get(&ctx.store, &NAMESPACES, "", "tmp").is_some());
        ctx.store
            .patch(
                &CONFIGMAPS,
                "tmp",
                "held",
                &WriteOptions::default(),
                |cur| {
                    let mut new = cur.clone();
                    meta::set_finalizers(&mut new, &[]);
                    Ok(new)
                },
            )
            .unwrap();
        assert_eq!(c.reconcile(&ctx, &states, &"tmp".to_string()), None);
        assert!(get(&ctx.store, &NAMESPACES, "", "tmp").is_none());
    }
}
