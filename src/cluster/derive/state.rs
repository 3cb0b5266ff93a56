//! The state of one object: health, a one-line summary, and why and since when it is
//! Terminating. Pure functions of the object (and nothing else), one per kind.

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::apps::v1::{Deployment, DeploymentCondition, ReplicaSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{ContainerStatus, Pod, Service};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::core::DynamicObject;
use serde_json::Value;

use crate::cluster::model::{Health, Terminating};

/// What the tree shows for one object.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjState {
    pub health: Health,
    pub summary: String,
    pub terminating: Option<Terminating>,
}

impl ObjState {
    fn new(health: Health, summary: impl Into<String>, meta: &ObjectMeta, pod: bool) -> Self {
        let terminating = terminating(meta, pod);
        ObjState {
            health: if terminating.is_some() {
                Health::Terminating
            } else {
                health
            },
            summary: summary.into(),
            terminating,
        }
    }
}

/// Container waiting reasons that mean the pod will not come up by itself.
const FAILED_WAITING: [&str; 7] = [
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ErrImagePull",
    "CreateContainerConfigError",
    "CreateContainerError",
    "InvalidImageName",
    "RunContainerError",
];

/// Why and since when an object is Terminating, from its metadata. For pods, deletionTimestamp
/// is the end of the grace period, so deletion was requested `grace` seconds before it.
pub fn terminating(meta: &ObjectMeta, pod: bool) -> Option<Terminating> {
    let dt = meta.deletion_timestamp.as_ref()?.0;
    let grace = meta.deletion_grace_period_seconds;
    let since = match grace {
        Some(g) if pod && g > 0 => dt.checked_sub(SignedDuration::from_secs(g)).unwrap_or(dt),
        _ => dt,
    };
    Some(Terminating {
        deletion_timestamp: dt,
        since,
        finalizers: meta.finalizers.clone().unwrap_or_default(),
        grace_period_seconds: grace,
    })
}

/// Whether a Terminating pod is just in its grace period (normal in every rollout), rather than
/// stuck: the grace period has not run out and no finalizer holds it.
pub fn in_grace(t: &Terminating, now: Timestamp) -> bool {
    t.finalizers.is_empty() && t.deletion_timestamp > now
}

fn container_reason(cs: &ContainerStatus) -> Option<String> {
    let state = cs.state.as_ref()?;
    if let Some(w) = &state.waiting {
        return w.reason.clone().filter(|r| !r.is_empty());
    }
    if let Some(t) = &state.terminated {
        return Some(match (&t.reason, t.signal) {
            (Some(r), _) if !r.is_empty() => r.clone(),
            (_, Some(s)) if s != 0 => format!("Signal:{s}"),
            _ => format!("ExitCode:{}", t.exit_code),
        });
    }
    None
}

/// A pod as kubectl's STATUS column sees it, plus readiness and restarts.
pub fn pod_state(pod: &Pod) -> ObjState {
    let status = pod.status.clone().unwrap_or_default();
    let phase = status.phase.clone().unwrap_or_else(|| "Unknown".into());
    let containers = status.container_statuses.clone().unwrap_or_default();
    let total = pod
        .spec
        .as_ref()
        .map_or(containers.len(), |s| s.containers.len());
    let ready = containers.iter().filter(|c| c.ready).count();
    let restarts: i64 = containers.iter().map(|c| i64::from(c.restart_count)).sum();

    let init_reason = status
        .init_container_statuses
        .as_deref()
        .unwrap_or_default()
        .iter()
        .find(|c| !c.ready)
        .and_then(container_reason)
        .filter(|r| r != "Completed")
        .map(|r| format!("Init:{r}"));
    let container_reason = containers.iter().rev().find_map(container_reason);
    let reason = status
        .reason
        .clone()
        .filter(|r| !r.is_empty())
        .or(init_reason)
        .or(container_reason.clone())
        .unwrap_or_else(|| phase.clone());
    // A running container after restarts reports no waiting reason: show the phase.
    let shown = if phase == "Running" && containers.iter().all(|c| c.ready) {
        "Running".to_string()
    } else {
        reason.clone()
    };

    let pod_ready = status
        .conditions
        .as_deref()
        .unwrap_or_default()
        .iter()
        .any(|c| c.type_ == "Ready" && c.status == "True");
    let failed_waiting = FAILED_WAITING
        .iter()
        .any(|f| reason == *f || reason == format!("Init:{f}"));
    let health = match phase.as_str() {
        "Failed" => Health::Failed,
        _ if failed_waiting => Health::Failed,
        // A serving container that exits is not doing its job.
        "Succeeded" => Health::Degraded,
        "Running" if pod_ready => Health::Ready,
        "Running" | "Pending" => Health::Progressing,
        _ => Health::Unknown,
    };
    let mut summary = if pod.metadata.deletion_timestamp.is_some() {
        "Terminating".to_string()
    } else {
        shown
    };
    summary.push_str(&format!(" {ready}/{total}"));
    if restarts > 0 {
        summary.push_str(&format!(", {restarts} restarts"));
    }
    ObjState::new(health, summary, &pod.metadata, true)
}

fn condition<'a>(conds: &'a [DeploymentCondition], type_: &str) -> Option<&'a DeploymentCondition> {
    conds.iter().find(|c| c.type_ == type_)
}

/// Desired and ready replicas of a Deployment (desired defaults to 1, as the API does).
pub fn deployment_replicas(d: &Deployment) -> (u32, u32) {
    let desired = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let ready = d
        .status
        .as_ref()
        .and_then(|s| s.ready_replicas)
        .unwrap_or(0);
    (
        u32::try_from(ready).unwrap_or(0),
        u32::try_from(desired).unwrap_or(0),
    )
}

/// A Deployment: rolled out and available, rolling, or stuck.
pub fn deployment_state(d: &Deployment) -> ObjState {
    let (ready, desired) = deployment_replicas(d);
    let status = d.status.clone().unwrap_or_default();
    let conds = status.conditions.unwrap_or_default();
    let updated = u32::try_from(status.updated_replicas.unwrap_or(0)).unwrap_or(0);
    let observed = status.observed_generation.unwrap_or(0);
    let generation = d.metadata.generation.unwrap_or(0);
    let progressing = condition(&conds, "Progressing");
    let available = condition(&conds, "Available");
    let failure = condition(&conds, "ReplicaFailure").filter(|c| c.status == "True");

    let mut summary = format!("{ready}/{desired} ready");
    let health = if let Some(p) = progressing.filter(|p| p.status == "False") {
        summary.push_str(&format!(
            ", {}",
            p.reason.as_deref().unwrap_or("not progressing")
        ));
        Health::Degraded
    } else if let Some(f) = failure {
        summary.push_str(&format!(
            ", {}",
            f.reason.as_deref().unwrap_or("ReplicaFailure")
        ));
        Health::Degraded
    } else if desired == 0 {
        summary = "scaled to 0".to_string();
        Health::Ready
    } else if ready >= desired && updated >= desired && observed >= generation {
        Health::Ready
    } else {
        let rolled_out = progressing
            .and_then(|p| p.reason.as_deref())
            .is_some_and(|r| r == "NewReplicaSetAvailable");
        let unavailable = available.is_some_and(|a| a.status == "False");
        if rolled_out && unavailable {
            // The rollout finished, then pods went away or stopped being ready.
            summary.push_str(", unavailable");
            Health::Degraded
        } else {
            if updated < desired {
                summary.push_str(&format!(", {updated} updated"));
            }
            Health::Progressing
        }
    };
    ObjState::new(health, summary, &d.metadata, false)
}

pub fn replica_set_state(rs: &ReplicaSet) -> ObjState {
    let desired = rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let ready = rs
        .status
        .as_ref()
        .and_then(|s| s.ready_replicas)
        .unwrap_or(0);
    let health = if ready >= desired {
        Health::Ready
    } else {
        Health::Progressing
    };
    ObjState::new(
        health,
        format!("{ready}/{desired} ready"),
        &rs.metadata,
        false,
    )
}

pub fn service_state(svc: &Service) -> ObjState {
    let spec = svc.spec.clone().unwrap_or_default();
    let type_ = spec.type_.unwrap_or_else(|| "ClusterIP".into());
    let summary = match spec.cluster_ip.filter(|ip| !ip.is_empty()) {
        Some(ip) => format!("{type_} {ip}"),
        None => type_,
    };
    ObjState::new(Health::Ready, summary, &svc.metadata, false)
}

pub fn hpa_state(hpa: &HorizontalPodAutoscaler) -> ObjState {
    let spec = hpa.spec.clone().unwrap_or_default();
    let min = spec.min_replicas.unwrap_or(1);
    let mut summary = format!("{min}-{} replicas", spec.max_replicas);
    if let Some(cur) = hpa.status.as_ref().and_then(|s| s.current_replicas) {
        summary.push_str(&format!(" (now {cur})"));
    }
    for m in spec.metrics.unwrap_or_default() {
        if let Some(r) = m.resource
            && let Some(u) = r.target.average_utilization
        {
            summary.push_str(&format!(", {} {u}%", r.name));
        }
    }
    ObjState::new(Health::Ready, summary, &hpa.metadata, false)
}

pub fn ingress_state(ing: &Ingress) -> ObjState {
    let hosts: Vec<String> = ing
        .spec
        .as_ref()
        .and_then(|s| s.rules.clone())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|r| r.host)
        .collect();
    let summary = if hosts.is_empty() {
        "no hosts".to_string()
    } else {
        hosts.join(", ")
    };
    ObjState::new(Health::Ready, summary, &ing.metadata, false)
}

fn str_at<'a>(v: &'a Value, p: &str) -> Option<&'a str> {
    v.pointer(p)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// An InferenceService, from its Ready condition and KServe's model transition status.
pub fn inference_service_state(isvc: &DynamicObject) -> ObjState {
    let data = &isvc.data;
    let conds = data
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let ready = conds
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some("Ready"));
    let transition = str_at(data, "/status/modelStatus/transitionStatus");
    let (health, summary) = match (ready, transition) {
        (_, Some(t @ ("BlockedByFailedLoad" | "InvalidSpec"))) => {
            let why = str_at(data, "/status/modelStatus/lastFailureInfo/message")
                .or_else(|| str_at(data, "/status/modelStatus/lastFailureInfo/reason"))
                .unwrap_or(t);
            (Health::Failed, why.to_string())
        }
        (Some(c), _) if c.get("status").and_then(Value::as_str) == Some("True") => {
            let url = str_at(data, "/status/url").unwrap_or("");
            (Health::Ready, format!("Ready {url}").trim_end().to_string())
        }
        (Some(c), _) => {
            let why = str_at(c, "/message")
                .or_else(|| str_at(c, "/reason"))
                .unwrap_or("not ready");
            (Health::Progressing, format!("not ready: {why}"))
        }
        (None, _) => (Health::Progressing, "no status yet".to_string()),
    };
    ObjState::new(health, summary, &isvc.metadata, false)
}

/// `spec.predictor.minReplicas` of an InferenceService (KServe's default is 1).
pub fn inference_service_min_replicas(isvc: &DynamicObject) -> u32 {
    isvc.data
        .pointer("/spec/predictor/minReplicas")
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(1)
}
