//! Writes: create from a file and AlreadyExists, delete of an object held by finalizers,
//! finalizer removal by merge patch, `kubectl wait --for=delete`, and `auth can-i`.

use super::{STREAM_DEADLINE, sim_as, sim_with_kubectl, stderr, stdout};

const HELD_CONFIGMAP: &str = r#"
apiVersion: v1
kind: ConfigMap
metadata:
  name: held
  namespace: llm-prod
  labels: {app: conformance}
  finalizers: [example.com/hold]
data: {a: "1"}
"#;

const ISVC: &str = r#"
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: tiny-llm
  namespace: llm-staging
  labels: {team: conformance}
  annotations: {serving.kserve.io/deploymentMode: RawDeployment}
spec:
  predictor:
    minReplicas: 1
    model:
      modelFormat: {name: huggingface}
      storageUri: hf://example/tiny-llm
"#;

#[test]
#[ignore = "needs kubectl: run via .ci/run or set KUBECTL"]
fn create_from_file_then_already_exists() {
    let Some(sim) = sim_with_kubectl("create_from_file_then_already_exists", "healthy") else {
        return;
    };
    for (file, contents, created) in [
        ("cm.yaml", HELD_CONFIGMAP, "configmap/held created"),
        (
            "isvc.yaml",
            ISVC,
            "inferenceservice.serving.kserve.io/tiny-llm created",
        ),
    ] {
        let path = sim.write_file(file, contents);
        let path = path.to_str().unwrap();
        let out = sim.kubectl_ok(&["create", "-f", path]);
        assert_eq!(out.trim(), created);

        let again = sim.kubectl_fails(&["create", "-f", path]);
        assert_eq!(again.status.code(), Some(1), "{}", stderr(&again));
        let err = stderr(&again);
        assert!(
            err.contains("AlreadyExists") && err.contains("already exists"),
            "{file}: {err}"
        );
    }
    let isvc = sim.kubectl_json(&["get", "isvc", "tiny-llm", "-n", "llm-staging", "-o", "json"]);
    assert_eq!(
        isvc["spec"]["predictor"]["model"]["storageUri"],
        "hf://example/tiny-llm"
    );
    assert!(isvc["metadata"]["uid"].is_string());

    // kubectl's generators send protobuf; the simulator reads it like the apiserver.
    let out = sim.kubectl_ok(&[
        "create",
        "configmap",
        "generated",
        "-n",
        "llm-prod",
        "--from-literal=k=v",
    ]);
    assert_eq!(out.trim(), "configmap/generated created");
    let cm = sim.kubectl_json(&["get", "cm", "generated", "-n", "llm-prod", "-o", "json"]);
    assert_eq!(cm["data"]["k"], "v");
    let dup = sim.kubectl_fails(&["create", "configmap", "generated", "-n", "llm-prod"]);
    assert!(stderr(&dup).contains("already exists"), "{}", stderr(&dup));
}

#[test]
#[ignore = "needs kubectl: run via .ci/run or set KUBECTL"]
fn finalizers_hold_a_deleted_object_until_patched_away() {
    let Some(sim) = sim_with_kubectl("finalizers_hold_a_deleted_object", "healthy") else {
        return;
    };
    let path = sim.write_file("cm.yaml", HELD_CONFIGMAP);
    sim.kubectl_ok(&["create", "-f", path.to_str().unwrap()]);

    let out = sim.kubectl_ok(&["delete", "cm", "held", "-n", "llm-prod", "--wait=false"]);
    assert!(out.contains(r#"configmap "held" deleted"#), "{out}");

    let held = sim.kubectl_json(&["get", "cm", "held", "-n", "llm-prod", "-o", "json"]);
    let md = &held["metadata"];
    assert!(
        md["deletionTimestamp"].is_string(),
        "no deletionTimestamp: {held}"
    );
    assert_eq!(md["deletionGracePeriodSeconds"], 0);
    assert_eq!(md["finalizers"], serde_json::json!(["example.com/hold"]));
    // Deleting again changes nothing: still there, same deletionTimestamp.
    sim.kubectl_ok(&["delete", "cm", "held", "-n", "llm-prod", "--wait=false"]);
    let again = sim.kubectl_json(&["get", "cm", "held", "-n", "llm-prod", "-o", "json"]);
    assert_eq!(
        again["metadata"]["deletionTimestamp"],
        md["deletionTimestamp"]
    );

    let out = sim.kubectl_ok(&[
        "patch",
        "cm",
        "held",
        "-n",
        "llm-prod",
        "--type=merge",
        "-p",
        r#"{"metadata":{"finalizers":null}}"#,
    ]);
    assert_eq!(out.trim(), "configmap/held patched");
    let gone = sim.kubectl_fails(&["get", "cm", "held", "-n", "llm-prod"]);
    assert!(
        stderr(&gone).contains("NotFound")
            && stderr(&gone).contains(r#"configmaps "held" not found"#),
        "{}",
        stderr(&gone)
    );

    // A custom resource the same way (merge patch: custom resources take no strategic merge).
    let path = sim.write_file("isvc.yaml", ISVC);
    sim.kubectl_ok(&["create", "-f", path.to_str().unwrap()]);
    sim.kubectl_ok(&[
        "patch",
        "isvc",
        "tiny-llm",
        "-n",
        "llm-staging",
        "--type=merge",
        "-p",
        r#"{"metadata":{"finalizers":["example.com/hold"]}}"#,
    ]);
    sim.kubectl_ok(&[
        "delete",
        "isvc",
        "tiny-llm",
        "-n",
        "llm-staging",
        "--wait=false",
    ]);
    let isvc = sim.kubectl_json(&["get", "isvc", "tiny-llm", "-n", "llm-staging", "-o", "json"]);
    assert!(isvc["metadata"]["deletionTimestamp"].is_string(), "{isvc}");
    let strategic = sim.kubectl_fails(&[
        "patch",
        "isvc",
        "tiny-llm",
        "-n",
        "llm-staging",
        "-p",
        r#"{"metadata":{"finalizers":null}}"#,
    ]);
    // kubectl words the server's 415 UnsupportedMediaType this way.
    assert!(
        stderr(&strategic).contains(
            "application/strategic-merge-patch+json is not supported by serving.kserve.io/v1beta1, Kind=InferenceService"
        ),
        "{}",
        stderr(&strategic)
    );
    sim.kubectl_ok(&[
        "patch",
        "isvc",
        "tiny-llm",
        "-n",
        "llm-staging",
        "--type=merge",
        "-p",
        r#"{"metadata":{"finalizers":null}}"#,
    ]);
    let gone = sim.kubectl_fails(&["get", "isvc", "tiny-llm", "-n", "llm-staging"]);
    assert!(
        stderr(&gone).contains(r#"inferenceservices.serving.kserve.io "tiny-llm" not found"#),
        "{}",
        stderr(&gone)
    );
}

#[test]
#[ignore = "needs kubectl: run via .ci/run or set KUBECTL"]
fn wait_for_delete_returns_when_the_object_is_gone() {
    let Some(sim) = sim_with_kubectl("wait_for_delete", "healthy") else {
        return;
    };
    let path = sim.write_file("cm.yaml", HELD_CONFIGMAP);
    sim.kubectl_ok(&["create", "-f", path.to_str().unwrap()]);
    sim.kubectl_ok(&["delete", "cm", "held", "-n", "llm-prod", "--wait=false"]);

    let mut waiter = sim.kubectl_spawn(&[
        "wait",
        "--for=delete",
        "cm/held",
        "-n",
        "llm-prod",
        "--timeout=120s",
    ]);
    // It is still held: a short wait runs out.
    let short = sim.kubectl(&[
        "wait",
        "--for=delete",
        "cm/held",
        "-n",
        "llm-prod",
        "--timeout=1s",
    ]);
    assert!(!short.status.success(), "{}", stdout(&short));
    assert!(stderr(&short).contains("timed out"), "{}", stderr(&short));

    sim.kubectl_ok(&[
        "patch",
        "cm",
        "held",
        "-n",
        "llm-prod",
        "--type=json",
        "-p",
        r#"[{"op":"remove","path":"/metadata/finalizers"}]"#,
    ]);
    let status = waiter.wait_exit(STREAM_DEADLINE);
    assert!(
        status.success(),
        "kubectl wait --for=delete: {status}; {}",
        waiter.stderr()
    );

    // Already gone: returns at once, successfully.
    let out = sim.kubectl(&[
        "wait",
        "--for=delete",
        "cm/held",
        "-n",
        "llm-prod",
        "--timeout=5s",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
#[ignore = "needs kubectl: run via .ci/run or set KUBECTL"]
fn auth_can_i_answers_yes_and_no() {
    let Some(admin) = sim_with_kubectl("auth_can_i (admin)", "rbac-denied") else {
        return;
    };
    let yes = admin.kubectl(&[
        "auth",
        "can-i",
        "delete",
        "inferenceservices",
        "-n",
        "llm-prod",
    ]);
    assert_eq!((yes.status.code(), stdout(&yes).trim()), (Some(0), "yes"));
    // Impersonation (kubectl --as): admin asks on behalf of the restricted user.
    let no = admin.kubectl(&[
        "auth", "can-i", "delete", "isvc", "-n", "llm-prod", "--as", "operator",
    ]);
    assert_eq!((no.status.code(), stdout(&no).trim()), (Some(1), "no"));

    let Some(operator) = sim_as("auth_can_i (operator)", "rbac-denied", "operator") else {
        return;
    };
    let cases = [
        (&["delete", "inferenceservices.serving.kserve.io"][..], "no"),
        (&["patch", "deployments"][..], "no"),
        (&["get", "pods"][..], "yes"),
        (&["get", "pods", "--subresource=log"][..], "yes"),
        (&["delete", "pods"][..], "yes"),
        (&["create", "leases.coordination.k8s.io"][..], "yes"),
    ];
    for (question, answer) in cases {
        let mut args = vec!["auth", "can-i"];
        args.extend_from_slice(question);
        args.extend_from_slice(&["-n", "llm-prod"]);
        let out = operator.kubectl(&args);
        let code = if answer == "yes" { 0 } else { 1 };
        assert_eq!(
            (out.status.code(), stdout(&out).trim()),
            (Some(code), answer),
            "kubectl {args:?}: {}",
            stderr(&out)
        );
    }
    // And the API agrees with the review.
    let denied =
        operator.kubectl_fails(&["delete", "isvc", "llama-3-8b-instruct", "-n", "llm-prod"]);
    assert!(
        stderr(&denied).contains(
            r#"User "operator" cannot delete resource "inferenceservices" in API group "serving.kserve.io" in the namespace "llm-prod""#
        ),
        "{}",
        stderr(&denied)
    );
    operator.kubectl_ok(&["get", "pods", "-n", "llm-prod"]);
}

#[test]
#[ignore = "needs kubectl: run via .ci/run or set KUBECTL"]
fn deleting_a_namespace_deletes_its_content_first() {
    let Some(sim) = sim_with_kubectl("deleting_a_namespace", "healthy") else {
        return;
    };
    sim.kubectl_ok(&["create", "namespace", "scratch"]);
    sim.kubectl_ok(&["create", "configmap", "plain", "-n", "scratch"]);
    let held = HELD_CONFIGMAP.replace("namespace: llm-prod", "namespace: scratch");
    let path = sim.write_file("held.yaml", &held);
    sim.kubectl_ok(&["create", "-f", path.to_str().unwrap()]);

    let out = sim.kubectl_ok(&["delete", "namespace", "scratch", "--wait=false"]);
    assert!(out.contains(r#"namespace "scratch" deleted"#), "{out}");
    let ns = sim.kubectl_json(&["get", "ns", "scratch", "-o", "json"]);
    assert_eq!(ns["status"]["phase"], "Terminating", "{ns}");
    assert!(ns["metadata"]["deletionTimestamp"].is_string(), "{ns}");
    let refused = sim.kubectl_fails(&["create", "configmap", "late", "-n", "scratch"]);
    assert!(
        stderr(&refused).contains(
            "unable to create new content in namespace scratch because it is being terminated"
        ),
        "{}",
        stderr(&refused)
    );
    // The content goes; the finalizer-held object keeps the namespace.
    sim.kubectl_ok(&[
        "wait",
        "--for=delete",
        "cm/plain",
        "-n",
        "scratch",
        "--timeout=60s",
    ]);
    let held = sim.kubectl_json(&["get", "cm", "held", "-n", "scratch", "-o", "json"]);
    assert!(held["metadata"]["deletionTimestamp"].is_string(), "{held}");
    sim.kubectl_ok(&["get", "ns", "scratch"]);

    sim.kubectl_ok(&[
        "patch",
        "cm",
        "held",
        "-n",
        "scratch",
        "--type=merge",
        "-p",
        r#"{"metadata":{"finalizers":null}}"#,
    ]);
    sim.kubectl_ok(&["wait", "--for=delete", "namespace/scratch", "--timeout=60s"]);
    let gone = sim.kubectl_fails(&["get", "ns", "scratch"]);
    assert!(
        stderr(&gone).contains(r#"namespaces "scratch" not found"#),
        "{}",
        stderr(&gone)
    );
}

/// `kubectl auth can-i --list` asks a SelfSubjectRulesReview (sent as protobuf): the rules of
/// the namespace asked about, including those limited to it, and none limited to others.
#[test]
#[ignore = "needs kubectl: run via .ci/run or set KUBECTL"]
fn auth_can_i_list_shows_the_rules_of_the_namespace() {
    let Some(operator) = sim_as("auth_can_i_list", "rbac-denied", "operator") else {
        return;
    };
    let row = |out: &str, resource: &str| {
        out.lines()
            .find(|l| l.split_whitespace().next() == Some(resource))
            .and_then(|l| l.rfind('[').map(|at| l[at..].trim().to_string()))
    };
    let prod = operator.kubectl_ok(&["auth", "can-i", "--list", "-n", "llm-prod"]);
    assert_eq!(
        row(&prod, "pods.*"),
        Some("[create delete]".into()),
        "{prod}"
    );
    assert_eq!(row(&prod, "*.*"), Some("[get list watch]".into()), "{prod}");
    assert!(
        prod.contains("selfsubjectrulesreviews.authorization.k8s.io"),
        "{prod}"
    );
    // The create/delete rule (any API group: `pods.*`) is bound in llm-prod and llm-staging only.
    let other = operator.kubectl_ok(&["auth", "can-i", "--list", "-n", "default"]);
    assert_eq!(row(&other, "pods.*"), None, "{other}");
    assert_eq!(
        row(&other, "*.*"),
        Some("[get list watch]".into()),
        "{other}"
    );
}
