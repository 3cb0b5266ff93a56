//! The built-in scenarios, expansion and determinism.

use std::time::Duration;

use super::super::*;

fn plan(name: &str) -> Plan {
    let s = load_builtin(name).unwrap();
    let seed = s.seed;
    expand(&s, seed)
}

#[test]
fn every_builtin_loads_validates_and_expands() {
    assert_eq!(
        builtin_names(),
        [
            "healthy",
            "stuck-finalizer",
            "conflict-409",
            "rbac-denied",
            "large-fleet",
            "log-flood"
        ]
    );
    for name in builtin_names() {
        let s = load_builtin(name).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.name, name);
        assert_eq!(s.origin, format!("assets/scenarios/{name}.yaml"));
        assert!(!s.description.is_empty(), "{name} has no description");
        let p = expand(&s, s.seed);
        assert!(!p.endpoints.is_empty(), "{name}");
        assert!(p.user(ADMIN_USER).is_some(), "{name}: admin is implicit");
        // Every endpoint's manifests name it and live in a declared namespace.
        for e in &p.endpoints {
            assert!(p.namespaces.contains(&e.namespace));
            for m in e.manifests() {
                assert_eq!(m["metadata"]["name"], e.name.as_str());
                assert_eq!(m["metadata"]["namespace"], e.namespace.as_str());
            }
        }
        // Each built-in file starts with comments explaining it.
        let (_, _, text) = BUILTIN.iter().find(|(n, _, _)| *n == name).unwrap();
        assert!(text.starts_with("# "), "{name} must start with a comment");
    }
}

#[test]
fn load_accepts_builtin_names_and_paths() {
    assert_eq!(load("healthy").unwrap().name, "healthy");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mine.yaml");
    std::fs::write(&path, "name: mine\nnamespaces: [a]\n").unwrap();
    let s = load(path.to_str().unwrap()).unwrap();
    assert_eq!(s.name, "mine");
    assert_eq!(s.origin, path.display().to_string());

    let err = load("no-such-scenario").unwrap_err().to_string();
    assert!(
        err.contains("no built-in scenario \"no-such-scenario\""),
        "{err}"
    );
    assert!(err.contains("healthy, stuck-finalizer"), "{err}");
    let missing = dir.path().join("gone.yaml");
    let err = load_path(&missing).unwrap_err().to_string();
    assert!(err.starts_with(&missing.display().to_string()), "{err}");
}

#[test]
fn healthy_has_both_kinds_over_two_namespaces_all_ready() {
    let p = plan("healthy");
    assert!(p.endpoints.len() >= 6);
    assert_eq!(p.namespaces, ["llm-prod", "llm-staging"]);
    for ns in &p.namespaces {
        assert!(p.endpoints.iter().any(|e| &e.namespace == ns));
    }
    assert!(p.endpoints.iter().any(|e| e.kind == EndpointKind::Kserve));
    assert!(p.endpoints.iter().any(|e| e.kind == EndpointKind::Raw));
    assert!(p.endpoints.iter().all(|e| e.state == EndpointState::Ready));
    assert!(p.endpoints.iter().all(|e| e.finalizer_delay.is_none()));
    assert_eq!(p.faults.controllers, Controllers::default());
    assert!(p.faults.errors.is_empty() && p.objects.is_empty());
}

#[test]
fn stuck_finalizer_breaks_kserve_deletion_only() {
    let p = plan("stuck-finalizer");
    let c = p.faults.controllers;
    assert_eq!(c.kserve_deletion, ControllerState::Broken);
    assert_eq!(c.kserve, ControllerState::Up, "new isvcs still reconcile");
    let stuck: Vec<_> = p
        .endpoints
        .iter()
        .filter(|e| e.state == EndpointState::Terminating)
        .collect();
    assert_eq!(stuck.len(), 1);
    assert_eq!(stuck[0].kind, EndpointKind::Kserve);
    assert_eq!(stuck[0].terminating_for, Some(Duration::from_secs(12 * 60)));
    assert!(
        p.endpoints
            .iter()
            .filter(|e| e.state == EndpointState::Ready)
            .count()
            >= 3
    );

    let pod = &p.objects[0];
    assert_eq!(pod.manifest["kind"], "Pod");
    assert_eq!(
        pod.manifest["metadata"]["finalizers"][0],
        "example.com/stuck-volume-cleanup"
    );
    assert!(pod.manifest.get(SIM_CONTROL_KEY).is_none());
    assert!(pod.delete_at_load);
    assert_eq!(pod.terminating_for, Some(Duration::from_secs(47 * 60)));
}

#[test]
fn conflict_409_raw_endpoint_keeps_deployment_and_service_for_six_seconds() {
    let p = plan("conflict-409");
    let e = p
        .endpoints
        .iter()
        .find(|e| e.finalizer_delay.is_some())
        .unwrap();
    assert_eq!(e.kind, EndpointKind::Raw);
    assert_eq!(e.finalizer_delay, Some(Duration::from_secs(6)));
    let m = e.manifests();
    let kinds: Vec<_> = m.iter().map(|o| o["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "Deployment",
            "Service",
            "HorizontalPodAutoscaler",
            "Ingress"
        ]
    );
    for o in &m[..2] {
        assert_eq!(o["metadata"]["finalizers"][0], SLOW_DELETE_FINALIZER);
        assert_eq!(
            o["metadata"]["annotations"][FINALIZER_DELAY_ANNOTATION],
            "6s"
        );
    }
    for o in &m[2..] {
        assert!(o["metadata"].get("finalizers").is_none());
    }
    assert_eq!(m[0]["metadata"]["labels"][ENDPOINT_LABEL], e.name.as_str());
    assert_eq!(
        m[0]["spec"]["selector"]["matchLabels"]["app"],
        e.name.as_str()
    );
}

#[test]
fn rbac_denied_operator_reads_everything_but_cannot_delete_or_strip() {
    let p = plan("rbac-denied");
    let op = p.user("operator").unwrap();
    let ns = Some("llm-prod");
    let isvc = "serving.kserve.io";
    for (group, resource) in [
        (isvc, "inferenceservices"),
        ("apps", "deployments"),
        ("apps", "replicasets"),
        ("", "pods"),
        ("", "pods/log"),
        ("", "services"),
        ("autoscaling", "horizontalpodautoscalers"),
        ("networking.k8s.io", "ingresses"),
    ] {
        for verb in [Verb::Get, Verb::List, Verb::Watch] {
            assert!(op.allows(verb, group, resource, ns), "{verb:?} {resource}");
        }
        assert!(
            op.allows(Verb::List, group, resource, None),
            "list {resource} -A"
        );
    }
    assert!(!op.allows(Verb::Delete, isvc, "inferenceservices", ns));
    assert!(!op.allows(Verb::Patch, isvc, "inferenceservices", ns));
    assert!(!op.allows(Verb::Update, isvc, "inferenceservices", ns));
    assert!(!op.allows(Verb::Patch, "apps", "deployments", ns));
    assert!(!op.allows(Verb::Update, "apps", "deployments", ns));
    assert!(op.allows(Verb::Delete, "", "pods", ns));
    assert!(op.allows(Verb::Create, "coordination.k8s.io", "leases", ns));
    assert!(!op.allows(Verb::Create, "", "leases", ns), "wrong group");
    let admin = p.user(ADMIN_USER).unwrap();
    assert!(admin.allows(Verb::Patch, isvc, "inferenceservices", None));
    assert!(p.description.contains("finalizers"));
    assert_eq!(
        p.faults.controllers.kserve_deletion,
        ControllerState::Broken
    );
}

#[test]
fn large_fleet_is_a_thousand_endpoints_and_five_thousand_pods() {
    let p = plan("large-fleet");
    assert_eq!(p.endpoints.len(), 1_000);
    assert_eq!(p.pod_count(), 5_000);
    assert!(p.namespaces.len() >= 3);
    let names: std::collections::BTreeSet<_> = p
        .endpoints
        .iter()
        .map(|e| (&e.namespace, &e.name))
        .collect();
    assert_eq!(names.len(), 1_000, "names are unique");
    assert_eq!(p.endpoints[0].name, "chat-llama-3-8b-0000");
    assert_eq!(p.endpoints[299].name, "chat-llama-3-8b-0299");
    assert_eq!(p.endpoints[300].name, "chat-mistral-7b-0000");
    assert!(p.endpoints.iter().all(|e| e.pods.len() == 5));
}

#[test]
fn log_flood_has_one_pod_at_twenty_thousand_lines_per_second() {
    let p = plan("log-flood");
    let rates: Vec<f64> = p
        .endpoints
        .iter()
        .flat_map(|e| e.pods.iter().map(|pod| pod.log_lines_per_second))
        .collect();
    assert_eq!(rates.iter().filter(|r| **r >= 20_000.0).count(), 1);
    let e = p.endpoint("llm-staging", "vllm-debug").unwrap();
    assert!(e.pods[0].log_lines_per_second >= 20_000.0);
    assert_eq!(e.pods[1].log_lines_per_second, 2.0);
}

#[test]
fn same_seed_same_plan_other_seed_other_timings() {
    let s = load_builtin("healthy").unwrap();
    let a = expand(&s, 7);
    assert_eq!(a, expand(&s, 7));
    let b = expand(&s, 8);
    assert_ne!(a, b);
    let names = |p: &Plan| {
        p.endpoints
            .iter()
            .map(|e| e.name.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(&a),
        names(&b),
        "names come from the file, not the seed"
    );
    let timings = |p: &Plan| {
        p.endpoints
            .iter()
            .flat_map(|e| e.pods.iter().map(|t| (t.start_delay, t.ready_delay)))
            .collect::<Vec<_>>()
    };
    assert_ne!(timings(&a), timings(&b));
    // ±20 % around the 4s ready delay of healthy.yaml.
    for (_, ready) in timings(&a) {
        assert!((3_200..=4_800).contains(&ready.as_millis()), "{ready:?}");
    }
    // Seeded streams for the store: same seed, same uids.
    assert_eq!(a.rng("uids").uuid_v4(), expand(&s, 7).rng("uids").uuid_v4());
    assert_ne!(a.rng("uids").uuid_v4(), b.rng("uids").uuid_v4());
}

#[test]
fn injected_errors_resolve_reason_message_and_trigger() {
    let yaml = "\
name: faults
namespaces: [ns]
faults:
  errors:
    - {verb: list, resource: pods, code: 429, probability: 0.5, retryAfterSeconds: 2}
    - {verb: delete, resource: inferenceservices, name: x, code: 500, count: 2}
    - {code: 503, message: etcd is sad}
  watchDropEverySeconds: 30
";
    let p = expand(&parse("f.yaml", yaml).unwrap(), 1);
    let e = &p.faults.errors;
    assert_eq!(e[0].reason, "TooManyRequests");
    assert_eq!(e[0].trigger, Trigger::Probability(0.5));
    assert_eq!(e[0].retry_after_seconds, Some(2));
    assert_eq!(e[1].reason, "InternalError");
    assert_eq!(e[1].trigger, Trigger::Count(2));
    assert_eq!((e[2].verb, e[2].resource.as_str()), (Verb::Any, "*"));
    assert_eq!(e[2].message, "etcd is sad");
    assert_eq!(e[2].trigger, Trigger::Always);
    assert_eq!(p.faults.watch_drop_every, Some(Duration::from_secs(30)));
}

#[test]
fn kserve_manifest_is_a_raw_mode_inference_service() {
    let p = plan("healthy");
    let e = p.endpoint("llm-prod", "llama-3-8b-instruct").unwrap();
    let m = e.manifests();
    assert_eq!(m.len(), 1, "the KServe controller creates the rest");
    let isvc = &m[0];
    assert_eq!(isvc["apiVersion"], "serving.kserve.io/v1beta1");
    assert_eq!(isvc["kind"], "InferenceService");
    let annotations = &isvc["metadata"]["annotations"];
    assert_eq!(annotations[DEPLOYMENT_MODE_ANNOTATION], "RawDeployment");
    let predictor = &isvc["spec"]["predictor"];
    assert_eq!(predictor["minReplicas"], 3);
    assert_eq!(predictor["maxReplicas"], 6);
    assert_eq!(predictor["model"]["modelFormat"]["name"], "huggingface");
    assert_eq!(
        predictor["model"]["storageUri"],
        "hf://meta-llama/Meta-Llama-3-8B-Instruct"
    );
    assert_eq!(
        predictor["model"]["resources"]["limits"]["nvidia.com/gpu"],
        "1"
    );
    assert_eq!(isvc["metadata"]["labels"]["team"], "assistant");
    assert!(isvc["metadata"].get("finalizers").is_none());
}

#[test]
fn rbac_rules_match_like_kubernetes() {
    let yaml = "\
name: r
namespaces: [a, b]
users:
  - name: u
    rules:
      - {verbs: [update], resources: [\"*/status\"]}
      - {verbs: [\"*\"], resources: [configmaps], namespaces: [a]}
";
    let p = expand(&parse("r.yaml", yaml).unwrap(), 0);
    let u = p.user("u").unwrap();
    assert!(u.allows(Verb::Update, "apps", "deployments/status", Some("a")));
    assert!(!u.allows(Verb::Update, "apps", "deployments", Some("a")));
    assert!(u.allows(Verb::Delete, "", "configmaps", Some("a")));
    assert!(!u.allows(Verb::Delete, "", "configmaps", Some("b")));
    assert!(
        !u.allows(Verb::List, "", "configmaps", None),
        "a namespaced rule does not allow listing across namespaces"
    );
    assert_eq!(p.users[0].name, ADMIN_USER, "implicit admin comes first");
    let own_admin = yaml.replace("name: u", "name: admin");
    let p = expand(&parse("r.yaml", &own_admin).unwrap(), 0);
    assert_eq!(
        p.users.len(),
        1,
        "a defined admin replaces the implicit one"
    );
    assert!(!p.users[0].allows(Verb::Delete, "", "pods", Some("a")));
}

#[test]
fn readme_example_is_a_valid_scenario() {
    let readme = include_str!("../../../../assets/scenarios/README.md");
    let start = readme.find("```yaml\n").unwrap() + "```yaml\n".len();
    let len = readme[start..].find("```").unwrap();
    let s = parse("README.md", &readme[start..start + len]).unwrap_or_else(|e| panic!("{e}"));
    let p = expand(&s, s.seed);
    assert_eq!(p.endpoints[0].pods[0].log_lines_per_second, 20_000.0);
    assert!(p.objects[0].delete_at_load);
}
