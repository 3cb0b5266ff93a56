//! SelfSubjectAccessReview ("may I?") and SelfSubjectRulesReview ("what may I do in this
//! namespace?"), answered from the simulator's RBAC rules.

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

/// What every authenticated user may do on a real cluster (system:basic-user,
/// system:discovery, system:public-info-viewer), which a rules review lists too.
fn basic_user_rules() -> (Value, Value) {
    (
        json!({
            "verbs": ["create"],
            "apiGroups": ["authorization.k8s.io"],
            "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
        }),
        json!({
            "verbs": ["get"],
            "nonResourceURLs": [
                "/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi",
                "/openapi/*", "/readyz", "/version", "/version/",
            ],
        }),
    )
}

/// `POST selfsubjectrulesreviews`: the rules that apply in `spec.namespace`, shaped as the
/// apiserver's `SubjectRulesReviewStatus`. Like the apiserver, the answer does not echo the spec
/// (`"spec":{}`), and a request without a namespace is a 400 "no namespace on request".
pub fn rules(st: &Arc<HttpState>, req: &ApiRequest) -> Result<Response, ApiError> {
    if req.verb != "create" {
        return Err(ApiError::method_not_allowed());
    }
    let body = parse_body(req)?;
    let namespace = body
        .pointer("/spec/namespace")
        .and_then(Value::as_str)
        .unwrap_or("");
    if namespace.is_empty() {
        return Err(ApiError::bad_request("no namespace on request"));
    }
    let (basic, non_resource) = basic_user_rules();
    let (mut resource_rules, non_resource_rules) =
        match st.ctx.faults.rules_in(&req.user, namespace) {
            // Unrestricted admin: cluster-admin's two rules.
            None => (
                vec![json!({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]})],
                vec![
                    json!({"verbs": ["*"], "nonResourceURLs": ["*"]}),
                    non_resource,
                ],
            ),
            Some(list) => (
                list.iter()
                    .map(|r| {
                        let groups = r
                            .api_groups
                            .clone()
                            .unwrap_or_else(|| vec!["*".to_string()]);
                        json!({
                            "verbs": r.verbs.iter().map(|v| v.as_str()).collect::<Vec<_>>(),
                            "apiGroups": groups,
                            "resources": r.resources,
                        })
                    })
                    .collect(),
                vec![non_resource],
            ),
        };
    resource_rules.push(basic);
    Ok(json_response(
        201,
        &json!({
            "kind": "SelfSubjectRulesReview",
            "apiVersion": "authorization.k8s.io/v1",
            "metadata": {"creationTimestamp": null},
            "spec": {},
            "status": {
                "resourceRules": resource_rules,
                "nonResourceRules": non_resource_rules,
                "incomplete": false,
            },
        }),
    ))
}
