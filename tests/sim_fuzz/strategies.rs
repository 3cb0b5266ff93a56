//! What the fuzzer sends: routes, query strings, headers and bodies, from well-formed requests
//! aimed at live objects with small mutations, to garbage.

use llmops_console::sim::kinds::{self, ResourceType};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Value, json};

pub use super::bodies::Body;
use super::bodies::{
    NAMES, body, delete_options, edited, edits, json_patch, json_value, strategic_patch, template,
};

/// The namespace the fixtures live in.
pub const NS: &str = "fuzz";

/// One request, kept small to print: big bodies are described, then built by [`Body::bytes`].
#[derive(Debug, Clone)]
pub struct FuzzRequest {
    pub method: String,
    pub path: String,
    pub query: String,
    pub content_type: Option<String>,
    pub body: Body,
    pub authorization: Option<String>,
    pub impersonate: Option<String>,
}

fn content_type() -> impl Strategy<Value = Option<String>> {
    let known = select(
        &[
            "application/json",
            "application/json-patch+json",
            "application/merge-patch+json",
            "application/strategic-merge-patch+json",
            "application/apply-patch+yaml",
            "application/yaml",
            "application/vnd.kubernetes.protobuf",
            "text/plain",
        ][..],
    );
    prop_oneof![
        6 => known.clone().prop_map(|c| Some(c.to_string())),
        1 => known.prop_map(|c| Some(format!("{c}; charset=utf-8"))),
        1 => "[a-z/+;= -]{0,24}".prop_map(Some),
        1 => Just(None),
    ]
}

/// A path segment: usually a good name, sometimes odd or badly percent-encoded.
fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => select(NAMES).prop_map(str::to_string),
        2 => "[a-zA-Z0-9._~-]{1,12}",
        1 => select(&["%", "%z", "%e2%82", "%2F", "%00", "..", ".", "%20x", "%ff%fe"][..]).prop_map(str::to_string),
        1 => "[a-z%0-9]{1,10}",
    ]
}

fn resource_path() -> impl Strategy<Value = String> {
    (
        select(kinds::ALL),
        prop_oneof![4 => Just(Some(NS.to_string())), 1 => Just(None), 1 => segment().prop_map(Some)],
        prop_oneof![3 => Just(None), 4 => segment().prop_map(Some)],
        prop_oneof![
            6 => Just(None),
            1 => select(&["status", "scale", "log", "exec", ""][..]).prop_map(|s| Some(s.to_string())),
        ],
        prop::bool::weighted(0.1),
    )
        .prop_map(|(rt, ns, name, sub, wrong_prefix)| {
            let mut p = if wrong_prefix {
                "/apis/nope.example.com/v1".to_string()
            } else {
                rt.gv_path()
            };
            if let Some(ns) = ns.filter(|_| rt.namespaced) {
                p.push_str(&format!("/namespaces/{ns}"));
            }
            p.push('/');
            p.push_str(rt.plural);
            if let Some(n) = name {
                p.push('/');
                p.push_str(&n);
                if let Some(s) = sub {
                    p.push('/');
                    p.push_str(&s);
                }
            }
            p
        })
}

fn admin_path() -> impl Strategy<Value = String> {
    prop_oneof![
        select(
            &[
                "/sim/v1/audit",
                "/sim/v1/faults",
                "/sim/v1/faults/errors",
                "/sim/v1/faults/latency",
                "/sim/v1/faults/watch-drop",
                "/sim/v1/controllers/kubelet",
                "/sim/v1/controllers/kserveDeletion",
                "/sim/v1/controllers/nope",
                "/sim/v1/users/admin",
                "/sim/v1/users/alice",
                "/sim/v1/watches/drop",
                "/sim/v1/compact",
                "/sim/v1/info",
            ][..]
        )
        .prop_map(str::to_string),
        segment().prop_map(|s| format!("/sim/v1/{s}")),
    ]
}

pub fn path() -> impl Strategy<Value = String> {
    prop_oneof![
        12 => resource_path(),
        2 => select(&["/version", "/api", "/apis", "/apis/apps", "/apis/apps/v1", "/api/v1", "/healthz", "/openapi/v2", "/"][..])
            .prop_map(str::to_string),
        2 => admin_path(),
        1 => prop::collection::vec(segment(), 0..6).prop_map(|s| format!("/{}", s.join("/"))),
    ]
}

const QUERY_KEYS: &[&str] = &[
    "watch",
    "resourceVersion",
    "resourceVersionMatch",
    "limit",
    "continue",
    "labelSelector",
    "fieldSelector",
    "timeoutSeconds",
    "allowWatchBookmarks",
    "sendInitialEvents",
    "dryRun",
    "fieldManager",
    "force",
    "propagationPolicy",
    "gracePeriodSeconds",
    "container",
    "follow",
    "tailLines",
    "limitBytes",
    "sinceSeconds",
    "sinceTime",
    "timestamps",
    "previous",
    "since",
];

fn query_value() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => any::<i64>().prop_map(|n| n.to_string()),
        1 => select(&["0", "1", "-1", "18446744073709551616", "9223372036854775807", "1e3", ""][..]).prop_map(str::to_string),
        2 => select(&["true", "false", "1", "yes", "All", "NotOlderThan", "Exact", "Orphan", "Foreground"][..]).prop_map(str::to_string),
        3 => "[a-z0-9=!,() ./-]{0,24}",
        1 => "[a-z]{1,4}(==?|!=)[a-z]{0,4}( in \\([a-z,]{0,6}\\))?",
        1 => select(&["2026-01-01T00:00:00Z", "1-2", "999-0", "abc-def"][..]).prop_map(str::to_string),
        1 => ".{0,12}",
    ]
}

fn query_pair() -> impl Strategy<Value = String> {
    (
        prop_oneof![6 => select(QUERY_KEYS).prop_map(str::to_string), 1 => "[a-zA-Z%]{0,8}"],
        query_value(),
        0u8..10,
    )
        .prop_map(|(k, v, mode)| match mode {
            // Mostly encoded properly, sometimes raw, sometimes with broken escapes.
            0 => format!("{k}={v}"),
            1 => format!("{k}={v}%"),
            2 => format!("{k}=%zz{v}"),
            3 => k,
            _ => form_urlencoded::Serializer::new(String::new())
                .append_pair(&k, &v)
                .finish(),
        })
}

pub fn query() -> impl Strategy<Value = String> {
    (prop::collection::vec(query_pair(), 0..5), any::<bool>()).prop_map(|(pairs, lead)| {
        let q = pairs.join("&");
        if lead { format!("&{q}") } else { q }
    })
}

pub fn method() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => Just("GET".to_string()),
        3 => Just("POST".to_string()),
        3 => Just("PUT".to_string()),
        4 => Just("PATCH".to_string()),
        3 => Just("DELETE".to_string()),
        1 => select(&["HEAD", "OPTIONS", "FROB"][..]).prop_map(str::to_string),
    ]
}

fn authorization() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        8 => Just(None),
        2 => Just(Some("Bearer admin-token".to_string())),
        1 => select(&["Bearer ", "Bearer garbage", "Basic YWRtaW46YWRtaW4=", "bearer admin-token", "Bearer -token"][..])
            .prop_map(|s| Some(s.to_string())),
    ]
}

fn impersonate() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        12 => Just(None),
        1 => select(&["admin", "alice", "system:anonymous", ""][..]).prop_map(|s| Some(s.to_string())),
    ]
}

/// Requests aimed at a live fixture with a method, content type and body that fit it, then
/// mutated: these get past routing and decoding into the store and the patch engines.
fn targeted() -> impl Strategy<Value = FuzzRequest> {
    let fixture = select((0..fixtures().len()).collect::<Vec<_>>());
    let patch_type = select(
        &[
            "application/merge-patch+json",
            "application/json-patch+json",
            "application/strategic-merge-patch+json",
            "application/apply-patch+yaml",
        ][..],
    );
    (
        fixture,
        select(&["GET", "PUT", "PATCH", "PATCH", "PATCH", "DELETE", "POST"][..]),
        prop_oneof![4 => Just(""), 1 => select(&["/status", "/scale", "/log"][..])],
        query(),
        patch_type,
        (edits(), json_patch(), strategic_patch(), any::<bool>()),
        delete_options(),
    )
        .prop_map(
            |(i, method, sub, query, ct, (edits, json_patch, strategic, yaml), delete)| {
                let (rt, fixture) = &fixtures()[i];
                let name = fixture["metadata"]["name"]
                    .as_str()
                    .unwrap_or("")
                    .to_string();
                let collection = rt.collection_path(Some(NS));
                let object = edited(fixture.clone(), edits.clone());
                let patch_body = match ct {
                    "application/json-patch+json" => Body::Json(json_patch),
                    "application/strategic-merge-patch+json" => Body::Json(strategic),
                    // Apply takes the whole intent, as JSON or as YAML.
                    "application/apply-patch+yaml" if yaml => {
                        Body::Text(serde_yaml_ng::to_string(&object).unwrap_or_default())
                    }
                    "application/apply-patch+yaml" => Body::Json(object.clone()),
                    // A merge patch is a partial object.
                    _ => Body::Json(edited(json!({}), edits)),
                };
                let (path, content_type, body) = match method {
                    "POST" => (
                        collection,
                        Some("application/json".to_string()),
                        Body::Json(object),
                    ),
                    "PATCH" => (
                        format!("{collection}/{name}{sub}"),
                        Some(ct.to_string()),
                        patch_body,
                    ),
                    "PUT" => (
                        format!("{collection}/{name}{sub}"),
                        Some("application/json".to_string()),
                        Body::Json(object),
                    ),
                    "DELETE" => (
                        format!("{collection}/{name}"),
                        Some("application/json".to_string()),
                        Body::Json(delete),
                    ),
                    _ => (format!("{collection}/{name}{sub}"), None, Body::Empty),
                };
                let query = if ct.contains("apply") && method == "PATCH" {
                    format!("fieldManager=fuzz&{query}")
                } else {
                    query
                };
                FuzzRequest {
                    method: method.to_string(),
                    path,
                    query,
                    content_type,
                    body,
                    authorization: None,
                    impersonate: None,
                }
            },
        )
}

pub fn request() -> impl Strategy<Value = FuzzRequest> {
    prop_oneof![4 => random_request(), 4 => targeted(), 1 => junk_field()]
}

/// Objects whose fields the simulator's controllers and handlers read: the fixtures, what the
/// controllers made for them (the InferenceService's predictor Deployment, Service and HPA, and
/// its Ingress) and the namespace.
fn junk_targets() -> Vec<String> {
    use llmops_console::sim::kinds::{
        DEPLOYMENTS, HPAS, INFERENCESERVICES, INGRESSES, NAMESPACES, PODS, SERVICES,
    };
    let at = |rt: &ResourceType, name: &str| format!("{}/{name}", rt.collection_path(Some(NS)));
    vec![
        at(&PODS, "fuzz-pod"),
        at(&DEPLOYMENTS, "fuzz-deploy"),
        at(&INFERENCESERVICES, "fuzz-isvc"),
        at(&SERVICES, "fuzz-svc"),
        at(&DEPLOYMENTS, "fuzz-isvc-predictor"),
        at(&SERVICES, "fuzz-isvc-predictor"),
        at(&HPAS, "fuzz-isvc-predictor"),
        at(&INGRESSES, "fuzz-isvc"),
        format!("{}/{NS}", NAMESPACES.collection_path(None)),
    ]
}

/// A field the simulator expects to be an object (`spec`, `status`, a pod template, a predictor)
/// set to any JSON but an object, through the resource or its status subresource: what clients
/// store is read back by controllers, which must not trust its shape (a pod whose `/status` was
/// `5` once panicked the kubelet). Rare among random edits, so it gets its own share of cases.
fn junk_field() -> impl Strategy<Value = FuzzRequest> {
    let field = select(
        &[
            "/spec",
            "/status",
            "/spec/template",
            "/spec/template/metadata",
            "/spec/template/spec",
            "/spec/containers/0",
            "/spec/predictor",
            "/spec/predictor/model",
            "/spec/predictor/containers/0",
            "/spec/finalizers",
            "/status/conditions",
            "/status/containerStatuses",
        ][..],
    );
    let junk = json_value().prop_filter("not an object", |v| !v.is_object() && !v.is_null());
    (
        select(junk_targets()),
        prop_oneof![1 => Just(""), 1 => Just("/status")],
        field,
        junk,
        any::<bool>(),
    )
        .prop_map(|(target, sub, field, junk, json_patch)| {
            let (content_type, body) = if json_patch {
                (
                    "application/json-patch+json",
                    json!([{"op": "add", "path": field, "value": junk}]),
                )
            } else {
                (
                    "application/merge-patch+json",
                    edited(json!({}), vec![(field.to_string(), junk)]),
                )
            };
            FuzzRequest {
                method: "PATCH".to_string(),
                path: format!("{target}{sub}"),
                query: String::new(),
                content_type: Some(content_type.to_string()),
                body: Body::Json(body),
                authorization: None,
                impersonate: None,
            }
        })
}

fn random_request() -> impl Strategy<Value = FuzzRequest> {
    (
        method(),
        path(),
        query(),
        content_type(),
        body(),
        authorization(),
        impersonate(),
    )
        .prop_map(
            |(method, path, query, content_type, body, authorization, impersonate)| FuzzRequest {
                method,
                path,
                query,
                content_type,
                body,
                authorization,
                impersonate,
            },
        )
}

/// The fixtures the runner keeps alive in [`NS`].
pub fn fixtures() -> Vec<(&'static ResourceType, Value)> {
    use llmops_console::sim::kinds::{
        CONFIGMAPS, DEPLOYMENTS, INFERENCESERVICES, LEASES, PODS, SERVICES,
    };
    vec![
        (&CONFIGMAPS, template(&CONFIGMAPS, "fuzz-cm")),
        (&PODS, template(&PODS, "fuzz-pod")),
        (&DEPLOYMENTS, template(&DEPLOYMENTS, "fuzz-deploy")),
        (
            &INFERENCESERVICES,
            template(&INFERENCESERVICES, "fuzz-isvc"),
        ),
        (&LEASES, template(&LEASES, "fuzz-lease")),
        (&SERVICES, template(&SERVICES, "fuzz-svc")),
    ]
}
