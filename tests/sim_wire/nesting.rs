//! Deeply nested bodies are refused quickly: JSON and YAML past the decoders' depth of 128, YAML
//! flow collections (which cost the YAML scanner time quadratic in their depth) and alias
//! expansion ("billion laughs"), on every body decoder (create, patch types, DeleteOptions, the
//! admin API). Prints how long each answer took; asserts only on the answers.

use std::time::Instant;

use reqwest::Method;

use super::support::*;

/// Ten levels of nine aliases each: 9^10 strings if expanded.
fn billion_laughs() -> String {
    let mut s = String::from(
        "a0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for i in 1..10 {
        let p = i - 1;
        let refs = vec![format!("*a{p}"); 9].join(",");
        s.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    s
}

struct Case {
    what: &'static str,
    method: Method,
    path: String,
    content_type: &'static str,
    body: Vec<u8>,
    /// The start of the refusal's message.
    refusal: &'static str,
}

#[tokio::test]
async fn deeply_nested_bodies_are_refused_promptly() {
    let sim = Sim::start("healthy").await;
    sim.create(CMS, &configmap("c")).await;
    let n = 50_000;
    let brackets = format!("{}{}", "[".repeat(n), "]".repeat(n)).into_bytes();
    let flow_maps = format!("{}1{}", "{a: ".repeat(n / 4), "}".repeat(n / 4)).into_bytes();
    let mixed = format!("k: {}x{}\n", "[{b: ".repeat(n / 6), "}]".repeat(n / 6)).into_bytes();
    let yaml_depth =
        "the body of the request could not be decoded as YAML: recursion limit exceeded";
    let json_depth =
        "the body of the request could not be decoded as JSON: recursion limit exceeded";
    let apply = format!("{}?fieldManager=t", cm_path("c"));
    let cases = vec![
        Case {
            what: "create, JSON [x50000",
            method: Method::POST,
            path: CMS.into(),
            content_type: "application/json",
            body: brackets.clone(),
            refusal: json_depth,
        },
        Case {
            what: "create, YAML [x50000",
            method: Method::POST,
            path: CMS.into(),
            content_type: "application/yaml",
            body: brackets.clone(),
            refusal: yaml_depth,
        },
        Case {
            what: "create, YAML {a: x12500",
            method: Method::POST,
            path: CMS.into(),
            content_type: "application/yaml",
            body: flow_maps.clone(),
            refusal: yaml_depth,
        },
        Case {
            what: "create, YAML block value [{b: x8333",
            method: Method::POST,
            path: CMS.into(),
            content_type: "application/yaml",
            body: mixed.clone(),
            refusal: yaml_depth,
        },
        Case {
            what: "create, YAML billion laughs",
            method: Method::POST,
            path: CMS.into(),
            content_type: "application/yaml",
            body: billion_laughs().into_bytes(),
            refusal: "the body of the request could not be decoded as YAML: repetition limit exceeded",
        },
        Case {
            what: "apply, YAML {a: x12500",
            method: Method::PATCH,
            path: apply.clone(),
            content_type: "application/apply-patch+yaml",
            body: flow_maps.clone(),
            refusal: yaml_depth,
        },
        Case {
            what: "apply, YAML billion laughs",
            method: Method::PATCH,
            path: apply,
            content_type: "application/apply-patch+yaml",
            body: billion_laughs().into_bytes(),
            refusal: "the body of the request could not be decoded as YAML: repetition limit exceeded",
        },
        Case {
            what: "merge patch, JSON [x50000",
            method: Method::PATCH,
            path: cm_path("c"),
            content_type: "application/merge-patch+json",
            body: brackets.clone(),
            refusal: json_depth,
        },
        Case {
            what: "strategic patch, JSON [x50000",
            method: Method::PATCH,
            path: cm_path("c"),
            content_type: "application/strategic-merge-patch+json",
            body: brackets.clone(),
            refusal: json_depth,
        },
        Case {
            what: "JSON patch, JSON [x50000",
            method: Method::PATCH,
            path: cm_path("c"),
            content_type: "application/json-patch+json",
            body: brackets.clone(),
            refusal: json_depth,
        },
        Case {
            what: "DeleteOptions, JSON [x50000",
            method: Method::DELETE,
            path: cm_path("c"),
            content_type: "application/json",
            body: brackets.clone(),
            refusal: "the DeleteOptions body could not be decoded as JSON: recursion limit exceeded",
        },
        Case {
            what: "admin faults, JSON [x50000",
            method: Method::PUT,
            path: "/sim/v1/faults".into(),
            content_type: "application/json",
            body: brackets,
            refusal: "invalid fault state: ",
        },
    ];
    for c in cases {
        let len = c.body.len();
        let started = Instant::now();
        let r = sim
            .send(c.method, &c.path, Some(c.content_type), Some(c.body))
            .await;
        println!(
            "{}: {len} bytes -> {} in {:?}",
            c.what,
            r.status,
            started.elapsed()
        );
        let body = r.expect(400);
        assert_eq!(body["reason"], "BadRequest", "{}: {body}", c.what);
        let message = body["message"].as_str().unwrap_or("");
        assert!(message.starts_with(c.refusal), "{}: {message}", c.what);
    }
    // The object is untouched and the server still answers.
    sim.get(&cm_path("c")).await.expect(200);
    sim.stop().await;
}

#[tokio::test]
async fn yaml_nested_within_the_limit_is_accepted() {
    let sim = Sim::start("healthy").await;
    // 100 levels of flow collections, and brackets by the thousand inside quoted strings, a
    // block scalar and a comment, none of which nest.
    let nested = format!("{}1{}", "[".repeat(100), "]".repeat(100));
    let in_strings = "[{".repeat(2000);
    let yaml = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\n  annotations: {{a: '{in_strings}', b: \"{in_strings}\"}}\n# {in_strings}\ndata:\n  script: |\n    {in_strings}\n  k: v\nextra: {nested}\n"
    );
    let r = sim
        .send(
            Method::POST,
            CMS,
            Some("application/yaml"),
            Some(yaml.into_bytes()),
        )
        .await;
    let created = r.expect(201);
    assert_eq!(created["data"]["k"], "v");
    assert_eq!(
        created["metadata"]["annotations"]["a"]
            .as_str()
            .map(str::len),
        Some(4000)
    );
    sim.stop().await;
}
