//! What needs the simulator's controllers (Deployment, ReplicaSet, kubelet, garbage collector,
//! pod logs): logs and log following, cascading deletion with each propagation policy, and
//! scaling.

use serde_json::Value;

use super::{
    CONTROLLER_DEADLINE, STREAM_DEADLINE, event_of, item_names, next_json, sim_with_kubectl, stderr,
};
use crate::common::{KubectlChild, SimServer, eventually};

const NS: &str = "llm-prod";
const DEPLOY: &str = "bge-reranker";
const SELECTOR: &str = "app=bge-reranker";

/// Waits until the Deployment has rolled out (kubectl rollout status reads its conditions).
fn rolled_out(sim: &SimServer) {
    let out = sim.kubectl_ok(&[
        "rollout",
        "status",
        &format!("deployment/{DEPLOY}"),
        "-n",
        NS,
        "--timeout=90s",
    ]);
    assert!(out.contains("successfully rolled out"), "{out}");
}

fn json_or_none(sim: &SimServer, args: &[&str]) -> Option<Value> {
    let out = sim.kubectl(args);
    if out.status.success() {
        return serde_json::from_slice(&out.stdout).ok();
    }
    let err = stderr(&out);
    assert!(err.contains("NotFound"), "kubectl {args:?}: {err}");
    None
}

fn uid(obj: &Value) -> String {
    obj["metadata"]["uid"].as_str().unwrap_or("").to_string()
}

fn owner_uids(obj: &Value) -> Vec<String> {
    obj["metadata"]["ownerReferences"]
        .as_array()
        .map(|refs| {
            refs.iter()
                .filter_map(|r| r["uid"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The Deployment, its ReplicaSets and their pods, once rolled out.
struct Family {
    replicasets: Vec<String>,
    replicaset_uids: Vec<String>,
    pods: Vec<String>,
}

fn family(sim: &SimServer) -> Family {
    rolled_out(sim);
    let deployment = sim.kubectl_json(&["get", "deploy", DEPLOY, "-n", NS, "-o", "json"]);
    let rs_list = sim.kubectl_json(&["get", "rs", "-n", NS, "-l", SELECTOR, "-o", "json"]);
    let rs: Vec<&Value> = rs_list["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|r| owner_uids(r) == [uid(&deployment)])
                .collect()
        })
        .unwrap_or_default();
    assert!(
        !rs.is_empty(),
        "no ReplicaSet owned by the Deployment: {rs_list}"
    );
    for r in &rs {
        let owner = &r["metadata"]["ownerReferences"][0];
        assert_eq!(owner["kind"], "Deployment");
        assert_eq!(owner["controller"], true);
        assert_eq!(owner["blockOwnerDeletion"], true);
    }
    let rs_uids: Vec<String> = rs.iter().map(|r| uid(r)).collect();
    let pod_list = sim.kubectl_json(&["get", "pods", "-n", NS, "-l", SELECTOR, "-o", "json"]);
    let pods: Vec<String> = pod_list["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|p| owner_uids(p).iter().any(|o| rs_uids.contains(o)))
                .filter_map(|p| p["metadata"]["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(pods.len(), 2, "the Deployment's 2 pods: {pod_list}");
    Family {
        replicaset_uids: rs_uids,
        replicasets: rs
            .iter()
            .filter_map(|r| r["metadata"]["name"].as_str().map(str::to_string))
            .collect(),
        pods,
    }
}

/// Names among `names` of `kind` that still exist.
fn still_there(sim: &SimServer, kind: &str, names: &[String]) -> Vec<String> {
    names
        .iter()
        .filter(|n| json_or_none(sim, &["get", kind, n, "-n", NS, "-o", "json"]).is_some())
        .cloned()
        .collect()
}

#[test]
#[ignore = "needs kubectl: run via .ci/run or set KUBECTL"]
fn logs_and_logs_follow_of_a_running_pod() {
    let Some(sim) = sim_with_kubectl("logs_and_logs_follow", "healthy") else {
        return;
    };
    let pod = eventually("a bge-reranker pod exists", CONTROLLER_DEADLINE, || {
        let list = sim.kubectl_json(&["get", "pods", "-n", NS, "-l", SELECTOR, "-o", "json"]);
        item_names(&list)
            .into_iter()
            .next()
            .ok_or_else(|| list.to_string())
    });
    sim.kubectl_ok(&[
        "wait",
        "--for=condition=Ready",
        &format!("pod/{pod}"),
        "-n",
        NS,
        "--timeout=90s",
    ]);

    let all = eventually(
        "the pod has written 5 log lines",
        CONTROLLER_DEADLINE,
        || {
            let out = sim.kubectl_ok(&["logs", &pod, "-n", NS]);
            let n = out.lines().count();
            if n >= 5 {
                Ok(out)
            } else {
                Err(format!("{n} lines"))
            }
        },
    );
    assert!(all.lines().all(|l| !l.trim().is_empty()), "{all}");
    let tail = sim.kubectl_ok(&["logs", &pod, "-n", NS, "--tail=2"]);
    assert_eq!(tail.lines().count(), 2, "{tail}");
    // Through the Deployment, kubectl picks one of its pods.
    let via = sim.kubectl_ok(&[
        "logs",
        &format!("deployment/{DEPLOY}"),
        "-n",
        NS,
        "--tail=1",
    ]);
    assert_eq!(via.lines().count(), 1, "{via}");

    // Follow: the last 5 lines, then the stream stays open and brings new ones. Timestamps tell
    // the new lines from the tail.
    let mut follow = sim.kubectl_spawn(&["logs", "-f", "--tail=5", "--timestamps", &pod, "-n", NS]);
    let stamp = |line: &str| -> jiff::Timestamp {
        let (t, _) = line.split_once(' ').unwrap_or((line, ""));
        t.parse()
            .unwrap_or_else(|e| panic!("no RFC 3339 timestamp before {line:?}: {e}"))
    };
    let first = follow.expect_lines(5, STREAM_DEADLINE);
    let more = follow.expect_lines(2, STREAM_DEADLINE);
    let last_of_tail = first.iter().map(|l| stamp(l)).max().expect("5 lines");
    for line in &more {
        assert!(
            stamp(line) >= last_of_tail && !first.contains(line),
            "followed line {line:?} is not newer than the tail {first:?}"
        );
    }
    drop(follow);

    let bad = sim.kubectl_fails(&["logs", &pod, "-n", NS, "-c", "no-such-container"]);
    assert!(
        stderr(&bad).contains("no-such-container"),
        "{}",
        stderr(&bad)
    );
    let missing = sim.kubectl_fails(&["logs", "no-such-pod", "-n", NS]);
    assert!(
        stderr(&missing).contains(r#"pods "no-such-pod" not found"#),
        "{}",
        stderr(&missing)
    );
}

/// Watches the Deployment (`kubectl get deploy NAME -w -o json --output-watch-events`) from before
/// its deletion, so every step of the deletion is seen.
struct DeploymentWatch {
    child: KubectlChild,
    buffer: String,
}

impl DeploymentWatch {
    fn start(sim: &SimServer) -> Self {
        let child = sim.kubectl_spawn(&[
            "get",
            "deploy",
            DEPLOY,
            "-n",
            NS,
            "-w",
            "--output-watch-events",
            "-o",
            "json",
        ]);
        let mut watch = DeploymentWatch {
            child,
            buffer: String::new(),
        };
        let first = watch.next();
        assert_eq!(event_of(&first), ("ADDED".into(), DEPLOY.into()));
        watch
    }

    fn next(&mut self) -> Value {
        next_json(&mut self.child, &mut self.buffer, |d| {
            event_of(d).1 == DEPLOY
        })
    }

    /// The first event showing the deletion: a MODIFIED with a deletionTimestamp, or DELETED.
    fn deletion_started(&mut self) -> Value {
        loop {
            let doc = self.next();
            if doc["type"] == "DELETED"
                || doc["object"]["metadata"]["deletionTimestamp"].is_string()
            {
                return doc;
            }
        }
    }

    fn deleted(&mut self) -> Value {
        loop {
            let doc = self.next();
            if doc["type"] == "DELETED" {
                return doc;
            }
        }
    }
}

fn finalizers(doc: &Value) -> Vec<String> {
    doc["object"]["metadata"]["finalizers"]
        .as_array()
        .map(|f| {
            f.iter()
                .filter_map(|f| f.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
#[ignore = "needs kubectl: run via .ci/run or set KUBECTL"]
fn delete_cascade_foreground_removes_dependents_first() {
    let Some(sim) = sim_with_kubectl("delete_cascade_foreground", "healthy") else {
        return;
    };
    let fam = family(&sim);
    let mut watch = DeploymentWatch::start(&sim);
    sim.kubectl_ok(&[
        "delete",
        "deploy",
        DEPLOY,
        "-n",
        NS,
        "--cascade=foreground",
        "--wait=false",
    ]);
    // The Deployment stays, marked for foreground deletion, while its dependents go...
    let marked = watch.deletion_started();
    assert_eq!(marked["type"], "MODIFIED", "{marked}");
    assert!(
        finalizers(&marked).contains(&"foregroundDeletion".to_string()),
        "{marked}"
    );
    // ... and goes last: once it is gone, so are they.
    watch.deleted();
    assert_eq!(
        still_there(&sim, "rs", &fam.replicasets),
        Vec::<String>::new()
    );
    assert_eq!(still_there(&sim, "pods", &fam.pods), Vec::<String>::new());
}

#[test]
#[ignore = "needs kubectl: run via .ci/run or set KUBECTL"]
fn delete_cascade_background_removes_dependents_after() {
    let Some(sim) = sim_with_kubectl("delete_cascade_background", "healthy") else {
        return;
    };
    let fam = family(&sim);
    let mut watch = DeploymentWatch::start(&sim);
    let out = sim.kubectl_ok(&["delete", "deploy", DEPLOY, "-n", NS, "--cascade=background"]);
    assert!(
        out.contains(&format!(r#"deployment.apps "{DEPLOY}" deleted"#)),
        "{out}"
    );
    // The Deployment is gone at once, without waiting for anything...
    assert_eq!(watch.deletion_started()["type"], "DELETED");
    assert!(json_or_none(&sim, &["get", "deploy", DEPLOY, "-n", NS, "-o", "json"]).is_none());
    // ... and the collector removes its ReplicaSets and pods afterwards.
    eventually(
        "the ReplicaSets and pods are gone",
        CONTROLLER_DEADLINE,
        || {
            let rs = still_there(&sim, "rs", &fam.replicasets);
            let pods = still_there(&sim, "pods", &fam.pods);
            if rs.is_empty() && pods.is_empty() {
                Ok(())
            } else {
                Err(format!("replicasets {rs:?}, pods {pods:?}"))
            }
        },
    );
}

#[test]
#[ignore = "needs kubectl: run via .ci/run or set KUBECTL"]
fn delete_cascade_orphan_leaves_dependents_ownerless() {
    let Some(sim) = sim_with_kubectl("delete_cascade_orphan", "healthy") else {
        return;
    };
    let fam = family(&sim);
    let mut watch = DeploymentWatch::start(&sim);
    // kubectl waits until the Deployment is gone, which takes the collector's orphaning.
    sim.kubectl_ok(&[
        "delete",
        "deploy",
        DEPLOY,
        "-n",
        NS,
        "--cascade=orphan",
        "--timeout=90s",
    ]);
    let marked = watch.deletion_started();
    assert_eq!(marked["type"], "MODIFIED", "{marked}");
    assert!(
        finalizers(&marked).contains(&"orphan".to_string()),
        "{marked}"
    );
    watch.deleted();
    assert!(json_or_none(&sim, &["get", "deploy", DEPLOY, "-n", NS, "-o", "json"]).is_none());
    for name in &fam.replicasets {
        let rs = json_or_none(&sim, &["get", "rs", name, "-n", NS, "-o", "json"])
            .unwrap_or_else(|| panic!("ReplicaSet {name} was deleted, not orphaned"));
        assert!(owner_uids(&rs).is_empty(), "{name} still has owners: {rs}");
        assert!(rs["metadata"]["deletionTimestamp"].is_null(), "{rs}");
    }
    // The pods stay, still owned by their ReplicaSet.
    for name in &fam.pods {
        let pod = json_or_none(&sim, &["get", "pod", name, "-n", NS, "-o", "json"])
            .unwrap_or_else(|| panic!("pod {name} was deleted, not left to its ReplicaSet"));
        let owners = owner_uids(&pod);
        assert!(
            !owners.is_empty() && owners.iter().all(|o| fam.replicaset_uids.contains(o)),
            "{pod}"
        );
    }
}

#[test]
#[ignore = "needs kubectl: run via .ci/run or set KUBECTL"]
fn scale_changes_the_spec_then_the_pods_follow() {
    let Some(sim) = sim_with_kubectl("scale_then_pods_follow", "healthy") else {
        return;
    };
    rolled_out(&sim);
    let out = sim.kubectl_ok(&[
        "scale",
        &format!("deploy/{DEPLOY}"),
        "-n",
        NS,
        "--replicas=3",
    ]);
    assert_eq!(out.trim(), format!("deployment.apps/{DEPLOY} scaled"));
    let dep = sim.kubectl_json(&["get", "deploy", DEPLOY, "-n", NS, "-o", "json"]);
    assert_eq!(dep["spec"]["replicas"], 3);
    let scale = sim.kubectl_json(&[
        "get",
        "deploy",
        DEPLOY,
        "-n",
        NS,
        "--subresource=scale",
        "-o",
        "json",
    ]);
    assert_eq!(
        (scale["kind"].as_str(), scale["spec"]["replicas"].as_i64()),
        (Some("Scale"), Some(3))
    );

    sim.kubectl_ok(&[
        "wait",
        "--for=jsonpath={.status.readyReplicas}=3",
        &format!("deploy/{DEPLOY}"),
        "-n",
        NS,
        "--timeout=90s",
    ]);
    let live = |sim: &SimServer| -> Vec<Value> {
        let list = sim.kubectl_json(&["get", "pods", "-n", NS, "-l", SELECTOR, "-o", "json"]);
        list["items"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    };
    let pods = live(&sim);
    assert_eq!(pods.len(), 3, "{pods:?}");
    assert!(
        pods.iter().all(|p| p["status"]["phase"] == "Running"),
        "{pods:?}"
    );

    // And down again.
    sim.kubectl_ok(&[
        "scale",
        &format!("deploy/{DEPLOY}"),
        "-n",
        NS,
        "--replicas=1",
    ]);
    eventually("one live pod", CONTROLLER_DEADLINE, || {
        let n = live(&sim).len();
        if n == 1 {
            Ok(())
        } else {
            Err(format!("{n} live pods"))
        }
    });
    rolled_out(&sim);
}
