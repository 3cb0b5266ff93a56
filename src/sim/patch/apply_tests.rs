use serde_json::{Value, json};

use super::*;
use crate::sim::kinds::LEASES;

fn lease(holder: &str, renew: &str) -> Value {
    json!({
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": "leader", "namespace": "ns"},
        "spec": {"holderIdentity": holder, "leaseDurationSeconds": 15, "renewTime": renew}
    })
}

#[test]
fn create_records_every_applied_leaf() {
    let mut owners = FieldOwners::new();
    let obj = apply_patch(None, &lease("a", "t1"), "mgrA", false, &mut owners).unwrap();
    assert_eq!(obj, lease("a", "t1"));
    assert_eq!(owners.managers(), vec!["mgrA"]);
    assert_eq!(
        owners.fields_of("mgrA"),
        vec![
            ".spec.holderIdentity",
            ".spec.leaseDurationSeconds",
            ".spec.renewTime"
        ]
    );
    assert_eq!(owners.owners_of(".spec.holderIdentity"), vec!["mgrA"]);
    assert!(owners.owners_of(".metadata.name").is_empty());
}

#[test]
fn changing_anothers_field_conflicts_without_force() {
    let mut owners = FieldOwners::new();
    let obj = apply_patch(None, &lease("a", "t1"), "mgrA", false, &mut owners).unwrap();
    let before = owners.clone();
    let c = apply_patch(Some(&obj), &lease("b", "t1"), "mgrB", false, &mut owners).unwrap_err();
    assert_eq!(
        c.conflicts,
        vec![("mgrA".to_string(), ".spec.holderIdentity".to_string())]
    );
    assert_eq!(owners, before, "a conflict changes nothing");
    assert_eq!(
        c.message(),
        "Apply failed with 1 conflict: conflict with \"mgrA\": .spec.holderIdentity"
    );
    let e = conflict_error(&LEASES, "leader", &c);
    assert_eq!((e.code, e.reason), (409, "Conflict"));
    assert_eq!(
        e.status_body()["details"],
        json!({"causes": [{
            "reason": "FieldManagerConflict",
            "message": "conflict with \"mgrA\"",
            "field": ".spec.holderIdentity"
        }]})
    );
}

#[test]
fn several_conflicts_are_listed_per_manager() {
    let mut owners = FieldOwners::new();
    let obj = apply_patch(None, &lease("a", "t1"), "mgrA", false, &mut owners).unwrap();
    let c = apply_patch(Some(&obj), &lease("b", "t2"), "mgrB", false, &mut owners).unwrap_err();
    assert_eq!(c.conflicts.len(), 2);
    assert_eq!(
        c.message(),
        "Apply failed with 2 conflicts: conflicts with \"mgrA\":\n- .spec.holderIdentity\n- .spec.renewTime"
    );
    let e = conflict_error(&LEASES, "leader", &c);
    assert_eq!(e.details["causes"].as_array().unwrap().len(), 2);
}

#[test]
fn same_value_shares_ownership() {
    let mut owners = FieldOwners::new();
    let obj = apply_patch(None, &lease("a", "t1"), "mgrA", false, &mut owners).unwrap();
    let obj = apply_patch(Some(&obj), &lease("a", "t1"), "mgrB", false, &mut owners).unwrap();
    assert_eq!(obj, lease("a", "t1"));
    assert_eq!(
        owners.owners_of(".spec.holderIdentity"),
        vec!["mgrA", "mgrB"]
    );
    // Now neither can change it alone.
    assert!(apply_patch(Some(&obj), &lease("c", "t1"), "mgrA", false, &mut owners).is_err());
}

#[test]
fn force_transfers_ownership() {
    let mut owners = FieldOwners::new();
    let obj = apply_patch(None, &lease("a", "t1"), "mgrA", false, &mut owners).unwrap();
    let obj = apply_patch(Some(&obj), &lease("b", "t2"), "mgrB", true, &mut owners).unwrap();
    assert_eq!(obj["spec"]["holderIdentity"], json!("b"));
    assert_eq!(owners.owners_of(".spec.holderIdentity"), vec!["mgrB"]);
    // The duration was equal, so it stays shared.
    assert_eq!(
        owners.owners_of(".spec.leaseDurationSeconds"),
        vec!["mgrA", "mgrB"]
    );
    // The old holder now conflicts with the new one.
    let c = apply_patch(Some(&obj), &lease("a", "t3"), "mgrA", false, &mut owners).unwrap_err();
    assert!(c.conflicts.iter().all(|(m, _)| m == "mgrB"));
    // A manager re-applying its own fields never conflicts with itself.
    let obj = apply_patch(Some(&obj), &lease("b", "t4"), "mgrB", false, &mut owners).unwrap();
    assert_eq!(obj["spec"]["renewTime"], json!("t4"));
}

#[test]
fn dropped_fields_are_removed_unless_held_by_others() {
    let mut owners = FieldOwners::new();
    let full = json!({"metadata": {"name": "x", "labels": {"a": "1", "b": "2"}}, "spec": {"p": 1, "q": 2}});
    let obj = apply_patch(None, &full, "mgrA", false, &mut owners).unwrap();
    // mgrB shares `q` by applying the same value.
    let obj = apply_patch(
        Some(&obj),
        &json!({"spec": {"q": 2}}),
        "mgrB",
        false,
        &mut owners,
    )
    .unwrap();
    let slim = json!({"metadata": {"name": "x", "labels": {"a": "1"}}});
    let obj = apply_patch(Some(&obj), &slim, "mgrA", false, &mut owners).unwrap();
    assert_eq!(
        obj,
        json!({"metadata": {"name": "x", "labels": {"a": "1"}}, "spec": {"q": 2}})
    );
    assert_eq!(owners.fields_of("mgrA"), vec![".metadata.labels.a"]);
    assert_eq!(owners.fields_of("mgrB"), vec![".spec.q"]);
}

#[test]
fn null_in_applied_config_removes_the_field() {
    let mut owners = FieldOwners::new();
    let obj = apply_patch(None, &lease("a", "t1"), "mgrA", false, &mut owners).unwrap();
    let release =
        json!({"spec": {"holderIdentity": null, "leaseDurationSeconds": 15, "renewTime": "t1"}});
    let obj = apply_patch(Some(&obj), &release, "mgrA", false, &mut owners).unwrap();
    assert!(obj["spec"].get("holderIdentity").is_none());
    assert!(owners.owners_of(".spec.holderIdentity").is_empty());
    // Another manager clearing mgrA's field conflicts.
    let c = apply_patch(
        Some(&obj),
        &json!({"spec": {"renewTime": null}}),
        "mgrB",
        false,
        &mut owners,
    )
    .unwrap_err();
    assert_eq!(
        c.conflicts,
        vec![("mgrA".to_string(), ".spec.renewTime".to_string())]
    );
}

#[test]
fn keyed_lists_are_owned_per_element() {
    let dep = |image: &str| {
        json!({"spec": {"template": {"spec": {"containers": [
            {"name": "web", "image": image}
        ]}}}})
    };
    let mut owners = FieldOwners::new();
    let obj = apply_patch(None, &dep("web:1"), "mgrA", false, &mut owners).unwrap();
    assert_eq!(
        owners.fields_of("mgrA"),
        vec![
            ".spec.template.spec.containers[name=\"web\"].image",
            ".spec.template.spec.containers[name=\"web\"].name",
        ]
    );
    // Another manager adds a sidecar: no conflict, both containers kept.
    let side =
        json!({"spec": {"template": {"spec": {"containers": [{"name": "side", "image": "s:1"}]}}}});
    let obj = apply_patch(Some(&obj), &side, "mgrB", false, &mut owners).unwrap();
    assert_eq!(
        obj["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let c = apply_patch(Some(&obj), &dep("web:2"), "mgrB", false, &mut owners).unwrap_err();
    assert_eq!(
        c.conflicts,
        vec![(
            "mgrA".to_string(),
            ".spec.template.spec.containers[name=\"web\"].image".to_string()
        )]
    );
    // mgrB stops applying its sidecar: the element goes away.
    let obj = apply_patch(Some(&obj), &json!({"spec": {}}), "mgrB", false, &mut owners).unwrap();
    assert_eq!(
        obj["spec"]["template"]["spec"]["containers"],
        json!([{"name": "web", "image": "web:1"}])
    );
}

#[test]
fn finalizers_are_owned_per_value() {
    let mut owners = FieldOwners::new();
    let obj = apply_patch(
        None,
        &json!({"metadata": {"finalizers": ["a"]}}),
        "m1",
        false,
        &mut owners,
    )
    .unwrap();
    let obj = apply_patch(
        Some(&obj),
        &json!({"metadata": {"finalizers": ["b"]}}),
        "m2",
        false,
        &mut owners,
    )
    .unwrap();
    assert_eq!(obj["metadata"]["finalizers"], json!(["a", "b"]));
    assert_eq!(owners.fields_of("m1"), vec![".metadata.finalizers[=\"a\"]"]);
    let obj = apply_patch(
        Some(&obj),
        &json!({"metadata": {}}),
        "m1",
        false,
        &mut owners,
    )
    .unwrap();
    assert_eq!(obj["metadata"]["finalizers"], json!(["b"]));
}

#[test]
fn server_managed_fields_are_ignored() {
    let mut owners = FieldOwners::new();
    let mut obj = apply_patch(None, &lease("a", "t1"), "mgrA", false, &mut owners).unwrap();
    obj["metadata"]["resourceVersion"] = json!("7");
    let mut other = lease("a", "t1");
    other["metadata"]["resourceVersion"] = json!("3");
    other["metadata"]["managedFields"] = json!([{"manager": "x"}]);
    other["apiVersion"] = json!("coordination.k8s.io/v2");
    let merged = apply_patch(Some(&obj), &other, "mgrB", false, &mut owners).unwrap();
    assert_eq!(merged["metadata"]["resourceVersion"], json!("7"));
    assert!(merged["metadata"].get("managedFields").is_none());
    assert!(
        owners
            .fields_of("mgrB")
            .iter()
            .all(|f| f.starts_with(".spec."))
    );
}

#[test]
fn updates_take_ownership_and_are_named_with_their_version() {
    let mut owners = FieldOwners::new();
    let obj = apply_patch(None, &lease("a", "t1"), "applier", false, &mut owners).unwrap();
    let mut updated = obj.clone();
    updated["spec"]["holderIdentity"] = json!("u");
    updated["metadata"]["labels"] = json!({"x": "1"});
    record_update(&mut owners, &obj, &updated, "kubectl-edit");
    assert_eq!(
        owners.fields_of("kubectl-edit"),
        vec![".metadata.labels.x", ".spec.holderIdentity"]
    );
    assert!(
        !owners
            .fields_of("applier")
            .contains(&".spec.holderIdentity".to_string())
    );
    // Unchanged fields stay with the applier.
    assert!(
        owners
            .fields_of("applier")
            .contains(&".spec.renewTime".to_string())
    );
    let c = apply_patch(
        Some(&updated),
        &lease("a", "t1"),
        "applier",
        false,
        &mut owners,
    )
    .unwrap_err();
    assert_eq!(
        c.message(),
        "Apply failed with 1 conflict: conflict with \"kubectl-edit\" using coordination.k8s.io/v1: .spec.holderIdentity"
    );
    let e = conflict_error(&LEASES, "leader", &c);
    assert_eq!(
        e.details["causes"][0]["message"],
        json!("conflict with \"kubectl-edit\" using coordination.k8s.io/v1")
    );
    // Removing a field drops every owner's claim on it.
    let mut removed = updated.clone();
    removed["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("labels");
    record_update(&mut owners, &updated, &removed, "other");
    assert_eq!(
        owners.fields_of("kubectl-edit"),
        vec![".spec.holderIdentity"]
    );
    assert!(owners.fields_of("other").is_empty());
    assert!(!owners.managers().contains(&"other"));
}

#[test]
fn type_changes_conflict_with_owners_below() {
    let mut owners = FieldOwners::new();
    let obj = apply_patch(
        None,
        &json!({"spec": {"a": {"b": 1}}}),
        "m1",
        false,
        &mut owners,
    )
    .unwrap();
    let c = apply_patch(
        Some(&obj),
        &json!({"spec": {"a": 5}}),
        "m2",
        false,
        &mut owners,
    )
    .unwrap_err();
    assert_eq!(
        c.conflicts,
        vec![("m1".to_string(), ".spec.a.b".to_string())]
    );
    let obj = apply_patch(
        Some(&obj),
        &json!({"spec": {"a": 5}}),
        "m2",
        true,
        &mut owners,
    )
    .unwrap();
    assert_eq!(obj, json!({"spec": {"a": 5}}));
    assert!(owners.fields_of("m1").is_empty());
}

#[test]
fn non_object_applied_config_is_a_no_op() {
    let mut owners = FieldOwners::new();
    let obj = apply_patch(Some(&lease("a", "t")), &json!([1]), "m", false, &mut owners).unwrap();
    assert_eq!(obj, lease("a", "t"));
    assert!(owners.is_empty());
}

#[test]
fn paths_print_like_the_apiserver() {
    let p = FieldPath(vec![
        PathElement::Field("spec".into()),
        PathElement::Key {
            name: "containerPort".into(),
            value: "80".into(),
        },
        PathElement::Field("protocol".into()),
    ]);
    assert_eq!(p.to_string(), ".spec[containerPort=80].protocol");
    let p = FieldPath(vec![
        PathElement::Field("metadata".into()),
        PathElement::Field("finalizers".into()),
        PathElement::Value("\"x\"".into()),
    ]);
    assert_eq!(p.to_string(), ".metadata.finalizers[=\"x\"]");
}
