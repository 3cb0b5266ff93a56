use serde_json::{Value, json};

use super::*;

fn doc() -> Value {
    json!({
        "metadata": {"name": "web", "labels": {"a/b": "1", "c~d": "2"}},
        "spec": {"replicas": 1, "list": ["x", "y", "z"]}
    })
}

fn ok(ops: Value) -> Value {
    json_patch(&doc(), &ops).unwrap()
}

fn failed(ops: Value) -> String {
    match json_patch(&doc(), &ops) {
        Err(PatchError::JsonPatchFailed(m)) => m,
        other => panic!("expected a failed patch, got {other:?}"),
    }
}

#[test]
fn add_remove_replace() {
    let d = ok(json!([
        {"op": "add", "path": "/spec/paused", "value": true},
        {"op": "replace", "path": "/spec/replicas", "value": 3},
        {"op": "remove", "path": "/metadata/labels/a~1b"},
        {"op": "add", "path": "/spec/list/1", "value": "new"},
        {"op": "add", "path": "/spec/list/-", "value": "end"}
    ]));
    assert_eq!(d["spec"]["paused"], json!(true));
    assert_eq!(d["spec"]["replicas"], json!(3));
    assert_eq!(d["metadata"]["labels"], json!({"c~d": "2"}));
    assert_eq!(d["spec"]["list"], json!(["x", "new", "y", "z", "end"]));
    // add on an existing key replaces it.
    let d = ok(json!([{"op": "add", "path": "/spec/replicas", "value": 5}]));
    assert_eq!(d["spec"]["replicas"], json!(5));
    // ~0 unescapes to ~.
    let d = ok(json!([{"op": "replace", "path": "/metadata/labels/c~0d", "value": "3"}]));
    assert_eq!(d["metadata"]["labels"]["c~d"], json!("3"));
    // Array removal and replacement by index.
    let d = ok(json!([
        {"op": "remove", "path": "/spec/list/0"},
        {"op": "replace", "path": "/spec/list/0", "value": "Y"}
    ]));
    assert_eq!(d["spec"]["list"], json!(["Y", "z"]));
}

#[test]
fn move_and_copy() {
    let d = ok(json!([
        {"op": "copy", "from": "/metadata/name", "path": "/spec/name"},
        {"op": "move", "from": "/spec/list", "path": "/spec/items"}
    ]));
    assert_eq!(d["spec"]["name"], json!("web"));
    assert!(d["spec"].get("list").is_none());
    assert_eq!(d["spec"]["items"], json!(["x", "y", "z"]));
    let d = ok(json!([{"op": "move", "from": "/spec/list/0", "path": "/spec/list/-"}]));
    assert_eq!(d["spec"]["list"], json!(["y", "z", "x"]));
    assert!(failed(json!([{"op": "move", "from": "/nope", "path": "/x"}])).contains("from"));
    assert!(failed(json!([{"op": "copy", "from": "/nope", "path": "/x"}])).contains("from"));
}

#[test]
fn negative_indices_count_from_the_end() {
    let d = ok(json!([{"op": "remove", "path": "/spec/list/-1"}]));
    assert_eq!(d["spec"]["list"], json!(["x", "y"]));
    let d = ok(json!([{"op": "add", "path": "/spec/list/-1", "value": "w"}]));
    assert_eq!(d["spec"]["list"], json!(["x", "y", "z", "w"]));
    failed(json!([{"op": "remove", "path": "/spec/list/-4"}]));
}

#[test]
fn test_op_passes_and_fails() {
    ok(json!([
        {"op": "test", "path": "/spec/replicas", "value": 1.0},
        {"op": "test", "path": "/spec/list", "value": ["x", "y", "z"]},
        {"op": "test", "path": "/spec/list/1", "value": "y"}
    ]));
    let m = failed(json!([{"op": "test", "path": "/spec/replicas", "value": 2}]));
    assert_eq!(m, "testing value /spec/replicas failed: test failed");
    // A failed test discards earlier operations: the target is untouched.
    let target = doc();
    let r = json_patch(
        &target,
        &json!([
            {"op": "replace", "path": "/spec/replicas", "value": 9},
            {"op": "test", "path": "/metadata/name", "value": "other"}
        ]),
    );
    assert!(r.is_err());
    assert_eq!(target, doc());
}

#[test]
fn test_null_passes_for_absent_field() {
    // kube-runtime's finalizer helper: test that finalizers are absent, then add them.
    let d = ok(json!([
        {"op": "test", "path": "/metadata/finalizers", "value": null},
        {"op": "add", "path": "/metadata/finalizers", "value": ["x"]}
    ]));
    assert_eq!(d["metadata"]["finalizers"], json!(["x"]));
    // ... and the follow-up forms against the object that now has them.
    let d2 = json_patch(
        &d,
        &json!([
            {"op": "test", "path": "/metadata/finalizers", "value": ["x"]},
            {"op": "add", "path": "/metadata/finalizers/-", "value": "y"}
        ]),
    )
    .unwrap();
    assert_eq!(d2["metadata"]["finalizers"], json!(["x", "y"]));
    let d3 = json_patch(
        &d2,
        &json!([
            {"op": "test", "path": "/metadata/finalizers/0", "value": "x"},
            {"op": "remove", "path": "/metadata/finalizers/0"}
        ]),
    )
    .unwrap();
    assert_eq!(d3["metadata"]["finalizers"], json!(["y"]));
    // A missing `value` counts as null.
    ok(json!([{"op": "test", "path": "/metadata/finalizers"}]));
    // Test null against a present value fails; so does a present null against a value.
    failed(json!([{"op": "test", "path": "/metadata/name", "value": null}]));
    let with_null = json!({"a": null});
    assert!(
        json_patch(
            &with_null,
            &json!([{"op": "test", "path": "/a", "value": null}])
        )
        .is_ok()
    );
    assert!(
        json_patch(
            &with_null,
            &json!([{"op": "test", "path": "/a", "value": 1}])
        )
        .is_err()
    );
    // The parent must exist.
    failed(json!([{"op": "test", "path": "/nope/finalizers", "value": null}]));
    // Out-of-range array index is an error, even against null.
    failed(json!([{"op": "test", "path": "/spec/list/7", "value": null}]));
}

#[test]
fn missing_paths_are_errors() {
    let m = failed(json!([{"op": "remove", "path": "/metadata/finalizers"}]));
    assert!(m.contains("nonexistent key"), "{m}");
    failed(json!([{"op": "replace", "path": "/spec/absent", "value": 1}]));
    failed(json!([{"op": "add", "path": "/nope/deeper", "value": 1}]));
    failed(json!([{"op": "add", "path": "/spec/list/9", "value": 1}]));
    failed(json!([{"op": "remove", "path": "/spec/list/3"}]));
    failed(json!([{"op": "add", "path": "/spec/replicas/x", "value": 1}]));
    failed(json!([{"op": "add", "path": "", "value": {}}]));
    failed(json!([{"op": "add", "path": "spec", "value": 1}]));
}

#[test]
fn malformed_bodies_and_ops() {
    for body in [json!({"op": "add"}), json!("x"), json!(null)] {
        match json_patch(&doc(), &body) {
            Err(PatchError::Malformed(m)) => assert!(m.contains("jsonpatch.Patch"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
    match json_patch(&doc(), &json!([1])) {
        Err(PatchError::Malformed(m)) => {
            assert_eq!(
                m,
                "json: cannot unmarshal number into Go value of type jsonpatch.Operation"
            )
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        failed(json!([{"op": "frob", "path": "/a"}])),
        "Unexpected kind: frob"
    );
    assert_eq!(failed(json!([{"path": "/a"}])), "Unexpected kind: unknown");
    failed(json!([{"op": "add", "value": 1}]));
    failed(json!([{"op": "move", "path": "/a"}]));
    // An empty patch is a no-op.
    assert_eq!(ok(json!([])), doc());
}

#[test]
fn errors_become_422_or_400() {
    let e = json_patch(&doc(), &json!([{"op": "remove", "path": "/x"}])).unwrap_err();
    assert_eq!(e.to_api_error().code, 422);
    let e = json_patch(&doc(), &json!({})).unwrap_err();
    assert_eq!(e.to_api_error().code, 400);
}
