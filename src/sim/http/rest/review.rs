//! SelfSubjectAccessReview: "may I?", answered from the simulator's RBAC rules.

use std::sync::Arc;

use axum::response::Response;
use serde_json::{Value, json};

use super::super::response::json_response;
use super::super::{ApiRequest, HttpState};
use super::parse_body;
use crate::sim::error::ApiError;
use crate::sim::faults::RequestAttrs;

pub fn create(st: &Arc<HttpState>, req: &ApiRequest) -> Result<Response, ApiError> {
    if req.verb != "create" {
        return Err(ApiError::method_not_allowed());
    }
    let body = parse_body(req)?;
    let spec = body.get("spec").cloned().unwrap_or(Value::Null);
    let allowed = if let Some(ra) = spec.get("resourceAttributes") {
        let s = |k: &str| ra.get(k).and_then(Value::as_str).unwrap_or("");
        let attrs = RequestAttrs {
            verb: s("verb"),
            group: s("group"),
            resource: s("resource"),
            subresource: s("subresource"),
            namespace: s("namespace"),
            name: s("name"),
        };
        if attrs.verb.is_empty() || attrs.resource.is_empty() {
            return Err(ApiError::new(
                422,
                "Invalid",
                "SelfSubjectAccessReview.authorization.k8s.io \"\" is invalid: spec.resourceAttributes: Invalid value: verb and resource are required",
            ));
        }
        st.ctx.faults.allowed(&req.user, &attrs)
    } else if spec.get("nonResourceAttributes").is_some() {
        // Non-resource URLs (/version, /healthz, discovery) are open to every known user.
        true
    } else {
        return Err(ApiError::new(
            422,
            "Invalid",
            "SelfSubjectAccessReview.authorization.k8s.io \"\" is invalid: spec: Invalid value: exactly one of nonResourceAttributes or resourceAttributes must be specified",
        ));
    };
    // The RBAC authorizer gives no reason when no rule matches: kubectl prints a bare "no".
    let status = json!({"allowed": allowed});
    Ok(json_response(
        201,
        &json!({
            "kind": "SelfSubjectAccessReview",
            "apiVersion": "authorization.k8s.io/v1",
            "metadata": {"creationTimestamp": null},
            "spec": spec,
            "status": status,
        }),
    ))
}
