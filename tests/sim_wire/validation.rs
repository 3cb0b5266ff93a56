//! Field validation of label maps, finalizers and container names on every write path, with the
//! apiserver's 422 bodies: control characters are refused like any other character outside the
//! allowed set, on create, update and each patch type (the patched result is validated).

use serde_json::{Value, json};

use super::support::*;

const LABEL_VALUE_WHY: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const QUALIFIED_NAME_WHY: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const DNS_LABEL_WHY: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

/// Checks a 422 naming one field error, message and cause exactly.
#[track_caller]
fn one_cause(reply: &Reply, kind_group: (&str, &str), name: &str, field: &str, detail: &str) {
    let (kind, group) = kind_group;
    let qualified = if group.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}.{group}")
    };
    let details = reply.expect_status(
        422,
        "Invalid",
        &format!("{qualified} \"{name}\" is invalid: {field}: {detail}"),
    );
    let mut want = json!({"name": name, "kind": kind, "causes": [
        {"reason": "FieldValueInvalid", "message": detail, "field": field}
    ]});
    if !group.is_empty() {
        want["group"] = json!(group);
    }
    assert_eq!(details, want);
}

fn label_detail(value: &str) -> String {
    format!("Invalid value: {value}: {LABEL_VALUE_WHY}")
}

#[tokio::test]
async fn a_control_character_in_a_label_value_is_422_on_every_write() {
    let sim = Sim::start("healthy").await;
    let cm = ("ConfigMap", "");
    let detail = label_detail("\"x\\x1b[2J\"");
    let bad = configmap_labelled("c", json!({"app": "x\u{1b}[2J"}));
    one_cause(
        &sim.post(CMS, &bad).await,
        cm,
        "c",
        "metadata.labels",
        &detail,
    );
    // Nothing was stored.
    sim.get(&cm_path("c")).await.expect(404);

    let stored = sim.create(CMS, &configmap("c")).await;
    let mut put = stored.clone();
    put["metadata"]["labels"] = json!({"app": "x\u{1b}[2J"});
    one_cause(
        &sim.put(&cm_path("c"), &put).await,
        cm,
        "c",
        "metadata.labels",
        &detail,
    );
    let labels = json!({"metadata": {"labels": {"app": "x\u{1b}[2J"}}});
    for ct in [
        "application/merge-patch+json",
        "application/strategic-merge-patch+json",
    ] {
        let r = sim.patch(&cm_path("c"), ct, &labels).await;
        one_cause(&r, cm, "c", "metadata.labels", &detail);
    }
    let r = sim
        .patch(
            &cm_path("c"),
            "application/json-patch+json",
            &json!([{"op": "add", "path": "/metadata/labels", "value": {"app": "x\u{1b}[2J"}}]),
        )
        .await;
    one_cause(&r, cm, "c", "metadata.labels", &detail);
    let mut applied = configmap("c");
    applied["metadata"]["labels"] = json!({"app": "x\u{1b}[2J"});
    let r = sim
        .patch(
            &format!("{}?fieldManager=t&force=true", cm_path("c")),
            "application/apply-patch+yaml",
            &applied,
        )
        .await;
    one_cause(&r, cm, "c", "metadata.labels", &detail);
    let after = sim.get(&cm_path("c")).await.expect(200);
    assert_eq!(after["metadata"].get("labels"), None, "{after}");
    assert_eq!(rv(&after), rv(&stored), "no write went through");
    sim.stop().await;
}

#[tokio::test]
async fn label_keys_and_long_values_each_name_their_error() {
    let sim = Sim::start("healthy").await;
    let long = "a".repeat(64);
    let bad = configmap_labelled("k", json!({"bad\u{7}key": "ok", "v": long}));
    let details = sim.post(CMS, &bad).await.expect(422);
    let key = format!("metadata.labels: Invalid value: \"bad\\akey\": {QUALIFIED_NAME_WHY}");
    let len =
        format!("metadata.labels: Invalid value: \"{long}\": must be no more than 63 characters");
    assert_eq!(
        details["message"],
        format!("ConfigMap \"k\" is invalid: [{key}, {len}]")
    );
    let fields: Vec<&Value> = details["details"]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["field"])
        .collect();
    assert_eq!(fields, ["metadata.labels", "metadata.labels"]);
    // Valid keys and values, the empty value included, pass; annotations are free text.
    let mut ok = configmap_labelled(
        "k",
        json!({"app.kubernetes.io/name": "a-b_c.9", "empty": ""}),
    );
    ok["metadata"]["annotations"] = json!({"note": "free\u{1b} text\n"});
    sim.create(CMS, &ok).await;
    sim.stop().await;
}

#[tokio::test]
async fn finalizers_must_be_qualified_names_and_bare_ones_draw_a_warning() {
    let sim = Sim::start("healthy").await;
    sim.quiet_controllers().await;
    let bad = configmap_with_finalizer("f", "example.com/x\u{1b}");
    let detail = format!("Invalid value: \"example.com/x\\x1b\": {QUALIFIED_NAME_WHY}");
    one_cause(
        &sim.post(CMS, &bad).await,
        ("ConfigMap", ""),
        "f",
        "metadata.finalizers",
        &detail,
    );
    // A custom resource is validated the same way, through a merge patch.
    sim.create(ISVCS, &isvc("m")).await;
    let r = sim
        .merge_patch(
            &format!("{ISVCS}/m"),
            &json!({"metadata": {"finalizers": ["ok.example.com/a", "bad\n"]}}),
        )
        .await;
    let detail = format!("Invalid value: \"bad\\n\": {QUALIFIED_NAME_WHY}");
    one_cause(
        &r,
        ("InferenceService", "serving.kserve.io"),
        "m",
        "metadata.finalizers",
        &detail,
    );
    // A name without a domain is accepted with the apiserver's warning, once.
    let r = sim
        .post(CMS, &configmap_with_finalizer("w", "cleanup"))
        .await;
    assert_eq!(r.status, 201);
    let warning = r.headers.get("warning").and_then(|v| v.to_str().ok());
    assert_eq!(
        warning,
        Some(
            "299 - \"metadata.finalizers: \\\"cleanup\\\": prefer a domain-qualified finalizer name including a path (/) to avoid accidental conflicts with other finalizer writers\""
        )
    );
    let r = sim
        .merge_patch(&cm_path("w"), &json!({"data": {"k": "v2"}}))
        .await;
    assert_eq!(r.status, 200);
    assert!(r.headers.get("warning").is_none());
    sim.stop().await;
}

#[tokio::test]
async fn container_names_are_dns_labels_in_pods_and_pod_templates() {
    let sim = Sim::start("healthy").await;
    sim.quiet_controllers().await;
    let detail = format!("Invalid value: \"main\\x1b\": {DNS_LABEL_WHY}");
    let r = sim.post(PODS, &pod("p", &["main\u{1b}"], None)).await;
    one_cause(&r, ("Pod", ""), "p", "spec.containers[0].name", &detail);
    let mut with_init = pod("p", &["main"], None);
    with_init["spec"]["initContainers"] = json!([{"name": "init.step", "image": "busybox"}]);
    let r = sim.post(PODS, &with_init).await;
    one_cause(
        &r,
        ("Pod", ""),
        "p",
        "spec.initContainers[0].name",
        "Invalid value: \"init.step\": must not contain dots",
    );

    let mut d = deployment("web");
    d["spec"]["template"]["spec"]["containers"][0]["name"] = json!("main\u{1b}");
    let r = sim.post(DEPLOYS, &d).await;
    one_cause(
        &r,
        ("Deployment", "apps"),
        "web",
        "spec.template.spec.containers[0].name",
        &detail,
    );
    // Through a JSON patch of a valid Deployment: the patched result is what is validated.
    sim.create(DEPLOYS, &deployment("web")).await;
    let r = sim
        .patch(
            &format!("{DEPLOYS}/web"),
            "application/json-patch+json",
            &json!([{"op": "replace", "path": "/spec/template/spec/containers/0/name", "value": "main\u{1b}"}]),
        )
        .await;
    one_cause(
        &r,
        ("Deployment", "apps"),
        "web",
        "spec.template.spec.containers[0].name",
        &detail,
    );
    sim.stop().await;
}
