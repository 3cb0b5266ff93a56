//! The pod printer (`printPod` in kubernetes/pkg/printers/internalversion): READY counts ready
//! running containers, STATUS is the phase refined by init and container states and
//! `Terminating` once a live pod has a deletionTimestamp, RESTARTS sums restart counts.

use serde_json::{Value, json};

use super::{AGE, Column, NAME, age};

pub const COLUMNS: &[Column] = &[
    NAME,
    Column {
        name: "Ready",
        ty: "string",
        format: "",
        description: "The aggregate readiness state of this pod for accepting traffic.",
        priority: 0,
    },
    Column {
        name: "Status",
        ty: "string",
        format: "",
        description: "The aggregate status of the containers in this pod.",
        priority: 0,
    },
    Column {
        name: "Restarts",
        ty: "string",
        format: "",
        description: "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
        priority: 0,
    },
    AGE,
    Column {
        name: "IP",
        ty: "string",
        format: "",
        description: "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.",
        priority: 1,
    },
    Column {
        name: "Node",
        ty: "string",
        format: "",
        description: "NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling by the scheduler defined in schedulerName. Once this field is set, the kubelet for this node becomes responsible for the lifecycle of this pod. This field should not be used to express a desire for the pod to be scheduled on a specific node. https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename",
        priority: 1,
    },
    Column {
        name: "Nominated Node",
        ty: "string",
        format: "",
        description: "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods. This field does not guarantee that the pod will be scheduled on this node. Scheduler may decide to place the pod elsewhere if other nodes become available sooner. Scheduler may also decide to give the resources on this node to a higher priority pod that is created after preemption. As a result, this field may be different than PodSpec.nodeName when the pod is scheduled.",
        priority: 1,
    },
    Column {
        name: "Readiness Gates",
        ty: "string",
        format: "",
        description: "If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its containers are ready AND all conditions specified in the readiness gates have status equal to \"True\" More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates",
        priority: 1,
    },
];

fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

fn array_at<'a>(v: &'a Value, pointer: &str) -> &'a [Value] {
    v.pointer(pointer)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn int_at(v: &Value, pointer: &str) -> i64 {
    v.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

/// Time of the latest `lastState.terminated.finishedAt`, to say when the last restart was.
fn later<'a>(current: Option<&'a str>, status: &'a Value) -> Option<&'a str> {
    let finished = status
        .pointer("/lastState/terminated/finishedAt")
        .and_then(Value::as_str);
    let parse = |s: &str| crate::sim::meta::parse_time(s);
    match (current, finished) {
        (Some(c), Some(f)) if parse(f) > parse(c) => Some(f),
        (None, f) => f,
        (c, _) => c,
    }
}

/// `<prefix><reason>` of a terminated container, else `<prefix>Signal:N` or `<prefix>ExitCode:N`.
fn terminated_reason(terminated: &Value, prefix: &str) -> String {
    let reason = str_at(terminated, "/reason");
    if !reason.is_empty() {
        return format!("{prefix}{reason}");
    }
    let signal = int_at(terminated, "/signal");
    if signal != 0 {
        format!("{prefix}Signal:{signal}")
    } else {
        format!("{prefix}ExitCode:{}", int_at(terminated, "/exitCode"))
    }
}

fn is_restartable_init(pod: &Value, name: &str) -> bool {
    array_at(pod, "/spec/initContainers")
        .iter()
        .any(|c| str_at(c, "/name") == name && str_at(c, "/restartPolicy") == "Always")
}

fn condition_true(pod: &Value, kind: &str) -> bool {
    array_at(pod, "/status/conditions")
        .iter()
        .any(|c| str_at(c, "/type") == kind && str_at(c, "/status") == "True")
}

/// NAME READY STATUS RESTARTS AGE IP NODE NOMINATED-NODE READINESS-GATES.
pub fn cells(pod: &Value, now: jiff::Timestamp) -> Vec<Value> {
    let init_specs = array_at(pod, "/spec/initContainers");
    let mut total = array_at(pod, "/spec/containers").len();
    total += init_specs
        .iter()
        .filter(|c| str_at(c, "/restartPolicy") == "Always")
        .count();
    let mut ready = 0usize;
    let mut restarts = 0i64;
    let mut sidecar_restarts = 0i64;
    let mut last_restart: Option<&str> = None;
    let mut last_sidecar_restart: Option<&str> = None;
    let phase = str_at(pod, "/status/phase");
    let mut reason = match str_at(pod, "/status/reason") {
        "" => phase.to_string(),
        r => r.to_string(),
    };
    if array_at(pod, "/status/conditions")
        .iter()
        .any(|c| str_at(c, "/type") == "PodScheduled" && str_at(c, "/reason") == "SchedulingGated")
    {
        reason = "SchedulingGated".into();
    }

    let mut initializing = false;
    for (i, cs) in array_at(pod, "/status/initContainerStatuses")
        .iter()
        .enumerate()
    {
        restarts += int_at(cs, "/restartCount");
        last_restart = later(last_restart, cs);
        let sidecar = is_restartable_init(pod, str_at(cs, "/name"));
        if sidecar {
            sidecar_restarts += int_at(cs, "/restartCount");
            last_sidecar_restart = later(last_sidecar_restart, cs);
        }
        let terminated = cs.pointer("/state/terminated");
        if terminated.is_some_and(|t| int_at(t, "/exitCode") == 0) {
            continue;
        }
        if sidecar && cs.get("started").and_then(Value::as_bool) == Some(true) {
            if cs.get("ready").and_then(Value::as_bool) == Some(true) {
                ready += 1;
            }
            continue;
        }
        let waiting = str_at(cs, "/state/waiting/reason");
        reason = match terminated {
            Some(t) => terminated_reason(t, "Init:"),
            None if !waiting.is_empty() && waiting != "PodInitializing" => {
                format!("Init:{waiting}")
            }
            None => format!("Init:{i}/{}", init_specs.len()),
        };
        initializing = true;
        break;
    }

    if !initializing || condition_true(pod, "Initialized") {
        restarts = sidecar_restarts;
        last_restart = last_sidecar_restart;
        let mut has_running = false;
        for cs in array_at(pod, "/status/containerStatuses").iter().rev() {
            restarts += int_at(cs, "/restartCount");
            last_restart = later(last_restart, cs);
            let waiting = str_at(cs, "/state/waiting/reason");
            if !waiting.is_empty() {
                reason = waiting.to_string();
            } else if let Some(t) = cs.pointer("/state/terminated") {
                reason = terminated_reason(t, "");
            } else if cs.get("ready").and_then(Value::as_bool) == Some(true)
                && cs.pointer("/state/running").is_some()
            {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            reason = if condition_true(pod, "Ready") {
                "Running".into()
            } else {
                "NotReady".into()
            };
        }
    }

    let terminal = matches!(phase, "Succeeded" | "Failed");
    if pod.pointer("/metadata/deletionTimestamp").is_some() {
        if str_at(pod, "/status/reason") == "NodeLost" {
            reason = "Unknown".into();
        } else if !terminal {
            reason = "Terminating".into();
        }
    }

    let restarts_cell = match last_restart {
        Some(t) if restarts != 0 => format!("{restarts} ({} ago)", age(Some(t), now)),
        _ => restarts.to_string(),
    };
    let none_if_empty = |s: &str| {
        if s.is_empty() {
            "<none>".to_string()
        } else {
            s.to_string()
        }
    };
    let ip = array_at(pod, "/status/podIPs")
        .first()
        .map(|p| str_at(p, "/ip"))
        .unwrap_or("");
    let gates = array_at(pod, "/spec/readinessGates");
    let gates_cell = if gates.is_empty() {
        "<none>".to_string()
    } else {
        let passed = gates
            .iter()
            .filter(|g| condition_true(pod, str_at(g, "/conditionType")))
            .count();
        format!("{passed}/{}", gates.len())
    };
    vec![
        json!(crate::sim::meta::name(pod)),
        json!(format!("{ready}/{total}")),
        json!(reason),
        json!(restarts_cell),
        json!(age(
            pod.pointer("/metadata/creationTimestamp")
                .and_then(Value::as_str),
            now
        )),
        json!(none_if_empty(ip)),
        json!(none_if_empty(str_at(pod, "/spec/nodeName"))),
        json!(none_if_empty(str_at(pod, "/status/nominatedNodeName"))),
        json!(gates_cell),
    ]
}

/// Row conditions of finished pods (`Completed` with the phase as reason), as the apiserver sends.
pub fn row_conditions(pod: &Value) -> Option<Value> {
    let message = match str_at(pod, "/status/phase") {
        "Succeeded" => "The pod has completed successfully.",
        "Failed" => "The pod failed.",
        _ => return None,
    };
    Some(json!([{
        "type": "Completed",
        "status": "True",
        "reason": str_at(pod, "/status/phase"),
        "message": message,
    }]))
}
