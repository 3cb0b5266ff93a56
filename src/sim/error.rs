//! API errors and their `Status` bodies, worded as the real apiserver words them.

use serde_json::{Value, json};

use super::kinds::ResourceType;
use super::selectors::validation::go_quote;

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

/// One field error of a 422, as `field.Error`: `detail` is its whole error body (`Invalid value:
/// ...: why`, `Forbidden: why`, `Unsupported value: ...`), `reason` the cause type.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    pub field: String,
    pub reason: &'static str,
    pub detail: String,
}

impl FieldError {
    /// `field.Invalid`; `value` already printed as Go prints it (`-1`, `"Bad"`).
    pub fn invalid(field: &str, value: &str, why: &str) -> Self {
        FieldError {
            field: field.into(),
            reason: "FieldValueInvalid",
            detail: format!("Invalid value: {value}: {why}"),
        }
    }

    pub fn required(field: &str, why: &str) -> Self {
        FieldError {
            field: field.into(),
            reason: "FieldValueRequired",
            detail: format!("Required value: {why}"),
        }
    }

    pub fn too_long(field: &str, max_bytes: usize) -> Self {
        FieldError {
            field: field.into(),
            reason: "FieldValueTooLong",
            detail: format!("Too long: may not be more than {max_bytes} bytes"),
        }
    }

    pub fn forbidden(field: &str, why: &str) -> Self {
        FieldError {
            field: field.into(),
            reason: "FieldValueForbidden",
            detail: format!("Forbidden: {why}"),
        }
    }

    /// `field.NotSupported`, values quoted as Go's `%q`.
    pub fn not_supported(field: &str, value: &str, supported: &[&str]) -> Self {
        Self::not_supported_shown(field, &go_quote(value), supported)
    }

    /// `field.NotSupported` for a value already printed (a list prints as JSON: `["Some"]`).
    pub fn not_supported_shown(field: &str, shown: &str, supported: &[&str]) -> Self {
        let list: Vec<String> = supported.iter().map(|v| go_quote(v)).collect();
        FieldError {
            field: field.into(),
            reason: "FieldValueNotSupported",
            detail: format!(
                "Unsupported value: {shown}: supported values: {}",
                list.join(", ")
            ),
        }
    }
}

impl ApiError {
    /// An error without `details` (the apiserver's `NewBadRequest`, `NewUnauthorized`,
    /// `NewResourceExpired`... leave them out of the body).
    pub fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            reason,
            message: message.into(),
            details: Value::Null,
            retry_after: None,
        }
    }

    /// Sets `details`; `Value::Null` leaves them out of the body, `{}` sends them empty.
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    /// `details` naming an object: name, group and kind, each left out when empty (Go's
    /// `omitempty`), so core kinds carry no `group` and collection requests no `name`.
    fn details_for(name: &str, group: &str, kind: &str) -> Value {
        let mut d = serde_json::Map::new();
        for (k, v) in [("name", name), ("group", group), ("kind", kind)] {
            if !v.is_empty() {
                d.insert(k.into(), json!(v));
            }
        }
        Value::Object(d)
    }

    /// `details` naming an object by its resource: kind = plural.
    fn object_details(rt: &ResourceType, name: &str) -> Value {
        Self::details_for(name, rt.group, rt.plural)
    }

    /// 404 for a path that addresses nothing served (`details` present but empty, as the
    /// apiserver's generic server response has them).
    pub fn path_not_found() -> Self {
        Self::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )
        .with_details(json!({}))
    }

    /// 403 with the details of `NewForbidden`: the resource's group and plural, and the name.
    pub fn forbidden_message(rt: &ResourceType, name: &str, message: impl Into<String>) -> Self {
        Self::new(403, "Forbidden", message).with_details(Self::object_details(rt, name))
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
        cause_reason: &'static str,
        detail: &str,
    ) -> Self {
        Self::invalid_fields(
            rt.group,
            rt.kind,
            name,
            &[FieldError {
                field: field.into(),
                reason: cause_reason,
                detail: detail.into(),
            }],
        )
    }

    /// 422 as `NewInvalid(GroupKind, name, errs)`: `<Kind>.<group> "<name>" is invalid: <errs>`,
    /// the errors bracketed and comma-separated when there are several, one cause each.
    pub fn invalid_fields(group: &str, kind: &str, name: &str, errs: &[FieldError]) -> Self {
        let group_kind = if group.is_empty() {
            kind.to_string()
        } else {
            format!("{kind}.{group}")
        };
        let each: Vec<String> = errs
            .iter()
            .map(|e| format!("{}: {}", e.field, e.detail))
            .collect();
        // `ErrorList.ToAggregate`: a message repeated by several errors is shown once.
        let all = crate::sim::selectors::validation::aggregate(&each);
        let mut details = Self::details_for(name, group, kind);
        details["causes"] = errs
            .iter()
            .map(|e| json!({"reason": e.reason, "message": e.detail, "field": e.field}))
            .collect();
        let message = if all.is_empty() {
            format!("{group_kind} \"{name}\" is invalid")
        } else {
            format!("{group_kind} \"{name}\" is invalid: {all}")
        };
        Self::new(422, "Invalid", message).with_details(details)
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
        Self::forbidden_message(
            rt,
            name,
            format!(
                "{target} is forbidden: User \"{user}\" cannot {verb} resource \"{}\" in API group \"{}\"{scope}",
                rt.plural, rt.group
            ),
        )
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

    /// 405 as go-restful's error handler answers a method no route serves (the apiserver's
    /// generic server response: fixed message, empty details).
    pub fn method_not_allowed() -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )
        .with_details(json!({}))
    }

    /// 415, worded and shaped as the apiserver's `errUnsupportedMediaType` (no details).
    pub fn unsupported_media_type(accepted: &[&str]) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: {}",
                accepted.join(", ")
            ),
        )
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
        if let Some(o) = body.as_object_mut() {
            // Go's omitempty: no details, no unknown ("") reason.
            if self.details.is_null() {
                o.remove("details");
            }
            if self.reason.is_empty() {
                o.remove("reason");
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

/// Every `metav1.StatusReason` the apiserver sends, to turn a reason named in a scenario or
/// the admin API into the `&'static str` an [`ApiError`] carries.
const STATUS_REASONS: &[&str] = &[
    "Unauthorized",
    "Forbidden",
    "NotFound",
    "AlreadyExists",
    "Conflict",
    "Gone",
    "Invalid",
    "ServerTimeout",
    "StoreReadError",
    "Timeout",
    "TooManyRequests",
    "BadRequest",
    "MethodNotAllowed",
    "NotAcceptable",
    "RequestEntityTooLarge",
    "UnsupportedMediaType",
    "InternalError",
    "Expired",
    "ServiceUnavailable",
];

/// The known `StatusReason` spelled `reason`, if there is one.
pub fn status_reason(reason: &str) -> Option<&'static str> {
    STATUS_REASONS.iter().copied().find(|r| *r == reason)
}

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
