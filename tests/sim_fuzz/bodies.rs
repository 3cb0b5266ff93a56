//! Request bodies: mutated objects of every served kind, JSON of any shape, patches of each
//! type, DeleteOptions, admin API bodies, and broken or oversized input.

use llmops_console::sim::kinds::{self, ResourceType};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value, json};

use super::strategies::NS;

#[derive(Debug, Clone)]
pub enum Body {
    Empty,
    Json(Value),
    /// The JSON cut after this many bytes.
    Truncated(Value, usize),
    Raw(Vec<u8>),
    Text(String),
    /// `{"metadata":{"name":"big"},"data":{"k":"xxxx..."}}` of about this many bytes.
    Huge(usize),
    /// Arrays nested this deep around a value.
    Nested(usize),
}

impl Body {
    pub fn bytes(&self) -> Vec<u8> {
        match self {
            Body::Empty => Vec::new(),
            Body::Json(v) => serde_json::to_vec(v).unwrap_or_default(),
            Body::Truncated(v, at) => {
                let mut b = serde_json::to_vec(v).unwrap_or_default();
                b.truncate(*at);
                b
            }
            Body::Raw(b) => b.clone(),
            Body::Text(t) => t.clone().into_bytes(),
            Body::Huge(n) => {
                let mut b = br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"big"},"data":{"k":""#.to_vec();
                b.resize(b.len() + n, b'x');
                b.extend_from_slice(b"\"}}");
                b
            }
            Body::Nested(depth) => {
                let mut s = "[".repeat(*depth);
                s.push_str("{\"a\":1}");
                s.push_str(&"]".repeat(*depth));
                s.into_bytes()
            }
        }
    }
}

/// Names of the fixtures (see the runner), so requests often address live objects.
pub const NAMES: &[&str] = &[
    "fuzz-cm",
    "fuzz-pod",
    "fuzz-deploy",
    "fuzz-isvc",
    "fuzz-lease",
    "fuzz-svc",
    "fuzz",
    "default",
    "llm-prod",
    "big",
];

const META_KEYS: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "name",
    "namespace",
    "generateName",
    "labels",
    "annotations",
    "finalizers",
    "resourceVersion",
    "uid",
    "generation",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "ownerReferences",
    "managedFields",
    "spec",
    "status",
    "data",
    "replicas",
    "selector",
    "matchLabels",
    "template",
    "containers",
    "image",
    "nodeName",
    "phase",
    "predictor",
    "holderIdentity",
    "$patch",
    "$retainKeys",
    "$setElementOrder/finalizers",
    "$deleteFromPrimitiveList/finalizers",
    "op",
    "path",
    "value",
    "from",
];

const POINTERS: &[&str] = &[
    "",
    "/",
    "/-",
    "/kind",
    "/apiVersion",
    "/metadata",
    "/metadata/name",
    "/metadata/namespace",
    "/metadata/generateName",
    "/metadata/labels",
    "/metadata/labels/app",
    "/metadata/labels/a~1b",
    "/metadata/annotations",
    "/metadata/finalizers",
    "/metadata/finalizers/-",
    "/metadata/finalizers/0",
    "/metadata/finalizers/99999999999999999999",
    "/metadata/resourceVersion",
    "/metadata/uid",
    "/metadata/generation",
    "/metadata/deletionTimestamp",
    "/metadata/deletionGracePeriodSeconds",
    "/metadata/ownerReferences",
    "/metadata/managedFields",
    "/spec",
    "/spec/replicas",
    "/spec/selector",
    "/spec/template",
    "/spec/containers",
    "/spec/containers/0",
    "/spec/containers/0/name",
    "/spec/nodeName",
    "/spec/terminationGracePeriodSeconds",
    "/status",
    "/status/phase",
    "/data",
    "/data/k",
];

fn pointer() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => select(POINTERS).prop_map(str::to_string),
        1 => "(/[a-z~0-9-]{0,6}){0,4}",
    ]
}

fn short_string() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => select(NAMES).prop_map(str::to_string),
        3 => "[a-z0-9.-]{0,12}",
        1 => ".{0,16}",
        1 => Just(String::new()),
        1 => Just("2026-01-01T00:00:00Z".to_string()),
    ]
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e300f64..1e300).prop_map(|f| json!(f)),
        select(&[-1i64, 0, 1, 3, 30, i64::MAX, i64::MIN][..]).prop_map(Value::from),
        short_string().prop_map(Value::from),
    ]
}

/// Any JSON value, a few levels deep, with keys a client would use.
pub fn json_value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        4 => select(META_KEYS).prop_map(str::to_string),
                        1 => "[a-zA-Z$/]{0,8}",
                    ],
                    inner
                ),
                0..6
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A valid object of a served kind, named `name`.
pub fn template(rt: &ResourceType, name: &str) -> Value {
    let mut obj = json!({"apiVersion": rt.api_version(), "kind": rt.kind, "metadata": {"name": name, "labels": {"app": name}}});
    let spec = match rt.plural {
        "pods" => json!({"nodeName": "node-1", "containers": [{"name": "c", "image": "busybox"}]}),
        "deployments" | "replicasets" => json!({
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}},
        }),
        "inferenceservices" => {
            json!({"predictor": {"model": {"modelFormat": {"name": "sklearn"}, "storageUri": "s3://m"}}})
        }
        "leases" => json!({"holderIdentity": "me", "leaseDurationSeconds": 15}),
        "services" => json!({"ports": [{"port": 80}], "selector": {"app": name}}),
        "selfsubjectaccessreviews" => {
            json!({"resourceAttributes": {"namespace": NS, "verb": "delete", "resource": "pods"}})
        }
        _ => Value::Null,
    };
    if rt.plural == "configmaps" {
        obj["data"] = json!({"k": "v"});
    } else if !spec.is_null() {
        obj["spec"] = spec;
    }
    obj
}

/// A few fields to replace by anything (wrong types included); often none or one, so that
/// many mutated objects stay valid and reach the store.
pub fn edits() -> impl Strategy<Value = Vec<(String, Value)>> {
    prop_oneof![
        1 => Just(Vec::new()),
        2 => prop::collection::vec((pointer(), json_value()), 1..2),
        1 => prop::collection::vec((pointer(), json_value()), 2..5),
    ]
}

pub fn edited(mut obj: Value, edits: Vec<(String, Value)>) -> Value {
    for (ptr, v) in edits {
        set_pointer(&mut obj, &ptr, v);
    }
    obj
}

/// A valid object of any kind with a few fields replaced.
pub fn mutated_object() -> impl Strategy<Value = Value> {
    (select(kinds::ALL), select(NAMES), edits())
        .prop_map(|(rt, name, edits)| edited(template(rt, name), edits))
}

/// Sets the value at a JSON pointer, creating objects on the way (arrays are left alone).
fn set_pointer(obj: &mut Value, ptr: &str, v: Value) {
    if ptr.is_empty() {
        *obj = v;
        return;
    }
    let mut cur = obj;
    let parts: Vec<&str> = ptr.trim_start_matches('/').split('/').collect();
    for (i, p) in parts.iter().enumerate() {
        let Some(map) = cur.as_object_mut() else {
            return;
        };
        if i + 1 == parts.len() {
            map.insert((*p).to_string(), v);
            return;
        }
        cur = map.entry((*p).to_string()).or_insert_with(|| json!({}));
    }
}

pub fn json_patch() -> impl Strategy<Value = Value> {
    let op = (
        prop_oneof![
            8 => select(&["add", "remove", "replace", "move", "copy", "test"][..]),
            1 => select(&["jump", "", "ADD"][..]),
        ],
        pointer(),
        json_value(),
        pointer(),
    )
        .prop_map(
            |(op, path, value, from)| json!({"op": op, "path": path, "value": value, "from": from}),
        );
    prop::collection::vec(op, 0..5).prop_map(Value::Array)
}

pub fn strategic_patch() -> impl Strategy<Value = Value> {
    (
        select(&["merge", "replace", "delete", "sideways"][..]),
        prop::collection::vec(short_string(), 0..3),
        json_value(),
    )
        .prop_map(|(directive, list, extra)| {
            json!({
                "metadata": {
                    "$deleteFromPrimitiveList/finalizers": list.clone(),
                    "$setElementOrder/finalizers": list.clone(),
                    "finalizers": list,
                    "$retainKeys": ["labels"],
                    "labels": {"x": null},
                },
                "spec": {"containers": [{"name": "c", "$patch": directive}], "x": extra},
                "$patch": directive,
            })
        })
}

/// DeleteOptions: mostly well-typed (so deletes happen, with every policy and grace), each
/// field sometimes absent or of any type.
pub fn delete_options() -> impl Strategy<Value = Value> {
    fn field<S: Strategy<Value = Value> + 'static>(good: S) -> BoxedStrategy<Option<Value>> {
        prop_oneof![4 => good.prop_map(Some), 3 => Just(None), 1 => scalar().prop_map(Some)].boxed()
    }
    (
        field(select(&[0i64, 1, 5, 30, -1, i64::MAX][..]).prop_map(Value::from)),
        field(select(&["Foreground", "Background", "Orphan"][..]).prop_map(Value::from)),
        field(Just(json!({"resourceVersion": "1"}))),
        field(Just(json!(["All"]))),
        field(any::<bool>().prop_map(Value::from)),
    )
        .prop_map(|(grace, policy, pre, dry, orphan)| {
            let mut opts = Map::new();
            for (k, v) in [
                ("gracePeriodSeconds", grace),
                ("propagationPolicy", policy),
                ("preconditions", pre),
                ("dryRun", dry),
                ("orphanDependents", orphan),
            ] {
                if let Some(v) = v {
                    opts.insert(k.to_string(), v);
                }
            }
            Value::Object(opts)
        })
}

fn admin_body() -> impl Strategy<Value = Value> {
    prop_oneof![
        (scalar(), scalar(), scalar(), scalar(), scalar()).prop_map(
            |(verb, code, count, p, reason)| {
                json!({"verb": verb, "resource": "configmaps", "code": code, "count": count,
                   "probability": p, "reason": reason, "retryAfterSeconds": 1})
            }
        ),
        (scalar(), scalar()).prop_map(|(verb, ms)| json!({"verb": verb, "ms": ms})),
        scalar().prop_map(|n| json!({"everySeconds": n})),
        scalar().prop_map(|s| json!({"state": s})),
        (json_value(), json_value())
            .prop_map(|(verbs, res)| json!([{"verbs": verbs, "resources": res}])),
    ]
}

pub fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        2 => Just(Body::Empty),
        6 => mutated_object().prop_map(Body::Json),
        3 => json_value().prop_map(Body::Json),
        3 => json_patch().prop_map(Body::Json),
        2 => strategic_patch().prop_map(Body::Json),
        2 => delete_options().prop_map(Body::Json),
        2 => admin_body().prop_map(Body::Json),
        2 => (mutated_object(), 0usize..200).prop_map(|(v, at)| Body::Truncated(v, at)),
        1 => prop::collection::vec(any::<u8>(), 0..64).prop_map(Body::Raw),
        1 => "[ -~\n]{0,80}".prop_map(Body::Text),
        1 => prop_oneof![Just(1usize << 20), Just(3 * (1usize << 20)), Just(3 * (1usize << 20) + 1)]
            .prop_map(Body::Huge),
        1 => (100usize..140).prop_map(Body::Nested),
    ]
}
