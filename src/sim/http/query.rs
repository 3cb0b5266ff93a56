//! Query-string parameters with the apiserver's validation and messages.

use std::collections::HashMap;

use crate::sim::error::{ApiError, FieldError};
use crate::sim::kinds::ResourceType;
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

    pub fn dry_run(&self) -> Result<bool, ApiError> {
        match self.get("dryRun") {
            None => Ok(false),
            Some("All") => Ok(true),
            Some(other) => Err(ApiError::bad_request(format!(
                "Invalid dry run value: {other:?}: supported values: \"All\""
            ))),
        }
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
