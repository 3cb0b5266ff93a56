//! Rules serde cannot express: names that Kubernetes would refuse, references to undeclared
//! namespaces or endpoints, duplicates, values out of range, fields that only make sense together.
//! Checks run in file order (settings, namespaces, users, endpoints, objects, faults) and the first
//! failure is reported, with the path of the offending field.

use std::collections::{BTreeMap, BTreeSet};

use super::expand::instance_names;
use super::locate::FieldPath;
use super::model::{
    BROKEN_ONLY_FOR_KSERVE_DELETION, ControllerState, EndpointKind, EndpointState, NamespaceScope,
    ObjectEntry, Scenario,
};
use crate::sim::kinds;

/// A semantic error: which field, what is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    pub path: FieldPath,
    pub message: String,
}

type Check = Result<(), Issue>;

/// Expanded endpoint name -> every (namespace, replicas) it exists in.
type EndpointIndex<'a> = BTreeMap<String, Vec<(&'a str, u32)>>;

fn fail(path: FieldPath, message: impl Into<String>) -> Check {
    Err(Issue {
        path,
        message: message.into(),
    })
}

/// Longest count, so generated names keep their four-digit suffix.
pub const MAX_COUNT: u32 = 10_000;
const MAX_REPLICAS: u32 = 1_000;
const MAX_LINES_PER_SECOND: f64 = 1_000_000.0;
/// KServe names the predictor Service `<isvc>-predictor`; a Service name is at most 63 characters.
const KSERVE_NAME_MAX: usize = 63 - "-predictor".len();

pub fn validate(s: &Scenario) -> Check {
    let root = FieldPath::root();
    if !is_dns1123_label(&s.name) {
        fail(root.key("name"), label_message(&s.name, false))?;
    }
    let st = &s.settings;
    let sp = root.key("settings");
    if !(0.0..=1.0).contains(&st.jitter) {
        fail(
            sp.key("jitter"),
            format!("{} is not a fraction in [0, 1]", st.jitter),
        )?;
    }
    check_rate(sp.key("logLinesPerSecond"), st.log_lines_per_second)?;

    let namespaces = check_namespaces(s)?;
    check_users(s, &namespaces)?;
    let endpoints = check_endpoints(s, &namespaces)?;
    check_objects(s, &namespaces)?;
    check_faults(s, &namespaces, &endpoints)
}

fn check_namespaces(s: &Scenario) -> Result<BTreeSet<&str>, Issue> {
    let p = FieldPath::root().key("namespaces");
    if s.namespaces.is_empty() {
        fail(p.clone(), "at least one namespace is needed")?;
    }
    let mut seen = BTreeSet::new();
    for (i, ns) in s.namespaces.iter().enumerate() {
        if !is_dns1123_label(ns) {
            fail(p.index(i), label_message(ns, false))?;
        }
        if !seen.insert(ns.as_str()) {
            fail(p.index(i), format!("namespace \"{ns}\" is listed twice"))?;
        }
    }
    Ok(seen)
}

fn check_namespace_ref(path: FieldPath, ns: &str, declared: &BTreeSet<&str>) -> Check {
    if declared.contains(ns) {
        return Ok(());
    }
    let list: Vec<&str> = declared.iter().copied().collect();
    fail(
        path,
        format!(
            "unknown namespace \"{ns}\"; declare it under `namespaces` (declared: {})",
            list.join(", ")
        ),
    )
}

fn check_users(s: &Scenario, declared: &BTreeSet<&str>) -> Check {
    let mut names = BTreeSet::new();
    for (i, user) in s.users.iter().enumerate() {
        let up = FieldPath::root().key("users").index(i);
        if user.name.is_empty() || user.name.chars().any(char::is_whitespace) {
            fail(
                up.key("name"),
                "a user name must be non-empty, without spaces",
            )?;
        }
        if !names.insert(user.name.as_str()) {
            fail(
                up.key("name"),
                format!("user \"{}\" is defined twice", user.name),
            )?;
        }
        for (j, rule) in user.rules.iter().enumerate() {
            let rp = up.key("rules").index(j);
            if rule.verbs.is_empty() {
                fail(rp.key("verbs"), "a rule needs at least one verb")?;
            }
            if rule.resources.is_empty() {
                fail(rp.key("resources"), "a rule needs at least one resource")?;
            }
            for (k, r) in rule.resources.iter().enumerate() {
                check_resource(rp.key("resources").index(k), r)?;
            }
            if let NamespaceScope::Only(list) = &rule.namespaces {
                for (k, ns) in list.iter().enumerate() {
                    check_namespace_ref(rp.key("namespaces").index(k), ns, declared)?;
                }
            }
        }
    }
    Ok(())
}

/// `*`, a served plural, or `<plural|*>/<subresource>`.
fn check_resource(path: FieldPath, r: &str) -> Check {
    let (plural, sub) = match r.split_once('/') {
        Some((p, s)) => (p, Some(s)),
        None => (r, None),
    };
    let types: Vec<_> = if plural == "*" {
        kinds::ALL.to_vec()
    } else {
        kinds::ALL
            .iter()
            .copied()
            .filter(|rt| rt.plural == plural)
            .collect()
    };
    if types.is_empty() {
        let hint = kinds::ALL
            .iter()
            .find(|rt| rt.singular == plural || rt.kind.eq_ignore_ascii_case(plural))
            .map(|rt| format!(" (did you mean \"{}\"?)", rt.plural))
            .unwrap_or_default();
        return fail(
            path,
            format!(
                "unknown resource \"{r}\"{hint}; expected `*`, a plural like \
                 \"inferenceservices\", or a subresource like \"pods/log\""
            ),
        );
    }
    match sub {
        None => Ok(()),
        // RBAC checks `<resource>/finalizers` for blockOwnerDeletion, on any resource.
        Some("finalizers") => Ok(()),
        Some(s) if types.iter().any(|rt| rt.has_subresource(s)) => Ok(()),
        Some(s) => fail(
            path,
            format!("\"{plural}\" has no subresource \"{s}\" in the simulator"),
        ),
    }
}

/// Checks every endpoint entry; returns the expanded names per namespace (for `logFlood`).
fn check_endpoints<'a>(
    s: &'a Scenario,
    declared: &BTreeSet<&str>,
) -> Result<EndpointIndex<'a>, Issue> {
    let mut by_name = EndpointIndex::new();
    for (i, e) in s.endpoints.iter().enumerate() {
        let ep = FieldPath::root().key("endpoints").index(i);
        if !is_dns1035_label(&e.name) {
            fail(ep.key("name"), label_message(&e.name, true))?;
        }
        if let Some(count) = e.count
            && !(1..=MAX_COUNT).contains(&count)
        {
            fail(
                ep.key("count"),
                format!("{count} is not in 1..={MAX_COUNT}"),
            )?;
        }
        let names = instance_names(e);
        let limit = match e.kind {
            EndpointKind::Kserve => KSERVE_NAME_MAX,
            EndpointKind::Raw => 63,
        };
        if let Some(long) = names.iter().find(|n| n.len() > limit) {
            let why = match e.kind {
                EndpointKind::Kserve => "its Service `<name>-predictor` must fit in 63",
                EndpointKind::Raw => "a Service name must fit in 63",
            };
            let field = if e.count.is_some() { "count" } else { "name" };
            fail(
                ep.key(field),
                format!(
                    "name \"{long}\" is {} characters, more than {limit}: {why}",
                    long.len()
                ),
            )?;
        }
        check_namespace_ref(ep.key("namespace"), &e.namespace, declared)?;
        if e.replicas > MAX_REPLICAS {
            fail(
                ep.key("replicas"),
                format!("{} is more than {MAX_REPLICAS}", e.replicas),
            )?;
        }
        if let Some(max) = e.max_replicas
            && max < e.replicas.max(1)
        {
            fail(
                ep.key("maxReplicas"),
                format!("{max} is less than replicas ({})", e.replicas.max(1)),
            )?;
        }
        if e.image.as_deref().is_some_and(|i| i.trim().is_empty()) {
            fail(ep.key("image"), "an image cannot be empty")?;
        }
        if e.kind == EndpointKind::Raw && e.model_format.is_some() {
            fail(
                ep.key("modelFormat"),
                "modelFormat is for kind: kserve (a raw Deployment has no model spec)",
            )?;
        }
        let held = s.faults.controllers.kserve_deletion != ControllerState::Up;
        if e.state == EndpointState::Terminating && (e.kind != EndpointKind::Kserve || !held) {
            fail(
                ep.key("state"),
                "nothing would hold it Terminating: use kind: kserve with \
                 faults.controllers.kserveDeletion broken or down (for other stuck objects, \
                 use `objects` with a finalizer and x-sim.deleteAtLoad)",
            )?;
        }
        if e.terminating_for.is_some() && e.state != EndpointState::Terminating {
            fail(
                ep.key("terminatingFor"),
                "terminatingFor needs state: terminating",
            )?;
        }
        if let Some(rate) = e.log_lines_per_second {
            check_rate(ep.key("logLinesPerSecond"), rate)?;
        }
        check_labels(ep.key("labels"), &e.labels, true)?;
        check_labels(ep.key("annotations"), &e.annotations, false)?;
        for n in names {
            let entry = by_name.entry(n.clone()).or_default();
            if entry.iter().any(|(ns, _)| *ns == e.namespace) {
                fail(
                    ep.key("name"),
                    format!(
                        "endpoint \"{n}\" is defined twice in namespace \"{}\"",
                        e.namespace
                    ),
                )?;
            }
            entry.push((&e.namespace, e.replicas));
        }
    }
    Ok(by_name)
}

fn check_objects(s: &Scenario, declared: &BTreeSet<&str>) -> Check {
    let mut seen = BTreeSet::new();
    for (i, ObjectEntry { manifest, sim }) in s.objects.iter().enumerate() {
        let op = FieldPath::root().key("objects").index(i);
        let text = |k: &str| manifest.get(k).and_then(|v| v.as_str());
        let Some(api_version) = text("apiVersion") else {
            return fail(
                op.key("apiVersion"),
                "a manifest needs apiVersion (a string)",
            );
        };
        let Some(kind) = text("kind") else {
            return fail(op.key("kind"), "a manifest needs kind (a string)");
        };
        let Some(rt) = kinds::by_kind(api_version, kind) else {
            return fail(
                op.key("kind"),
                format!("the simulator does not serve {kind} in {api_version}"),
            );
        };
        let mp = op.key("metadata");
        let meta = manifest.get("metadata");
        let field = |k: &str| meta.and_then(|m| m.get(k));
        let Some(name) = field("name").and_then(|v| v.as_str()) else {
            return fail(mp.key("name"), "a manifest needs metadata.name (a string)");
        };
        if !is_dns1123_subdomain(name) {
            fail(mp.key("name"), subdomain_message(name))?;
        }
        let ns = field("namespace").and_then(|v| v.as_str());
        match (rt.namespaced, ns) {
            (true, None) => fail(mp.key("namespace"), format!("{kind} needs a namespace"))?,
            (true, Some(ns)) => check_namespace_ref(mp.key("namespace"), ns, declared)?,
            (false, Some(_)) => fail(mp.key("namespace"), format!("{kind} is cluster-scoped"))?,
            (false, None) => {}
        }
        if field("generateName").is_some() {
            fail(
                mp.key("generateName"),
                "use metadata.name: names must be seeded",
            )?;
        }
        if !seen.insert((rt.plural, ns.unwrap_or(""), name)) {
            fail(
                mp.key("name"),
                format!("{kind} \"{name}\" is defined twice"),
            )?;
        }
        if sim.terminating_for.is_some() && !sim.delete_at_load {
            let sp = op.key("x-sim").key("terminatingFor");
            fail(sp, "terminatingFor needs deleteAtLoad: true")?;
        }
    }
    Ok(())
}

fn check_faults(s: &Scenario, declared: &BTreeSet<&str>, endpoints: &EndpointIndex<'_>) -> Check {
    let f = &s.faults;
    let fp = FieldPath::root().key("faults");
    for name in f.controllers.wrongly_broken() {
        fail(
            fp.key("controllers").key(name),
            BROKEN_ONLY_FOR_KSERVE_DELETION,
        )?;
    }
    for (i, l) in f.latency.iter().enumerate() {
        let lp = fp.key("latency").index(i);
        check_resource(lp.key("resource"), &l.resource)?;
        for (field, message) in l.problems() {
            fail(lp.key(field), message)?;
        }
    }
    for (i, e) in f.errors.iter().enumerate() {
        let ep = fp.key("errors").index(i);
        check_resource(ep.key("resource"), &e.resource)?;
        if let Some(name) = &e.name
            && !is_dns1123_subdomain(name)
        {
            fail(ep.key("name"), subdomain_message(name))?;
        }
        if let Some(ns) = &e.namespace {
            check_namespace_ref(ep.key("namespace"), ns, declared)?;
        }
        for (field, message) in e.problems() {
            fail(ep.key(field), message)?;
        }
    }
    if f.watch_drop_every_seconds == Some(0) {
        fail(fp.key("watchDropEverySeconds"), "must be at least 1")?;
    }
    for (i, lf) in f.log_flood.iter().enumerate() {
        let lp = fp.key("logFlood").index(i);
        check_rate(lp.key("linesPerSecond"), lf.lines_per_second)?;
        if let Some(ns) = &lf.namespace {
            check_namespace_ref(lp.key("namespace"), ns, declared)?;
        }
        match (&lf.endpoint, &lf.pod) {
            (Some(_), Some(_)) => fail(lp.key("pod"), "give endpoint (+ index) or pod, not both")?,
            (None, None) => fail(lp.clone(), "name the pod: endpoint (+ index) or pod")?,
            (None, Some(pod)) => {
                if !is_dns1123_subdomain(pod) {
                    fail(lp.key("pod"), subdomain_message(pod))?;
                }
                if lf.namespace.is_none() {
                    fail(lp.key("pod"), "a pod name needs a namespace")?;
                }
                if lf.index.is_some() {
                    fail(lp.key("index"), "index goes with endpoint, not pod")?;
                }
            }
            (Some(name), None) => {
                let all = endpoints.get(name).map(Vec::as_slice).unwrap_or_default();
                let hits: Vec<_> = all
                    .iter()
                    .filter(|(ns, _)| lf.namespace.as_deref().is_none_or(|want| want == *ns))
                    .collect();
                let replicas = match hits.as_slice() {
                    [] => {
                        let why = format!(
                            "no endpoint \"{name}\" (use the expanded name of a `count` entry, like \"{name}-0000\")"
                        );
                        return fail(lp.key("endpoint"), why);
                    }
                    [(_, replicas)] => *replicas,
                    _ => {
                        return fail(
                            lp.key("endpoint"),
                            format!("\"{name}\" exists in several namespaces; add namespace"),
                        );
                    }
                };
                let index = lf.index.unwrap_or(0);
                if index >= replicas {
                    let why = format!("pod index {index} but \"{name}\" has {replicas} replicas");
                    fail(lp.key("index"), why)?;
                }
            }
        }
    }
    Ok(())
}

fn check_rate(path: FieldPath, rate: f64) -> Check {
    if rate.is_finite() && (0.0..=MAX_LINES_PER_SECOND).contains(&rate) {
        return Ok(());
    }
    fail(
        path,
        format!("{rate} lines/s is not in [0, {MAX_LINES_PER_SECOND}]"),
    )
}

fn check_labels(path: FieldPath, map: &BTreeMap<String, String>, values_too: bool) -> Check {
    for (k, v) in map {
        let (prefix, name) = match k.rsplit_once('/') {
            Some((p, n)) => (Some(p), n),
            None => (None, k.as_str()),
        };
        if prefix.is_some_and(|p| !is_dns1123_subdomain(p)) || !is_qualified_name_part(name) {
            fail(
                path.key(k),
                format!(
                    "\"{k}\" is not a valid key: [prefix/]name, name up to 63 characters of [A-Za-z0-9-_.], alphanumeric at both ends"
                ),
            )?;
        }
        if values_too && !v.is_empty() && !is_qualified_name_part(v) {
            fail(
                path.key(k),
                format!(
                    "\"{v}\" is not a valid label value: up to 63 characters of [A-Za-z0-9-_.], alphanumeric at both ends"
                ),
            )?;
        }
    }
    Ok(())
}

fn is_dns1123_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

fn is_dns1035_label(s: &str) -> bool {
    is_dns1123_label(s) && s.as_bytes()[0].is_ascii_lowercase()
}

pub(crate) fn is_dns1123_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_dns1123_label)
}

fn is_qualified_name_part(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
}

fn label_message(name: &str, letter_first: bool) -> String {
    let start = if letter_first {
        "start with a letter (its Service is named after it)"
    } else {
        "start with an alphanumeric character"
    };
    format!(
        "invalid name \"{name}\": must be 1 to 63 lower case alphanumeric characters or '-', \
         {start} and end with an alphanumeric character"
    )
}

fn subdomain_message(name: &str) -> String {
    format!(
        "invalid name \"{name}\": must be lower case alphanumeric characters, '-' or '.', \
         at most 253, each dot-separated part starting and ending with an alphanumeric character"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_rules() {
        assert!(is_dns1123_label("llm-prod"));
        assert!(is_dns1123_label("0abc"));
        assert!(!is_dns1123_label("Llm"));
        assert!(!is_dns1123_label("-a"));
        assert!(!is_dns1123_label("a-"));
        assert!(!is_dns1123_label(""));
        assert!(!is_dns1123_label(&"a".repeat(64)));
        assert!(is_dns1035_label("a0"));
        assert!(!is_dns1035_label("0a"));
        assert!(is_dns1123_subdomain("web-5d4f.x"));
        assert!(!is_dns1123_subdomain("web..x"));
        assert!(is_qualified_name_part("Model_v1.2"));
        assert!(!is_qualified_name_part("bad value"));
    }

    #[test]
    fn resources_accept_plurals_subresources_and_stars() {
        let p = FieldPath::root();
        for ok in [
            "*",
            "pods",
            "pods/log",
            "*/status",
            "inferenceservices/finalizers",
        ] {
            assert!(check_resource(p.clone(), ok).is_ok(), "{ok}");
        }
        let err = check_resource(p.clone(), "inferenceservice").unwrap_err();
        assert!(
            err.message.contains("did you mean \"inferenceservices\""),
            "{}",
            err.message
        );
        assert!(check_resource(p.clone(), "deployments/log").is_err());
        assert!(check_resource(p.clone(), "pods/*").is_err());
        assert!(check_resource(p, "gadgets").is_err());
    }
}
