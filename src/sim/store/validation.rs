//! The apiserver's field validation of label maps, finalizer names and container names, on every
//! write (create, update, each patch type: the result is validated, as in the apiserver).
//!
//! Worded as `k8s.io/apimachinery` words it: `ValidateLabels` (keys are qualified names, values
//! `IsValidLabelValue`), `ValidateFinalizers` (qualified names; the field is
//! `metadata.finalizers`, not indexed) and `ValidateDNS1123Label` for container names
//! (`spec.containers[i].name`, `spec.initContainers[i].name`, and under `spec.template.` for
//! workloads); label maps also where specs select by label (a workload's
//! `spec.selector.matchLabels` and template labels, a Service's `spec.selector`). A control
//! character in any of them is refused, as everything outside `[-A-Za-z0-9_.]` is. Annotations
//! are free text and are not looked at.

use serde_json::Value;

use crate::sim::error::FieldError;
use crate::sim::kinds::{self, ResourceType};
use crate::sim::selectors::validation::{go_quote, is_qualified_name, is_valid_label_value};

const DNS1123_LABEL_MAX: usize = 63;

/// Finalizers of the apiserver itself, which need no domain prefix (`IsStandardFinalizerName`).
const STANDARD_FINALIZERS: &[&str] = &["kubernetes", "orphan", "foregroundDeletion"];

/// Every field error of `obj`'s labels, finalizers and container names, in the apiserver's order
/// (object metadata first, then the spec).
pub fn field_errors(rt: &ResourceType, obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if let Some(labels) = obj.pointer("/metadata/labels").and_then(Value::as_object) {
        label_errors(labels, "metadata.labels", &mut errs);
    }
    for f in string_items(obj.pointer("/metadata/finalizers")) {
        for msg in is_qualified_name(f) {
            errs.push(FieldError::invalid(
                "metadata.finalizers",
                &go_quote(f),
                &msg,
            ));
        }
    }
    if rt == &kinds::PODS {
        pod_spec_errors(obj.get("spec"), "spec", &mut errs);
    } else if rt == &kinds::SERVICES {
        if let Some(m) = obj.pointer("/spec/selector").and_then(Value::as_object) {
            label_errors(m, "spec.selector", &mut errs);
        }
    } else if rt == &kinds::DEPLOYMENTS || rt == &kinds::REPLICASETS {
        if let Some(m) = obj
            .pointer("/spec/selector/matchLabels")
            .and_then(Value::as_object)
        {
            label_errors(m, "spec.selector.matchLabels", &mut errs);
        }
        if let Some(m) = obj
            .pointer("/spec/template/metadata/labels")
            .and_then(Value::as_object)
        {
            label_errors(m, "spec.template.metadata.labels", &mut errs);
        }
        pod_spec_errors(
            obj.pointer("/spec/template/spec"),
            "spec.template.spec",
            &mut errs,
        );
    }
    errs
}

/// The warnings a write of `obj` draws (the `Warning` header): finalizer names without a domain
/// prefix. `before` is the stored object an update replaces; only finalizers it did not have
/// are warned about, so a controller's unrelated writes stay quiet.
pub fn warnings(obj: &Value, before: Option<&Value>) -> Vec<String> {
    let had = string_items(before.and_then(|b| b.pointer("/metadata/finalizers")));
    string_items(obj.pointer("/metadata/finalizers"))
        .filter(|f| !f.contains('/') && !STANDARD_FINALIZERS.contains(f))
        .filter(|f| !had.clone().any(|h| h == *f))
        .map(|f| {
            format!(
                "metadata.finalizers: {}: prefer a domain-qualified finalizer name including a path (/) to avoid accidental conflicts with other finalizer writers",
                go_quote(f)
            )
        })
        .collect()
}

fn string_items(v: Option<&Value>) -> impl Iterator<Item = &str> + Clone {
    v.and_then(Value::as_array)
        .map(|a| a.as_slice())
        .unwrap_or(&[])
        .iter()
        .filter_map(Value::as_str)
}

/// `ValidateLabels`: for each key (in key order; Go's map order is random), the key's errors,
/// then the value's, all on the map's path.
fn label_errors(labels: &serde_json::Map<String, Value>, path: &str, errs: &mut Vec<FieldError>) {
    let mut keys: Vec<&String> = labels.keys().collect();
    keys.sort();
    for k in keys {
        for msg in is_qualified_name(k) {
            errs.push(FieldError::invalid(path, &go_quote(k), &msg));
        }
        if let Some(v) = labels.get(k).and_then(Value::as_str) {
            for msg in is_valid_label_value(v) {
                errs.push(FieldError::invalid(path, &go_quote(v), &msg));
            }
        }
    }
}

fn pod_spec_errors(spec: Option<&Value>, path: &str, errs: &mut Vec<FieldError>) {
    let Some(spec) = spec else {
        return;
    };
    for list in ["containers", "initContainers"] {
        let Some(items) = spec.get(list).and_then(Value::as_array) else {
            continue;
        };
        for (i, c) in items.iter().enumerate() {
            let field = format!("{path}.{list}[{i}].name");
            match c.get("name").and_then(Value::as_str).unwrap_or("") {
                "" => errs.push(FieldError {
                    field,
                    reason: "FieldValueRequired",
                    detail: "Required value".into(),
                }),
                name => {
                    for msg in dns1123_label_errors(name) {
                        errs.push(FieldError::invalid(&field, &go_quote(name), &msg));
                    }
                }
            }
        }
    }
}

/// `validation.IsDNS1123Label`.
pub fn dns1123_label_errors(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1123_LABEL_MAX {
        errs.push(format!(
            "must be no more than {DNS1123_LABEL_MAX} characters"
        ));
    }
    if !is_label(value) {
        if !value.is_empty() && value.split('.').all(is_label) {
            // A valid subdomain but not a label: with the length checked, it is the dots.
            errs.push("must not contain dots".into());
        } else {
            errs.push(super::defaults::DNS1123_LABEL_MSG.into());
        }
    }
    errs
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, anchored.
fn is_label(s: &str) -> bool {
    let ok = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(&f), Some(&l)) => ok(f) && ok(l) && b.iter().all(|&c| ok(c) || c == b'-'),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn messages(rt: &ResourceType, obj: Value) -> Vec<String> {
        field_errors(rt, &obj)
            .into_iter()
            .map(|e| format!("{}: {}", e.field, e.detail))
            .collect()
    }

    #[test]
    fn control_characters_in_label_values_are_refused_as_the_apiserver_words_it() {
        let errs = messages(
            &kinds::CONFIGMAPS,
            json!({"metadata": {"labels": {"app": "x\u{1b}[31m", "ok": "fine"}}}),
        );
        assert_eq!(
            errs,
            [
                "metadata.labels: Invalid value: \"x\\x1b[31m\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
            ]
        );
        // Too long and a bad key: each its own error.
        let errs = messages(
            &kinds::CONFIGMAPS,
            json!({"metadata": {"labels": {"bad\nkey": "", "v": "a".repeat(64)}}}),
        );
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(errs[0].starts_with("metadata.labels: Invalid value: \"bad\\nkey\": name part must consist of alphanumeric characters"));
        assert_eq!(
            errs[1],
            format!(
                "metadata.labels: Invalid value: \"{}\": must be no more than 63 characters",
                "a".repeat(64)
            )
        );
        assert!(
            messages(
                &kinds::CONFIGMAPS,
                json!({"metadata": {"labels": {"app.kubernetes.io/name": "a-b_c.d", "e": ""}}})
            )
            .is_empty()
        );
    }

    #[test]
    fn finalizers_are_qualified_names_on_the_unindexed_field() {
        let errs = messages(
            &kinds::PODS,
            json!({"metadata": {"finalizers": ["example.com/ok", "bad\u{7}", "kubernetes"]},
                   "spec": {"containers": [{"name": "c"}]}}),
        );
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(
            errs[0].starts_with(
                "metadata.finalizers: Invalid value: \"bad\\a\": name part must consist of"
            ),
            "{errs:?}"
        );
    }

    #[test]
    fn bare_finalizer_names_draw_a_warning_once() {
        let obj = json!({"metadata": {"finalizers": ["cleanup", "example.com/x", "orphan"]}});
        assert_eq!(
            warnings(&obj, None),
            [
                "metadata.finalizers: \"cleanup\": prefer a domain-qualified finalizer name including a path (/) to avoid accidental conflicts with other finalizer writers"
            ]
        );
        assert!(warnings(&obj, Some(&obj)).is_empty());
    }

    #[test]
    fn container_names_are_dns_labels_in_pods_and_templates() {
        let pod = json!({"spec": {
            "initContainers": [{"name": "init.x"}],
            "containers": [{"name": "ok"}, {"name": "Bad\u{1b}"}, {"image": "x"}],
        }});
        let errs = messages(&kinds::PODS, pod);
        assert_eq!(
            errs,
            [
                "spec.containers[1].name: Invalid value: \"Bad\\x1b\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
                "spec.containers[2].name: Required value",
                "spec.initContainers[0].name: Invalid value: \"init.x\": must not contain dots",
            ]
        );
        let deploy = json!({"spec": {
            "selector": {"matchLabels": {"app": "a\tb"}},
            "template": {"metadata": {"labels": {"app": "ok"}},
                         "spec": {"containers": [{"name": "x\u{0}"}]}},
        }});
        let errs = messages(&kinds::DEPLOYMENTS, deploy);
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(errs[0].starts_with("spec.selector.matchLabels: Invalid value: \"a\\tb\""));
        assert!(
            errs[1].starts_with("spec.template.spec.containers[0].name: Invalid value: \"x\\x00\"")
        );
        // Custom resources have no container validation here (their schema is KServe's).
        let isvc = json!({"spec": {"predictor": {"containers": [{"name": "X\u{1}"}]}}});
        assert!(messages(&kinds::INFERENCESERVICES, isvc).is_empty());
    }

    #[test]
    fn dns_labels() {
        assert!(dns1123_label_errors("a-1").is_empty());
        assert_eq!(dns1123_label_errors(&"a".repeat(64)).len(), 1);
        assert_eq!(dns1123_label_errors("a.b"), ["must not contain dots"]);
        assert_eq!(dns1123_label_errors("-a").len(), 1);
    }
}
