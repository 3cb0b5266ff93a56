//! Server-side printing: kubectl asks for `as=Table` and shows the columns the server defines, so
//! these check the columns and cells a real cluster shows for each kind.

use std::collections::BTreeMap;

use super::{header_names, parse_table, sim_with_kubectl};
use crate::common::SimServer;

fn header(out: &str) -> Vec<String> {
    header_names(out.lines().next().unwrap_or(""))
}

fn row<'a>(
    rows: &'a [BTreeMap<String, String>],
    name: &str,
    out: &str,
) -> &'a BTreeMap<String, String> {
    rows.iter()
        .find(|r| r["NAME"] == name)
        .unwrap_or_else(|| panic!("no row {name} in:\n{out}"))
}

fn get(sim: &SimServer, args: &[&str]) -> (String, Vec<BTreeMap<String, String>>) {
    let mut full = vec!["get"];
    full.extend_from_slice(args);
    let out = sim.kubectl_ok(&full);
    let rows = parse_table(&out);
    (out, rows)
}

const EXTRA: &str = r#"
apiVersion: v1
kind: ConfigMap
metadata: {name: two-keys, namespace: llm-prod}
data: {a: "1", b: "2"}
---
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: redeploy-lock, namespace: llm-prod}
spec: {holderIdentity: console-1, leaseDurationSeconds: 15}
---
apiVersion: v1
kind: Event
metadata: {name: bge-reranker.test, namespace: llm-prod}
type: Warning
reason: TestReason
message: something happened
involvedObject: {kind: Deployment, name: bge-reranker, namespace: llm-prod}
source: {component: conformance-test}
count: 3
firstTimestamp: "2026-01-01T00:00:00Z"
lastTimestamp: "2026-01-01T00:05:00Z"
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: empty-rs, namespace: llm-prod}
spec:
  replicas: 0
  selector: {matchLabels: {app: empty-rs}}
  template:
    metadata: {labels: {app: empty-rs}}
    spec: {containers: [{name: c, image: busybox:1.36}]}
---
apiVersion: v1
kind: Pod
metadata:
  name: table-pod
  namespace: llm-prod
  labels: {app: table-pod}
  finalizers: [example.com/hold]
spec:
  nodeName: gpu-node-9
  containers: [{name: c, image: busybox:1.36}]
"#;

#[test]
#[ignore = "needs kubectl: run via .ci/run or set KUBECTL"]
fn tables_have_the_apiservers_columns() {
    let Some(sim) = sim_with_kubectl("tables_have_the_apiservers_columns", "healthy") else {
        return;
    };
    let file = sim.write_file("extra.yaml", EXTRA);
    sim.kubectl_ok(&["create", "-f", file.to_str().unwrap()]);

    let (out, rows) = get(&sim, &["deploy", "-n", "llm-prod"]);
    assert_eq!(
        header(&out),
        ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    );
    let bge = row(&rows, "bge-reranker", &out);
    assert!(bge["READY"].ends_with("/2"), "{out}");
    let (out, rows) = get(&sim, &["deploy", "-n", "llm-prod", "-o", "wide"]);
    assert_eq!(
        header(&out),
        [
            "NAME",
            "READY",
            "UP-TO-DATE",
            "AVAILABLE",
            "AGE",
            "CONTAINERS",
            "IMAGES",
            "SELECTOR"
        ]
    );
    let bge = row(&rows, "bge-reranker", &out);
    assert_eq!(
        bge["IMAGES"],
        "ghcr.io/huggingface/text-embeddings-inference:1.5"
    );
    assert_eq!(bge["SELECTOR"], "app=bge-reranker");

    let (out, rows) = get(&sim, &["rs", "empty-rs", "-n", "llm-prod", "-o", "wide"]);
    assert_eq!(
        header(&out),
        [
            "NAME",
            "DESIRED",
            "CURRENT",
            "READY",
            "AGE",
            "CONTAINERS",
            "IMAGES",
            "SELECTOR"
        ]
    );
    assert_eq!(row(&rows, "empty-rs", &out)["DESIRED"], "0");

    let (out, rows) = get(&sim, &["svc", "-n", "llm-prod", "-o", "wide"]);
    assert_eq!(
        header(&out),
        [
            "NAME",
            "TYPE",
            "CLUSTER-IP",
            "EXTERNAL-IP",
            "PORT(S)",
            "AGE",
            "SELECTOR"
        ]
    );
    let svc = row(&rows, "bge-reranker", &out);
    assert_eq!(
        (
            svc["TYPE"].as_str(),
            svc["EXTERNAL-IP"].as_str(),
            svc["PORT(S)"].as_str()
        ),
        ("ClusterIP", "<none>", "80/TCP")
    );
    assert!(svc["CLUSTER-IP"].starts_with("10."), "{out}");

    let (out, rows) = get(&sim, &["hpa", "-n", "llm-prod"]);
    assert_eq!(
        header(&out),
        [
            "NAME",
            "REFERENCE",
            "TARGETS",
            "MINPODS",
            "MAXPODS",
            "REPLICAS",
            "AGE"
        ]
    );
    let hpa = row(&rows, "bge-reranker", &out);
    assert_eq!(hpa["REFERENCE"], "Deployment/bge-reranker");
    assert!(
        hpa["TARGETS"].starts_with("cpu: ") && hpa["TARGETS"].ends_with("/80%"),
        "{out}"
    );

    let (out, rows) = get(&sim, &["ing", "-n", "llm-prod"]);
    assert_eq!(
        header(&out),
        ["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"]
    );
    assert_eq!(
        row(&rows, "bge-reranker", &out)["HOSTS"],
        "bge-reranker-llm-prod.example.com"
    );

    let (out, rows) = get(&sim, &["isvc", "-n", "llm-prod"]);
    assert_eq!(
        header(&out),
        [
            "NAME",
            "URL",
            "READY",
            "PREV",
            "LATEST",
            "PREVROLLEDOUTREVISION",
            "LATESTREADYREVISION",
            "AGE"
        ]
    );
    row(&rows, "llama-3-8b-instruct", &out);

    let (out, rows) = get(&sim, &["ns"]);
    assert_eq!(header(&out), ["NAME", "STATUS", "AGE"]);
    assert_eq!(row(&rows, "llm-prod", &out)["STATUS"], "Active");

    let (out, rows) = get(&sim, &["cm", "two-keys", "-n", "llm-prod"]);
    assert_eq!(header(&out), ["NAME", "DATA", "AGE"]);
    assert_eq!(row(&rows, "two-keys", &out)["DATA"], "2");

    let (out, rows) = get(&sim, &["lease", "-n", "llm-prod"]);
    assert_eq!(header(&out), ["NAME", "HOLDER", "AGE"]);
    assert_eq!(row(&rows, "redeploy-lock", &out)["HOLDER"], "console-1");

    let (out, rows) = get(
        &sim,
        &[
            "events",
            "-n",
            "llm-prod",
            "--field-selector",
            "reason=TestReason",
        ],
    );
    assert_eq!(
        header(&out),
        ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    );
    assert_eq!(rows.len(), 1, "{out}");
    assert_eq!(
        (
            rows[0]["TYPE"].as_str(),
            rows[0]["OBJECT"].as_str(),
            rows[0]["MESSAGE"].as_str()
        ),
        ("Warning", "deployment/bge-reranker", "something happened")
    );

    let (out, rows) = get(&sim, &["pod", "table-pod", "-n", "llm-prod"]);
    assert_eq!(header(&out), ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
    let pod = row(&rows, "table-pod", &out);
    assert!(pod["READY"].ends_with("/1"), "{out}");
    let (out, rows) = get(&sim, &["pod", "table-pod", "-n", "llm-prod", "-o", "wide"]);
    assert_eq!(
        header(&out),
        [
            "NAME",
            "READY",
            "STATUS",
            "RESTARTS",
            "AGE",
            "IP",
            "NODE",
            "NOMINATED NODE",
            "READINESS GATES"
        ]
    );
    let pod = row(&rows, "table-pod", &out);
    assert_eq!(
        (
            pod["NODE"].as_str(),
            pod["NOMINATED NODE"].as_str(),
            pod["READINESS GATES"].as_str()
        ),
        ("gpu-node-9", "<none>", "<none>")
    );

    // A pod being deleted shows Terminating (its finalizer keeps it).
    sim.kubectl_ok(&[
        "delete",
        "pod",
        "table-pod",
        "-n",
        "llm-prod",
        "--wait=false",
    ]);
    let (out, rows) = get(&sim, &["pod", "table-pod", "-n", "llm-prod"]);
    assert_eq!(row(&rows, "table-pod", &out)["STATUS"], "Terminating");
}

#[test]
#[ignore = "needs kubectl: run via .ci/run or set KUBECTL"]
fn tables_carry_metadata_and_objects_for_client_side_columns() {
    let Some(sim) = sim_with_kubectl("tables_carry_metadata", "healthy") else {
        return;
    };
    let raw_endpoints = ["-l", "team in (search,speech,research)"];

    // --show-labels and -L read the rows' PartialObjectMetadata.
    let mut args = vec!["deploy", "-A", "--show-labels", "-L", "team"];
    args.extend_from_slice(&raw_endpoints);
    let (out, rows) = get(&sim, &args);
    assert_eq!(
        header(&out),
        [
            "NAMESPACE",
            "NAME",
            "READY",
            "UP-TO-DATE",
            "AVAILABLE",
            "AGE",
            "TEAM",
            "LABELS"
        ]
    );
    let bge = rows
        .iter()
        .find(|r| r["NAMESPACE"] == "llm-staging" && r["NAME"] == "bge-m3-embed")
        .unwrap_or_else(|| panic!("no llm-staging/bge-m3-embed in:\n{out}"));
    assert_eq!(bge["TEAM"], "search");
    assert!(bge["LABELS"].contains("team=search"), "{out}");

    // --sort-by needs the whole objects (includeObject=Object).
    let mut args = vec!["deploy", "-A", "--sort-by=.spec.replicas"];
    args.extend_from_slice(&raw_endpoints);
    let (out, rows) = get(&sim, &args);
    let desired: Vec<&str> = rows
        .iter()
        .map(|r| r["READY"].rsplit('/').next().unwrap_or(""))
        .collect();
    assert_eq!(desired, ["1", "1", "2", "2"], "{out}");
    let mut args = vec![
        "get",
        "deploy",
        "-A",
        "--sort-by=.metadata.name",
        "-o",
        "name",
    ];
    args.extend_from_slice(&raw_endpoints);
    let names = sim.kubectl_ok(&args);
    assert_eq!(
        names.lines().collect::<Vec<_>>(),
        [
            "deployment.apps/bge-m3-embed",
            "deployment.apps/bge-reranker",
            "deployment.apps/phi-3-mini",
            "deployment.apps/whisper-large"
        ]
    );

    // Paging (--chunk-size) keeps one table.
    let (out, rows) = get(
        &sim,
        &["deploy", "-A", "--chunk-size=1", "-l", "team=search"],
    );
    assert_eq!(
        out.lines().filter(|l| l.starts_with("NAMESPACE")).count(),
        1,
        "{out}"
    );
    assert_eq!(rows.len(), 2, "{out}");
}
