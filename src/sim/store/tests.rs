use serde_json::json;

use super::*;
use crate::sim::kinds::{DEPLOYMENTS, INFERENCESERVICES, NAMESPACES, PODS};

fn store_with_ns() -> Arc<Store> {
    let s = Store::new(1);
    s.create(
        &NAMESPACES,
        "",
        json!({"metadata": {"name": "ns"}}),
        &WriteOptions::default(),
    )
    .unwrap();
    s
}

fn deployment(name: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}
    })
}

fn pod(name: &str, node: &str, finalizers: &[&str]) -> Value {
    json!({
        "metadata": {"name": name, "finalizers": finalizers},
        "spec": {"nodeName": node, "containers": [{"name": "c", "image": "i"}]}
    })
}

fn opts() -> WriteOptions {
    WriteOptions::default()
}

#[test]
fn create_assigns_metadata_and_rejects_duplicates() {
    let s = store_with_ns();
    let d = s
        .create(&DEPLOYMENTS, "ns", deployment("web"), &opts())
        .unwrap();
    assert_eq!(d["metadata"]["generation"], 1);
    assert_eq!(d["metadata"]["namespace"], "ns");
    assert_eq!(d["metadata"]["uid"].as_str().unwrap().len(), 36);
    assert!(
        d["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .is_ok()
    );
    let err = s
        .create(&DEPLOYMENTS, "ns", deployment("web"), &opts())
        .unwrap_err();
    assert_eq!((err.code, err.reason), (409, "AlreadyExists"));
    let err = s
        .create(&DEPLOYMENTS, "nope", deployment("web"), &opts())
        .unwrap_err();
    assert_eq!(err.message, "namespaces \"nope\" not found");
    let err = s
        .create(&DEPLOYMENTS, "ns", deployment("Bad"), &opts())
        .unwrap_err();
    assert_eq!(err.code, 422);
    assert!(
        err.message.starts_with(
            "Deployment.apps \"Bad\" is invalid: metadata.name: Invalid value: \"Bad\""
        )
    );
}

#[test]
fn generate_name_is_seeded() {
    let a = store_with_ns();
    let b = store_with_ns();
    let p = json!({"metadata": {"generateName": "web-"}, "spec": {"containers": [{"name": "c"}]}});
    let x = a.create(&PODS, "ns", p.clone(), &opts()).unwrap();
    let y = b.create(&PODS, "ns", p, &opts()).unwrap();
    assert_eq!(x["metadata"]["name"], y["metadata"]["name"]);
    assert!(x["metadata"]["name"].as_str().unwrap().starts_with("web-"));
}

#[test]
fn stale_update_conflicts_and_noop_update_keeps_revision() {
    let s = store_with_ns();
    let d = s
        .create(&DEPLOYMENTS, "ns", deployment("web"), &opts())
        .unwrap();
    let mut changed = (*d).clone();
    changed["spec"]["replicas"] = json!(3);
    let d2 = s
        .update(&DEPLOYMENTS, "ns", "web", changed.clone(), &opts())
        .unwrap();
    assert_eq!(d2["metadata"]["generation"], 2);
    let err = s
        .update(&DEPLOYMENTS, "ns", "web", changed, &opts())
        .unwrap_err();
    assert_eq!((err.code, err.reason), (409, "Conflict"));
    assert!(err.message.contains("the object has been modified"));
    let same = s
        .update(&DEPLOYMENTS, "ns", "web", (*d2).clone(), &opts())
        .unwrap();
    assert_eq!(
        same["metadata"]["resourceVersion"],
        d2["metadata"]["resourceVersion"]
    );
}

#[test]
fn custom_resource_update_needs_resource_version() {
    let s = store_with_ns();
    let i = json!({"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService", "metadata": {"name": "m"}, "spec": {}});
    s.create(&INFERENCESERVICES, "ns", i.clone(), &opts())
        .unwrap();
    let err = s
        .update(&INFERENCESERVICES, "ns", "m", i, &opts())
        .unwrap_err();
    assert_eq!(err.code, 422);
    assert!(err.message.contains("must be specified for an update"));
}

#[test]
fn delete_without_finalizers_removes_and_with_finalizers_marks() {
    let s = store_with_ns();
    let mut rx = s.subscribe();
    s.create(&DEPLOYMENTS, "ns", deployment("a"), &opts())
        .unwrap();
    let out = s
        .delete(&DEPLOYMENTS, "ns", "a", &DeleteOptions::default())
        .unwrap();
    assert!(matches!(out, DeleteOutcome::Removed(_)));
    assert_eq!(s.get(&DEPLOYMENTS, "ns", "a").unwrap_err().code, 404);

    let mut d = deployment("b");
    d["metadata"]["finalizers"] = json!(["x/y"]);
    s.create(&DEPLOYMENTS, "ns", d, &opts()).unwrap();
    let DeleteOutcome::Terminating(t) = s
        .delete(&DEPLOYMENTS, "ns", "b", &DeleteOptions::default())
        .unwrap()
    else {
        panic!("expected terminating")
    };
    assert!(t["metadata"]["deletionTimestamp"].is_string());
    assert_eq!(t["metadata"]["deletionGracePeriodSeconds"], 0);
    assert_eq!(t["metadata"]["generation"], 2);
    // second delete keeps the timestamp
    let DeleteOutcome::Terminating(t2) = s
        .delete(&DEPLOYMENTS, "ns", "b", &DeleteOptions::default())
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(
        t2["metadata"]["deletionTimestamp"],
        t["metadata"]["deletionTimestamp"]
    );
    // new finalizers are refused
    let err = s
        .patch(&DEPLOYMENTS, "ns", "b", &opts(), |o| {
            let mut o = o.clone();
            o["metadata"]["finalizers"] = json!(["x/y", "new"]);
            Ok(o)
        })
        .unwrap_err();
    assert_eq!(err.code, 422);
    assert!(err.message.contains("no new finalizers can be added if the object is being deleted, found new finalizers []string{\"new\"}"));
    // removing the last finalizer deletes; the DELETED event carries the old finalizers
    s.patch(&DEPLOYMENTS, "ns", "b", &opts(), |o| {
        let mut o = o.clone();
        o["metadata"]["finalizers"] = Value::Null;
        Ok(o)
    })
    .unwrap();
    assert_eq!(s.get(&DEPLOYMENTS, "ns", "b").unwrap_err().code, 404);
    let mut kinds = Vec::new();
    while let Ok(c) = rx.try_recv() {
        if c.name() == "b" {
            kinds.push((c.kind, meta::finalizers(&c.object)));
        }
    }
    let last = kinds.last().unwrap();
    assert_eq!(last.0, ChangeKind::Deleted);
    assert_eq!(last.1, vec!["x/y".to_string()]);
}

#[test]
fn pods_delete_gracefully_when_scheduled() {
    let s = store_with_ns();
    s.create(&PODS, "ns", pod("p", "node-1", &[]), &opts())
        .unwrap();
    let DeleteOutcome::Terminating(p) = s
        .delete(&PODS, "ns", "p", &DeleteOptions::default())
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(p["metadata"]["deletionGracePeriodSeconds"], 30);
    // the kubelet's final delete
    let zero = DeleteOptions {
        grace_period_seconds: Some(0),
        ..Default::default()
    };
    assert!(matches!(
        s.delete(&PODS, "ns", "p", &zero).unwrap(),
        DeleteOutcome::Removed(_)
    ));
    // unscheduled pods go at once
    s.create(&PODS, "ns", pod("q", "", &[]), &opts()).unwrap();
    assert!(matches!(
        s.delete(&PODS, "ns", "q", &DeleteOptions::default())
            .unwrap(),
        DeleteOutcome::Removed(_)
    ));
}

#[test]
fn preconditions_and_propagation() {
    let s = store_with_ns();
    s.create(&DEPLOYMENTS, "ns", deployment("w"), &opts())
        .unwrap();
    let bad = DeleteOptions {
        preconditions: Precondition {
            resource_version: Some("1".into()),
            uid: None,
        },
        ..Default::default()
    };
    let err = s.delete(&DEPLOYMENTS, "ns", "w", &bad).unwrap_err();
    assert_eq!(err.code, 409);
    assert!(
        err.message
            .contains("the ResourceVersion in the precondition (1) does not match")
    );
    let fg = DeleteOptions {
        propagation: Some(Propagation::Foreground),
        ..Default::default()
    };
    let DeleteOutcome::Terminating(o) = s.delete(&DEPLOYMENTS, "ns", "w", &fg).unwrap() else {
        panic!()
    };
    assert_eq!(meta::finalizers(&o), vec!["foregroundDeletion".to_string()]);
    let bg = DeleteOptions {
        propagation: Some(Propagation::Background),
        ..Default::default()
    };
    assert!(matches!(
        s.delete(&DEPLOYMENTS, "ns", "w", &bg).unwrap(),
        DeleteOutcome::Removed(_)
    ));
}

#[test]
fn watch_resumes_from_history_and_expires_after_compaction() {
    let s = store_with_ns();
    let rv0 = s.current_rv();
    s.create(&DEPLOYMENTS, "ns", deployment("a"), &opts())
        .unwrap();
    s.create(&DEPLOYMENTS, "ns", deployment("b"), &opts())
        .unwrap();
    let w = s.watch(&DEPLOYMENTS, WatchFrom::After(rv0)).unwrap();
    assert_eq!(w.initial.len(), 2);
    let w = s.watch(&DEPLOYMENTS, WatchFrom::Current).unwrap();
    assert_eq!(w.initial.len(), 2);
    assert!(w.initial.iter().all(|c| c.kind == ChangeKind::Added));
    s.compact();
    let err = s.watch(&DEPLOYMENTS, WatchFrom::After(rv0)).err().unwrap();
    assert_eq!((err.code, err.reason), (410, "Expired"));
    assert!(
        s.watch(&DEPLOYMENTS, WatchFrom::After(s.current_rv()))
            .is_ok()
    );
}

#[test]
fn status_is_separate_from_the_main_resource() {
    let s = store_with_ns();
    let d = s
        .create(&DEPLOYMENTS, "ns", deployment("s"), &opts())
        .unwrap();
    let mut with_status = (*d).clone();
    with_status["status"] = json!({"replicas": 5});
    let st_opts = WriteOptions {
        status_only: true,
        ..Default::default()
    };
    let d2 = s
        .update(&DEPLOYMENTS, "ns", "s", with_status.clone(), &st_opts)
        .unwrap();
    assert_eq!(d2["status"]["replicas"], 5);
    assert_eq!(d2["metadata"]["generation"], 1);
    let mut main = (*d2).clone();
    main["status"] = json!({"replicas": 9});
    main["metadata"]["labels"] = json!({"x": "y"});
    let d3 = s.update(&DEPLOYMENTS, "ns", "s", main, &opts()).unwrap();
    assert_eq!(d3["status"]["replicas"], 5);
    assert_eq!(d3["metadata"]["labels"]["x"], "y");
}

#[test]
fn list_filters_by_namespace() {
    let s = store_with_ns();
    s.create(
        &NAMESPACES,
        "",
        json!({"metadata": {"name": "other"}}),
        &opts(),
    )
    .unwrap();
    s.create(&DEPLOYMENTS, "ns", deployment("a"), &opts())
        .unwrap();
    s.create(&DEPLOYMENTS, "other", deployment("b"), &opts())
        .unwrap();
    assert_eq!(s.list(&DEPLOYMENTS, Some("ns"), &|_| true).0.len(), 1);
    assert_eq!(s.list(&DEPLOYMENTS, None, &|_| true).0.len(), 2);
    assert_eq!(s.list(&DEPLOYMENTS, Some("none"), &|_| true).0.len(), 0);
}

#[test]
fn empty_metadata_fields_are_not_stored() {
    let s = store_with_ns();
    let mut d = deployment("web");
    d["metadata"]["finalizers"] = json!([]);
    d["metadata"]["labels"] = json!({});
    d["metadata"]["annotations"] = Value::Null;
    let created = s.create(&DEPLOYMENTS, "ns", d, &opts()).unwrap();
    let md = created["metadata"].as_object().unwrap();
    assert!(!md.contains_key("finalizers") && !md.contains_key("labels"));
    assert!(!md.contains_key("annotations"));
    // A JSON patch `test` against null now passes, as kube-runtime's finalizer helper expects.
    let patched = s
        .patch(&DEPLOYMENTS, "ns", "web", &opts(), |cur| {
            let mut v = cur.clone();
            v["metadata"]["finalizers"] = json!(["x"]);
            Ok(v)
        })
        .unwrap();
    assert_eq!(patched["metadata"]["finalizers"], json!(["x"]));
    let cleared = s
        .patch(&DEPLOYMENTS, "ns", "web", &opts(), |cur| {
            let mut v = cur.clone();
            v["metadata"]["finalizers"] = json!([]);
            Ok(v)
        })
        .unwrap();
    assert!(cleared["metadata"].get("finalizers").is_none());
}

/// Regression (sim_fuzz): a namespace whose `/status` a client set to a non-object, deleted while
/// its spec finalizer holds it, panicked in the DELETE handler (`status["phase"] = ...`).
#[test]
fn deleting_a_held_namespace_with_a_junk_status_marks_it_terminating() {
    let store = store_with_ns();
    store
        .create(
            &NAMESPACES,
            "",
            json!({"metadata": {"name": "junk"}, "spec": {"finalizers": ["kubernetes"]}}),
            &opts(),
        )
        .unwrap();
    let status_only = WriteOptions {
        status_only: true,
        ..opts()
    };
    store
        .patch(&NAMESPACES, "", "junk", &status_only, |cur| {
            let mut new = cur.clone();
            new.as_object_mut()
                .unwrap()
                .insert("status".into(), json!(7));
            Ok(new)
        })
        .unwrap();
    assert_eq!(store.get(&NAMESPACES, "", "junk").unwrap()["status"], 7);
    let out = store
        .delete(&NAMESPACES, "", "junk", &DeleteOptions::default())
        .unwrap();
    let DeleteOutcome::Terminating(ns) = out else {
        panic!("held by its spec finalizer: {out:?}");
    };
    assert_eq!(ns["status"], json!({"phase": "Terminating"}));
}
