//! Per-kind defaulting and validation done by the apiserver on writes.

use serde_json::{Value, json};

use super::State;
use crate::sim::error::ApiError;
use crate::sim::kinds::{self, ResourceType};
use crate::sim::meta;

const DNS1123_SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
pub(super) const DNS1123_LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

/// Kinds whose `metadata.generation` counts spec changes.
pub fn tracks_generation(rt: &ResourceType) -> bool {
    matches!(
        rt.plural,
        "deployments"
            | "replicasets"
            | "horizontalpodautoscalers"
            | "ingresses"
            | "inferenceservices"
    )
}

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

pub fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !part.starts_with('-')
                && !part.ends_with('-')
        })
}

pub fn validate_name(rt: &ResourceType, name: &str) -> Result<(), ApiError> {
    // Namespaces and Services are DNS labels; everything else here is a subdomain.
    let label = matches!(rt.plural, "namespaces" | "services");
    let ok = if label {
        is_dns_label(name)
    } else {
        is_dns_subdomain(name)
    };
    if ok {
        return Ok(());
    }
    let why = if label {
        DNS1123_LABEL_MSG
    } else {
        DNS1123_SUBDOMAIN_MSG
    };
    Err(ApiError::invalid(
        rt,
        name,
        "metadata.name",
        "FieldValueInvalid",
        &format!("Invalid value: {name:?}: {why}"),
    ))
}

/// Defaults the apiserver fills on create.
pub fn apply_on_create(rt: &ResourceType, obj: &mut Value, st: &mut State) {
    apply_on_write(rt, obj);
    match rt.plural {
        "pods" => default_pod(obj),
        "services" => default_service(obj, st),
        "deployments" => {
            default_field(obj, "/spec/replicas", json!(1));
            default_field(obj, "/spec/revisionHistoryLimit", json!(10));
            default_field(obj, "/spec/progressDeadlineSeconds", json!(600));
            default_field(
                obj,
                "/spec/strategy",
                json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}),
            );
        }
        "replicasets" => default_field(obj, "/spec/replicas", json!(1)),
        "namespaces" => {
            default_field(obj, "/spec/finalizers", json!(["kubernetes"]));
            default_field(obj, "/status/phase", json!("Active"));
            let name = meta::name(obj).to_string();
            let md = meta::metadata_mut(obj);
            let labels = md.entry("labels").or_insert_with(|| json!({}));
            if let Some(l) = labels.as_object_mut() {
                l.insert("kubernetes.io/metadata.name".into(), json!(name));
            }
        }
        _ => {}
    }
}

/// Defaults the apiserver applies on every write, updates and patches included.
pub fn apply_on_write(rt: &ResourceType, obj: &mut Value) {
    super::pod_defaults::apply(rt, obj);
}

/// What pod creation adds beyond the pod spec defaults (admission: service account, status).
fn default_pod(obj: &mut Value) {
    default_field(obj, "/spec/serviceAccountName", json!("default"));
    default_field(obj, "/status/phase", json!("Pending"));
    default_field(obj, "/status/qosClass", json!("BestEffort"));
}

fn default_service(obj: &mut Value, st: &mut State) {
    default_field(obj, "/spec/type", json!("ClusterIP"));
    default_field(obj, "/spec/sessionAffinity", json!("None"));
    let headless = obj.pointer("/spec/clusterIP").and_then(Value::as_str) == Some("None");
    if !headless && obj.pointer("/spec/clusterIP").is_none() {
        let n = st.next_cluster_ip;
        st.next_cluster_ip += 1;
        let ip = format!("10.96.{}.{}", (n >> 8) & 0xFF, n & 0xFF);
        default_field(obj, "/spec/clusterIP", json!(ip));
        default_field(obj, "/spec/clusterIPs", json!([ip]));
    }
    if let Some(ports) = obj.pointer_mut("/spec/ports").and_then(Value::as_array_mut) {
        for p in ports.iter_mut().filter_map(Value::as_object_mut) {
            p.entry("protocol").or_insert_with(|| json!("TCP"));
            if let Some(port) = p.get("port").cloned() {
                p.entry("targetPort").or_insert(port);
            }
        }
    }
}

/// Sets the value at a JSON pointer when absent, creating intermediate objects.
pub fn default_field(obj: &mut Value, pointer: &str, value: Value) {
    if obj.pointer(pointer).is_some() {
        return;
    }
    let mut cur = obj;
    let parts: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        if !cur.is_object() {
            *cur = json!({});
        }
        let Some(map) = cur.as_object_mut() else {
            return;
        };
        if i + 1 == parts.len() {
            map.insert((*part).to_string(), value);
            return;
        }
        cur = map.entry((*part).to_string()).or_insert_with(|| json!({}));
    }
}

/// Validation of the fields the console and the controllers rely on. Messages follow the
/// apiserver's `<Kind> "<name>" is invalid: <field>: <detail>` form.
pub fn validate(rt: &ResourceType, obj: &Value) -> Result<(), ApiError> {
    let name = meta::name(obj);
    if let Some(labels) = obj.pointer("/metadata/labels") {
        let ok = labels
            .as_object()
            .is_some_and(|m| m.values().all(Value::is_string));
        if !ok {
            return Err(ApiError::invalid(
                rt,
                name,
                "metadata.labels",
                "FieldValueInvalid",
                "Invalid value: labels must be a map of strings",
            ));
        }
    }
    let errs = super::validation::field_errors(rt, obj);
    if !errs.is_empty() {
        return Err(ApiError::invalid_fields(rt.group, rt.kind, name, &errs));
    }
    if rt == &kinds::DEPLOYMENTS || rt == &kinds::REPLICASETS {
        if let Some(r) = obj.pointer("/spec/replicas")
            && r.as_i64().is_none_or(|n| n < 0)
        {
            return Err(ApiError::invalid(
                rt,
                name,
                "spec.replicas",
                "FieldValueInvalid",
                &format!("Invalid value: {r}: must be greater than or equal to 0"),
            ));
        }
        if obj.pointer("/spec/selector").is_none() {
            return Err(ApiError::invalid(
                rt,
                name,
                "spec.selector",
                "FieldValueRequired",
                "Required value",
            ));
        }
        if obj.pointer("/spec/template").is_none() {
            return Err(ApiError::invalid(
                rt,
                name,
                "spec.template.metadata.labels",
                "FieldValueInvalid",
                "Invalid value: map[string]string(nil): `selector` does not match template `labels`",
            ));
        }
    }
    if rt == &kinds::PODS {
        let containers = obj.pointer("/spec/containers").and_then(Value::as_array);
        if containers.is_none_or(|c| c.is_empty()) {
            return Err(ApiError::invalid(
                rt,
                name,
                "spec.containers",
                "FieldValueRequired",
                "Required value",
            ));
        }
    }
    Ok(())
}
