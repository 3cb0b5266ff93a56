//! `kubectl get -w`: a child kubectl watches while other kubectl calls make changes; it must print
//! an event for each of them (list first, then a watch from the list's resourceVersion).

use super::{STREAM_DEADLINE, event_of, header_names, next_json, sim_with_kubectl};
use crate::common::SimServer;

/// Creates `w1`, changes its data, relabels it, then deletes it.
fn make_changes(sim: &SimServer) {
    sim.kubectl_ok(&[
        "create",
        "configmap",
        "w1",
        "-n",
        "llm-prod",
        "--from-literal=a=1",
    ]);
    sim.kubectl_ok(&["label", "configmap", "w1", "-n", "llm-prod", "app=watched"]);
    sim.kubectl_ok(&[
        "patch",
        "configmap",
        "w1",
        "-n",
        "llm-prod",
        "--type=merge",
        "-p",
        r#"{"data":{"b":"2"}}"#,
    ]);
    sim.kubectl_ok(&["delete", "configmap", "w1", "-n", "llm-prod"]);
}

fn seed(sim: &SimServer) {
    sim.kubectl_ok(&[
        "create",
        "configmap",
        "seed",
        "-n",
        "llm-prod",
        "--from-literal=s=1",
    ]);
}

#[test]
#[ignore = "needs kubectl: run via .ci/run or set KUBECTL"]
fn get_watch_json_prints_every_event() {
    let Some(sim) = sim_with_kubectl("get_watch_json_prints_every_event", "healthy") else {
        return;
    };
    seed(&sim);
    let mut watch = sim.kubectl_spawn(&[
        "get",
        "configmaps",
        "-n",
        "llm-prod",
        "-w",
        "--output-watch-events",
        "-o",
        "json",
    ]);
    let mut buffer = String::new();
    // The initial list comes as ADDED events; once seed is printed, the watch is under way.
    let first = next_json(&mut watch, &mut buffer, |d| event_of(d).1 == "seed");
    assert_eq!(first["type"], "ADDED");
    assert_eq!(first["object"]["kind"], "ConfigMap");
    assert_eq!(first["object"]["apiVersion"], "v1");

    make_changes(&sim);
    let mut seen = Vec::new();
    loop {
        let doc = next_json(&mut watch, &mut buffer, |d| event_of(d).1 == "w1");
        let (kind, _) = event_of(&doc);
        seen.push((
            kind.clone(),
            doc["object"]["data"].clone(),
            doc["object"]["metadata"]["labels"].clone(),
        ));
        if kind == "DELETED" {
            break;
        }
    }
    let kinds: Vec<&str> = seen.iter().map(|(k, _, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        ["ADDED", "MODIFIED", "MODIFIED", "DELETED"],
        "{seen:?}"
    );
    assert_eq!(seen[1].2["app"], "watched");
    assert_eq!(seen[2].1, serde_json::json!({"a": "1", "b": "2"}));
    // DELETED carries the last state of the object.
    assert_eq!(seen[3].1, seen[2].1);
}

#[test]
#[ignore = "needs kubectl: run via .ci/run or set KUBECTL"]
fn get_watch_table_prints_rows_with_events() {
    let Some(sim) = sim_with_kubectl("get_watch_table_prints_rows_with_events", "healthy") else {
        return;
    };
    seed(&sim);
    let mut watch = sim.kubectl_spawn(&[
        "get",
        "configmaps",
        "-n",
        "llm-prod",
        "-w",
        "--output-watch-events",
    ]);
    let header = watch.expect_line("the table header", STREAM_DEADLINE, |l| {
        l.starts_with("EVENT")
    });
    assert_eq!(header_names(&header), ["EVENT", "NAME", "DATA", "AGE"]);
    watch.expect_line("the seed row", STREAM_DEADLINE, |l| {
        l.split_whitespace().take(3).eq(["ADDED", "seed", "1"])
    });

    make_changes(&sim);
    let mut rows = Vec::new();
    loop {
        let line = watch.expect_line("a w1 row", STREAM_DEADLINE, |l| {
            l.split_whitespace().nth(1) == Some("w1")
        });
        let cells: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        let done = cells[0] == "DELETED";
        rows.push(cells);
        if done {
            break;
        }
    }
    let summary: Vec<(&str, &str)> = rows
        .iter()
        .map(|c| (c[0].as_str(), c[2].as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            ("ADDED", "1"),
            ("MODIFIED", "1"),
            ("MODIFIED", "2"),
            ("DELETED", "2")
        ],
        "{rows:?}"
    );
    // The header is printed once: the watch's tables have the list's columns.
    assert_eq!(
        watch
            .seen()
            .iter()
            .filter(|l| l.starts_with("EVENT"))
            .count(),
        1,
        "{:?}",
        watch.seen()
    );
}

#[test]
#[ignore = "needs kubectl: run via .ci/run or set KUBECTL"]
fn get_watch_with_a_label_selector_follows_matching() {
    let Some(sim) = sim_with_kubectl("get_watch_with_a_label_selector", "healthy") else {
        return;
    };
    seed(&sim);
    sim.kubectl_ok(&[
        "label",
        "configmap",
        "seed",
        "-n",
        "llm-prod",
        "app=watched",
    ]);
    let mut watch = sim.kubectl_spawn(&[
        "get",
        "configmaps",
        "-n",
        "llm-prod",
        "-l",
        "app=watched",
        "-w",
        "--output-watch-events",
        "-o",
        "json",
    ]);
    let mut buffer = String::new();
    next_json(&mut watch, &mut buffer, |d| {
        event_of(d) == ("ADDED".into(), "seed".into())
    });

    // w1 is created without the label (not shown), enters the selection when labelled (ADDED),
    // changes (MODIFIED) and goes (DELETED).
    make_changes(&sim);
    let mut kinds = Vec::new();
    loop {
        let doc = next_json(&mut watch, &mut buffer, |d| event_of(d).1 == "w1");
        let kind = event_of(&doc).0;
        kinds.push(kind.clone());
        if kind == "DELETED" {
            break;
        }
    }
    assert_eq!(kinds, ["ADDED", "MODIFIED", "DELETED"], "{kinds:?}");

    // Leaving the selection is a DELETED for this watcher, though the object stays.
    sim.kubectl_ok(&["label", "configmap", "seed", "-n", "llm-prod", "app-"]);
    let left = next_json(&mut watch, &mut buffer, |d| event_of(d).1 == "seed");
    assert_eq!(left["type"], "DELETED");
    sim.kubectl_ok(&["get", "configmap", "seed", "-n", "llm-prod"]);
}
