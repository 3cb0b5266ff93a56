//! Query-string parameters with the apiserver's validation and messages.

use std::collections::HashMap;

use crate::sim::error::{ApiError, FieldError};
use crate::sim::kinds::ResourceType;
use crate::sim::selectors::validation::go_quote;
use crate::sim::selectors::{FieldSelector, LabelSelector};

const NOT_OLDER_THAN: &str = "NotOlderThan";
const EXACT: &str = "Exact";

#[derive(Debug, Default)]
pub struct Query {
    params: HashMap<String, String>,
}

impl Query {
    pub fn parse(raw: &str) -> Result<Query, ApiError> {
        let mut params = HashMap::new();
        for (k, v) in form_urlencoded::parse(raw.as_bytes()) {
            if k.is_empty() {
                continue; // kube-rs sends `?&limit=500`
            }
            params.insert(k.into_owned(), v.into_owned());
        }
        Ok(Query { params })
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.params
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("true") | Some("1"))
    }

    pub fn int(&self, key: &str) -> Result<Option<i64>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v.parse::<i64>().map(Some).map_err(|_| {
                ApiError::bad_request(format!(
                    "invalid value {v:?} for query parameter {key}: not an integer"
                ))
            }),
        }
    }

    /// `dryRun=All` (the only value [`Query::validate_write_options`] lets through).
    pub fn dry_run(&self) -> bool {
        self.get("dryRun") == Some("All")
    }

    /// The apiserver's `ValidateCreateOptions`, `ValidateUpdateOptions` and
    /// `ValidatePatchOptions`, checked before the body is read: 422 on `<Kind>Options.meta.k8s.io`.
    pub fn validate_write_options(&self, kind: WriteKind) -> Result<(), ApiError> {
        let manager = self.get("fieldManager").unwrap_or("");
        let mut errs = Vec::new();
        let options = match kind {
            WriteKind::Create => "CreateOptions",
            WriteKind::Update => "UpdateOptions",
            WriteKind::Patch { apply } => {
                if !apply && self.params.contains_key("force") {
                    errs.push(FieldError::forbidden(
                        "force",
                        "may not be specified for non-apply patch",
                    ));
                }
                if apply && manager.is_empty() {
                    errs.push(FieldError::required(
                        "fieldManager",
                        "is required for apply patch",
                    ));
                }
                "PatchOptions"
            }
        };
        errs.extend(field_manager_errors(manager));
        if let Some(d) = self.get("dryRun") {
            errs.extend(dry_run_error(&[d]));
        }
        if errs.is_empty() {
            return Ok(());
        }
        Err(ApiError::invalid_fields("meta.k8s.io", options, "", &errs))
    }

    pub fn label_selector(&self) -> Result<Option<LabelSelector>, ApiError> {
        match self.get("labelSelector") {
            None => Ok(None),
            Some(s) => LabelSelector::parse(s)
                .map(Some)
                .map_err(ApiError::bad_request),
        }
    }

    pub fn field_selector(&self, rt: &ResourceType) -> Result<Option<FieldSelector>, ApiError> {
        match self.get("fieldSelector") {
            None => Ok(None),
            Some(s) => {
                let sel = FieldSelector::parse(s).map_err(ApiError::bad_request)?;
                sel.validate_for(rt.kind).map_err(ApiError::bad_request)?;
                Ok(Some(sel))
            }
        }
    }

    /// The apiserver's `ValidateListOptions`: the rules for `resourceVersionMatch` and
    /// `sendInitialEvents`, for a list or (`watch`) a watch. 422 on `ListOptions.meta.k8s.io`.
    pub fn validate_list_options(&self, watch: bool) -> Result<(), ApiError> {
        const FIELD: &str = "resourceVersionMatch";
        let rv_match = self.get(FIELD).unwrap_or("");
        let rv = self.get("resourceVersion").unwrap_or("");
        let initial_events = self.get("sendInitialEvents").is_some();
        let continued = self.get("continue").is_some();
        let mut errs = Vec::new();
        if watch {
            if initial_events && rv_match != NOT_OLDER_THAN {
                errs.push(FieldError::forbidden(
                    FIELD,
                    "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
                ));
            }
            if !rv_match.is_empty() {
                if !initial_events {
                    errs.push(FieldError::forbidden(
                        FIELD,
                        "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
                    ));
                }
                if rv_match != NOT_OLDER_THAN {
                    errs.push(FieldError::not_supported(
                        FIELD,
                        rv_match,
                        &[NOT_OLDER_THAN],
                    ));
                }
                if continued {
                    errs.push(FieldError::forbidden(
                        FIELD,
                        "resourceVersionMatch is forbidden when continue is provided",
                    ));
                }
            }
        } else {
            if !rv_match.is_empty() {
                if rv.is_empty() {
                    errs.push(FieldError::forbidden(
                        FIELD,
                        "resourceVersionMatch is forbidden unless resourceVersion is provided",
                    ));
                }
                if continued {
                    errs.push(FieldError::forbidden(
                        FIELD,
                        "resourceVersionMatch is forbidden when continue is provided",
                    ));
                }
                if rv_match != EXACT && rv_match != NOT_OLDER_THAN {
                    errs.push(FieldError::not_supported(
                        FIELD,
                        rv_match,
                        &[EXACT, NOT_OLDER_THAN, ""],
                    ));
                }
                if rv_match == EXACT && rv == "0" {
                    errs.push(FieldError::forbidden(
                        FIELD,
                        "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"",
                    ));
                }
            }
            if initial_events {
                errs.push(FieldError::forbidden(
                    "sendInitialEvents",
                    "sendInitialEvents is forbidden for list",
                ));
            }
        }
        if errs.is_empty() {
            return Ok(());
        }
        Err(ApiError::invalid_fields(
            "meta.k8s.io",
            "ListOptions",
            "",
            &errs,
        ))
    }

    pub fn field_manager(&self) -> Option<String> {
        self.get("fieldManager").map(str::to_string)
    }
}

/// Which write a request's options belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteKind {
    Create,
    Update,
    Patch { apply: bool },
}

/// Longest `fieldManager` accepted.
const FIELD_MANAGER_MAX: usize = 128;

/// `ValidateFieldManager`: at most 128 bytes, printable characters only.
fn field_manager_errors(manager: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if manager.len() > FIELD_MANAGER_MAX {
        errs.push(FieldError::too_long("fieldManager", FIELD_MANAGER_MAX));
    }
    for (i, c) in manager.char_indices() {
        if c.is_control() {
            errs.push(FieldError::invalid(
                "fieldManager",
                &go_quote(manager),
                &format!("invalid character U+{:04X} (at position {i})", c as u32),
            ));
        }
    }
    errs
}

/// `ValidateDryRun`: only `All`. The list prints as JSON, as the apiserver prints it.
pub fn dry_run_error(values: &[&str]) -> Option<FieldError> {
    if values.iter().all(|v| *v == "All") {
        return None;
    }
    let shown = serde_json::to_string(values).unwrap_or_default();
    Some(FieldError::not_supported_shown("dryRun", &shown, &["All"]))
}

/// Label and field selectors of a list or watch, as one object predicate.
pub struct Filter {
    pub labels: Option<LabelSelector>,
    pub fields: Option<FieldSelector>,
    /// Namespace of a namespaced collection path; `None` lists all namespaces.
    pub namespace: Option<String>,
}

impl Filter {
    pub fn from_query(
        q: &Query,
        rt: &ResourceType,
        namespace: Option<&str>,
    ) -> Result<Filter, ApiError> {
        Ok(Filter {
            labels: q.label_selector()?,
            fields: q.field_selector(rt)?,
            namespace: namespace.filter(|_| rt.namespaced).map(str::to_string),
        })
    }

    pub fn matches(&self, obj: &serde_json::Value) -> bool {
        if let Some(ns) = &self.namespace
            && crate::sim::meta::namespace(obj) != ns
        {
            return false;
        }
        self.labels
            .as_ref()
            .is_none_or(|l| l.matches(crate::sim::meta::labels(obj)))
            && self.fields.as_ref().is_none_or(|f| f.matches(obj))
    }
}
