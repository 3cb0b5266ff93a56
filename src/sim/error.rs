//! API errors and their `Status` bodies, worded as the real apiserver words them.

use serde_json::{Value, json};

use super::kinds::ResourceType;

/// An error answer of the API: HTTP code plus the `Status` body that goes with it.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    pub details: Value,
    /// Seconds for a `Retry-After` header (429).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            reason,
            message: message.into(),
            details: json!({}),
            retry_after: None,
        }
    }

    fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    /// `details` naming an object: name, group (omitted for core), kind = plural.
    fn object_details(rt: &ResourceType, name: &str) -> Value {
        let mut d = json!({"name": name, "kind": rt.plural});
        if !rt.group.is_empty() {
            d["group"] = json!(rt.group);
        }
        d
    }

    pub fn not_found(rt: &ResourceType, name: &str) -> Self {
        Self::new(
            404,
            "NotFound",
            format!("{} \"{}\" not found", rt.group_resource(), name),
        )
        .with_details(Self::object_details(rt, name))
    }

    pub fn namespace_not_found(ns: &str) -> Self {
        Self::new(404, "NotFound", format!("namespaces \"{ns}\" not found"))
            .with_details(json!({"name": ns, "kind": "namespaces"}))
    }

    pub fn already_exists(rt: &ResourceType, name: &str) -> Self {
        Self::new(
            409,
            "AlreadyExists",
            format!("{} \"{}\" already exists", rt.group_resource(), name),
        )
        .with_details(Self::object_details(rt, name))
    }

    /// Stale resourceVersion on update.
    pub fn conflict_modified(rt: &ResourceType, name: &str) -> Self {
        Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{}\": the object has been modified; \
                 please apply your changes to the latest version and try again",
                rt.group_resource(),
                name
            ),
        )
        .with_details(Self::object_details(rt, name))
    }

    /// Delete precondition mismatch (message names the Kind, as the apiserver does).
    pub fn precondition_failed(
        rt: &ResourceType,
        name: &str,
        what: &str,
        want: &str,
        have: &str,
    ) -> Self {
        Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{}\": the {} in the precondition ({}) does not \
                 match the {} in record ({}). The object might have been modified",
                rt.group_kind(),
                name,
                what,
                want,
                what,
                have
            ),
        )
        .with_details(Self::object_details(rt, name))
    }

    /// 422 with one cause. `field` like `metadata.name`.
    pub fn invalid(
        rt: &ResourceType,
        name: &str,
        field: &str,
        cause_reason: &str,
        detail: &str,
    ) -> Self {
        Self::new(
            422,
            "Invalid",
            format!(
                "{} \"{}\" is invalid: {}: {}",
                rt.group_kind(),
                name,
                field,
                detail
            ),
        )
        .with_details(json!({
            "name": name,
            "group": rt.group,
            "kind": rt.kind,
            "causes": [{"reason": cause_reason, "message": detail, "field": field}],
        }))
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    pub fn forbidden(
        rt: &ResourceType,
        name: &str,
        user: &str,
        verb: &str,
        namespace: Option<&str>,
    ) -> Self {
        let target = if name.is_empty() {
            rt.group_resource()
        } else {
            format!("{} \"{}\"", rt.group_resource(), name)
        };
        let scope = match namespace {
            Some(ns) if rt.namespaced => format!(" in the namespace \"{ns}\""),
            _ => " at the cluster scope".to_string(),
        };
        Self::new(
            403,
            "Forbidden",
            format!(
                "{target} is forbidden: User \"{user}\" cannot {verb} resource \"{}\" in API group \"{}\"{scope}",
                rt.plural, rt.group
            ),
        )
        .with_details(json!({"name": name, "group": rt.group, "kind": rt.plural}))
    }

    pub fn expired(requested: u64, oldest: u64) -> Self {
        Self::new(
            410,
            "Expired",
            format!("too old resource version: {requested} ({oldest})"),
        )
    }

    pub fn internal(message: &str) -> Self {
        Self::new(
            500,
            "InternalError",
            format!("Internal error occurred: {message}"),
        )
        .with_details(json!({"causes": [{"message": message}]}))
    }

    pub fn too_many_requests(retry_after: u64) -> Self {
        let mut e = Self::new(
            429,
            "TooManyRequests",
            "the server has received too many requests and has asked us to try again later",
        )
        .with_details(json!({"retryAfterSeconds": retry_after}));
        e.retry_after = Some(retry_after);
        e
    }

    pub fn method_not_allowed(message: impl Into<String>) -> Self {
        Self::new(405, "MethodNotAllowed", message)
    }

    pub fn unsupported_media_type(content_type: &str, accepted: &[&str]) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: {}",
                accepted.join(", ")
            ),
        )
        .with_details(json!({"causes": [{"reason": "UnsupportedMediaType", "message": content_type}]}))
    }

    pub fn too_large(limit: usize) -> Self {
        Self::new(
            413,
            "RequestEntityTooLarge",
            format!("Request entity too large: limit is {limit}"),
        )
    }

    pub fn unauthorized() -> Self {
        Self::new(401, "Unauthorized", "Unauthorized")
    }

    /// The JSON `Status` body.
    pub fn status_body(&self) -> Value {
        let mut body = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "details": self.details,
            "code": self.code,
        });
        if self.details.as_object().is_some_and(|d| d.is_empty()) && self.code == 410 {
            // The apiserver omits empty details on Expired.
            if let Some(o) = body.as_object_mut() {
                o.remove("details");
            }
        }
        body
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.code, self.reason, self.message)
    }
}

impl std::error::Error for ApiError {}

/// The `Status` a delete answers with when a non-pod object is removed at once.
pub fn success_status(rt: &ResourceType, name: &str, uid: &str) -> Value {
    let mut details = json!({"name": name, "kind": rt.plural, "uid": uid});
    if !rt.group.is_empty() {
        details["group"] = json!(rt.group);
    }
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::kinds::{DEPLOYMENTS, PODS};

    #[test]
    fn messages_match_the_apiserver() {
        assert_eq!(
            ApiError::not_found(&DEPLOYMENTS, "x").message,
            "deployments.apps \"x\" not found"
        );
        let body = ApiError::not_found(&PODS, "p").status_body();
        assert_eq!(body["details"], json!({"name": "p", "kind": "pods"}));
        assert_eq!(
            ApiError::forbidden(&PODS, "x", "alice", "delete", Some("ns")).message,
            "pods \"x\" is forbidden: User \"alice\" cannot delete resource \"pods\" in API group \"\" in the namespace \"ns\""
        );
        assert_eq!(
            ApiError::precondition_failed(&DEPLOYMENTS, "web", "ResourceVersion", "1", "2").message,
            "Operation cannot be fulfilled on Deployment.apps \"web\": the ResourceVersion in the precondition (1) does not match the ResourceVersion in record (2). The object might have been modified"
        );
        assert!(
            ApiError::expired(5, 120)
                .status_body()
                .get("details")
                .is_none()
        );
    }
}
