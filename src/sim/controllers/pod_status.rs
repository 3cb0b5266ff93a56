//! The pod status the kubelet reports at each stage of a pod's life: conditions, IPs and
//! container statuses, built on the current status so unchanged parts keep their times.

use serde_json::{Map, Value, json};

use super::kubelet::NODES;
use super::objects::{Cond, conditions_of, hash64, rng_for, set_condition, str_at};
use crate::sim::meta;

pub fn containers(pod: &Value) -> impl Iterator<Item = &Value> {
    pod.pointer("/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Bound to a node, containers being created.
    Creating,
    Running {
        ready: bool,
    },
    /// Being deleted: containers stopped.
    Terminated,
}

fn hex64(seed: u64, parts: &[&str]) -> String {
    let mut r = rng_for(seed, parts);
    (0..4).map(|_| format!("{:016x}", r.next_u64())).collect()
}

/// The pod's status at `stage`, built on its current status (times of unchanged conditions and
/// container start times are kept).
pub fn pod_status(pod: &Value, seed: u64, stage: Stage) -> Value {
    let (ns, name) = (meta::namespace(pod), meta::name(pod));
    let now = meta::format_time(meta::now());
    let node = str_at(pod, "/spec/nodeName");
    let node_no = NODES.iter().position(|n| *n == node).map_or(9, |i| i + 1);
    let host_ip = format!("10.0.0.{}", 10 + node_no);
    let pod_ip = format!(
        "10.244.{}.{}",
        node_no,
        2 + hash64(seed, &["ip", ns, name]) % 250
    );
    // The stored status is whatever a client last wrote to `/status`: anything but an object is
    // not a status to build on, so the kubelet starts from an empty one (and reports a real one).
    let old = pod
        .get("status")
        .filter(|s| s.is_object())
        .cloned()
        .unwrap_or_else(|| json!({}));
    let mut s: Map<String, Value> = old.as_object().cloned().unwrap_or_default();
    s.insert(
        "startTime".into(),
        old.get("startTime").cloned().unwrap_or(json!(now)),
    );
    if !node.is_empty() {
        s.insert("hostIP".into(), json!(host_ip));
        s.insert("hostIPs".into(), json!([{"ip": host_ip}]));
    }
    let names: Vec<&str> = containers(pod).map(|c| str_at(c, "/name")).collect();
    let unready = format!("containers with unready status: [{}]", names.join(" "));
    let (phase, ready) = match stage {
        Stage::Creating => ("Pending", false),
        Stage::Running { ready } => ("Running", ready),
        Stage::Terminated => (str_at(&old, "/phase"), false),
    };
    if !phase.is_empty() {
        s.insert("phase".into(), json!(phase));
    }
    if matches!(stage, Stage::Running { .. }) {
        s.insert("podIP".into(), json!(pod_ip));
        s.insert("podIPs".into(), json!([{"ip": pod_ip}]));
    }
    let mut conds = conditions_of(&old);
    let cond = |t, ok: bool| Cond {
        type_: t,
        status: if ok { "True" } else { "False" },
        reason: if ok { "" } else { "ContainersNotReady" },
        message: if ok { "" } else { &unready },
    };
    set_condition(&mut conds, &cond("PodScheduled", true), &now, false);
    set_condition(&mut conds, &cond("Initialized", true), &now, false);
    set_condition(&mut conds, &cond("ContainersReady", ready), &now, false);
    set_condition(&mut conds, &cond("Ready", ready), &now, false);
    let order = ["Initialized", "Ready", "ContainersReady", "PodScheduled"];
    conds.sort_by_key(|c| order.iter().position(|t| c["type"] == *t).unwrap_or(9));
    for c in conds.iter_mut().filter_map(Value::as_object_mut) {
        c.entry("lastProbeTime").or_insert(Value::Null);
    }
    s.insert("conditions".into(), Value::Array(conds));

    let old_statuses = old.get("containerStatuses").and_then(Value::as_array);
    let statuses: Vec<Value> = containers(pod)
        .map(|c| {
            let cname = str_at(c, "/name");
            let image = str_at(c, "/image");
            let prev = old_statuses
                .and_then(|a| a.iter().find(|x| str_at(x, "/name") == cname))
                .cloned()
                .unwrap_or(json!({}));
            let started_at = prev
                .pointer("/state/running/startedAt")
                .cloned()
                .unwrap_or(json!(now));
            let repo = image.split('@').next().unwrap_or(image);
            let repo = repo
                .rsplit_once(':')
                .map_or(repo, |(r, tag)| if tag.contains('/') { repo } else { r });
            let mut cs = json!({
                "name": cname,
                "image": image,
                "imageID": "",
                "ready": false,
                "started": false,
                "restartCount": 0,
                "lastState": {},
            });
            match stage {
                Stage::Creating => {
                    meta::set_field(
                        &mut cs,
                        "state",
                        json!({"waiting": {"reason": "ContainerCreating"}}),
                    );
                }
                Stage::Running { ready } => {
                    meta::set_field(
                        &mut cs,
                        "imageID",
                        json!(format!("{repo}@sha256:{}", hex64(seed, &[image]))),
                    );
                    meta::set_field(
                        &mut cs,
                        "containerID",
                        json!(format!(
                            "containerd://{}",
                            hex64(seed, &["container", ns, name, cname])
                        )),
                    );
                    meta::set_field(&mut cs, "ready", json!(ready));
                    meta::set_field(&mut cs, "started", json!(true));
                    meta::set_field(
                        &mut cs,
                        "state",
                        json!({"running": {"startedAt": started_at}}),
                    );
                }
                Stage::Terminated => {
                    for k in ["imageID", "containerID"] {
                        if let Some(v) = prev.get(k) {
                            meta::set_field(&mut cs, k, v.clone());
                        }
                    }
                    meta::set_field(
                        &mut cs,
                        "state",
                        json!({"terminated": {
                            "exitCode": 0,
                            "reason": "Completed",
                            "startedAt": started_at,
                            "finishedAt": now,
                        }}),
                    );
                }
            }
            cs
        })
        .collect();
    s.insert("containerStatuses".into(), Value::Array(statuses));
    Value::Object(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression (sim_fuzz): a client can write any JSON to `pods/<name>/status` (a merge patch
    /// `{"status": 5}`); the kubelet's next pass indexed into it and panicked.
    #[test]
    fn a_status_that_is_not_an_object_is_rebuilt() {
        for junk in [json!(5), json!("x"), json!([1, 2]), json!(true)] {
            let pod = json!({
                "metadata": {"name": "p", "namespace": "ns"},
                "spec": {"nodeName": "sim-node-1", "containers": [{"name": "c", "image": "i:1"}]},
                "status": junk,
            });
            for stage in [
                Stage::Creating,
                Stage::Running { ready: true },
                Stage::Terminated,
            ] {
                let s = pod_status(&pod, 1, stage);
                assert!(s["startTime"].is_string(), "{s}");
                assert_eq!(s["hostIP"], "10.0.0.11");
                assert_eq!(s["containerStatuses"][0]["name"], "c");
            }
            assert_eq!(pod_status(&pod, 1, Stage::Creating)["phase"], "Pending");
        }
    }

    #[test]
    fn stages_build_on_each_other() {
        let mut pod = json!({
            "metadata": {"name": "p", "namespace": "ns"},
            "spec": {"nodeName": "sim-node-2", "containers": [{"name": "c", "image": "repo/img:1.0"}]},
            "status": {"phase": "Pending", "qosClass": "BestEffort"},
        });
        pod["status"] = pod_status(&pod, 1, Stage::Creating);
        assert_eq!(pod["status"]["hostIP"], "10.0.0.12");
        assert!(pod["status"].get("podIP").is_none());
        assert_eq!(
            pod["status"]["containerStatuses"][0]["state"]["waiting"]["reason"],
            "ContainerCreating"
        );
        pod["status"] = pod_status(&pod, 1, Stage::Running { ready: true });
        let s = &pod["status"];
        assert_eq!(s["phase"], "Running");
        assert_eq!(s["qosClass"], "BestEffort");
        assert!(s["podIP"].as_str().unwrap().starts_with("10.244.2."));
        let types: Vec<&str> = s["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["type"].as_str().unwrap())
            .collect();
        assert_eq!(
            types,
            ["Initialized", "Ready", "ContainersReady", "PodScheduled"]
        );
        assert!(s["conditions"][0]["lastProbeTime"].is_null());
        let cs = &s["containerStatuses"][0];
        assert!(
            cs["imageID"]
                .as_str()
                .unwrap()
                .starts_with("repo/img@sha256:")
        );
        assert!(
            cs["containerID"]
                .as_str()
                .unwrap()
                .starts_with("containerd://")
        );
        let started = cs["state"]["running"]["startedAt"].clone();
        pod["status"] = pod_status(&pod, 1, Stage::Terminated);
        let cs = &pod["status"]["containerStatuses"][0];
        assert_eq!(cs["state"]["terminated"]["startedAt"], started);
        assert_eq!(cs["ready"], false);
        assert_eq!(pod["status"]["phase"], "Running");
    }
}
