//! `/version`, `/api`, `/apis` and per-group-version discovery documents (legacy JSON forms, which
//! kubectl and kube-rs accept when aggregated discovery is not offered).

use serde_json::{Value, json};

use crate::sim::kinds::{self, ResourceType};

pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "33",
        "gitVersion": "v1.33.0-llmops-sim",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-11-01T00:00:00Z",
        "goVersion": "go1.24.0",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

fn server_addresses() -> Value {
    json!([{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}])
}

pub fn core_versions() -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": server_addresses(),
    })
}

fn group_entry(group: &str, version: &str) -> Value {
    let gv = json!({"groupVersion": format!("{group}/{version}"), "version": version});
    json!({"name": group, "versions": [gv.clone()], "preferredVersion": gv})
}

pub fn group_list() -> Value {
    let groups: Vec<Value> = kinds::groups()
        .into_iter()
        .map(|(g, v)| group_entry(g, v))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

pub fn group(name: &str) -> Value {
    let (g, v) = kinds::groups()
        .into_iter()
        .find(|(g, _)| *g == name)
        .unwrap_or((name, "v1"));
    let mut entry = group_entry(g, v);
    entry["kind"] = json!("APIGroup");
    entry["apiVersion"] = json!("v1");
    entry
}

fn resource_entry(rt: &ResourceType) -> Value {
    let mut e = json!({
        "name": rt.plural,
        "singularName": rt.singular,
        "namespaced": rt.namespaced,
        "kind": rt.kind,
        "verbs": rt.verbs,
    });
    if !rt.short_names.is_empty() {
        e["shortNames"] = json!(rt.short_names);
    }
    if !rt.categories.is_empty() {
        e["categories"] = json!(rt.categories);
    }
    e
}

fn subresource_entry(rt: &ResourceType, sub: &str) -> Value {
    let (kind, group, version, verbs): (&str, Option<&str>, Option<&str>, &[&str]) = match sub {
        "scale" => (
            "Scale",
            Some("autoscaling"),
            Some("v1"),
            &["get", "patch", "update"],
        ),
        "log" => ("Pod", None, None, &["get"]),
        _ => (rt.kind, None, None, &["get", "patch", "update"]),
    };
    let mut e = json!({
        "name": format!("{}/{}", rt.plural, sub),
        "singularName": "",
        "namespaced": rt.namespaced,
        "kind": kind,
        "verbs": verbs,
    });
    if let (Some(g), Some(v)) = (group, version) {
        e["group"] = json!(g);
        e["version"] = json!(v);
    }
    e
}

pub fn resource_list(group: &str, version: &str) -> Value {
    let mut resources = Vec::new();
    for rt in kinds::ALL
        .iter()
        .filter(|rt| rt.group == group && rt.version == version)
    {
        resources.push(resource_entry(rt));
        for sub in rt.subresources {
            resources.push(subresource_entry(rt, sub));
        }
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": gv,
        "resources": resources,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inference_services_are_discoverable_by_short_name() {
        let list = resource_list("serving.kserve.io", "v1beta1");
        let isvc = &list["resources"][0];
        assert_eq!(isvc["name"], "inferenceservices");
        assert_eq!(isvc["shortNames"], json!(["isvc"]));
        assert_eq!(list["resources"][1]["name"], "inferenceservices/status");
        let groups = group_list();
        assert!(
            groups["groups"]
                .as_array()
                .unwrap()
                .iter()
                .any(|g| g["name"] == "serving.kserve.io")
        );
        let apps = resource_list("apps", "v1");
        let scale = apps["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "deployments/scale")
            .unwrap();
        assert_eq!(scale["group"], "autoscaling");
    }
}
