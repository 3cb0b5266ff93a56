//! What a recovery may create, and what in it deserves a warning. A record can come from a
//! ConfigMap anybody with `create configmaps` wrote: its manifests are checked against the
//! endpoint it names, by the same derivation the panes use, before any of them is shown as a
//! plan, let alone created.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::cluster::derive::{GroupingConfig, derive_endpoints};
use crate::cluster::model::{Kind, Mode};
use crate::cluster::snapshot::SnapshotBuilder;
use crate::orchestrator::kapi;
use crate::orchestrator::record::EndpointId;
use crate::text::sanitize;

/// Kinds a recovery recreates: the roots of an endpoint that no controller makes.
const CREATABLE: [Kind; 5] = [
    Kind::InferenceService,
    Kind::Deployment,
    Kind::Service,
    Kind::HorizontalPodAutoscaler,
    Kind::Ingress,
];

/// `Deployment web`, sanitised, for messages.
pub(crate) fn label(m: &Value) -> String {
    let kind = m.get("kind").and_then(Value::as_str).unwrap_or("(no kind)");
    let name = kapi::name(m);
    let name = if name.is_empty() { "(no name)" } else { name };
    sanitize(&format!("{kind} {name}")).into_owned()
}

/// The manifests of `manifests` a recovery of `endpoint` must refuse, each with why: a kind it
/// does not create, another namespace, or an object that would not be one of the endpoint's
/// own roots once created (the panes' derivation, run on the manifests themselves: an
/// InferenceService named as the endpoint; a raw Deployment of that name carrying the raw
/// endpoint label, with the Services, HPAs and Ingresses of its name, its `app` label or
/// scaling it).
pub(crate) fn foreign(
    endpoint: &EndpointId,
    manifests: &[Value],
    grouping: &GroupingConfig,
) -> Vec<String> {
    let ns = endpoint.namespace.as_str();
    let mut problems = Vec::new();
    let mut builder = SnapshotBuilder::default();
    let mut candidates = Vec::new();
    for (i, m) in manifests.iter().enumerate() {
        let what = label(m);
        let kind = m.get("kind").and_then(Value::as_str).and_then(Kind::parse);
        let Some(kind) = kind.filter(|k| CREATABLE.contains(k)) else {
            problems.push(format!(
                "manifest {what}: not a kind a recovery creates (only InferenceService, \
                 Deployment, Service, HorizontalPodAutoscaler, Ingress)"
            ));
            continue;
        };
        match m.pointer("/metadata/namespace") {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if s == ns => {}
            Some(other) => {
                problems.push(
                    sanitize(&format!(
                        "manifest {what}: namespace {} is not the endpoint's ({ns})",
                        other
                            .as_str()
                            .map_or_else(|| other.to_string(), str::to_string)
                    ))
                    .into_owned(),
                );
                continue;
            }
        }
        if kapi::name(m).is_empty() {
            problems.push(format!("manifest {what}: it has no name"));
            continue;
        }
        // As it would stand once created: in the endpoint's namespace, with an identity.
        let mut obj = m.clone();
        if let Some(md) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            md.insert("namespace".into(), Value::String(ns.to_string()));
            md.insert("uid".into(), Value::String(format!("recovery-plan-{i}")));
            md.insert(
                "creationTimestamp".into(),
                Value::String("2000-01-01T00:00:00Z".into()),
            );
        }
        match builder.push_json(&obj) {
            Ok(true) => candidates.push((kind, kapi::name(m).to_string(), what)),
            Ok(false) => problems.push(format!("manifest {what}: not an endpoint object")),
            Err(e) => {
                problems.push(sanitize(&format!("manifest {what}: unreadable: {e}")).into_owned())
            }
        }
    }
    let views = derive_endpoints(&builder.build(), grouping, jiff::Timestamp::now());
    let pick = |mode: Mode| {
        views
            .iter()
            .find(|v| v.key.namespace == ns && v.key.name == endpoint.name && v.key.mode == mode)
    };
    let view = match endpoint.mode {
        Some(m) => pick(m),
        None => pick(Mode::Kserve).or_else(|| pick(Mode::Raw)),
    };
    let own: BTreeSet<(Kind, String)> = view
        .map(|v| {
            v.resources
                .iter()
                .map(|r| (r.kind, r.name.clone()))
                .collect()
        })
        .unwrap_or_default();
    for (kind, name, what) in candidates {
        if !own.contains(&(kind, name)) {
            problems.push(sanitize(&format!(
                "manifest {what}: not an object of endpoint {endpoint} (the panes would not show \
                 it under that endpoint once created); a recovery creates only the endpoint's \
                 own objects"
            ))
            .into_owned());
        }
    }
    problems
}

/// Warnings about a manifest's pod spec: privileged containers, the host's network, PID or IPC
/// namespace, hostPath volumes, added capabilities. Looked for anywhere in the manifest, so an
/// InferenceService's predictor is covered as well as a Deployment's template.
pub(crate) fn dangers(m: &Value) -> Vec<String> {
    let mut found = BTreeSet::new();
    walk(m, &mut |key, value| match (key, value) {
        ("privileged", Value::Bool(true)) => {
            found.insert("a privileged container".to_string());
        }
        ("hostNetwork" | "hostPID" | "hostIPC", Value::Bool(true)) => {
            found.insert(format!("{key}: true"));
        }
        ("hostPath", Value::Object(p)) => {
            let path = p.get("path").and_then(Value::as_str).unwrap_or("?");
            found.insert(format!("a hostPath volume ({path})"));
        }
        ("capabilities", Value::Object(c)) => {
            if let Some(add) = c
                .get("add")
                .and_then(Value::as_array)
                .filter(|a| !a.is_empty())
            {
                let caps: Vec<String> = add
                    .iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                    .collect();
                found.insert(format!("added capabilities ({})", caps.join(", ")));
            }
        }
        _ => {}
    });
    let what = label(m);
    found
        .into_iter()
        .map(|d| sanitize(&format!("{what} asks for {d}")).into_owned())
        .collect()
}

/// Every container image in `m` (under `containers`, `initContainers`, `ephemeralContainers`).
pub(crate) fn images(m: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    walk(m, &mut |key, value| {
        if matches!(key, "containers" | "initContainers" | "ephemeralContainers")
            && let Value::Array(cs) = value
        {
            for c in cs {
                if let Some(i) = c.get("image").and_then(Value::as_str) {
                    out.insert(i.to_string());
                }
            }
        }
    });
    out
}

/// Calls `f` on every (key, value) of every object in `v`. Depth is bounded by what serde_json
/// parsed (it refuses nesting past 128).
fn walk(v: &Value, f: &mut impl FnMut(&str, &Value)) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                f(k, child);
                walk(child, f);
            }
        }
        Value::Array(items) => {
            for child in items {
                walk(child, f);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ep(mode: Option<Mode>) -> EndpointId {
        EndpointId {
            namespace: "orch".into(),
            name: "ep".into(),
            mode,
        }
    }

    fn raw_deployment(name: &str) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": name, "labels": {"llm-ops.io/endpoint": name, "app": name}},
               "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                        "template": {"metadata": {"labels": {"app": name}},
                                     "spec": {"containers": [{"name": "s", "image": "img:1"}]}}}})
    }

    #[test]
    fn the_endpoints_own_objects_pass() {
        let manifests = vec![
            raw_deployment("ep"),
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ep", "namespace": "orch"},
                   "spec": {"selector": {"app": "ep"}, "ports": [{"port": 80}]}}),
            json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "ep"},
                   "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "ep", "apiVersion": "apps/v1"},
                            "minReplicas": 1, "maxReplicas": 2}}),
        ];
        let g = GroupingConfig::default();
        assert_eq!(
            foreign(&ep(Some(Mode::Raw)), &manifests, &g),
            Vec::<String>::new()
        );
        assert_eq!(foreign(&ep(None), &manifests, &g), Vec::<String>::new());
        let isvc = json!({"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
                          "metadata": {"name": "ep"}, "spec": {"predictor": {"model": {"storageUri": "x"}}}});
        assert_eq!(
            foreign(&ep(Some(Mode::Kserve)), &[isvc], &g),
            Vec::<String>::new()
        );
    }

    #[test]
    fn other_names_namespaces_and_kinds_are_refused_by_name() {
        let mut elsewhere = raw_deployment("ep");
        elsewhere["metadata"]["namespace"] = json!("prod");
        let manifests = vec![
            raw_deployment("ep"),
            raw_deployment("evil"),
            elsewhere,
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ep"}}),
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "other"},
                   "spec": {"selector": {"app": "other"}}}),
        ];
        let problems = foreign(&ep(Some(Mode::Raw)), &manifests, &GroupingConfig::default());
        assert_eq!(problems.len(), 4, "{problems:#?}");
        assert!(problems[0].contains("Deployment ep") && problems[0].contains("prod"));
        assert!(problems[1].contains("ConfigMap ep"));
        assert!(
            problems
                .iter()
                .any(|p| p.contains("Deployment evil") && p.contains("orch/ep"))
        );
        assert!(problems.iter().any(|p| p.contains("Service other")));
        // A raw Deployment of the right name in a KServe endpoint's recovery is not its object.
        let p = foreign(
            &ep(Some(Mode::Kserve)),
            &[raw_deployment("ep")],
            &GroupingConfig::default(),
        );
        assert_eq!(p.len(), 1, "{p:?}");
    }

    #[test]
    fn dangerous_pod_specs_are_named() {
        let mut d = raw_deployment("ep");
        d["spec"]["template"]["spec"] = json!({
            "hostNetwork": true, "hostPID": true,
            "volumes": [{"name": "root", "hostPath": {"path": "/"}}],
            "containers": [{"name": "s", "image": "evil:1",
                            "securityContext": {"privileged": true, "capabilities": {"add": ["SYS_ADMIN"]}}}]});
        let w = dangers(&d);
        for needle in [
            "privileged",
            "hostNetwork",
            "hostPID",
            "hostPath volume (/)",
            "SYS_ADMIN",
        ] {
            assert!(w.iter().any(|l| l.contains(needle)), "{needle}: {w:#?}");
        }
        assert!(
            w.iter().all(|l| l.starts_with("Deployment ep asks for")),
            "{w:#?}"
        );
        assert!(dangers(&raw_deployment("ep")).is_empty());
        assert_eq!(images(&d), BTreeSet::from(["evil:1".to_string()]));
    }
}
