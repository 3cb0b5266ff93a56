use std::collections::HashSet;

use serde_json::{Value, json};

use super::*;
use crate::cli::SetOverride;

fn set(s: &str) -> SetOverride {
    s.parse().expect("override shape")
}

fn sets(list: &[&str]) -> Vec<SetOverride> {
    list.iter().map(|s| set(s)).collect()
}

/// A Deployment as a real cluster returns it (kubectl get -o json), every generated field set.
fn deployment() -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web", "namespace": "prod", "uid": "d-1", "resourceVersion": "42",
            "generation": 3, "creationTimestamp": "2026-11-01T00:00:00Z", "selfLink": "/x",
            "managedFields": [{"manager": "kubectl"}], "finalizers": ["sim.llmops.io/slow-delete"],
            "deletionTimestamp": "2026-11-02T00:00:00Z", "deletionGracePeriodSeconds": 0,
            "labels": {"app": "web", "llm-ops.io/endpoint": "web"},
            "annotations": {
                "deployment.kubernetes.io/revision": "7",
                "kubectl.kubernetes.io/last-applied-configuration": "{\"kind\":\"Deployment\"}",
                "team.example.com/owner": "search",
            },
            "ownerReferences": [
                {"apiVersion": "v1", "kind": "X", "name": "gone", "uid": "owner-deleted"},
                {"apiVersion": "v1", "kind": "Y", "name": "stays", "uid": "owner-kept"},
            ],
        },
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"creationTimestamp": null, "labels": {"app": "web"}},
                "spec": {"containers": [
                    {"name": "server", "image": "vllm/vllm-openai:v0.8.5",
                     "env": [{"name": "A", "value": "1"}, {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]},
                    {"name": "sidecar", "image": "envoy:1"},
                ]},
            },
        },
        "status": {"replicas": 2, "readyReplicas": 2},
    })
}

fn isvc_model() -> Value {
    json!({
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": "llm", "namespace": "prod", "labels": {"team": "a"},
                     "annotations": {"serving.kserve.io/deploymentMode": "RawDeployment"}},
        "spec": {"predictor": {
            "minReplicas": 1, "maxReplicas": 2,
            "model": {"modelFormat": {"name": "huggingface"}, "storageUri": "hf://org/a",
                      "resources": {"limits": {"nvidia.com/gpu": "1"}}},
        }},
    })
}

fn isvc_container() -> Value {
    json!({
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": "custom", "namespace": "prod"},
        "spec": {"predictor": {"containers": [{"name": "kserve-container", "image": "my/server:1"}]}},
    })
}

fn paths(changes: &[Change]) -> Vec<&str> {
    changes.iter().map(|c| c.path.as_str()).collect()
}

#[test]
fn sanitize_drops_generated_fields_and_keeps_what_users_wrote() {
    let d = deployment();
    let s = sanitize(&d, &HashSet::from(["owner-deleted".to_string()]));
    let md = &s["metadata"];
    for gone in super::GENERATED_METADATA {
        assert!(md.get(*gone).is_none(), "{gone} kept");
    }
    assert!(s.get("status").is_none());
    assert_eq!(md["labels"], d["metadata"]["labels"]);
    assert_eq!(
        md["annotations"],
        json!({
            "kubectl.kubernetes.io/last-applied-configuration": "{\"kind\":\"Deployment\"}",
            "team.example.com/owner": "search",
        })
    );
    assert_eq!(
        md["ownerReferences"],
        json!([d["metadata"]["ownerReferences"][1]])
    );
    assert!(
        s["spec"]["template"]["metadata"]
            .get("creationTimestamp")
            .is_none()
    );
    // Nothing else changed: the whole difference is the removals above.
    let removed: Vec<String> = diff(&d, &s).into_iter().map(|c| c.path).collect();
    assert_eq!(
        removed,
        [
            "metadata.annotations[\"deployment.kubernetes.io/revision\"]",
            "metadata.creationTimestamp",
            "metadata.deletionGracePeriodSeconds",
            "metadata.deletionTimestamp",
            "metadata.finalizers",
            "metadata.generation",
            "metadata.managedFields",
            // [kept] replaces [deleted, kept]: element 0 now holds the kept reference.
            "metadata.ownerReferences[0].kind",
            "metadata.ownerReferences[0].name",
            "metadata.ownerReferences[0].uid",
            "metadata.ownerReferences[1]",
            "metadata.resourceVersion",
            "metadata.selfLink",
            "metadata.uid",
            "spec.template.metadata.creationTimestamp",
            "status",
        ]
    );
}

#[test]
fn sanitize_removes_empty_owner_and_annotation_maps() {
    let mut d = deployment();
    d["metadata"]["annotations"] = json!({"deployment.kubernetes.io/revision": "1"});
    let all = HashSet::from(["owner-deleted".to_string(), "owner-kept".to_string()]);
    let s = sanitize(&d, &all);
    assert!(s["metadata"].get("annotations").is_none());
    assert!(s["metadata"].get("ownerReferences").is_none());
}

#[test]
fn sanitize_services_keeps_headless_and_node_ports() {
    let svc = json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "web", "namespace": "prod", "uid": "s"},
        "spec": {"type": "LoadBalancer", "clusterIP": "10.96.0.7", "clusterIPs": ["10.96.0.7"],
                 "healthCheckNodePort": 31000, "externalTrafficPolicy": "Local",
                 "ports": [{"port": 80, "nodePort": 30080}]},
    });
    let s = sanitize(&svc, &HashSet::new());
    assert_eq!(
        s["spec"],
        json!({"type": "LoadBalancer", "externalTrafficPolicy": "Local",
               "ports": [{"port": 80, "nodePort": 30080}]})
    );
    let headless = json!({
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "h"},
        "spec": {"clusterIP": "None", "clusterIPs": ["None"]},
    });
    assert_eq!(
        sanitize(&headless, &HashSet::new())["spec"],
        headless["spec"]
    );
}

#[test]
fn sanitize_pods_drop_the_node_and_leave_other_kinds_spec_alone() {
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                     "spec": {"nodeName": "node-1", "containers": [{"name": "c", "image": "i"}]}});
    assert!(
        sanitize(&pod, &HashSet::new())["spec"]
            .get("nodeName")
            .is_none()
    );
    // A custom resource with a field of the same name is not a pod.
    let cr = json!({"apiVersion": "x.io/v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"nodeName": "n"}});
    assert_eq!(sanitize(&cr, &HashSet::new())["spec"]["nodeName"], "n");
    assert_eq!(sanitize(&json!("text"), &HashSet::new()), json!("text"));
}

#[test]
fn deployment_overrides_change_exactly_the_named_fields() {
    let before = deployment();
    let mut m = before.clone();
    let changes = apply_overrides(
        &mut m,
        &sets(&[
            "image=vllm/vllm-openai:v0.9.1",
            "replicas=3",
            "env.A=2",
            "env.TOKEN=plain",
            "env.NEW=x",
        ]),
    )
    .expect("overrides apply");
    assert_eq!(
        changes,
        diff(&before, &m),
        "the returned changes are the whole difference"
    );
    assert_eq!(
        paths(&changes),
        [
            "spec.replicas",
            "spec.template.spec.containers[0].env[0].value",
            "spec.template.spec.containers[0].env[1].value",
            "spec.template.spec.containers[0].env[1].valueFrom",
            "spec.template.spec.containers[0].env[2]",
            "spec.template.spec.containers[0].image",
        ]
    );
    assert_eq!(changes[0].to_string(), "spec.replicas: 2 -> 3");
    assert_eq!(
        changes[5].to_string(),
        "spec.template.spec.containers[0].image: vllm/vllm-openai:v0.8.5 -> vllm/vllm-openai:v0.9.1"
    );
    assert_eq!(
        m["spec"]["template"]["spec"]["containers"][0]["env"][2],
        json!({"name": "NEW", "value": "x"})
    );
    // The sidecar is untouched (the first container is the serving one).
    assert_eq!(
        m["spec"]["template"]["spec"]["containers"][1],
        before["spec"]["template"]["spec"]["containers"][1]
    );
}

#[test]
fn later_overrides_win_and_no_overrides_change_nothing() {
    let mut m = deployment();
    let changes = apply_overrides(&mut m, &sets(&["replicas=5", "replicas=4"])).expect("ok");
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].after, Some(json!(4)));
    let before = m.clone();
    assert_eq!(apply_overrides(&mut m, &[]), Ok(vec![]));
    assert_eq!(m, before);
}

#[test]
fn model_isvc_overrides_go_to_the_model_and_raise_max_replicas() {
    let before = isvc_model();
    let mut m = before.clone();
    let changes = apply_overrides(
        &mut m,
        &sets(&[
            "image=kserve/huggingfaceserver:v0.16.0",
            "replicas=3",
            "env.HF_HOME=/cache",
            "storageUri=hf://org/b",
        ]),
    )
    .expect("ok");
    assert_eq!(
        paths(&changes),
        [
            "spec.predictor.maxReplicas",
            "spec.predictor.minReplicas",
            "spec.predictor.model.env",
            "spec.predictor.model.image",
            "spec.predictor.model.storageUri",
        ]
    );
    assert_eq!(
        m["spec"]["predictor"]["model"]["env"],
        json!([{"name": "HF_HOME", "value": "/cache"}])
    );
    // maxReplicas above the new minimum stays; an unset one stays unset.
    let mut m = before.clone();
    let changes = apply_overrides(&mut m, &sets(&["replicas=0"])).expect("ok");
    assert_eq!(paths(&changes), ["spec.predictor.minReplicas"]);
    let mut m = isvc_container();
    let changes = apply_overrides(&mut m, &sets(&["replicas=2"])).expect("ok");
    assert_eq!(paths(&changes), ["spec.predictor.minReplicas"]);
}

#[test]
fn container_isvc_overrides_go_to_its_first_container() {
    let mut m = isvc_container();
    let changes = apply_overrides(&mut m, &sets(&["image=my/server:2", "env.X=1"])).expect("ok");
    assert_eq!(
        paths(&changes),
        [
            "spec.predictor.containers[0].env",
            "spec.predictor.containers[0].image"
        ]
    );
}

fn refused(m: &Value, o: &str) -> OverrideError {
    let mut work = m.clone();
    let e = apply_overrides(&mut work, &sets(&["replicas=9", o])).expect_err("refused");
    assert_eq!(&work, m, "a refused set leaves the manifest as it was");
    e
}

#[test]
fn every_override_error_names_key_and_value() {
    let d = deployment();
    let e = refused(&d, "imag=x");
    assert_eq!(
        e,
        OverrideError::UnknownKey {
            key: "imag".into(),
            value: "x".into(),
            valid: VALID_KEYS.into()
        }
    );
    assert_eq!(
        e.to_string(),
        "--set imag=x: unknown key \"imag\"; valid keys: image, replicas, env.NAME, storageUri (InferenceService only)"
    );
    for bad in ["-1", "abc", "+3", " 3", "", "1.5", "99999999999"] {
        let e = refused(&d, &format!("replicas={bad}"));
        assert!(
            matches!(&e, OverrideError::BadValue { key, value, .. } if key == "replicas" && value == bad),
            "{e:?}"
        );
        assert!(e.to_string().contains("non-negative integer"), "{e}");
    }
    for bad in ["", "a b", "x\ty"] {
        let e = refused(&d, &format!("image={bad}"));
        assert!(matches!(e, OverrideError::BadValue { .. }), "{e:?}");
    }
    for bad in ["env.=1", "env.1X=1", "env.A[0]=1"] {
        let e = refused(&d, bad);
        assert!(matches!(e, OverrideError::BadValue { .. }), "{bad}: {e:?}");
    }
    let e = refused(&d, "storageUri=s3://b/m");
    assert!(
        matches!(&e, OverrideError::NotApplicable { kind, name, .. } if kind == "Deployment" && name == "prod/web"),
        "{e:?}"
    );
    assert!(
        e.to_string()
            .starts_with("--set storageUri=s3://b/m: not applicable to Deployment prod/web: "),
        "{e}"
    );
    let e = refused(&isvc_container(), "storageUri=s3://b/m");
    assert!(matches!(e, OverrideError::NotApplicable { .. }), "{e:?}");
    assert_eq!(
        refused(&isvc_model(), "storageUri="),
        OverrideError::BadValue {
            key: "storageUri".into(),
            value: String::new(),
            why: "a storage URI must not be empty".into(),
        }
    );

    let mut no_containers = deployment();
    no_containers["spec"]["template"]["spec"]["containers"] = json!([]);
    let e = refused(&no_containers, "image=x");
    assert_eq!(
        e,
        OverrideError::NoContainer {
            key: "image".into(),
            value: "x".into(),
            kind: "Deployment".into(),
            name: "prod/web".into(),
            path: "spec.template.spec.containers[0]".into(),
        }
    );
    let mut bare = isvc_model();
    bare["spec"]["predictor"] = json!({"minReplicas": 1});
    let e = refused(&bare, "env.A=1");
    assert!(matches!(e, OverrideError::NoContainer { .. }), "{e:?}");

    let svc =
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "n"}});
    assert_eq!(
        refused(&svc, "image=x"),
        OverrideError::UnsupportedKind {
            key: "replicas".into(),
            value: "9".into(),
            kind: "Service".into(),
            name: "n/s".into(),
        }
    );
}

#[test]
fn override_errors_neutralise_terminal_controls() {
    let mut d = deployment();
    d["metadata"]["name"] = json!("web\u{1b}[2J");
    let e =
        apply_overrides(&mut d, &sets(&["storageUri=\u{1b}]52;c;x\u{7}"])).expect_err("refused");
    assert!(!crate::text::has_controls(&e.to_string()), "{e}");
}

#[test]
fn diff_sorts_paths_and_quotes_odd_keys() {
    let a = json!({"b": 1, "a": {"x.y/z": "1"}, "l": (0..12).collect::<Vec<_>>()});
    let mut b = a.clone();
    b["b"] = json!(2);
    b["a"]["x.y/z"] = json!("2");
    b["l"][2] = json!(20);
    b["l"][10] = json!(100);
    b["new"] = json!({"k": true});
    let d = diff(&a, &b);
    assert_eq!(paths(&d), ["a[\"x.y/z\"]", "b", "l[2]", "l[10]", "new"]);
    assert_eq!(d[4].to_string(), "new: (unset) -> {\"k\":true}");
    assert_eq!(
        diff(&json!([1]), &json!([]))
            .first()
            .map(ToString::to_string),
        Some("[0]: 1 -> (unset)".into())
    );
    assert_eq!(diff(&json!(1), &json!(2))[0].path, "(document)");
    assert!(diff(&a, &a).is_empty());
}

#[test]
fn change_lines_neutralise_cluster_text() {
    let c = Change {
        path: "metadata.name".into(),
        before: Some(json!("a\u{1b}[2J")),
        after: None,
    };
    assert_eq!(c.to_string(), "metadata.name: a^[[2J -> (unset)");
}

#[test]
fn editable_yaml_round_trips_and_saving_it_unchanged_aborts() {
    let m = sanitize(&deployment(), &HashSet::new());
    let text = to_editable_yaml(&m);
    assert!(text.starts_with("# Deployment prod/web: "), "{text}");
    assert!(text.contains("To abort, save an empty file"), "{text}");
    assert_eq!(parse_edited(&text, &m), Err(EditError::Unchanged));
    let edited = text.replace("replicas: 2", "replicas: 5");
    let v = parse_edited(&edited, &m).expect("edit accepted");
    assert_eq!(paths(&diff(&m, &v)), ["spec.replicas"]);
    // JSON is YAML too.
    let mut j = m.clone();
    j["spec"]["replicas"] = json!(1);
    let json_text = serde_json::to_string_pretty(&j).expect("json");
    assert_eq!(parse_edited(&json_text, &m), Ok(j));
}

#[test]
fn empty_edits_abort() {
    let m = deployment();
    for text in ["", "\n\n", "# just the header\n# and comments\n"] {
        let e = parse_edited(text, &m).expect_err("abort");
        assert_eq!(e, EditError::Empty);
        assert!(e.is_abort());
    }
}

#[test]
fn unparsable_edits_are_located() {
    let m = deployment();
    let text =
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: [unclosed\n";
    let e = parse_edited(text, &m).expect_err("bad yaml");
    let EditError::Parse { line, column, .. } = &e else {
        panic!("{e:?}")
    };
    assert!(*line >= 5 && *column >= 1, "{e}");
    assert!(
        e.to_string()
            .starts_with(&format!("line {line}, column {column}: ")),
        "{e}"
    );
    assert!(!e.is_abort());

    let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  name: again\n";
    let e = parse_edited(text, &m).expect_err("duplicate key");
    assert!(
        matches!(&e, EditError::Parse { line: 4, field, message, .. }
            if field == "metadata" && message.contains("duplicate entry with key \"name\"")),
        "{e:?}"
    );

    let e = parse_edited("- a\n- b\n", &m).expect_err("a list");
    assert_eq!(
        e,
        EditError::NotAnObject {
            line: 1,
            column: 1,
            found: "a list".into()
        }
    );
}

#[test]
fn renamed_objects_are_refused_at_the_field() {
    let m = sanitize(&deployment(), &HashSet::new());
    let text = to_editable_yaml(&m).replace("name: web\n", "name: web2\n");
    let e = parse_edited(&text, &m).expect_err("renamed");
    let line = text
        .lines()
        .position(|l| l.trim() == "name: web2")
        .expect("line")
        + 1;
    assert_eq!(
        e,
        EditError::Renamed {
            line,
            column: 9,
            field: "metadata.name".into(),
            original: "\"web\"".into(),
            edited: "\"web2\"".into(),
        }
    );
    assert!(
        e.to_string()
            .contains("metadata.name was \"web\", now \"web2\""),
        "{e}"
    );

    let text = to_editable_yaml(&m).replace("  namespace: prod\n", "");
    let e = parse_edited(&text, &m).expect_err("namespace removed");
    assert!(
        matches!(&e, EditError::Renamed { field, edited, .. } if field == "metadata.namespace" && edited == "missing"),
        "{e:?}"
    );

    let text = to_editable_yaml(&m).replace("kind: Deployment", "kind: StatefulSet");
    let e = parse_edited(&text, &m).expect_err("kind changed");
    assert!(
        matches!(&e, EditError::Renamed { field, line: _, .. } if field == "kind"),
        "{e:?}"
    );
}
