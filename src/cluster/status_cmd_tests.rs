use super::*;
use crate::cluster::snapshot::Snapshot;

fn report(fixture: &str, now: &str) -> StatusReport {
    let path = format!(
        "{}/src/cluster/testdata/{fixture}",
        env!("CARGO_MANIFEST_DIR")
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let snap = Snapshot::from_list_json(&v).unwrap();
    let now: Timestamp = now.parse().unwrap();
    StatusReport {
        context: ContextInfo {
            context: "test".into(),
            server: "https://k8s.example:6443".into(),
            user: "u".into(),
            scope: Scope::All,
            files: vec![],
        },
        endpoints: derive_endpoints(&snap, &GroupingConfig::default(), now),
        notices: vec![],
        now,
    }
}

#[test]
fn table_shows_terminating_age_and_finalizer() {
    let r = report("isvc-terminating.json", "2026-11-01T12:00:00Z");
    let table = render_table(&r);
    let expected = "\
NAMESPACE   NAME                   MODE     STATUS        READY   AGE   TERMINATING                           LEASE
llm-prod    llama-3-70b-instruct   kserve   Terminating   2/2     3h    12m3s (inferenceservice.finalizers)   -
";
    assert_eq!(table, expected);
}

#[test]
fn table_shows_leases_live_and_expired() {
    let r = report("leases.json", "2026-11-01T12:00:00Z");
    let table = render_table(&r);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 4, "{table}");
    assert!(lines[1].contains("bge-reranker") && lines[1].contains("Redeploying"));
    assert!(
        lines[1].ends_with("alice@ops-1/4242 @ verify-deletion"),
        "{table}"
    );
    assert!(lines[2].ends_with("expired (bob@ops-2/777)"), "{table}");
    assert!(
        lines[3].contains("phi-3-mini") && lines[3].contains("0/0"),
        "{table}"
    );
}

#[test]
fn cluster_strings_cannot_reach_the_terminal_raw() {
    let mut r = report("healthy.json", "2026-11-01T12:00:00Z");
    r.endpoints[0].key.name = "evil\x1b]52;c;cm0gLXJmIH4=\x07\u{9b}2J".into();
    r.notices
        .push("cannot list leases: 403: \x1b[2Jforbidden".into());
    let table = render_table(&r);
    assert!(!table.contains('\x1b') && !table.contains('\x07') && !table.contains('\u{9b}'));
    assert!(
        table.contains("evil^[]52;c;cm0gLXJmIH4=^G<U+009B>2J"),
        "{table}"
    );
    assert!(table.ends_with("warning: cannot list leases: 403: ^[[2Jforbidden\n"));
    let json = render_json(&r);
    assert!(!json.contains('\x1b'));
    let back: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(back[0]["key"]["name"], r.endpoints[0].key.name.as_str());
}

#[test]
fn no_endpoints_says_where_it_looked() {
    let mut r = report("healthy.json", "2026-11-01T12:00:00Z");
    r.endpoints.clear();
    r.context.scope = Scope::Namespace("llm-dev".into());
    assert_eq!(
        render_table(&r),
        "No endpoints found in namespace llm-dev.\n"
    );
    assert_eq!(render_json(&r), "[]");
}
