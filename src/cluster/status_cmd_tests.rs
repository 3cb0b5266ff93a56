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
        unfinished: vec![],
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
    // Beside the real status: the holder stopped renewing 20m ago.
    assert!(lines[2].contains("llama-3-8b-instruct") && lines[2].contains("Ready"));
    assert!(
        lines[2].contains("lease expired (holder gone?) bob@ops-2/777"),
        "{table}"
    );
    let json = render_json(&r);
    assert!(
        json.contains("\"lease expired (holder gone?): redeploy by bob@ops-2/777"),
        "{json}"
    );
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

fn unfinished(ns: &str, name: &str, id: &str) -> UnfinishedOp {
    UnfinishedOp {
        id: id.into(),
        kind: "redeploy".into(),
        namespace: ns.into(),
        endpoint: name.into(),
        mode: Some(Mode::Raw),
        step: "verify-deletion".into(),
        state: "running".into(),
        started: "2026-11-01T11:58:00Z".into(),
        holder: "ops@host/42".into(),
        found_in: "cluster".into(),
        command: format!("llmops-console recover {id} --resume -n {ns}"),
    }
}

/// Issue 8, case 10: an endpoint whose objects are gone but whose backup exists is listed as
/// unfinished (table and JSON), naming the operation and the command; one that still has its
/// objects carries the operation on its own row.
#[test]
fn unfinished_operations_are_named_also_when_the_objects_are_gone() {
    let mut r = report("isvc-terminating.json", "2026-11-01T12:00:00Z");
    r.unfinished = vec![
        unfinished("orch", "ep", "redeploy-ep-1"),
        unfinished("llm-prod", "llama-3-70b-instruct", "redeploy-llama-2"),
    ];
    let table = render_table(&r);
    let gone = table
        .lines()
        .find(|l| l.starts_with("orch "))
        .unwrap_or_else(|| panic!("no row for the gone endpoint:\n{table}"));
    assert!(
        gone.contains(
            "Unfinished (operation redeploy-ep-1 at verify-deletion; llmops-console recover \
             redeploy-ep-1 --resume -n orch)"
        ),
        "{table}"
    );
    let stuck = table
        .lines()
        .find(|l| l.contains("llama-3-70b"))
        .unwrap_or("");
    assert!(
        stuck.contains("Terminating; Unfinished (operation redeploy-llama-2 at"),
        "{table}"
    );
    // Sorted among the others: llm-prod before orch.
    assert!(
        table.lines().nth(1).unwrap_or("").starts_with("llm-prod"),
        "{table}"
    );

    let v: serde_json::Value = serde_json::from_str(&render_json(&r)).unwrap();
    let eps = v.as_array().unwrap();
    assert_eq!(eps.len(), 2, "{v:#}");
    let gone = eps.iter().find(|e| e["key"]["name"] == "ep").unwrap();
    assert_eq!(gone["health"], "Unfinished");
    assert_eq!(gone["unfinished"]["id"], "redeploy-ep-1");
    assert_eq!(gone["unfinished"]["step"], "verify-deletion");
    assert_eq!(gone["unfinished"]["foundIn"], "cluster");
    assert_eq!(
        gone["unfinished"]["command"],
        "llmops-console recover redeploy-ep-1 --resume -n orch"
    );
    let stuck = eps
        .iter()
        .find(|e| e["key"]["name"] == "llama-3-70b-instruct")
        .unwrap();
    assert_eq!(stuck["health"], "Terminating");
    assert_eq!(stuck["unfinished"]["id"], "redeploy-llama-2");
}

#[test]
fn a_planted_operation_id_cannot_reach_the_terminal_raw() {
    let mut r = report("healthy.json", "2026-11-01T12:00:00Z");
    r.unfinished = vec![unfinished("x", "y", "op\x1b[2J")];
    assert!(!render_table(&r).contains('\x1b'));
}

#[test]
fn mode_is_spelled_the_same_in_the_table_and_the_json() {
    let r = report("healthy.json", "2026-11-01T12:00:00Z");
    let table = render_table(&r);
    let json: serde_json::Value = serde_json::from_str(&render_json(&r)).unwrap();
    let items = json.as_array().unwrap();
    assert!(!items.is_empty());
    for (line, item) in table.lines().skip(1).zip(items) {
        let mode = item["key"]["mode"].as_str().unwrap();
        assert!(["kserve", "raw"].contains(&mode), "{item}");
        assert_eq!(line.split_whitespace().nth(2), Some(mode), "{table}");
    }
    // Journals written before spelled it `Kserve` / `Raw`: still read.
    let old: Mode = serde_json::from_str("\"Raw\"").unwrap();
    assert_eq!(old, Mode::Raw);
    let new: Mode = serde_json::from_str("\"kserve\"").unwrap();
    assert_eq!(new, Mode::Kserve);
}
