//! A minimal OpenAPI v3 (`/openapi/v3` and one document per group version).
//!
//! kubectl validates `create -f` / `apply -f` manifests before sending them: it reads the v3 root,
//! fetches the group version's document and looks for the `fieldValidation` query parameter on
//! the kind's PATCH operation (`x-kubernetes-group-version-kind`); found, it leaves validation to
//! the server (`?fieldValidation=Strict`). Without an OpenAPI it refuses with "failed to download
//! openapi". The documents list every served path with its operations and their query
//! parameters; they carry no schemas (kubectl explain and client-side apply need those).

use serde_json::{Map, Value, json};

use crate::sim::kinds::{self, ResourceType};

/// `api/v1`, `apis/apps/v1`: the key of a group version in the v3 root.
fn gv_key(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

fn group_versions() -> Vec<(&'static str, &'static str)> {
    let mut out = vec![("", "v1")];
    out.extend(kinds::groups());
    out
}

/// A stable content hash, as the apiserver puts in `serverRelativeURL` (`?hash=`).
fn hash(doc: &Value) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in doc.to_string().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016X}")
}

/// `GET /openapi/v3`.
pub fn root() -> Value {
    let mut paths = Map::new();
    for (g, v) in group_versions() {
        let key = gv_key(g, v);
        let Some(doc) = group_version(&key) else {
            continue;
        };
        paths.insert(
            key.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{key}?hash={}", hash(&doc))}),
        );
    }
    json!({ "paths": paths })
}

fn query_param(name: &str, description: &str) -> Value {
    json!({
        "name": name,
        "in": "query",
        "description": description,
        "schema": {"type": "string", "uniqueItems": true},
    })
}

fn operation(rt: &ResourceType, action: &str, params: &[Value]) -> Value {
    json!({
        "description": format!("{action} the specified {}", rt.kind),
        "operationId": format!("{action}{}", rt.kind),
        "tags": [rt.group_resource()],
        "parameters": params,
        "responses": {"200": {"description": "OK"}, "401": {"description": "Unauthorized"}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {
            "group": rt.group, "version": rt.version, "kind": rt.kind,
        },
    })
}

fn write_params() -> Vec<Value> {
    vec![
        query_param(
            "dryRun",
            "When present, indicates that modifications should not be persisted.",
        ),
        query_param(
            "fieldManager",
            "fieldManager is a name associated with the actor or entity that is making these changes.",
        ),
        query_param(
            "fieldValidation",
            "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore - Warn - Strict",
        ),
    ]
}

/// The paths of one served type: its collection(s) and its object.
fn paths_of(rt: &ResourceType, paths: &mut Map<String, Value>) {
    let collection = if rt.namespaced {
        format!("{}/namespaces/{{namespace}}/{}", rt.gv_path(), rt.plural)
    } else {
        format!("{}/{}", rt.gv_path(), rt.plural)
    };
    let can = |verb: &str| rt.verbs.contains(&verb);
    let mut coll = Map::new();
    if can("list") {
        coll.insert("get".into(), operation(rt, "list", &[]));
    }
    if can("create") {
        coll.insert("post".into(), operation(rt, "post", &write_params()));
    }
    if can("deletecollection") {
        coll.insert("delete".into(), operation(rt, "deletecollection", &[]));
    }
    paths.insert(collection.clone(), Value::Object(coll));
    if !can("get") {
        return;
    }
    let mut obj = Map::new();
    obj.insert("get".into(), operation(rt, "get", &[]));
    if can("update") {
        obj.insert("put".into(), operation(rt, "put", &write_params()));
    }
    if can("patch") {
        let mut params = write_params();
        params.push(query_param(
            "force",
            "Force is going to \"force\" Apply requests.",
        ));
        obj.insert("patch".into(), operation(rt, "patch", &params));
    }
    if can("delete") {
        obj.insert("delete".into(), operation(rt, "delete", &[]));
    }
    paths.insert(format!("{collection}/{{name}}"), Value::Object(obj));
}

/// `GET /openapi/v3/<key>` (`api/v1`, `apis/apps/v1`, ...), or `None` for an unknown key.
pub fn group_version(key: &str) -> Option<Value> {
    let (group, version) = match key.split('/').collect::<Vec<_>>().as_slice() {
        ["api", v] => ("", *v),
        ["apis", g, v] => (*g, *v),
        _ => return None,
    };
    let mut paths = Map::new();
    for rt in kinds::ALL
        .iter()
        .filter(|rt| rt.group == group && rt.version == version)
    {
        paths_of(rt, &mut paths);
    }
    if paths.is_empty() {
        return None;
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": super::discovery::version()["gitVersion"]},
        "paths": paths,
        "components": {"schemas": {}},
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_links_every_group_version() {
        let root = root();
        let paths = root["paths"].as_object().unwrap();
        assert!(paths.contains_key("api/v1"));
        assert!(paths.contains_key("apis/apps/v1"));
        assert!(paths.contains_key("apis/serving.kserve.io/v1beta1"));
        let url = paths["apis/apps/v1"]["serverRelativeURL"].as_str().unwrap();
        assert!(url.starts_with("/openapi/v3/apis/apps/v1?hash="), "{url}");
        assert_eq!(group_version("apis/nope/v1"), None);
        assert_eq!(group_version("x"), None);
    }

    #[test]
    fn patch_operations_offer_field_validation() {
        let doc = group_version("api/v1").unwrap();
        let op = &doc["paths"]["/api/v1/namespaces/{namespace}/configmaps/{name}"]["patch"];
        assert_eq!(
            op["x-kubernetes-group-version-kind"],
            json!({"group": "", "version": "v1", "kind": "ConfigMap"})
        );
        assert!(
            op["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == "fieldValidation" && p["in"] == "query")
        );
        assert!(doc["paths"]["/api/v1/namespaces/{name}"]["patch"].is_object());
        let isvc = group_version("apis/serving.kserve.io/v1beta1").unwrap();
        assert!(
            isvc["paths"]
                ["/apis/serving.kserve.io/v1beta1/namespaces/{namespace}/inferenceservices/{name}"]
                ["patch"]
                .is_object()
        );
    }
}
