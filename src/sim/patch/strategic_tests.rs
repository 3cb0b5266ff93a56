use serde_json::{Value, json};

use super::*;

fn deployment() -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "labels": {"app": "web", "tier": "front"},
            "finalizers": ["a", "b"],
            "ownerReferences": [{"uid": "u1", "name": "o1", "kind": "X"}]
        },
        "spec": {
            "replicas": 1,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}},
            "template": {"spec": {
                "containers": [
                    {"name": "web", "image": "web:1", "args": ["--a"],
                     "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                     "ports": [{"containerPort": 80, "protocol": "TCP"}],
                     "volumeMounts": [{"mountPath": "/data", "name": "data"}]},
                    {"name": "sidecar", "image": "side:1"}
                ],
                "tolerations": [{"key": "k1", "operator": "Exists"}],
                "volumes": [{"name": "data", "emptyDir": {}}]
            }}
        }
    })
}

fn smp(target: &Value, patch: Value) -> Value {
    strategic_merge_patch(target, &patch).unwrap()
}

fn containers(d: &Value) -> &Value {
    &d["spec"]["template"]["spec"]["containers"]
}

#[test]
fn maps_merge_like_merge_patch() {
    // kubectl scale / label / annotate style bodies.
    let d = smp(
        &deployment(),
        json!({"spec": {"replicas": 3}, "metadata": {"labels": {"tier": null, "x": "y"},
               "annotations": {"note": "n"}}}),
    );
    assert_eq!(d["spec"]["replicas"], json!(3));
    assert_eq!(d["metadata"]["labels"], json!({"app": "web", "x": "y"}));
    assert_eq!(d["metadata"]["annotations"], json!({"note": "n"}));
    assert_eq!(
        d["spec"]["strategy"]["rollingUpdate"],
        json!({"maxSurge": 1})
    );
    assert_eq!(containers(&d), containers(&deployment()));
}

#[test]
fn containers_merge_by_name_and_nested_lists_by_their_keys() {
    let d = smp(
        &deployment(),
        json!({"spec": {"template": {"spec": {"containers": [
            {"name": "web", "image": "web:2",
             "env": [{"name": "B", "value": "20"}, {"name": "C", "value": "3"}],
             "ports": [{"containerPort": 80, "name": "http"}, {"containerPort": 9090}],
             "args": ["--b"]},
            {"name": "new", "image": "new:1"}
        ]}}}}),
    );
    let c = containers(&d);
    assert_eq!(c.as_array().unwrap().len(), 3);
    assert_eq!(c[0]["image"], json!("web:2"));
    assert_eq!(
        c[0]["env"],
        json!([{"name": "A", "value": "1"}, {"name": "B", "value": "20"}, {"name": "C", "value": "3"}])
    );
    assert_eq!(
        c[0]["ports"],
        json!([{"containerPort": 80, "protocol": "TCP", "name": "http"}, {"containerPort": 9090}])
    );
    // Primitive lists without a strategy are replaced.
    assert_eq!(c[0]["args"], json!(["--b"]));
    assert_eq!(
        c[0]["volumeMounts"],
        json!([{"mountPath": "/data", "name": "data"}])
    );
    assert_eq!(c[1], json!({"name": "sidecar", "image": "side:1"}));
    assert_eq!(c[2], json!({"name": "new", "image": "new:1"}));
}

#[test]
fn service_ports_merge_by_port() {
    let svc = json!({"spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443}]}});
    let d = smp(
        &svc,
        json!({"spec": {"ports": [{"port": 80, "targetPort": 9000}]}}),
    );
    assert_eq!(
        d["spec"]["ports"],
        json!([{"port": 80, "targetPort": 9000}, {"port": 443}])
    );
}

#[test]
fn other_lists_replace() {
    let d = smp(
        &deployment(),
        json!({"spec": {"template": {"spec": {"tolerations": [{"key": "k2", "operator": "Exists"}]}}}}),
    );
    assert_eq!(
        d["spec"]["template"]["spec"]["tolerations"],
        json!([{"key": "k2", "operator": "Exists"}])
    );
}

#[test]
fn finalizers_are_a_set() {
    let d = smp(
        &deployment(),
        json!({"metadata": {"finalizers": ["b", "c", "c"]}}),
    );
    assert_eq!(d["metadata"]["finalizers"], json!(["a", "b", "c"]));
    let d = smp(&deployment(), json!({"metadata": {"finalizers": []}}));
    assert_eq!(d["metadata"]["finalizers"], json!(["a", "b"]));
    let d = smp(&deployment(), json!({"metadata": {"finalizers": null}}));
    assert!(d["metadata"].get("finalizers").is_none());
    let d = smp(
        &json!({"metadata": {}}),
        json!({"metadata": {"finalizers": ["x"]}}),
    );
    assert_eq!(d["metadata"]["finalizers"], json!(["x"]));
    let d = smp(
        &deployment(),
        json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"], "finalizers": ["z"]}}),
    );
    assert_eq!(d["metadata"]["finalizers"], json!(["b", "z"]));
}

#[test]
fn owner_references_merge_by_uid() {
    let d = smp(
        &deployment(),
        json!({"metadata": {"ownerReferences": [
            {"uid": "u1", "controller": true}, {"uid": "u2", "name": "o2", "kind": "Y"}
        ]}}),
    );
    assert_eq!(
        d["metadata"]["ownerReferences"],
        json!([
            {"uid": "u1", "name": "o1", "kind": "X", "controller": true},
            {"uid": "u2", "name": "o2", "kind": "Y"}
        ])
    );
}

#[test]
fn patch_directives_on_list_elements() {
    let d = smp(
        &deployment(),
        json!({"spec": {"template": {"spec": {"containers": [
            {"name": "sidecar", "$patch": "delete"}
        ]}}}}),
    );
    assert_eq!(containers(&d).as_array().unwrap().len(), 1);
    assert_eq!(containers(&d)[0]["name"], json!("web"));

    let d = smp(
        &deployment(),
        json!({"spec": {"template": {"spec": {"containers": [
            {"name": "only", "image": "o:1"}, {"$patch": "replace"}
        ]}}}}),
    );
    assert_eq!(containers(&d), &json!([{"name": "only", "image": "o:1"}]));

    let d = smp(
        &deployment(),
        json!({"metadata": {"ownerReferences": [{"uid": "u1", "$patch": "delete"}]}}),
    );
    assert_eq!(d["metadata"]["ownerReferences"], json!([]));
}

#[test]
fn patch_directives_on_maps() {
    let d = smp(
        &deployment(),
        json!({"spec": {"strategy": {"$patch": "replace", "type": "Recreate"}}}),
    );
    assert_eq!(d["spec"]["strategy"], json!({"type": "Recreate"}));
    // `$patch: delete` on a map leaves it empty, as the apiserver does.
    let d = smp(
        &deployment(),
        json!({"metadata": {"labels": {"$patch": "delete"}}}),
    );
    assert_eq!(d["metadata"]["labels"], json!({}));
    let d = smp(&deployment(), json!({"$patch": "replace", "kind": "X"}));
    assert_eq!(d, json!({"kind": "X"}));
}

#[test]
fn retain_keys_drops_unlisted_fields() {
    let d = smp(
        &deployment(),
        json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}),
    );
    assert_eq!(d["spec"]["strategy"], json!({"type": "Recreate"}));
    let e = strategic_merge_patch(
        &deployment(),
        &json!({"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {}}}}),
    )
    .unwrap_err();
    assert!(matches!(e, PatchError::RetainKeysMismatch(_)));
    assert_eq!(e.to_api_error().code, 422);
}

#[test]
fn set_element_order_is_honoured() {
    // What kubectl apply sends when it reorders containers and adds one.
    let d = smp(
        &deployment(),
        json!({"spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "sidecar"}, {"name": "extra"}, {"name": "web"}],
            "containers": [{"name": "extra", "image": "e:1"}]
        }}}}),
    );
    let names: Vec<&str> = containers(&d)
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["sidecar", "extra", "web"]);
    let d = smp(
        &deployment(),
        json!({"metadata": {"$setElementOrder/finalizers": ["c", "b", "a"], "finalizers": ["c"]}}),
    );
    assert_eq!(d["metadata"]["finalizers"], json!(["c", "b", "a"]));
    // Names the list lacks are ignored; unnamed elements keep their place.
    let d = smp(
        &deployment(),
        json!({"metadata": {"$setElementOrder/finalizers": ["zz"]}}),
    );
    assert_eq!(d["metadata"]["finalizers"], json!(["a", "b"]));
}

#[test]
fn new_elements_and_fields_lose_their_directives() {
    let d = smp(
        &json!({"spec": {}}),
        json!({"spec": {"template": {"spec": {"containers": [
            {"name": "a", "env": [{"name": "X", "value": "1"}, {"name": "Y", "$patch": "delete"}],
             "$setElementOrder/env": [{"name": "X"}]}
        ]}}}}),
    );
    assert_eq!(
        containers(&d),
        &json!([{"name": "a", "env": [{"name": "X", "value": "1"}]}])
    );
}

#[test]
fn malformed_patches_are_rejected() {
    let cases = [
        json!({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}}),
        json!({"spec": {"strategy": {"$patch": "frob"}}}),
        json!({"spec": {"template": {"spec": {"containers": [{"name": "web", "$patch": "merge"}]}}}}),
        json!({"spec": {"template": {"spec": {"containers": [{"$patch": "delete"}]}}}}),
        json!({"spec": {"template": {"spec": {"containers": [{"name": "a"}, "b"]}}}}),
        json!({"metadata": {"$deleteFromPrimitiveList/finalizers": "a"}}),
        json!({"metadata": {"$setElementOrder/finalizers": {}}}),
        json!({"spec": {"$retainKeys": "type"}}),
    ];
    for p in cases {
        let e = strategic_merge_patch(&deployment(), &p).unwrap_err();
        assert!(matches!(e, PatchError::InvalidStrategic(_)), "{p}: {e:?}");
        assert_eq!(e.to_api_error().code, 400, "{p}");
    }
    let e = strategic_merge_patch(&deployment(), &json!([{"op": "add"}])).unwrap_err();
    assert!(matches!(e, PatchError::Malformed(_)));
    let e = strategic_merge_patch(
        &deployment(),
        &json!({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}}),
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("does not contain declared merge key: name"),
        "{e}"
    );
}

#[test]
fn type_changes_and_absent_targets() {
    let d = smp(&json!({"a": "scalar"}), json!({"a": {"b": 1}}));
    assert_eq!(d, json!({"a": {"b": 1}}));
    let d = smp(&json!({"a": {"b": 1}}), json!({"a": "scalar"}));
    assert_eq!(d, json!({"a": "scalar"}));
    let d = smp(&Value::Null, json!({"spec": {"replicas": 2}}));
    assert_eq!(d, json!({"spec": {"replicas": 2}}));
    // A keyed list that was not a list is rebuilt from the patch.
    let d = smp(
        &json!({"spec": {"containers": "x"}}),
        json!({"spec": {"containers": [{"name": "a"}]}}),
    );
    assert_eq!(d["spec"]["containers"], json!([{"name": "a"}]));
}

#[test]
fn replaced_lists_drop_directive_elements() {
    let d = smp(
        &deployment(),
        json!({"spec": {"template": {"spec": {"tolerations": [
            {"key": "k3", "operator": "Exists"}, {"$patch": "replace"}
        ]}}}}),
    );
    assert_eq!(
        d["spec"]["template"]["spec"]["tolerations"],
        json!([{"key": "k3", "operator": "Exists"}])
    );
    // Scalars sent for a keyed list merge as a set rather than failing.
    let d = smp(
        &json!({"spec": {"volumes": ["a"]}}),
        json!({"spec": {"volumes": ["b", "a"]}}),
    );
    assert_eq!(d["spec"]["volumes"], json!(["a", "b"]));
}
