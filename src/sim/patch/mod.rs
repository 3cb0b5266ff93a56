//! PATCH bodies: JSON patch (RFC 6902), merge patch (RFC 7386), Kubernetes strategic merge patch
//! and just enough server-side apply (field ownership and conflicts), all on `serde_json::Value`.

mod apply;
mod json;
mod keys;
mod strategic;

use serde_json::{Map, Value};

use super::error::ApiError;

pub use apply::{
    ApplyConflict, FieldOwners, FieldPath, PathElement, apply_patch, conflict_error, record_update,
};
pub use json::json_patch;
pub use keys::{ListStrategy, list_strategy};
pub use strategic::strategic_merge_patch;

/// The four PATCH content types the apiserver accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    /// `application/json-patch+json`
    Json,
    /// `application/merge-patch+json`
    Merge,
    /// `application/strategic-merge-patch+json` (built-in kinds only)
    Strategic,
    /// `application/apply-patch+yaml` (server-side apply)
    Apply,
}

impl PatchType {
    /// The media type, as listed in 415 answers.
    pub fn content_type(self) -> &'static str {
        match self {
            PatchType::Json => "application/json-patch+json",
            PatchType::Merge => "application/merge-patch+json",
            PatchType::Strategic => "application/strategic-merge-patch+json",
            PatchType::Apply => "application/apply-patch+yaml",
        }
    }
}

/// The patch type of a `Content-Type` header; parameters (`;charset=utf-8`) and case are ignored.
pub fn patch_type_from_content_type(ct: &str) -> Option<PatchType> {
    let media = ct.split(';').next().unwrap_or_default().trim();
    let media = media.to_ascii_lowercase();
    match media.as_str() {
        "application/json-patch+json" => Some(PatchType::Json),
        "application/merge-patch+json" => Some(PatchType::Merge),
        "application/strategic-merge-patch+json" => Some(PatchType::Strategic),
        "application/apply-patch+yaml" => Some(PatchType::Apply),
        _ => None,
    }
}

/// Why a patch could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    /// The body does not have the shape the patch type needs (not an array of operations, not
    /// an object, ...): 400 BadRequest with this message.
    #[error("{0}")]
    Malformed(String),
    /// A JSON patch operation failed (failed `test`, missing path, unknown op): 422 Invalid with
    /// the apiserver's generic message; the text here is for logs.
    #[error("{0}")]
    JsonPatchFailed(String),
    /// A strategic merge patch directive is malformed (bad `$patch`, missing merge key, bad
    /// `$retainKeys` / `$setElementOrder` / `$deleteFromPrimitiveList`): 400 BadRequest.
    #[error("{0}")]
    InvalidStrategic(String),
    /// The patch contradicts its own `$retainKeys`: 422 Invalid like a failed JSON patch.
    #[error("{0}")]
    RetainKeysMismatch(String),
}

impl PatchError {
    /// The API error the apiserver answers with.
    pub fn to_api_error(&self) -> ApiError {
        match self {
            PatchError::Malformed(m) | PatchError::InvalidStrategic(m) => {
                ApiError::bad_request(m.clone())
            }
            // NewGenericServerResponse(422, ...): empty but present details.
            PatchError::JsonPatchFailed(_) | PatchError::RetainKeysMismatch(_) => ApiError::new(
                422,
                "Invalid",
                "the server rejected our request due to an error in our request",
            )
            .with_details(serde_json::json!({})),
        }
    }
}

/// RFC 7386 merge patch: `null` removes, objects merge recursively, anything else replaces.
pub fn merge_patch(target: &Value, patch: &Value) -> Value {
    let Value::Object(p) = patch else {
        return patch.clone();
    };
    let mut out = match target {
        Value::Object(t) => t.clone(),
        _ => Map::new(),
    };
    for (k, v) in p {
        if v.is_null() {
            out.remove(k);
        } else {
            let merged = merge_patch(out.get(k).unwrap_or(&Value::Null), v);
            out.insert(k.clone(), merged);
        }
    }
    Value::Object(out)
}

/// Deep JSON equality where numbers compare by value (`1` equals `1.0`), as Go's decoded
/// `interface{}` comparison does.
pub(crate) fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            x == y || matches!((x.as_f64(), y.as_f64()), (Some(p), Some(q)) if p == q)
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn content_types() {
        assert_eq!(
            patch_type_from_content_type("application/json-patch+json"),
            Some(PatchType::Json)
        );
        assert_eq!(
            patch_type_from_content_type("application/merge-patch+json; charset=utf-8"),
            Some(PatchType::Merge)
        );
        assert_eq!(
            patch_type_from_content_type("Application/Strategic-Merge-Patch+JSON"),
            Some(PatchType::Strategic)
        );
        assert_eq!(
            patch_type_from_content_type(" application/apply-patch+yaml ;charset=utf-8"),
            Some(PatchType::Apply)
        );
        assert_eq!(patch_type_from_content_type("application/json"), None);
        assert_eq!(patch_type_from_content_type(""), None);
        for t in [
            PatchType::Json,
            PatchType::Merge,
            PatchType::Strategic,
            PatchType::Apply,
        ] {
            assert_eq!(patch_type_from_content_type(t.content_type()), Some(t));
        }
    }

    #[test]
    fn merge_patch_follows_rfc7386() {
        let target = json!({
            "title": "Goodbye!",
            "author": {"givenName": "John", "familyName": "Doe"},
            "tags": ["example", "sample"],
            "content": "unchanged"
        });
        let patch = json!({
            "title": "Hello!",
            "phoneNumber": "+01-123-456-7890",
            "author": {"familyName": null},
            "tags": ["example"]
        });
        assert_eq!(
            merge_patch(&target, &patch),
            json!({
                "title": "Hello!",
                "author": {"givenName": "John"},
                "tags": ["example"],
                "content": "unchanged",
                "phoneNumber": "+01-123-456-7890"
            })
        );
        // RFC 7386 appendix A cases.
        assert_eq!(
            merge_patch(&json!({"a": "b"}), &json!({"a": "c"})),
            json!({"a": "c"})
        );
        assert_eq!(
            merge_patch(&json!({"a": "b"}), &json!({"a": null})),
            json!({})
        );
        assert_eq!(
            merge_patch(&json!({"a": ["b"]}), &json!({"a": "c"})),
            json!({"a": "c"})
        );
        assert_eq!(
            merge_patch(&json!({"a": "c"}), &json!({"a": ["b"]})),
            json!({"a": ["b"]})
        );
        assert_eq!(
            merge_patch(
                &json!({"a": {"b": "c"}}),
                &json!({"a": {"b": "d", "c": null}})
            ),
            json!({"a": {"b": "d"}})
        );
        assert_eq!(
            merge_patch(&json!(["a", "b"]), &json!(["c", "d"])),
            json!(["c", "d"])
        );
        assert_eq!(merge_patch(&json!({"a": "b"}), &json!(["c"])), json!(["c"]));
        assert_eq!(merge_patch(&json!({"a": "foo"}), &json!(null)), json!(null));
        assert_eq!(
            merge_patch(&json!({"e": null}), &json!({"a": 1})),
            json!({"e": null, "a": 1})
        );
        assert_eq!(
            merge_patch(&json!([1, 2]), &json!({"a": "b", "c": null})),
            json!({"a": "b"})
        );
        assert_eq!(
            merge_patch(&json!({}), &json!({"a": {"bb": {"ccc": null}}})),
            json!({"a": {"bb": {}}})
        );
        // Finalizers: null and [] both clear the list under merge patch.
        let obj = json!({"metadata": {"name": "x", "finalizers": ["a"]}});
        assert_eq!(
            merge_patch(&obj, &json!({"metadata": {"finalizers": null}})),
            json!({"metadata": {"name": "x"}})
        );
        assert_eq!(
            merge_patch(&obj, &json!({"metadata": {"finalizers": []}})),
            json!({"metadata": {"name": "x", "finalizers": []}})
        );
    }

    #[test]
    fn patch_errors_map_to_api_errors() {
        let e = PatchError::JsonPatchFailed("test failed".into()).to_api_error();
        assert_eq!(e.code, 422);
        assert_eq!(e.reason, "Invalid");
        assert_eq!(
            e.status_body(),
            json!({
                "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": "the server rejected our request due to an error in our request",
                "reason": "Invalid", "details": {}, "code": 422
            })
        );
        let e = PatchError::Malformed("json: cannot unmarshal object".into()).to_api_error();
        assert_eq!((e.code, e.reason), (400, "BadRequest"));
        assert_eq!(e.message, "json: cannot unmarshal object");
        let e = PatchError::InvalidStrategic("bad".into()).to_api_error();
        assert_eq!(e.code, 400);
    }

    #[test]
    fn json_eq_compares_numbers_by_value() {
        assert!(json_eq(&json!({"a": [1, 2.0]}), &json!({"a": [1.0, 2]})));
        assert!(!json_eq(&json!({"a": 1}), &json!({"a": 1, "b": 2})));
        assert!(!json_eq(&json!("1"), &json!(1)));
    }
}
