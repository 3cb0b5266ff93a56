use serde_json::{Map, Value, json};

use super::*;

fn labels(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

fn sel(s: &str) -> LabelSelector {
    LabelSelector::parse(s).unwrap()
}

#[test]
fn parses_every_operator() {
    let s = sel("a=b,a2==b,c!=d,e in (x,y),f notin (z),g,!h,n>5,m<3");
    let ops: Vec<(&str, Operator)> = s
        .requirements()
        .iter()
        .map(|r| (r.key(), r.operator()))
        .collect();
    assert_eq!(
        ops,
        vec![
            ("a", Operator::Equals),
            ("a2", Operator::DoubleEquals),
            ("c", Operator::NotEquals),
            ("e", Operator::In),
            ("f", Operator::NotIn),
            ("g", Operator::Exists),
            ("h", Operator::DoesNotExist),
            ("m", Operator::LessThan),
            ("n", Operator::GreaterThan),
        ]
    );
    assert_eq!(
        s.to_string(),
        "a=b,a2==b,c!=d,e in (x,y),f notin (z),g,!h,m<3,n>5"
    );
}

#[test]
fn whitespace_is_tolerated_and_empty_is_everything() {
    let s = sel("  app = web ,\ttier   in(  b , a ) , ! gone ");
    assert_eq!(s.to_string(), "app=web,!gone,tier in (a,b)");
    assert!(sel("").is_everything());
    assert!(sel("   ").is_everything());
    assert!(sel("").matches(None));
    assert!(!sel("a").is_everything());
}

#[test]
fn canonical_form_sorts_keys_and_values() {
    assert_eq!(
        sel("tier in (b,a),app=web").to_string(),
        "app=web,tier in (a,b)"
    );
    // Duplicate values collapse, empty values are kept.
    assert_eq!(sel("x in (a,a,,b)").to_string(), "x in (,a,b)");
    assert_eq!(sel("x in ()").requirements()[0].values(), &[String::new()]);
    assert_eq!(sel("x=").requirements()[0].values(), &[String::new()]);
    assert_eq!(sel("x=,y").to_string(), "x=,y");
}

#[test]
fn keywords_are_values_in_value_position() {
    let s = sel("a=in,b in (notin,in)");
    assert_eq!(s.requirements()[0].values(), &["in".to_string()]);
    assert_eq!(s.to_string(), "a=in,b in (in,notin)");
    // `in` as a key works too.
    assert_eq!(sel("in in (x)").to_string(), "in in (x)");
}

#[test]
fn matching_semantics() {
    let l = labels(json!({"app": "web", "tier": "a", "n": "7", "empty": ""}));
    let cases = [
        ("app=web", true),
        ("app==web", true),
        ("app=db", false),
        ("app!=db", true),
        ("app!=web", false),
        ("missing!=x", true),
        ("tier in (a,b)", true),
        ("tier in (c)", false),
        ("missing in (a)", false),
        ("tier notin (a)", false),
        ("missing notin (a)", true),
        ("app", true),
        ("missing", false),
        ("!missing", true),
        ("!app", false),
        ("n>5", true),
        ("n>7", false),
        ("n<8", true),
        ("app>1", false),
        ("missing<1", false),
        ("empty=", true),
        ("empty", true),
        ("app=web,tier in (a),!missing", true),
        ("app=web,tier in (b)", false),
    ];
    for (s, want) in cases {
        assert_eq!(sel(s).matches(Some(&l)), want, "{s}");
    }
    assert!(!sel("app").matches(None));
    assert!(sel("!app").matches(None));
    assert!(sel("app!=x").matches(None));
}

#[test]
fn matches_object_reads_metadata_labels() {
    let obj = json!({"metadata": {"name": "p", "labels": {"app": "web"}}});
    assert!(sel("app=web").matches_object(&obj));
    assert!(!sel("app=db").matches_object(&obj));
    assert!(sel("!app").matches_object(&json!({"metadata": {}})));
}

#[test]
fn syntax_errors_read_like_the_apiserver() {
    let cases = [
        (
            "a b",
            "unable to parse requirement: found 'b', expected: '=', '!=', '==', 'in', notin'",
        ),
        ("a=b,", "found '', expected: identifier after ','"),
        (
            ",a",
            "found ',', expected: !, identifier, or 'end of string'",
        ),
        (
            "x in a",
            "unable to parse requirement: found 'a' expected: '('",
        ),
        (
            "x in (a",
            "unable to parse requirement: found '', expected: ',' or ')'",
        ),
        (
            "x in (a b)",
            "unable to parse requirement: found 'b', expected: ',' or ')'",
        ),
        (
            "x in (=)",
            "unable to parse requirement: found '=', expected: ',', ')' or identifier",
        ),
        (
            "x (a)",
            "unable to parse requirement: found '(', expected: '=', '!=', '==', 'in', notin'",
        ),
        (
            "x==(",
            "unable to parse requirement: found '(', expected: identifier",
        ),
        (
            "!",
            "unable to parse requirement: found '', expected: identifier",
        ),
        (
            "=a",
            "found '=', expected: !, identifier, or 'end of string'",
        ),
        ("!a=b", "found '=', expected: ',' or 'end of string'"),
    ];
    for (s, want) in cases {
        assert_eq!(LabelSelector::parse(s).unwrap_err(), want, "{s}");
    }
}

#[test]
fn invalid_keys_and_values_are_named() {
    let e = LabelSelector::parse("bad_=x").unwrap_err();
    assert!(
        e.starts_with("unable to parse requirement: <nil>: Invalid value: \"bad_\": name part must consist of alphanumeric characters"),
        "{e}"
    );
    let e = LabelSelector::parse("a=b c").unwrap_err();
    assert_eq!(e, "found 'c', expected: ',' or 'end of string'");
    let e = LabelSelector::parse("a=-x").unwrap_err();
    assert!(
        e.starts_with("unable to parse requirement: values[0][a]: Invalid value: \"-x\": a valid label must be an empty string"),
        "{e}"
    );
    let long = "v".repeat(64);
    let e = LabelSelector::parse(&format!("a={long}")).unwrap_err();
    assert!(e.contains("must be no more than 63 characters"), "{e}");
    let e = LabelSelector::parse("n>x").unwrap_err();
    assert_eq!(
        e,
        "unable to parse requirement: values[0]: Invalid value: \"x\": for 'Gt', 'Lt' operators, the value must be an integer"
    );
    let e = LabelSelector::parse("Example.com/a=b").unwrap_err();
    assert!(
        e.contains("prefix part a lowercase RFC 1123 subdomain"),
        "{e}"
    );
    assert!(LabelSelector::parse("example.com/a=b").is_ok());
    assert!(LabelSelector::parse(&format!("{}=b", "k".repeat(64))).is_err());
    // Non-ASCII bytes are part of an identifier and then rejected by validation.
    assert!(LabelSelector::parse("ключ=v").is_err());
}

#[test]
fn requirement_new_aggregates_problems() {
    let e = Requirement::new("a", Operator::In, vec![]).unwrap_err();
    assert_eq!(
        e,
        "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty"
    );
    let e = Requirement::new("-a", Operator::Equals, vec!["a".into(), "b".into()]).unwrap_err();
    assert!(
        e.starts_with("[key: Invalid value: \"-a\": name part"),
        "{e}"
    );
    assert!(
        e.ends_with("values: Invalid value: []string{\"a\", \"b\"}: exact-match compatibility requires one single value]"),
        "{e}"
    );
    let e = Requirement::new("a", Operator::Exists, vec!["x".into()]).unwrap_err();
    assert!(e.contains("values set must be empty for exists and does not exist"));
}

#[test]
fn from_match_labels_is_an_equality_selector() {
    let s = LabelSelector::from_match_labels(&labels(json!({"tier": "a", "app": "web"})));
    assert_eq!(s.to_string(), "app=web,tier=a");
    assert!(s.matches(Some(&labels(json!({"app": "web", "tier": "a", "x": "y"})))));
    assert!(!s.matches(Some(&labels(json!({"app": "web"})))));
    assert_eq!(s.requires_exact_match("app"), Some("web"));
    assert_eq!(s.requires_exact_match("nope"), None);
    assert!(LabelSelector::from_match_labels(&Map::new()).is_everything());
}

#[test]
fn from_label_selector_json_handles_both_parts() {
    let s = LabelSelector::from_label_selector_json(&json!({
        "matchLabels": {"app": "web"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["b", "a"]},
            {"key": "env", "operator": "NotIn", "values": ["prod"]},
            {"key": "canary", "operator": "DoesNotExist"},
            {"key": "team", "operator": "Exists"}
        ]
    }))
    .unwrap();
    assert_eq!(
        s.to_string(),
        "app=web,!canary,env notin (prod),team,tier in (a,b)"
    );
    let good = labels(json!({"app": "web", "tier": "a", "team": "x"}));
    assert!(s.matches(Some(&good)));
    let mut bad = good.clone();
    bad.insert("canary".into(), json!("1"));
    assert!(!s.matches(Some(&bad)));
    let mut bad = good.clone();
    bad.insert("env".into(), json!("prod"));
    assert!(!s.matches(Some(&bad)));

    let everything = LabelSelector::from_label_selector_json(&json!({})).unwrap();
    assert!(everything.matches(None));
    let nothing = LabelSelector::from_label_selector_json(&Value::Null).unwrap();
    assert!(!nothing.matches(Some(&good)));
    assert!(!nothing.is_everything());
}

#[test]
fn from_label_selector_json_rejects_bad_input() {
    let e = LabelSelector::from_label_selector_json(&json!({
        "matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]
    }))
    .unwrap_err();
    assert_eq!(e, "\"Gt\" is not a valid label selector operator");
    let e = LabelSelector::from_label_selector_json(&json!({
        "matchExpressions": [{"key": "a", "operator": "In", "values": []}]
    }))
    .unwrap_err();
    assert!(e.contains("values set can't be empty"), "{e}");
    let e =
        LabelSelector::from_label_selector_json(&json!({"matchLabels": {"a b": "x"}})).unwrap_err();
    assert!(e.starts_with("key: Invalid value: \"a b\""), "{e}");
    assert!(LabelSelector::from_label_selector_json(&json!({"matchLabels": {"a": 1}})).is_err());
    assert!(LabelSelector::from_label_selector_json(&json!("app=web")).is_err());
    assert!(LabelSelector::from_label_selector_json(&json!({"matchLabels": []})).is_err());
}

#[test]
fn lexer_splits_operators_greedily_but_correctly() {
    // `!=` is one token, `=(` two, `==` one.
    assert_eq!(
        sel("a!=b").requirements()[0].operator(),
        Operator::NotEquals
    );
    assert_eq!(
        sel("a==b").requirements()[0].operator(),
        Operator::DoubleEquals
    );
    assert!(LabelSelector::parse("a=(b)").is_err());
    assert!(LabelSelector::parse("a===b").is_err());
}
