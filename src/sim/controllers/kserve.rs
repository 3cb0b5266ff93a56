//! The KServe controller in raw-deployment mode: holds the `inferenceservice.finalizers`
//! finalizer on every InferenceService, reconciles its predictor Deployment, Service, HPA and (once
//! the predictor is available) Ingress, and reports conditions, URLs and the deployment mode.
//!
//! Every deployment mode is reconciled as RawDeployment: the `serving.kserve.io/deploymentMode`
//! annotation is read but Serverless (and ModelMesh) get raw children too, since the simulated
//! cluster has no Knative; `status.deploymentMode` always says `RawDeployment`.
//!
//! Deletion: with `kserve_deletion` Up the finalizer is removed (the garbage collector then takes
//! the children through their ownerReferences); with it (or the whole controller) Broken the
//! finalizer stays forever, which is the "unable to delete inferenceservice" bug.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::events::{EventRecorder, NORMAL, WARNING};
use super::kserve_children::{self as children, ISVC_LABEL};
use super::objects::{
    Cond, add_finalizer, condition, condition_true, conditions_of, controlled_by, controller_name,
    generation, get, int_at, remove_finalizer, set_condition, write_opts, write_status,
};
use super::runner::{Controller, Resync};
use crate::sim::context::SimContext;
use crate::sim::faults::{ControllerState, Controllers};
use crate::sim::kinds::{DEPLOYMENTS, HPAS, INFERENCESERVICES, INGRESSES, ResourceType, SERVICES};
use crate::sim::meta;
use crate::sim::store::{Change, ChangeKind};

pub const MANAGER: &str = "kserve-controller";
/// The event source KServe's controller manager reports.
pub const COMPONENT: &str = "v1beta1Controllers";
pub const FINALIZER: &str = "inferenceservice.finalizers";
const RETRY: Duration = Duration::from_secs(1);
const CHILD_KINDS: [&ResourceType; 4] = [&DEPLOYMENTS, &SERVICES, &HPAS, &INGRESSES];

type Key = (String, String);

pub struct KServeController {
    pub events: Arc<EventRecorder>,
    /// Last warning recorded per InferenceService, so a retry loop does not repeat it.
    warned: HashMap<Key, String>,
}

impl KServeController {
    pub fn new(events: Arc<EventRecorder>) -> Self {
        KServeController {
            events,
            warned: HashMap::new(),
        }
    }
}

/// Whether the finalizer may be removed under these states.
fn deletion_works(states: &Controllers) -> bool {
    states.kserve == ControllerState::Up && states.kserve_deletion == ControllerState::Up
}

impl Controller for KServeController {
    type Key = Key;

    fn active(&self, states: &Controllers) -> bool {
        states.kserve != ControllerState::Down
    }

    fn observe(&mut self, _ctx: &SimContext, change: &Change, out: &mut Vec<Key>) {
        let ns = change.namespace();
        if change.rt == &INFERENCESERVICES {
            if change.kind == ChangeKind::Deleted {
                self.warned
                    .remove(&(ns.to_string(), change.name().to_string()));
            } else {
                out.push((ns.to_string(), change.name().to_string()));
            }
            return;
        }
        if !CHILD_KINDS.contains(&change.rt) {
            return;
        }
        for obj in std::iter::once(&change.object).chain(change.previous.iter()) {
            let owner = controller_name(obj, "InferenceService").or(meta::label(obj, ISVC_LABEL));
            if let Some(name) = owner {
                let key = (ns.to_string(), name.to_string());
                if !out.contains(&key) {
                    out.push(key);
                }
            }
        }
    }

    fn resync(&mut self, ctx: &SimContext, _: Resync, out: &mut Vec<Key>) {
        let (all, _) = ctx.store.list(&INFERENCESERVICES, None, &|_| true);
        out.extend(
            all.iter()
                .map(|o| (meta::namespace(o).to_string(), meta::name(o).to_string())),
        );
    }

    fn reconcile(&mut self, ctx: &SimContext, states: &Controllers, key: &Key) -> Option<Duration> {
        let isvc = get(&ctx.store, &INFERENCESERVICES, &key.0, &key.1)?;
        if meta::is_terminating(&isvc) {
            let held = meta::finalizers(&isvc).iter().any(|f| f == FINALIZER);
            if held && deletion_works(states) {
                let res = remove_finalizer(
                    &ctx.store,
                    &INFERENCESERVICES,
                    &key.0,
                    &key.1,
                    meta::uid(&isvc),
                    FINALIZER,
                    MANAGER,
                );
                if res.is_err() {
                    return Some(RETRY);
                }
            }
            return None;
        }
        let isvc = if meta::finalizers(&isvc).iter().any(|f| f == FINALIZER) {
            isvc
        } else {
            match add_finalizer(&ctx.store, &INFERENCESERVICES, &isvc, FINALIZER, MANAGER) {
                Ok(o) => o,
                Err(_) => return Some(RETRY),
            }
        };
        self.sync_children(ctx, key, &isvc)
    }
}

impl KServeController {
    fn sync_children(&mut self, ctx: &SimContext, key: &Key, isvc: &Value) -> Option<Duration> {
        let mut retry = None;
        let mut errors = Vec::new();
        let dep_fields = ["template", "replicas"];
        let dep = self.ensure(
            ctx,
            isvc,
            &DEPLOYMENTS,
            children::deployment(isvc),
            &dep_fields,
        );
        let hpa_fields = ["scaleTargetRef", "minReplicas", "maxReplicas", "metrics"];
        let results = [
            self.ensure(ctx, isvc, &SERVICES, children::service(isvc), &[]),
            self.ensure(ctx, isvc, &HPAS, children::hpa(isvc), &hpa_fields),
        ];
        let dep = collect(dep, &mut retry, &mut errors);
        for r in results {
            collect(r, &mut retry, &mut errors);
        }
        let predictor_ready = dep.as_ref().is_some_and(|d| condition_true(d, "Available"));
        let ingress = if predictor_ready {
            let fields = ["ingressClassName", "rules"];
            let r = self.ensure(ctx, isvc, &INGRESSES, children::ingress(isvc), &fields);
            collect(r, &mut retry, &mut errors)
        } else {
            get(&ctx.store, &INGRESSES, &key.0, &key.1)
                .filter(|i| controlled_by(i, meta::uid(isvc)) && !meta::is_terminating(i))
        };
        match errors.first() {
            Some(msg) if self.warned.get(key) != Some(msg) => {
                self.events
                    .record(isvc, WARNING, "InternalError", msg, COMPONENT);
                self.warned.insert(key.clone(), msg.clone());
            }
            Some(_) => {}
            None => {
                self.warned.remove(key);
            }
        }

        let was_ready = condition_true(isvc, "Ready");
        let status = isvc_status(isvc, dep.as_deref(), ingress.is_some());
        let now_ready = status["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["type"] == "Ready" && c["status"] == "True");
        match write_status(&ctx.store, &INFERENCESERVICES, isvc, status, MANAGER) {
            Ok(_) if now_ready && !was_ready => {
                let msg = format!("InferenceService [{}] is Ready", meta::name(isvc));
                self.events
                    .record(isvc, NORMAL, "InferenceServiceReady", &msg, COMPONENT);
            }
            Ok(_) => {}
            Err(e) => {
                let msg = format!(
                    "Failed to update status for InferenceService {:?}: {}",
                    meta::name(isvc),
                    e.message
                );
                self.events
                    .record(isvc, WARNING, "UpdateFailed", &msg, COMPONENT);
                retry = Some(RETRY);
            }
        }
        retry
    }

    /// Creates the child, or brings the listed `spec` fields and the labels of an existing one
    /// controlled by this InferenceService back to `desired`. A child of the same name that is
    /// terminating or controlled by something else is waited for.
    fn ensure(
        &self,
        ctx: &SimContext,
        isvc: &Value,
        rt: &'static ResourceType,
        desired: Value,
        fields: &[&str],
    ) -> Result<Arc<Value>, Option<String>> {
        let ns = meta::namespace(isvc);
        let name = meta::name(&desired).to_string();
        let Some(cur) = get(&ctx.store, rt, ns, &name) else {
            return ctx
                .store
                .create(rt, ns, desired, &write_opts(MANAGER))
                .map_err(|e| (e.reason != "AlreadyExists").then_some(e.message));
        };
        if meta::is_terminating(&cur) {
            // An old child still going away (e.g. right after a redeploy): wait for it.
            return Err(None);
        }
        if !controlled_by(&cur, meta::uid(isvc)) {
            return Err(Some(format!(
                "{} {name} already exists and is not controlled by InferenceService {}",
                rt.kind,
                meta::name(isvc)
            )));
        }
        let labels_ok = meta::labels(&desired)
            .into_iter()
            .flatten()
            .all(|(k, v)| meta::labels(&cur).and_then(|l| l.get(k)) == Some(v));
        let spec_ok = fields
            .iter()
            .all(|f| cur.pointer(&format!("/spec/{f}")) == desired.pointer(&format!("/spec/{f}")));
        if labels_ok && spec_ok {
            return Ok(cur);
        }
        let uid = meta::uid(&cur).to_string();
        ctx.store
            .patch(rt, ns, &name, &write_opts(MANAGER), |now| {
                let mut new = now.clone();
                if meta::uid(now) != uid {
                    return Ok(new);
                }
                // A client may have replaced the child's spec by any JSON: what is not an
                // object is rebuilt from the desired fields.
                let spec = meta::object_field_mut(&mut new, "spec");
                for f in fields {
                    if let Some(v) = desired.pointer(&format!("/spec/{f}")) {
                        spec.insert((*f).to_string(), v.clone());
                    }
                }
                let md = meta::metadata_mut(&mut new);
                let labels = md.entry("labels").or_insert_with(|| json!({}));
                if let (Some(l), Some(want)) = (labels.as_object_mut(), meta::labels(&desired)) {
                    for (k, v) in want {
                        l.insert(k.clone(), v.clone());
                    }
                }
                Ok(new)
            })
            .map_err(|e| Some(e.message))
    }
}

/// Folds one child's outcome into the retry and error lists.
fn collect(
    r: Result<Arc<Value>, Option<String>>,
    retry: &mut Option<Duration>,
    errors: &mut Vec<String>,
) -> Option<Arc<Value>> {
    match r {
        Ok(o) => Some(o),
        Err(msg) => {
            *retry = Some(RETRY);
            errors.extend(msg);
            None
        }
    }
}

/// Status of an InferenceService from its predictor Deployment and Ingress.
fn isvc_status(isvc: &Value, dep: Option<&Value>, has_ingress: bool) -> Value {
    let now = meta::format_time(meta::now());
    let old = isvc.get("status").cloned().unwrap_or(json!({}));
    let mut conds = conditions_of(&old);
    let field = |c: Option<&Value>, k: &str| -> String {
        c.and_then(|c| c.get(k))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let available = dep.and_then(|d| condition(d, "Available"));
    let (p_status, p_reason, p_message) = match available {
        Some(c) => (
            field(Some(c), "status"),
            field(Some(c), "reason"),
            field(Some(c), "message"),
        ),
        None => ("Unknown".to_string(), String::new(), String::new()),
    };
    let predictor = Cond {
        type_: "PredictorReady",
        status: &p_status,
        reason: &p_reason,
        message: &p_message,
    };
    let ingress = if has_ingress {
        Cond {
            type_: "IngressReady",
            status: "True",
            reason: "",
            message: "",
        }
    } else {
        Cond {
            type_: "IngressReady",
            status: "False",
            reason: "Predictor ingress not created",
            message: "",
        }
    };
    // Ready mirrors the first dependent condition that is not True (Knative's living set).
    let ready = [&predictor, &ingress]
        .into_iter()
        .find(|c| c.status != "True")
        .map_or(
            Cond {
                type_: "Ready",
                status: "True",
                reason: "",
                message: "",
            },
            |c| Cond {
                type_: "Ready",
                status: c.status,
                reason: c.reason,
                message: c.message,
            },
        );
    for c in [&predictor, &ingress, &ready] {
        set_condition(&mut conds, c, &now, false);
    }
    conds.sort_by(|a, b| a["type"].as_str().cmp(&b["type"].as_str()));

    let loaded = p_status == "True";
    let ready_copies = dep
        .and_then(|d| int_at(d, "/status/readyReplicas"))
        .unwrap_or(0);
    let mut predictor_status = json!({});
    if let Some(rev) = dep.and_then(|d| meta::annotation(d, "deployment.kubernetes.io/revision")) {
        meta::set_field(&mut predictor_status, "latestCreatedRevision", json!(rev));
    }
    if loaded {
        meta::set_field(
            &mut predictor_status,
            "url",
            json!(format!("http://{}", children::predictor_host(isvc))),
        );
    }
    let mut s = json!({
        "observedGeneration": generation(isvc),
        "deploymentMode": "RawDeployment",
        "conditions": conds,
        "components": {"predictor": predictor_status},
        "modelStatus": {
            "states": {
                "activeModelState": if loaded { "Loaded" } else { "Pending" },
                "targetModelState": "Loaded",
            },
            "transitionStatus": if loaded { "UpToDate" } else { "InProgress" },
            "copies": {"failedCopies": 0, "totalCopies": ready_copies},
        },
    });
    if has_ingress {
        meta::set_field(
            &mut s,
            "url",
            json!(format!("http://{}", children::external_host(isvc))),
        );
        meta::set_field(
            &mut s,
            "address",
            json!({"url": format!("http://{}", children::internal_host(isvc))}),
        );
    }
    s
}
