//! Row cells of every served kind but pods, as the apiserver prints them
//! (kubernetes/pkg/printers/internalversion for built-in kinds, the CRD's
//! additionalPrinterColumns for InferenceServices); the columns are in `columns.rs`.

use serde_json::{Value, json};

use super::age;
use crate::sim::kinds::ResourceType;
use crate::sim::meta;

fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

fn int_at(v: &Value, pointer: &str) -> i64 {
    v.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

fn array_at<'a>(v: &'a Value, pointer: &str) -> &'a [Value] {
    v.pointer(pointer)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn none_if_empty(s: String) -> String {
    if s.is_empty() { "<none>".into() } else { s }
}

fn created(obj: &Value, now: jiff::Timestamp) -> Value {
    json!(age(
        obj.pointer("/metadata/creationTimestamp")
            .and_then(Value::as_str),
        now
    ))
}

/// Container names and images of a pod template, comma-separated.
fn containers_and_images(obj: &Value) -> (String, String) {
    let containers = array_at(obj, "/spec/template/spec/containers");
    let names: Vec<&str> = containers.iter().map(|c| str_at(c, "/name")).collect();
    let images: Vec<&str> = containers.iter().map(|c| str_at(c, "/image")).collect();
    (names.join(","), images.join(","))
}

/// A LabelSelector as `metav1.LabelSelectorAsSelector(...).String()`: requirements sorted by key.
pub fn selector_string(selector: Option<&Value>) -> String {
    let Some(sel) = selector.filter(|s| s.is_object()) else {
        return String::new();
    };
    let mut reqs: Vec<(String, String)> = Vec::new();
    if let Some(m) = sel.get("matchLabels").and_then(Value::as_object) {
        for (k, v) in m {
            reqs.push((k.clone(), format!("{k}={}", v.as_str().unwrap_or(""))));
        }
    }
    for e in array_at(sel, "/matchExpressions") {
        let key = str_at(e, "/key");
        let mut values: Vec<&str> = array_at(e, "/values")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        values.sort_unstable();
        let text = match str_at(e, "/operator") {
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "Exists" => key.to_string(),
            "DoesNotExist" => format!("!{key}"),
            other => format!("{key} {other}"),
        };
        reqs.push((key.to_string(), text));
    }
    reqs.sort();
    reqs.into_iter()
        .map(|(_, t)| t)
        .collect::<Vec<_>>()
        .join(",")
}

/// A label map as `labels.FormatLabels`: sorted `k=v` pairs, `<none>` when empty.
fn format_labels(map: Option<&Value>) -> String {
    let mut pairs: Vec<String> = map
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect()
        })
        .unwrap_or_default();
    pairs.sort();
    none_if_empty(pairs.join(","))
}

pub fn cells(rt: &ResourceType, obj: &Value, now: jiff::Timestamp) -> Vec<Value> {
    let name = json!(meta::name(obj));
    match rt.plural {
        "deployments" => {
            let (containers, images) = containers_and_images(obj);
            vec![
                name,
                json!(format!(
                    "{}/{}",
                    int_at(obj, "/status/readyReplicas"),
                    obj.pointer("/spec/replicas")
                        .and_then(Value::as_i64)
                        .unwrap_or(1)
                )),
                json!(int_at(obj, "/status/updatedReplicas")),
                json!(int_at(obj, "/status/availableReplicas")),
                created(obj, now),
                json!(containers),
                json!(images),
                json!(selector_string(obj.pointer("/spec/selector"))),
            ]
        }
        "replicasets" => {
            let (containers, images) = containers_and_images(obj);
            vec![
                name,
                json!(
                    obj.pointer("/spec/replicas")
                        .and_then(Value::as_i64)
                        .unwrap_or(1)
                ),
                json!(int_at(obj, "/status/replicas")),
                json!(int_at(obj, "/status/readyReplicas")),
                created(obj, now),
                json!(containers),
                json!(images),
                json!(selector_string(obj.pointer("/spec/selector"))),
            ]
        }
        "services" => service_cells(obj, name, now),
        "horizontalpodautoscalers" => {
            let reference = format!(
                "{}/{}",
                str_at(obj, "/spec/scaleTargetRef/kind"),
                str_at(obj, "/spec/scaleTargetRef/name")
            );
            let min_pods = obj
                .pointer("/spec/minReplicas")
                .and_then(Value::as_i64)
                .map_or_else(|| "<unset>".to_string(), |m| m.to_string());
            vec![
                name,
                json!(reference),
                json!(hpa_targets(obj)),
                json!(min_pods),
                json!(int_at(obj, "/spec/maxReplicas")),
                json!(int_at(obj, "/status/currentReplicas")),
                created(obj, now),
            ]
        }
        "ingresses" => {
            let class = match str_at(obj, "/spec/ingressClassName") {
                "" => "<none>",
                c => c,
            };
            let ports = if array_at(obj, "/spec/tls").is_empty() {
                "80"
            } else {
                "80, 443"
            };
            vec![
                name,
                json!(class),
                json!(ingress_hosts(obj)),
                json!(load_balancer_addresses(obj)),
                json!(ports),
                created(obj, now),
            ]
        }
        "events" => event_cells(obj, now),
        "namespaces" => vec![name, json!(str_at(obj, "/status/phase")), created(obj, now)],
        "configmaps" => {
            let count = |p: &str| {
                obj.pointer(p)
                    .and_then(Value::as_object)
                    .map_or(0, |m| m.len())
            };
            vec![
                name,
                json!(count("/data") + count("/binaryData")),
                created(obj, now),
            ]
        }
        "leases" => {
            let holder = obj
                .pointer("/spec/holderIdentity")
                .and_then(Value::as_str)
                .unwrap_or("<unknown>");
            vec![name, json!(holder), created(obj, now)]
        }
        "inferenceservices" => isvc_cells(obj, name, now),
        _ => vec![name, created(obj, now)],
    }
}

fn service_cells(obj: &Value, name: Value, now: jiff::Timestamp) -> Vec<Value> {
    let ty = str_at(obj, "/spec/type");
    let cluster_ip = array_at(obj, "/spec/clusterIPs")
        .first()
        .and_then(Value::as_str)
        .or_else(|| obj.pointer("/spec/clusterIP").and_then(Value::as_str))
        .filter(|s| !s.is_empty())
        .unwrap_or("<none>");
    let external: Vec<&str> = array_at(obj, "/spec/externalIPs")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let external_ip = match ty {
        "ClusterIP" | "NodePort" if !external.is_empty() => external.join(","),
        "ClusterIP" | "NodePort" => "<none>".into(),
        "LoadBalancer" => {
            let mut all: Vec<String> = load_balancer_addresses(obj)
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            all.extend(external.iter().map(|s| s.to_string()));
            if all.is_empty() {
                "<pending>".into()
            } else {
                all.join(",")
            }
        }
        "ExternalName" => str_at(obj, "/spec/externalName").to_string(),
        _ => "<unknown>".into(),
    };
    let ports: Vec<String> = array_at(obj, "/spec/ports")
        .iter()
        .map(|p| {
            let protocol = match str_at(p, "/protocol") {
                "" => "TCP",
                other => other,
            };
            match int_at(p, "/nodePort") {
                0 => format!("{}/{protocol}", int_at(p, "/port")),
                node => format!("{}:{node}/{protocol}", int_at(p, "/port")),
            }
        })
        .collect();
    vec![
        name,
        json!(ty),
        json!(cluster_ip),
        json!(external_ip),
        json!(none_if_empty(ports.join(","))),
        created(obj, now),
        json!(format_labels(obj.pointer("/spec/selector"))),
    ]
}

/// `status.loadBalancer.ingress` IPs (else hostnames), sorted and de-duplicated.
fn load_balancer_addresses(obj: &Value) -> String {
    let mut out: Vec<&str> = array_at(obj, "/status/loadBalancer/ingress")
        .iter()
        .map(|i| match str_at(i, "/ip") {
            "" => str_at(i, "/hostname"),
            ip => ip,
        })
        .filter(|s| !s.is_empty())
        .collect();
    out.sort_unstable();
    out.dedup();
    out.join(",")
}

/// Up to three rule hosts, `+ N more...` beyond; `*` when no rule names a host.
fn ingress_hosts(obj: &Value) -> String {
    const MAX: usize = 3;
    let rules = array_at(obj, "/spec/rules");
    let mut list: Vec<&str> = Vec::new();
    let mut more = false;
    for rule in rules {
        if list.len() == MAX {
            more = true;
        }
        let host = str_at(rule, "/host");
        if !more && !host.is_empty() {
            list.push(host);
        }
    }
    if list.is_empty() {
        return "*".into();
    }
    let joined = list.join(",");
    if more {
        format!("{joined} + {} more...", rules.len() - MAX)
    } else {
        joined
    }
}

/// HPA TARGETS: `cpu: 42%/80%`, `<unknown>` for a metric not measured yet, at most two shown.
fn hpa_targets(obj: &Value) -> String {
    let specs = array_at(obj, "/spec/metrics");
    if specs.is_empty() {
        return "<none>".into();
    }
    let statuses = array_at(obj, "/status/currentMetrics");
    let mut list: Vec<String> = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let status = statuses.get(i);
        let kind = str_at(spec, "/type");
        let source = match kind {
            "Resource" => "resource",
            "ContainerResource" => "containerResource",
            "Pods" => "pods",
            "Object" => "object",
            "External" => "external",
            _ => "",
        };
        let target = spec.pointer(&format!("/{source}/target"));
        let current = status.and_then(|s| s.pointer(&format!("/{source}/current")));
        let pick = |v: Option<&Value>| {
            v.and_then(|t| t.get("averageValue").or_else(|| t.get("value")))
                .map(|q| match q {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
        };
        let text = match kind {
            "Resource" | "ContainerResource" => {
                let metric = str_at(spec, &format!("/{source}/name"));
                if target.and_then(|t| t.get("averageValue")).is_some() {
                    let cur = pick(current).unwrap_or_else(|| "<unknown>".into());
                    format!("{metric}: {cur}/{}", pick(target).unwrap_or_default())
                } else {
                    let percent = |v: Option<&Value>| {
                        v.and_then(|c| c.get("averageUtilization"))
                            .and_then(Value::as_i64)
                            .map(|u| format!("{u}%"))
                    };
                    let cur = percent(current).unwrap_or_else(|| "<unknown>".into());
                    let tgt = percent(target).unwrap_or_else(|| "<auto>".into());
                    format!("{metric}: {cur}/{tgt}")
                }
            }
            _ => {
                let cur = pick(current).unwrap_or_else(|| "<unknown>".into());
                let tgt = pick(target).unwrap_or_else(|| "<auto>".into());
                format!("{cur}/{tgt}")
            }
        };
        list.push(text);
        if list.len() > 2 {
            list.truncate(2);
            let rest = specs.len() - i;
            return format!("{} + {rest} more...", list.join(", "));
        }
    }
    list.join(", ")
}

/// LAST SEEN TYPE REASON OBJECT SUBOBJECT SOURCE MESSAGE FIRST SEEN COUNT NAME.
fn event_cells(obj: &Value, now: jiff::Timestamp) -> Vec<Value> {
    let time = |p: &str| obj.pointer(p).and_then(Value::as_str);
    let first = match time("/firstTimestamp") {
        Some(t) => age(Some(t), now),
        None => age(time("/eventTime"), now),
    };
    let mut last = match time("/lastTimestamp") {
        Some(t) => age(Some(t), now),
        None => first.clone(),
    };
    let mut count = int_at(obj, "/count");
    if let Some(series) = obj.get("series").filter(|s| s.is_object()) {
        last = age(series.get("lastObservedTime").and_then(Value::as_str), now);
        count = int_at(series, "/count");
    } else if count == 0 {
        count = 1;
    }
    let kind = str_at(obj, "/involvedObject/kind").to_ascii_lowercase();
    let target = match str_at(obj, "/involvedObject/name") {
        "" => kind,
        n => format!("{kind}/{n}"),
    };
    let first_non_empty = |a: &str, b: &str| {
        if a.is_empty() {
            b.to_string()
        } else {
            a.to_string()
        }
    };
    let component = first_non_empty(
        str_at(obj, "/source/component"),
        str_at(obj, "/reportingComponent"),
    );
    let instance = first_non_empty(
        str_at(obj, "/source/host"),
        str_at(obj, "/reportingInstance"),
    );
    let source = if instance.is_empty() {
        component
    } else {
        format!("{component}, {instance}")
    };
    vec![
        json!(last),
        json!(str_at(obj, "/type")),
        json!(str_at(obj, "/reason")),
        json!(target),
        json!(str_at(obj, "/involvedObject/fieldPath")),
        json!(source),
        json!(str_at(obj, "/message").trim()),
        json!(first),
        json!(count),
        json!(meta::name(obj)),
    ]
}

/// The first predictor traffic target matching `pick`, then its `field`.
fn traffic<'a>(obj: &'a Value, pick: impl Fn(&Value) -> bool, field: &str) -> Option<&'a Value> {
    array_at(obj, "/status/components/predictor/traffic")
        .iter()
        .find(|t| pick(t))
        .and_then(|t| t.get(field))
        .filter(|v| !v.is_null())
}

/// CRD cells: a missing value is `null` (printed empty); strings as they are, integers as
/// integers, the date as an age.
fn isvc_cells(obj: &Value, name: Value, now: jiff::Timestamp) -> Vec<Value> {
    let string = |v: Option<&Value>| match v {
        Some(Value::String(s)) => json!(s),
        Some(other) => json!(other.to_string()),
        None => Value::Null,
    };
    let integer = |v: Option<&Value>| match v.and_then(Value::as_f64) {
        Some(n) => json!(n as i64),
        None => Value::Null,
    };
    let ready = array_at(obj, "/status/conditions")
        .iter()
        .find(|c| str_at(c, "/type") == "Ready")
        .and_then(|c| c.get("status"));
    let is_prev = |t: &Value| t.get("tag").and_then(Value::as_str) == Some("prev");
    let is_latest = |t: &Value| t.get("latestRevision").and_then(Value::as_bool) == Some(true);
    let created_at = match obj.pointer("/metadata/creationTimestamp") {
        Some(Value::String(s)) => match meta::parse_time(s) {
            Some(_) => json!(age(Some(s), now)),
            None => json!("<invalid>"),
        },
        _ => Value::Null,
    };
    vec![
        name,
        string(obj.pointer("/status/url").filter(|v| !v.is_null())),
        string(ready),
        integer(traffic(obj, is_prev, "percent")),
        integer(traffic(obj, is_latest, "percent")),
        string(traffic(obj, is_prev, "revisionName")),
        string(traffic(obj, is_latest, "revisionName")),
        created_at,
    ]
}
