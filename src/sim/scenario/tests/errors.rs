//! Bad files: every error names the file, the line, the column and the field.

use super::super::*;

/// Base of the bad-file table: valid as is (checked below); each case edits it.
const BASE: &str = "\
name: bad
namespaces: [llm-prod, llm-staging]
users:
  - name: operator
    rules:
      - verbs: [get, list]
        resources: [pods]
endpoints:
  - name: llama
    namespace: llm-prod
    kind: kserve
  - name: mistral
    namespace: llm-staging
    kind: raw
    replicas: 2
faults:
  errors:
    - {verb: delete, resource: pods, code: 500, count: 1}
";

/// One bad file: an edit of `BASE` and where the error must point.
struct Case {
    from: &'static str,
    to: String,
    /// `line:column`; a column of 0 is not checked.
    at: (usize, usize),
    path: &'static str,
    says: &'static str,
}

fn case(
    from: &'static str,
    to: &str,
    at: (usize, usize),
    path: &'static str,
    says: &'static str,
) -> Case {
    Case {
        from,
        to: to.to_string(),
        at,
        path,
        says,
    }
}

#[test]
fn bad_files_name_file_line_and_field() {
    parse("bad.yaml", BASE).unwrap();
    let long = format!("name: {}\n    count: 10\n", "l".repeat(50));
    #[rustfmt::skip]
    let cases = [
        // Parse errors (serde_yaml_ng's own positions and paths).
        case("    replicas: 2", "    replica: 2", (15, 5), "endpoints[1].replica", "unknown field `replica`, expected one of `name`"),
        case("    replicas: 2", "    replicas: three", (15, 15), "endpoints[1].replicas", "invalid type: string \"three\", expected u32"),
        case("    replicas: 2", "    replicas: 2\n    finalizerDelay: 5x", (16, 21), "endpoints[1].finalizerDelay", "invalid duration \"5x\": unknown unit \"x\""),
        case("verbs: [get, list]", "verbs: [get, remove]", (6, 22), "users[0].rules[0].verbs[1]", "unknown variant `remove`"),
        case("kind: raw", "kind: deployment", (14, 11), "endpoints[1].kind", "expected `kserve` or `raw`"),
        case("    kind: kserve", "    kind: kserve\n    count: 3\n    name2: x", (13, 5), "endpoints[0].name2", "unknown field `name2`"),
        case("namespaces: [llm-prod, llm-staging]", "namespaces: [llm-prod, llm-staging]\nnamespace: x", (3, 1), "namespace", "unknown field `namespace`"),
        case("    kind: raw\n", "", (12, 5), "endpoints[1]", "missing field `kind`"),
        // Semantic errors (validate + locate).
        case("namespace: llm-staging", "namespace: llm-dev", (13, 16), "endpoints[1].namespace", "unknown namespace \"llm-dev\""),
        case("name: mistral\n    namespace: llm-staging", "name: llama\n    namespace: llm-prod", (12, 11), "endpoints[1].name", "defined twice in namespace \"llm-prod\""),
        case("name: mistral", "name: Mistral_7B", (12, 11), "endpoints[1].name", "invalid name \"Mistral_7B\""),
        case("name: llama\n", &long, (10, 12), "endpoints[0].count", "more than 53"),
        case("    kind: kserve\n", "    kind: kserve\n    terminatingFor: 2m\n", (12, 21), "endpoints[0].terminatingFor", "needs state: terminating"),
        case("  - name: mistral", "  - name: mistral\n    labels: {\"bad key!\": x}", (13, 26), "endpoints[1].labels.bad key!", "not a valid key"),
        case("resources: [pods]", "resources: [pod]", (7, 21), "users[0].rules[0].resources[0]", "did you mean \"pods\""),
        case("resources: [pods]", "resources: [pods]\n        namespaces: [llm-dev]", (8, 22), "users[0].rules[0].namespaces[0]", "unknown namespace"),
        case("    kind: kserve\n", "    kind: kserve\n    state: terminating\n", (12, 12), "endpoints[0].state", "nothing would hold it Terminating"),
        case("code: 500", "code: 302", (18, 0), "faults.errors[0].code", "not an error code"),
        case("count: 1}", "probability: 1.5}", (18, 0), "faults.errors[0].probability", "not in [0, 1]"),
        case("count: 1}", "count: 1, probability: 0.5}", (18, 0), "faults.errors[0].probability", "not both"),
        case("count: 1}", "count: 1, retryAfterSeconds: 3}", (18, 0), "faults.errors[0].retryAfterSeconds", "429 or 503"),
        case("count: 1}", "count: 1}\n  controllers: {deployment: broken}", (19, 29), "faults.controllers.deployment", "only defined for kserveDeletion"),
    ];
    for c in cases {
        assert!(
            BASE.contains(c.from),
            "case edits missing text {:?}",
            c.from
        );
        let text = BASE.replacen(c.from, &c.to, 1);
        let err = parse("bad.yaml", &text).expect_err(&c.to);
        let shown = err.to_string();
        let ctx = format!("case {:?}\n  got: {shown}", c.to);
        let ScenarioError::Invalid {
            file,
            line,
            column,
            path,
            message,
        } = &err
        else {
            panic!("not Invalid: {ctx}");
        };
        assert_eq!(file, "bad.yaml", "{ctx}");
        assert_eq!(*line, c.at.0, "line, {ctx}");
        if c.at.1 != 0 {
            assert_eq!(*column, c.at.1, "column, {ctx}");
        }
        assert_eq!(path, c.path, "path, {ctx}");
        assert!(message.contains(c.says), "message, {ctx}");
        let prefix = format!("bad.yaml:{line}:{column}: {}: ", c.path);
        assert!(shown.starts_with(&prefix), "display, {ctx}");
    }
}

#[test]
fn syntax_and_object_errors_are_located_too() {
    // YAML syntax: no field path, but file, line and column.
    let err = parse("s.yaml", "name: x\nnamespaces: [a\nfoo: 1\n").unwrap_err();
    let ScenarioError::Invalid { line, path, .. } = &err else {
        panic!("{err}");
    };
    assert!(*line >= 2, "{err}");
    assert!(path.is_empty(), "{err}");
    assert!(
        err.to_string().starts_with(&format!("s.yaml:{line}:")),
        "{err}"
    );

    let empty = parse("e.yaml", "").unwrap_err().to_string();
    assert!(
        empty.starts_with("e.yaml:1:1: the file is empty"),
        "{empty}"
    );
    let comments = parse("e.yaml", "# nothing yet\n").unwrap_err().to_string();
    assert!(comments.contains("the file is empty"), "{comments}");

    let objects = "\
name: o
namespaces: [a]
objects:
  - apiVersion: v1
    kind: Pod
    metadata: {name: p, namespace: a}
    x-sim:
      deleteAtLod: true
  - apiVersion: v1
    kind: Pod
    metadata: {name: q, namespace: b}
";
    let err = parse("o.yaml", objects).unwrap_err().to_string();
    assert!(
        err.starts_with("o.yaml:8:7: objects[0].x-sim.deleteAtLod: unknown field"),
        "{err}"
    );
    let fixed = objects.replace("deleteAtLod", "deleteAtLoad");
    let err = parse("o.yaml", &fixed).unwrap_err().to_string();
    assert!(
        err.starts_with("o.yaml:11:36: objects[1].metadata.namespace: unknown namespace \"b\""),
        "{err}"
    );
    let kind = fixed.replacen("kind: Pod", "kind: Gadget", 1);
    let err = parse("o.yaml", &kind).unwrap_err().to_string();
    assert!(err.starts_with("o.yaml:5:11: objects[0].kind: "), "{err}");
}

#[test]
fn log_flood_references_are_checked() {
    let base = "\
name: lf
namespaces: [a, b]
endpoints:
  - {name: web, namespace: a, kind: raw, replicas: 2}
  - {name: web, namespace: b, kind: raw}
  - {name: fleet, namespace: a, kind: raw, count: 3}
faults:
  logFlood:
";
    for (entry, path, message) in [
        (
            "{endpoint: web, linesPerSecond: 5}",
            "endpoint",
            "several namespaces",
        ),
        (
            "{endpoint: web, namespace: a, index: 2, linesPerSecond: 5}",
            "index",
            "has 2 replicas",
        ),
        (
            "{endpoint: fleet, linesPerSecond: 5}",
            "endpoint",
            "\"fleet-0000\"",
        ),
        (
            "{pod: web-x, linesPerSecond: 5}",
            "pod",
            "needs a namespace",
        ),
        (
            "{endpoint: fleet-0001, linesPerSecond: -1}",
            "linesPerSecond",
            "not in [0",
        ),
    ] {
        let text = format!("{base}    - {entry}\n");
        let err = parse("lf.yaml", &text).unwrap_err().to_string();
        let want = "lf.yaml:9:";
        assert!(err.starts_with(want), "{entry}: {err}");
        assert!(
            err.contains(&format!("faults.logFlood[0].{path}: ")),
            "{entry}: {err}"
        );
        assert!(err.contains(message), "{entry}: {err}");
    }
    let ok = format!("{base}    - {{endpoint: fleet-0002, linesPerSecond: 30000}}\n");
    let p = expand(&parse("lf.yaml", &ok).unwrap(), 0);
    let e = p.endpoint("a", "fleet-0002").unwrap();
    assert_eq!(e.pods[0].log_lines_per_second, 30_000.0);
}

#[test]
fn scenario_round_trips_through_yaml() {
    let s = load_builtin("stuck-finalizer").unwrap();
    let text = serde_yaml_ng::to_string(&s).unwrap();
    let mut again = parse("again.yaml", &text).unwrap();
    again.origin = s.origin.clone();
    assert_eq!(again, s);
}

mod no_panic {
    use proptest::prelude::*;

    use super::*;

    fn check(text: &str) {
        if let Err(ScenarioError::Invalid { line, column, .. }) = parse("fuzz.yaml", text) {
            assert!(line >= 1 && column >= 1);
            assert!(
                line <= text.lines().count().max(1) + 1,
                "line {line} past the end"
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn any_text_is_an_answer_not_a_panic(text in "[ -~\n\t]{0,200}") {
            check(&text);
        }

        #[test]
        fn edited_scenarios_are_an_answer_not_a_panic(
            at in 0..BASE.len(),
            cut in 0..6usize,
            insert in "[ -~\n]{0,8}",
        ) {
            let end = (at + cut).min(BASE.len());
            let text = format!("{}{}{}", &BASE[..at], insert, &BASE[end..]);
            check(&text);
        }
    }
}
