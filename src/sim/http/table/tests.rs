use axum::http::{HeaderMap, HeaderValue, header};
use serde_json::{Value, json};

use super::*;
use crate::sim::kinds::{self, ALL};

const KUBECTL_ACCEPT: &str = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";

fn now() -> jiff::Timestamp {
    "2026-11-26T12:00:00Z".parse().unwrap()
}

/// `secs` seconds before [`now`], as a metav1.Time.
fn ago(secs: i64) -> String {
    let t = jiff::Timestamp::from_second(now().as_second() - secs).unwrap();
    crate::sim::meta::format_time(t)
}

fn opts(include: Include) -> TableOptions {
    TableOptions {
        api_version: "meta.k8s.io/v1",
        include,
    }
}

fn strings(cells: &[Value]) -> Vec<String> {
    cells
        .iter()
        .map(|c| match c {
            Value::String(s) => s.clone(),
            Value::Null => "<null>".into(),
            other => other.to_string(),
        })
        .collect()
}

#[test]
fn ages_print_like_human_duration() {
    let cases = [
        (-5, "<invalid>"),
        (-1, "0s"),
        (0, "0s"),
        (119, "119s"),
        (120, "2m"),
        (125, "2m5s"),
        (599, "9m59s"),
        (600, "10m"),
        (3 * 3600 - 1, "179m"),
        (3 * 3600, "3h"),
        (3 * 3600 + 60 * 7, "3h7m"),
        (8 * 3600, "8h"),
        (47 * 3600, "47h"),
        (48 * 3600, "2d"),
        (3 * 86400 + 4 * 3600, "3d4h"),
        (8 * 86400, "8d"),
        (729 * 86400, "729d"),
        (731 * 86400, "2y1d"),
        (9 * 365 * 86400, "9y"),
    ];
    for (secs, want) in cases {
        assert_eq!(human_duration(secs), want, "{secs}s");
    }
    assert_eq!(age(None, now()), "<unknown>");
    assert_eq!(age(Some(&ago(45)), now()), "45s");
}

#[test]
fn accept_header_negotiation() {
    assert_eq!(table_version(KUBECTL_ACCEPT), Some("meta.k8s.io/v1"));
    assert_eq!(
        table_version("application/json;as=Table;v=v1beta1;g=meta.k8s.io"),
        Some("meta.k8s.io/v1beta1")
    );
    assert_eq!(table_version("application/json"), None);
    assert_eq!(table_version("*/*"), None);
    assert_eq!(table_version(""), None);
    // An unanswerable clause is skipped, the next one decides.
    assert_eq!(
        table_version(
            "application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io, application/json; as=Table; v=v1; g=meta.k8s.io"
        ),
        Some("meta.k8s.io/v1")
    );
    assert_eq!(
        table_version("application/json;as=Table;v=v2;g=meta.k8s.io,application/json"),
        None
    );
    // A plain clause first wins over a later Table clause.
    assert_eq!(
        table_version("application/json,application/json;as=Table;v=v1;g=meta.k8s.io"),
        None
    );
}

#[test]
fn include_object_is_validated_only_for_tables() {
    let mut headers = HeaderMap::new();
    let q = crate::sim::http::query::Query::parse("includeObject=Bogus").unwrap();
    assert_eq!(requested(&headers, &q).unwrap(), None);
    headers.insert(header::ACCEPT, HeaderValue::from_static(KUBECTL_ACCEPT));
    let e = requested(&headers, &q).unwrap_err();
    assert_eq!(e.code, 400);
    assert!(
        e.message
            .contains("includeObject: Unsupported value: \"Bogus\"")
    );
    for (raw, want) in [
        ("", Include::Metadata),
        ("includeObject=Metadata", Include::Metadata),
        ("includeObject=Object", Include::Object),
        ("includeObject=None", Include::None),
    ] {
        let q = crate::sim::http::query::Query::parse(raw).unwrap();
        assert_eq!(requested(&headers, &q).unwrap(), Some(opts(want)));
    }
}

fn running_pod() -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web-abc", "namespace": "ns", "resourceVersion": "7",
                     "creationTimestamp": ago(300), "labels": {"app": "web"}},
        "spec": {"nodeName": "node-1", "containers": [{"name": "a"}, {"name": "b"}]},
        "status": {
            "phase": "Running", "podIP": "10.0.0.5", "podIPs": [{"ip": "10.0.0.5"}],
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [
                {"name": "a", "ready": true, "restartCount": 0, "state": {"running": {}}},
                {"name": "b", "ready": true, "restartCount": 0, "state": {"running": {}}}
            ]
        }
    })
}

#[test]
fn pod_rows() {
    let pod = running_pod();
    assert_eq!(
        strings(&cells(&kinds::PODS, &pod, now())),
        [
            "web-abc", "2/2", "Running", "0", "5m", "10.0.0.5", "node-1", "<none>", "<none>"
        ]
    );

    let mut terminating = pod.clone();
    terminating["metadata"]["deletionTimestamp"] = json!(ago(-30));
    assert_eq!(cells(&kinds::PODS, &terminating, now())[2], "Terminating");
    // A finished pod keeps its phase while being deleted.
    let mut done = terminating.clone();
    done["status"]["phase"] = json!("Succeeded");
    done["status"]["containerStatuses"] = json!([
        {"name": "a", "ready": false, "restartCount": 0,
         "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}
    ]);
    assert_eq!(cells(&kinds::PODS, &done, now())[2], "Completed");
    assert_eq!(
        pod::row_conditions(&done).unwrap()[0]["reason"],
        json!("Succeeded")
    );

    let mut crashing = pod.clone();
    crashing["status"]["containerStatuses"][1] = json!({
        "name": "b", "ready": false, "restartCount": 3,
        "state": {"waiting": {"reason": "CrashLoopBackOff"}},
        "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(125)}}
    });
    assert_eq!(
        strings(&cells(&kinds::PODS, &crashing, now()))[1..4],
        ["1/2", "CrashLoopBackOff", "3 (2m5s ago)"]
    );

    let pending = json!({
        "metadata": {"name": "p", "creationTimestamp": ago(3)},
        "spec": {"containers": [{"name": "a"}], "initContainers": [{"name": "init"}]},
        "status": {"phase": "Pending",
                   "initContainerStatuses": [{"name": "init", "ready": false, "restartCount": 0,
                                              "state": {"waiting": {"reason": "PodInitializing"}}}]}
    });
    assert_eq!(
        strings(&cells(&kinds::PODS, &pending, now())),
        [
            "p", "0/1", "Init:0/1", "0", "3s", "<none>", "<none>", "<none>", "<none>"
        ]
    );
    let bare = json!({"metadata": {"name": "q"}, "spec": {"containers": [{"name": "a"}]},
                      "status": {"phase": "Pending"}});
    assert_eq!(
        strings(&cells(&kinds::PODS, &bare, now()))[..5],
        ["q", "0/1", "Pending", "0", "<unknown>"]
    );
}

#[test]
fn workload_rows() {
    let dep = json!({
        "metadata": {"name": "web", "creationTimestamp": ago(7200)},
        "spec": {"replicas": 3,
                 "selector": {"matchLabels": {"app": "web"},
                              "matchExpressions": [{"key": "tier", "operator": "In", "values": ["b", "a"]}]},
                 "template": {"spec": {"containers": [{"name": "c1", "image": "i1"}, {"name": "c2", "image": "i2"}]}}},
        "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}
    });
    assert_eq!(
        cells(&kinds::DEPLOYMENTS, &dep, now()),
        vec![
            json!("web"),
            json!("2/3"),
            json!(3),
            json!(2),
            json!("120m"),
            json!("c1,c2"),
            json!("i1,i2"),
            json!("app=web,tier in (a,b)")
        ]
    );
    let rs = json!({"metadata": {"name": "web-1"}, "spec": {"replicas": 2},
                    "status": {"replicas": 2, "readyReplicas": 1}});
    assert_eq!(
        strings(&cells(&kinds::REPLICASETS, &rs, now()))[..4],
        ["web-1", "2", "2", "1"]
    );
    let svc = json!({"metadata": {"name": "s"},
                     "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.1",
                              "ports": [{"port": 80, "protocol": "TCP"}, {"port": 443, "nodePort": 30443}],
                              "selector": {"b": "2", "a": "1"}}});
    assert_eq!(
        strings(&cells(&kinds::SERVICES, &svc, now())),
        [
            "s",
            "ClusterIP",
            "10.96.0.1",
            "<none>",
            "80/TCP,443:30443/TCP",
            "<unknown>",
            "a=1,b=2"
        ]
    );
    let lb = json!({"metadata": {"name": "lb"}, "spec": {"type": "LoadBalancer", "clusterIPs": ["10.0.0.9"]}});
    assert_eq!(
        strings(&cells(&kinds::SERVICES, &lb, now()))[1..5],
        ["LoadBalancer", "10.0.0.9", "<pending>", "<none>"]
    );
}

#[test]
fn other_built_in_rows() {
    let hpa = json!({"metadata": {"name": "h"},
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "minReplicas": 1, "maxReplicas": 4,
                 "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]},
        "status": {"currentReplicas": 2}});
    assert_eq!(
        strings(&cells(&kinds::HPAS, &hpa, now()))[..6],
        ["h", "Deployment/web", "cpu: <unknown>/80%", "1", "4", "2"]
    );
    let mut measured = hpa.clone();
    measured["status"]["currentMetrics"] = json!([{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 42}}}]);
    measured["spec"]
        .as_object_mut()
        .unwrap()
        .remove("minReplicas");
    assert_eq!(
        strings(&cells(&kinds::HPAS, &measured, now()))[2..4],
        ["cpu: 42%/80%", "<unset>"]
    );

    let ing = json!({"metadata": {"name": "i"},
        "spec": {"ingressClassName": "istio", "rules": [{"host": "a.example.com"}, {"host": "b.example.com"}]},
        "status": {"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}]}}});
    assert_eq!(
        strings(&cells(&kinds::INGRESSES, &ing, now()))[..5],
        ["i", "istio", "a.example.com,b.example.com", "1.2.3.4", "80"]
    );
    let many = json!({"metadata": {"name": "m"}, "spec": {"tls": [{}],
        "rules": [{"host": "a"}, {"host": "b"}, {"host": "c"}, {"host": "d"}, {"host": "e"}]}});
    assert_eq!(
        strings(&cells(&kinds::INGRESSES, &many, now()))[1..5],
        ["<none>", "a,b,c + 2 more...", "", "80, 443"]
    );

    let cm =
        json!({"metadata": {"name": "c"}, "data": {"a": "1", "b": "2"}, "binaryData": {"c": ""}});
    assert_eq!(
        strings(&cells(&kinds::CONFIGMAPS, &cm, now()))[..2],
        ["c", "3"]
    );
    let lease = json!({"metadata": {"name": "l"}, "spec": {"holderIdentity": "me"}});
    assert_eq!(
        strings(&cells(&kinds::LEASES, &lease, now()))[..2],
        ["l", "me"]
    );
    let free = json!({"metadata": {"name": "l"}, "spec": {}});
    assert_eq!(cells(&kinds::LEASES, &free, now())[1], "<unknown>");
    let ns = json!({"metadata": {"name": "n", "creationTimestamp": ago(60)}, "status": {"phase": "Terminating"}});
    assert_eq!(
        strings(&cells(&kinds::NAMESPACES, &ns, now())),
        ["n", "Terminating", "60s"]
    );

    let ev = json!({"metadata": {"name": "web.1"}, "type": "Normal", "reason": "ScalingReplicaSet",
        "involvedObject": {"kind": "Deployment", "name": "web"}, "message": " Scaled up \n",
        "source": {"component": "deployment-controller"},
        "firstTimestamp": ago(600), "lastTimestamp": ago(30)});
    assert_eq!(
        strings(&cells(&kinds::EVENTS, &ev, now())),
        [
            "30s",
            "Normal",
            "ScalingReplicaSet",
            "deployment/web",
            "",
            "deployment-controller",
            "Scaled up",
            "10m",
            "1",
            "web.1"
        ]
    );
}

#[test]
fn inference_service_rows_follow_the_crd_printer_columns() {
    let names: Vec<&str> = columns(&kinds::INFERENCESERVICES)
        .iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(
        names,
        [
            "Name",
            "URL",
            "Ready",
            "Prev",
            "Latest",
            "PrevRolledoutRevision",
            "LatestReadyRevision",
            "Age"
        ]
    );
    let fresh = json!({"metadata": {"name": "m", "creationTimestamp": ago(5)}});
    assert_eq!(
        cells(&kinds::INFERENCESERVICES, &fresh, now()),
        vec![
            json!("m"),
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            json!("5s")
        ]
    );
    let ready = json!({"metadata": {"name": "m", "creationTimestamp": ago(5)},
        "status": {"url": "http://m-ns.example.com",
                   "conditions": [{"type": "PredictorReady", "status": "True"}, {"type": "Ready", "status": "True"}],
                   "components": {"predictor": {"traffic": [
                       {"tag": "prev", "percent": 10, "revisionName": "m-1"},
                       {"latestRevision": true, "percent": 90, "revisionName": "m-2"}]}}}});
    assert_eq!(
        strings(&cells(&kinds::INFERENCESERVICES, &ready, now())),
        [
            "m",
            "http://m-ns.example.com",
            "True",
            "10",
            "90",
            "m-1",
            "m-2",
            "5s"
        ]
    );
}

#[test]
fn every_kind_has_one_cell_per_column() {
    let minimal = json!({"metadata": {"name": "x"}});
    for rt in ALL {
        let n = cells(rt, &minimal, now()).len();
        assert_eq!(n, columns(rt).len(), "{}", rt.plural);
        assert_eq!(columns(rt).iter().filter(|c| c.format == "name").count(), 1);
    }
    let unknown = columns(&kinds::SELFSUBJECTACCESSREVIEWS);
    assert_eq!(
        unknown.iter().map(|c| c.name).collect::<Vec<_>>(),
        ["Name", "Age"]
    );
}

#[test]
fn tables_carry_metadata_columns_and_objects() {
    let pod = running_pod();
    let md = json!({"resourceVersion": "42", "continue": "1-1", "remainingItemCount": 3});
    let t = build(
        &kinds::PODS,
        [&pod],
        opts(Include::Metadata),
        true,
        md.clone(),
        now(),
    );
    assert_eq!(t["kind"], "Table");
    assert_eq!(t["apiVersion"], "meta.k8s.io/v1");
    assert_eq!(t["metadata"], md);
    let defs = t["columnDefinitions"].as_array().unwrap();
    assert_eq!(defs.len(), 9);
    assert_eq!(
        defs[0],
        json!({"name": "Name", "type": "string", "format": "name",
                       "description": NAME_DESCRIPTION, "priority": 0})
    );
    assert_eq!(defs[5]["name"], "IP");
    assert_eq!(defs[5]["priority"], 1);
    let row = &t["rows"][0];
    assert_eq!(row["cells"].as_array().unwrap().len(), 9);
    assert!(row.get("conditions").is_none());
    assert_eq!(
        row["object"],
        json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                       "metadata": pod["metadata"]})
    );

    let full = for_object(&kinds::PODS, &pod, opts(Include::Object), false, now());
    assert_eq!(full["rows"][0]["object"], pod);
    assert_eq!(full["columnDefinitions"], Value::Null);
    assert_eq!(full["metadata"], json!({"resourceVersion": "7"}));
    let none = for_object(&kinds::PODS, &pod, opts(Include::None), true, now());
    assert_eq!(none["rows"][0]["object"], Value::Null);

    let empty = build(
        &kinds::PODS,
        [],
        opts(Include::Metadata),
        true,
        json!({}),
        now(),
    );
    assert_eq!(empty["rows"], json!([]));
}

#[test]
fn scale_table() {
    let scale = json!({"kind": "Scale", "apiVersion": "autoscaling/v1",
        "metadata": {"name": "web", "resourceVersion": "9"},
        "spec": {"replicas": 3}, "status": {"replicas": 2, "selector": "app=web"}});
    let t = for_scale(&scale, opts(Include::Metadata));
    assert_eq!(t["rows"][0]["cells"], json!(["web", 3, 2]));
    assert_eq!(t["metadata"]["resourceVersion"], "9");
    assert_eq!(t["columnDefinitions"][1]["name"], "Desired");
}
