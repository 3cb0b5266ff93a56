//! The `scale` subresource of Deployments and ReplicaSets (autoscaling/v1 Scale).

use std::sync::Arc;

use axum::response::Response;
use serde_json::{Value, json};

use super::super::query::WriteKind;
use super::super::response::json_response;
use super::super::table::TableOptions;
use super::super::{ApiRequest, HttpState};
use super::{content_type, name, parse_body, write_options};
use crate::sim::error::ApiError;
use crate::sim::meta;
use crate::sim::patch::{self, PatchType};

fn selector_string(obj: &Value) -> String {
    let mut parts: Vec<String> = obj
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect()
        })
        .unwrap_or_default();
    parts.sort();
    parts.join(",")
}

fn scale_of(obj: &Value) -> Value {
    let md = obj.get("metadata").cloned().unwrap_or(json!({}));
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": md.get("name"),
            "namespace": md.get("namespace"),
            "uid": md.get("uid"),
            "resourceVersion": md.get("resourceVersion"),
            "creationTimestamp": md.get("creationTimestamp"),
        },
        "spec": {"replicas": obj.pointer("/spec/replicas").cloned().unwrap_or(json!(0))},
        "status": {
            "replicas": obj.pointer("/status/replicas").cloned().unwrap_or(json!(0)),
            "selector": selector_string(obj),
        },
    })
}

pub fn get(
    st: &Arc<HttpState>,
    req: &ApiRequest,
    table: Option<TableOptions>,
) -> Result<Response, ApiError> {
    let obj = st.ctx.store.get(req.route.rt, req.route.ns(), name(req)?)?;
    let scale = scale_of(&obj);
    Ok(match table {
        Some(opts) => json_response(200, &super::super::table::for_scale(&scale, opts)),
        None => json_response(200, &scale),
    })
}

pub fn write(st: &Arc<HttpState>, req: &ApiRequest) -> Result<Response, ApiError> {
    let rt = req.route.rt;
    let name = name(req)?;
    let is_patch = req.verb == "patch";
    let ct = content_type(req);
    let kind = if is_patch {
        WriteKind::Patch {
            apply: patch::patch_type_from_content_type(&ct) == Some(PatchType::Apply),
        }
    } else {
        WriteKind::Update
    };
    let mut opts = write_options(req, kind)?;
    let body = parse_body(req)?;
    opts.status_only = false;
    let obj = st.ctx.store.patch(rt, req.route.ns(), name, &opts, |current| {
        let scale = scale_of(current);
        let new_scale = if is_patch {
            match patch::patch_type_from_content_type(&ct) {
                Some(PatchType::Json) => patch::json_patch(&scale, &body).map_err(|e| e.to_api_error())?,
                Some(PatchType::Merge) | Some(PatchType::Apply) => patch::merge_patch(&scale, &body),
                Some(PatchType::Strategic) => {
                    patch::strategic_merge_patch(&scale, &body).map_err(|e| e.to_api_error())?
                }
                None => {
                    return Err(ApiError::unsupported_media_type(
                        &["application/json-patch+json", "application/merge-patch+json"],
                    ));
                }
            }
        } else {
            let rv = body.pointer("/metadata/resourceVersion").and_then(Value::as_str);
            if rv.is_some_and(|rv| Some(rv) != current.pointer("/metadata/resourceVersion").and_then(Value::as_str)) {
                return Err(ApiError::conflict_modified(rt, name));
            }
            body.clone()
        };
        let replicas = new_scale
            .pointer("/spec/replicas")
            .and_then(Value::as_i64)
            .filter(|r| *r >= 0)
            .ok_or_else(|| {
                ApiError::new(
                    422,
                    "Invalid",
                    format!("Scale.autoscaling \"{name}\" is invalid: spec.replicas: Invalid value: must be greater than or equal to 0"),
                )
            })?;
        let mut out = current.clone();
        meta::object_field_mut(&mut out, "spec").insert("replicas".into(), json!(replicas));
        Ok(out)
    })?;
    Ok(json_response(200, &scale_of(&obj)))
}
