//! Field selectors (`fieldSelector=`), parsed and worded as `k8s.io/apimachinery/pkg/fields`
//! does, with the per-kind field tables of the apiserver's field label conversion functions.

use std::fmt;

use serde_json::Value;

use super::validation::go_quote;
use crate::sim::kinds;

/// The operator of one field term. `=` and `==` mean the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldOp {
    Equals,
    NotEquals,
}

/// One `field op value` term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRequirement {
    pub field: String,
    pub op: FieldOp,
    /// Unescaped value.
    pub value: String,
}

/// A parsed field selector: the AND of its terms; empty matches everything.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldSelector {
    terms: Vec<FieldRequirement>,
}

/// Fields of kinds whose apiserver conversion function lists them explicitly; anything else is
/// `field label not supported: <field>`.
const POD_FIELDS: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.podIPs",
    "status.nominatedNodeName",
    // Old clients' name for spec.nodeName.
    "spec.host",
];
const EVENT_FIELDS: &[&str] = &[
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
    "metadata.namespace",
    "metadata.name",
];
// The apiserver's Namespace conversion lists no metadata.namespace.
const NAMESPACE_FIELDS: &[&str] = &["status.phase", "metadata.name"];
const REPLICASET_FIELDS: &[&str] = &["metadata.name", "metadata.namespace", "status.replicas"];
const SERVICE_FIELDS: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "spec.clusterIP",
    "spec.type",
];
const CR_NAMESPACED_FIELDS: &[&str] = &["metadata.name", "metadata.namespace"];
const CR_CLUSTER_FIELDS: &[&str] = &["metadata.name"];

impl FieldSelector {
    /// Matches every object.
    pub fn everything() -> FieldSelector {
        FieldSelector::default()
    }

    /// Parses `k=v`, `k==v`, `k!=v` terms joined by commas (`fields.ParseSelector`). Values may
    /// escape `\,`, `\=` and `\\`; the left side is taken up to the first operator.
    pub fn parse(s: &str) -> Result<FieldSelector, String> {
        let mut parts = split_terms(s);
        parts.sort_unstable();
        let mut terms = Vec::new();
        for part in parts {
            if part.is_empty() {
                continue;
            }
            let Some((lhs, op, rhs)) = split_term(part) else {
                return Err(format!(
                    "invalid selector: '{s}'; can't understand '{part}'"
                ));
            };
            terms.push(FieldRequirement {
                field: lhs.to_string(),
                op,
                value: unescape_value(rhs)?,
            });
        }
        Ok(FieldSelector { terms })
    }

    pub fn terms(&self) -> &[FieldRequirement] {
        &self.terms
    }

    pub fn is_everything(&self) -> bool {
        self.terms.is_empty()
    }

    /// The value the selector requires `field` to equal, if it does (`RequiresExactMatch`); the
    /// server uses it for `metadata.name` / `metadata.namespace` lookups.
    pub fn requires_exact_match(&self, field: &str) -> Option<&str> {
        self.terms
            .iter()
            .find(|t| t.field == field && t.op == FieldOp::Equals)
            .map(|t| t.value.as_str())
    }

    /// Checks every field against what the apiserver supports for `kind` (a Kind such as `Pod`).
    /// Kinds with their own conversion function (Pod, Event, Namespace, ReplicaSet, Service and
    /// custom resources) answer `field label not supported: <field>`; the others fall back to the
    /// apiserver's default conversion, which answers
    /// `"<field>" is not a known field selector: only "metadata.name", "metadata.namespace"`.
    /// The caller turns the error into 400 BadRequest.
    pub fn validate_for(&self, kind: &str) -> Result<(), String> {
        let explicit: Option<&[&str]> = match kind {
            "Pod" => Some(POD_FIELDS),
            "Event" => Some(EVENT_FIELDS),
            "Namespace" => Some(NAMESPACE_FIELDS),
            "ReplicaSet" => Some(REPLICASET_FIELDS),
            "Service" => Some(SERVICE_FIELDS),
            _ => kinds::ALL
                .iter()
                .find(|rt| rt.kind == kind && rt.custom)
                .map(|rt| {
                    if rt.namespaced {
                        CR_NAMESPACED_FIELDS
                    } else {
                        CR_CLUSTER_FIELDS
                    }
                }),
        };
        for t in &self.terms {
            match explicit {
                Some(fields) if !fields.contains(&t.field.as_str()) => {
                    return Err(format!("field label not supported: {}", t.field));
                }
                None if t.field != "metadata.name" && t.field != "metadata.namespace" => {
                    return Err(format!(
                        "{} is not a known field selector: only \"metadata.name\", \"metadata.namespace\"",
                        go_quote(&t.field)
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Whether an object satisfies every term. A missing field reads as the empty string.
    pub fn matches(&self, obj: &Value) -> bool {
        self.terms.iter().all(|t| {
            let got = field_value(obj, &t.field);
            match t.op {
                FieldOp::Equals => got == t.value,
                FieldOp::NotEquals => got != t.value,
            }
        })
    }
}

/// Canonical form: terms sorted, `==` written as `=`, values re-escaped.
impl fmt::Display for FieldSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, t) in self.terms.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            let op = match t.op {
                FieldOp::Equals => "=",
                FieldOp::NotEquals => "!=",
            };
            write!(f, "{}{op}{}", t.field, escape_value(&t.value))?;
        }
        Ok(())
    }
}

/// The string value the apiserver's `GetAttrs` gives `field` on `obj`.
fn field_value(obj: &Value, field: &str) -> String {
    match field {
        // Event: `source` is source.component.
        "source" => return scalar_string(obj.pointer("/source/component")),
        "spec.host" => return scalar_string(obj.pointer("/spec/nodeName")),
        "status.podIPs" => {
            let ips = obj
                .pointer("/status/podIPs")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|ip| ip.get("ip").and_then(Value::as_str))
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .unwrap_or_default();
            return ips;
        }
        _ => {}
    }
    let mut cur = Some(obj);
    for part in field.split('.') {
        cur = cur.and_then(|v| v.get(part));
    }
    scalar_string(cur)
}

fn scalar_string(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// `fields.splitTerms`: split on commas not preceded by a backslash (escapes stay in place).
fn split_terms(s: &str) -> Vec<&str> {
    if s.is_empty() {
        return Vec::new();
    }
    let mut terms = Vec::new();
    let mut start = 0;
    let mut in_slash = false;
    for (i, c) in s.char_indices() {
        if in_slash {
            in_slash = false;
        } else if c == '\\' {
            in_slash = true;
        } else if c == ',' {
            terms.push(s.get(start..i).unwrap_or_default());
            start = i + 1;
        }
    }
    terms.push(s.get(start..).unwrap_or_default());
    terms
}

/// `fields.splitTerm`: the first position where `!=`, `==` or `=` starts splits the term.
fn split_term(term: &str) -> Option<(&str, FieldOp, &str)> {
    for (i, _) in term.char_indices() {
        let rest = term.get(i..).unwrap_or_default();
        for (op, kind) in [
            ("!=", FieldOp::NotEquals),
            ("==", FieldOp::Equals),
            ("=", FieldOp::Equals),
        ] {
            if rest.starts_with(op) {
                return Some((
                    term.get(..i).unwrap_or_default(),
                    kind,
                    rest.get(op.len()..).unwrap_or_default(),
                ));
            }
        }
    }
    None
}

/// `fields.UnescapeValue`, with its error wording (the unescaped rune is printed as its number,
/// as Go's `%v` prints a rune).
fn unescape_value(s: &str) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut in_slash = false;
    for c in s.chars() {
        if in_slash {
            match c {
                '\\' | ',' | '=' => out.push(c),
                other => {
                    return Err(format!(
                        "invalid field selector: invalid escape sequence: \\{other}"
                    ));
                }
            }
            in_slash = false;
            continue;
        }
        match c {
            '\\' => in_slash = true,
            ',' | '=' => {
                return Err(format!(
                    "invalid field selector: unescaped character in value: {}",
                    c as u32
                ));
            }
            other => out.push(other),
        }
    }
    if in_slash {
        return Err("invalid field selector: invalid escape sequence: \\".to_string());
    }
    Ok(out)
}

/// `fields.EscapeValue`.
fn escape_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | ',' | '=') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fs(s: &str) -> FieldSelector {
        FieldSelector::parse(s).unwrap()
    }

    #[test]
    fn parses_operators_and_escapes() {
        let s = fs("metadata.name=foo,metadata.namespace!=bar,status.phase==Running");
        let ops: Vec<(&str, FieldOp, &str)> = s
            .terms()
            .iter()
            .map(|t| (t.field.as_str(), t.op, t.value.as_str()))
            .collect();
        assert_eq!(
            ops,
            vec![
                ("metadata.name", FieldOp::Equals, "foo"),
                ("metadata.namespace", FieldOp::NotEquals, "bar"),
                ("status.phase", FieldOp::Equals, "Running"),
            ]
        );
        let s = fs(r"metadata.name=a\,b\=c\\d");
        assert_eq!(s.terms()[0].value, r"a,b=c\d");
        assert_eq!(s.to_string(), r"metadata.name=a\,b\=c\\d");
        assert_eq!(fs("").terms().len(), 0);
        assert!(fs("").is_everything());
        assert_eq!(fs("a=b,,c=d").terms().len(), 2);
        assert_eq!(fs("a=").terms()[0].value, "");
        assert_eq!(fs("b==x,a!=y").to_string(), "a!=y,b=x");
    }

    #[test]
    fn parse_errors_read_like_the_apiserver() {
        assert_eq!(
            FieldSelector::parse("metadata.name").unwrap_err(),
            "invalid selector: 'metadata.name'; can't understand 'metadata.name'"
        );
        assert_eq!(
            FieldSelector::parse("a=b,c").unwrap_err(),
            "invalid selector: 'a=b,c'; can't understand 'c'"
        );
        assert_eq!(
            FieldSelector::parse("a=b=c").unwrap_err(),
            "invalid field selector: unescaped character in value: 61"
        );
        assert_eq!(
            FieldSelector::parse("a!==b").unwrap_err(),
            "invalid field selector: unescaped character in value: 61"
        );
        assert_eq!(
            FieldSelector::parse(r"a=b\x").unwrap_err(),
            r"invalid field selector: invalid escape sequence: \x"
        );
        assert_eq!(
            FieldSelector::parse(r"a=b\").unwrap_err(),
            r"invalid field selector: invalid escape sequence: \"
        );
    }

    #[test]
    fn validates_fields_per_kind() {
        assert!(
            fs("metadata.name=a,metadata.namespace=b")
                .validate_for("Deployment")
                .is_ok()
        );
        assert!(fs("spec.nodeName=n,status.phase=Running,spec.restartPolicy=Always,spec.schedulerName=s,spec.serviceAccountName=x,status.podIP=1,status.nominatedNodeName=n")
            .validate_for("Pod")
            .is_ok());
        assert_eq!(
            fs("spec.foo=1").validate_for("Pod").unwrap_err(),
            "field label not supported: spec.foo"
        );
        assert!(fs("involvedObject.name=web,involvedObject.kind=Pod,involvedObject.uid=u,reason=x,source=kubelet,type=Normal,reportingComponent=r,involvedObject.fieldPath=f,involvedObject.apiVersion=v1,involvedObject.resourceVersion=1,involvedObject.namespace=ns")
            .validate_for("Event")
            .is_ok());
        assert_eq!(
            fs("spec.nodeName=x").validate_for("Event").unwrap_err(),
            "field label not supported: spec.nodeName"
        );
        assert!(fs("status.replicas=3").validate_for("ReplicaSet").is_ok());
        assert!(fs("status.phase=Active").validate_for("Namespace").is_ok());
        assert_eq!(
            fs("metadata.namespace=x")
                .validate_for("Namespace")
                .unwrap_err(),
            "field label not supported: metadata.namespace"
        );
        assert!(fs("spec.type=ClusterIP").validate_for("Service").is_ok());
        assert!(
            fs("metadata.name=m,metadata.namespace=ns")
                .validate_for("InferenceService")
                .is_ok()
        );
        assert_eq!(
            fs("status.url=x")
                .validate_for("InferenceService")
                .unwrap_err(),
            "field label not supported: status.url"
        );
        assert_eq!(
            fs("status.phase=x").validate_for("Deployment").unwrap_err(),
            "\"status.phase\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\""
        );
        assert!(fs("status.replicas=1").validate_for("Deployment").is_err());
    }

    #[test]
    fn matches_objects() {
        let pod = json!({
            "metadata": {"name": "web-1", "namespace": "ns"},
            "spec": {"nodeName": "node-a", "hostNetwork": false},
            "status": {"phase": "Running", "podIPs": [{"ip": "10.0.0.1"}, {"ip": "fd00::1"}]}
        });
        assert!(fs("metadata.name=web-1").matches(&pod));
        assert!(!fs("metadata.name=web-2").matches(&pod));
        assert!(fs("metadata.name!=web-2,metadata.namespace=ns").matches(&pod));
        assert!(!fs("metadata.name=web-1,metadata.namespace=other").matches(&pod));
        assert!(fs("spec.nodeName=node-a").matches(&pod));
        assert!(fs("spec.host=node-a").matches(&pod));
        assert!(fs("spec.hostNetwork=false").matches(&pod));
        assert!(fs(r"status.podIPs=10.0.0.1\,fd00::1").matches(&pod));
        // Missing fields read as "".
        assert!(fs("status.nominatedNodeName=").matches(&pod));
        assert!(fs("status.podIP!=1.2.3.4").matches(&pod));
        assert!(!fs("status.podIP=1.2.3.4").matches(&pod));
        assert!(fs("").matches(&pod));

        let ev = json!({
            "involvedObject": {"kind": "Pod", "name": "web-1"},
            "source": {"component": "kubelet", "host": "node-a"},
            "type": "Warning"
        });
        assert!(fs("source=kubelet,involvedObject.kind=Pod,type=Warning").matches(&ev));
        assert!(!fs("source=node-a").matches(&ev));
        let rs = json!({"status": {"replicas": 3}});
        assert!(fs("status.replicas=3").matches(&rs));
        assert!(!fs("status.replicas=0").matches(&rs));
    }

    #[test]
    fn exact_match_lookup() {
        let s = fs("metadata.namespace!=x,metadata.name=foo");
        assert_eq!(s.requires_exact_match("metadata.name"), Some("foo"));
        assert_eq!(s.requires_exact_match("metadata.namespace"), None);
    }
}
