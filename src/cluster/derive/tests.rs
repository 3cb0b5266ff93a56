//! Every derivation rule on JSON fixtures (`src/cluster/testdata`, written by `gen_fixtures.py`
//! in the shapes `kubectl get -o json` and the simulator produce). `now` is fixed.

use jiff::Timestamp;

use super::*;
use crate::cluster::model::{EndpointView, Health, Kind, Mode, ResourceNode};

const NOW: &str = "2026-11-01T12:00:00Z";

fn now() -> Timestamp {
    NOW.parse().unwrap()
}

fn fixture(name: &str) -> Snapshot {
    let path = format!("{}/src/cluster/testdata/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    Snapshot::from_list_json(&v).unwrap()
}

fn derive(name: &str) -> Vec<EndpointView> {
    derive_endpoints(&fixture(name), &GroupingConfig::default(), now())
}

fn endpoint<'a>(eps: &'a [EndpointView], name: &str) -> &'a EndpointView {
    eps.iter()
        .find(|e| e.key.name == name)
        .unwrap_or_else(|| panic!("no endpoint {name} in {:?}", names(eps)))
}

fn names(eps: &[EndpointView]) -> Vec<String> {
    eps.iter()
        .map(|e| format!("{}/{}", e.key.namespace, e.key.name))
        .collect()
}

fn find<'a>(ep: &'a EndpointView, kind: Kind, name: &str) -> &'a ResourceNode {
    flatten(&ep.resources)
        .into_iter()
        .find(|n| n.kind == kind && n.name == name)
        .unwrap_or_else(|| panic!("no {kind:?} {name} in {}", ep.key.name))
}

/// The tree as indented `kind name [health]` lines, for shape assertions.
fn shape(nodes: &[ResourceNode]) -> Vec<String> {
    fn walk(n: &ResourceNode, depth: usize, out: &mut Vec<String>) {
        out.push(format!(
            "{}{} {} [{:?}]",
            "  ".repeat(depth),
            n.kind.short(),
            n.name,
            n.health
        ));
        for c in &n.children {
            walk(c, depth + 1, out);
        }
    }
    let mut out = Vec::new();
    for n in nodes {
        walk(n, 0, &mut out);
    }
    out
}

#[test]
fn healthy_fleet_groups_kserve_and_raw_endpoints() {
    let eps = derive("healthy.json");
    // grafana has no endpoint label: not an endpoint. Sorted by namespace, then name.
    assert_eq!(
        names(&eps),
        ["llm-prod/bge-reranker", "llm-prod/llama-3-8b-instruct"]
    );
    let llama = endpoint(&eps, "llama-3-8b-instruct");
    assert_eq!(llama.key.mode, Mode::Kserve);
    assert_eq!(llama.health, Health::Ready);
    assert_eq!((llama.ready, llama.desired), (2, 2));
    assert!(llama.reasons.is_empty(), "{:?}", llama.reasons);
    assert_eq!(
        shape(&llama.resources),
        [
            "isvc llama-3-8b-instruct [Ready]",
            "  deploy llama-3-8b-instruct-predictor [Ready]",
            "    rs llama-3-8b-instruct-predictor-7d4b9c6f58 [Ready]",
            "      pod llama-3-8b-instruct-predictor-7d4b9c6f58-m4q9z [Ready]",
            "      pod llama-3-8b-instruct-predictor-7d4b9c6f58-x7k2p [Ready]",
            "  svc llama-3-8b-instruct-predictor [Ready]",
            "  hpa llama-3-8b-instruct-predictor [Ready]",
            "  ing llama-3-8b-instruct [Ready]",
        ]
    );
    assert_eq!(llama.uid, llama.resources[0].uid);
    assert_eq!(llama.created, Some("2026-11-01T09:00:00Z".parse().unwrap()));

    let bge = endpoint(&eps, "bge-reranker");
    assert_eq!(bge.key.mode, Mode::Raw);
    assert_eq!(bge.health, Health::Ready);
    assert_eq!(
        shape(&bge.resources),
        [
            "deploy bge-reranker [Ready]",
            "  rs bge-reranker-5f8d6b7c9d [Ready]",
            "    pod bge-reranker-5f8d6b7c9d-b2v8n [Ready]",
            "    pod bge-reranker-5f8d6b7c9d-k9w3r [Ready]",
            "svc bge-reranker [Ready]",
            "hpa bge-reranker [Ready]",
            "ing bge-reranker [Ready]",
        ]
    );
}

#[test]
fn summaries_say_what_kubectl_would() {
    let eps = derive("healthy.json");
    let llama = endpoint(&eps, "llama-3-8b-instruct");
    let summary = |k, n| find(llama, k, n).summary.clone();
    assert_eq!(
        summary(Kind::InferenceService, "llama-3-8b-instruct"),
        "Ready http://llama-3-8b-instruct-llm-prod.example.com"
    );
    assert_eq!(
        summary(Kind::Deployment, "llama-3-8b-instruct-predictor"),
        "2/2 ready"
    );
    assert_eq!(
        summary(Kind::Pod, "llama-3-8b-instruct-predictor-7d4b9c6f58-x7k2p"),
        "Running 1/1"
    );
    assert_eq!(
        summary(Kind::Service, "llama-3-8b-instruct-predictor"),
        "ClusterIP 10.96.12.34"
    );
    assert_eq!(
        summary(
            Kind::HorizontalPodAutoscaler,
            "llama-3-8b-instruct-predictor"
        ),
        "2-4 replicas (now 2), cpu 80%"
    );
    assert_eq!(
        summary(Kind::Ingress, "llama-3-8b-instruct"),
        "llama-3-8b-instruct-llm-prod.example.com, llama-3-8b-instruct-predictor-llm-prod.example.com"
    );
}

#[test]
fn owner_chain_is_nearest_first() {
    let eps = derive("healthy.json");
    let llama = endpoint(&eps, "llama-3-8b-instruct");
    let pod = find(
        llama,
        Kind::Pod,
        "llama-3-8b-instruct-predictor-7d4b9c6f58-x7k2p",
    );
    assert_eq!(
        pod.owners,
        [
            "ReplicaSet/llama-3-8b-instruct-predictor-7d4b9c6f58",
            "Deployment/llama-3-8b-instruct-predictor",
            "InferenceService/llama-3-8b-instruct",
        ]
    );
    assert!(llama.resources[0].owners.is_empty());
}

#[test]
fn crash_loop_and_image_pull_fail_the_endpoint() {
    let eps = derive("crashloop.json");
    let mistral = endpoint(&eps, "mistral-7b-instruct");
    let crashing = find(
        mistral,
        Kind::Pod,
        "mistral-7b-instruct-predictor-7d4b9c6f58-c8d2f",
    );
    assert_eq!(crashing.health, Health::Failed);
    assert_eq!(crashing.summary, "CrashLoopBackOff 0/1, 7 restarts");
    assert_eq!(mistral.health, Health::Failed);
    assert_eq!((mistral.ready, mistral.desired), (1, 2));
    assert!(
        mistral.reasons.contains(
            &"pod mistral-7b-instruct-predictor-7d4b9c6f58-c8d2f: CrashLoopBackOff 0/1, 7 restarts"
                .to_string()
        ),
        "{:?}",
        mistral.reasons
    );
    // The isvc is not Ready while a pod is missing: Progressing, not the endpoint's verdict.
    assert_eq!(mistral.resources[0].health, Health::Progressing);

    let whisper = endpoint(&eps, "whisper-large");
    let pulling = find(whisper, Kind::Pod, "whisper-large-5f8d6b7c9d-p5s7t");
    assert_eq!(
        (pulling.health, pulling.summary.as_str()),
        (Health::Failed, "ImagePullBackOff 0/1")
    );
    assert_eq!(whisper.health, Health::Failed);
    assert_eq!((whisper.ready, whisper.desired), (0, 1));
}

#[test]
fn terminating_isvc_shows_how_long_and_its_finalizer() {
    let eps = derive("isvc-terminating.json");
    let ep = endpoint(&eps, "llama-3-70b-instruct");
    assert_eq!(ep.health, Health::Terminating);
    let isvc = &ep.resources[0];
    assert_eq!(isvc.kind, Kind::InferenceService);
    assert_eq!(isvc.health, Health::Terminating);
    let t = isvc.terminating.as_ref().unwrap();
    assert_eq!(t.finalizers, ["inferenceservice.finalizers"]);
    assert_eq!(
        t.since,
        "2026-11-01T11:47:57Z".parse::<Timestamp>().unwrap()
    );
    assert_eq!(t.grace_period_seconds, Some(0));
    assert_eq!(ep.oldest_terminating.as_ref(), Some(t));
    assert_eq!(
        ep.reasons[0],
        "isvc llama-3-70b-instruct: Terminating for 12m3s (inferenceservice.finalizers)"
    );
    // Children are still there and still shown under it.
    assert_eq!(flatten(&ep.resources).len(), 8);
}

#[test]
fn leftover_pod_past_grace_with_a_finalizer() {
    let eps = derive("stuck-pod.json");
    assert_eq!(names(&eps), ["llm-prod/whisper-large"]);
    let ep = endpoint(&eps, "whisper-large");
    // No owner: a root of its own, found through the Deployment's selector.
    let shape = shape(&ep.resources);
    assert_eq!(
        shape,
        [
            "deploy whisper-large [Ready]",
            "  rs whisper-large-5f8d6b7c9d [Ready]",
            "    pod whisper-large-5f8d6b7c9d-q8f4d [Ready]",
            "pod whisper-large-6c9d7f5b8-q2x7k [Terminating]",
            "svc whisper-large [Ready]",
            "hpa whisper-large [Ready]",
            "ing whisper-large [Ready]",
        ]
    );
    let stuck = find(ep, Kind::Pod, "whisper-large-6c9d7f5b8-q2x7k");
    assert!(stuck.owners.is_empty());
    let t = stuck.terminating.as_ref().unwrap();
    // deletionTimestamp is the end of the 30 s grace; deletion was asked 30 s before.
    assert_eq!(
        t.deletion_timestamp,
        "2026-11-01T11:13:30Z".parse::<Timestamp>().unwrap()
    );
    assert_eq!(
        t.since,
        "2026-11-01T11:13:00Z".parse::<Timestamp>().unwrap()
    );
    assert_eq!(t.grace_period_seconds, Some(30));
    assert_eq!(t.finalizers, ["example.com/stuck-volume-cleanup"]);
    assert_eq!(ep.health, Health::Terminating);
    assert_eq!(
        ep.reasons,
        [
            "pod whisper-large-6c9d7f5b8-q2x7k: Terminating for 47m (example.com/stuck-volume-cleanup)"
        ]
    );
    assert_eq!((ep.ready, ep.desired), (1, 1));
}

#[test]
fn a_pod_in_its_grace_period_is_a_rollout_not_an_alarm() {
    let eps = derive("rollout.json");
    let ep = endpoint(&eps, "bge-m3-embed");
    let old = find(ep, Kind::Pod, "bge-m3-embed-5f8d6b7c9d-h3j5l");
    assert_eq!(old.health, Health::Terminating);
    assert_eq!(ep.health, Health::Progressing);
    assert!(
        ep.reasons.contains(
            &"pod bge-m3-embed-5f8d6b7c9d-h3j5l: Terminating for 10s (grace period, 20s left)"
                .to_string()
        ),
        "{:?}",
        ep.reasons
    );
    let new = find(ep, Kind::Pod, "bge-m3-embed-66c7b8d9f4-z7x1c");
    assert_eq!(
        (new.health, new.summary.as_str()),
        (Health::Progressing, "ContainerCreating 0/1")
    );
    // Both ReplicaSets under the Deployment; the old one scaled to zero is Ready.
    let rs_names: Vec<_> = ep.resources[0]
        .children
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        rs_names,
        ["bge-m3-embed-5f8d6b7c9d", "bge-m3-embed-66c7b8d9f4"]
    );
    // Once the grace period is over, the same pod is stuck and the endpoint says so.
    let later = "2026-11-01T12:01:00Z".parse().unwrap();
    let eps = derive_endpoints(&fixture("rollout.json"), &GroupingConfig::default(), later);
    let ep = endpoint(&eps, "bge-m3-embed");
    assert_eq!(ep.health, Health::Terminating);
    assert!(
        ep.reasons
            .iter()
            .any(|r| r.ends_with("Terminating for 1m10s (past its grace period by 40s)")),
        "{:?}",
        ep.reasons
    );
}

#[test]
fn held_lease_means_redeploying_expired_lease_does_not() {
    let eps = derive("leases.json");
    let bge = endpoint(&eps, "bge-reranker");
    assert_eq!(bge.health, Health::Redeploying);
    let l = bge.lease.as_ref().unwrap();
    assert!(l.live);
    assert_eq!(l.holder, "alice@ops-1/4242");
    assert_eq!(l.step.as_deref(), Some("verify-deletion"));
    assert_eq!(l.operation_id.as_deref(), Some("op-20261101-115800-bge"));
    assert_eq!(
        bge.reasons[0],
        "redeploy by alice@ops-1/4242 at step verify-deletion"
    );

    let llama = endpoint(&eps, "llama-3-8b-instruct");
    assert_eq!(llama.health, Health::Ready);
    let l = llama.lease.as_ref().unwrap();
    assert!(!l.live, "renewed 20m ago with a 30s duration");
    assert_eq!(l.holder, "bob@ops-2/777");

    // A live lease with no objects (between delete and create) keeps a row.
    let phi = endpoint(&eps, "phi-3-mini");
    assert_eq!(phi.health, Health::Redeploying);
    assert!(phi.resources.is_empty());
    // Not the console's lease: nothing.
    assert_eq!(eps.len(), 3, "{:?}", names(&eps));

    // Leases expire 30 s after their renewal (bge-reranker 12:00:20.1, phi-3-mini 12:00:28).
    let later = "2026-11-01T12:00:29Z".parse().unwrap();
    let eps = derive_endpoints(&fixture("leases.json"), &GroupingConfig::default(), later);
    assert_eq!(endpoint(&eps, "bge-reranker").health, Health::Ready);
    assert_eq!(eps.len(), 2, "the expired lease of phi-3-mini keeps no row");
}

#[test]
fn kserve_leftovers_without_their_isvc_form_an_endpoint() {
    let eps = derive("orphans.json");
    assert_eq!(names(&eps), ["llm-staging/qwen2-7b-instruct"]);
    let ep = &eps[0];
    assert_eq!(ep.key.mode, Mode::Kserve);
    assert_eq!(ep.uid, "");
    assert_eq!(ep.health, Health::Degraded);
    assert_eq!(
        ep.reasons[0],
        "InferenceService qwen2-7b-instruct is gone; 7 objects left behind"
    );
    assert_eq!(
        shape(&ep.resources)[..3],
        [
            "deploy qwen2-7b-instruct-predictor [Ready]",
            "  rs qwen2-7b-instruct-predictor-7d4b9c6f58 [Ready]",
            "    pod qwen2-7b-instruct-predictor-7d4b9c6f58-m4q9z [Ready]",
        ]
    );
    assert_eq!((ep.ready, ep.desired), (2, 2));
}

#[test]
fn the_raw_selector_is_configurable() {
    let snap = fixture("healthy.json");
    let cfg = GroupingConfig {
        raw_endpoint_label: "app=grafana".into(),
    };
    let eps = derive_endpoints(&snap, &cfg, now());
    assert_eq!(
        names(&eps),
        ["llm-prod/grafana", "llm-prod/llama-3-8b-instruct"]
    );
    let cfg: GroupingConfig = toml::from_str("raw_endpoint_label = \"team\"").unwrap();
    assert_eq!(cfg.raw_endpoint_label, "team");
    let defaults: GroupingConfig = toml::from_str("").unwrap();
    assert_eq!(defaults, GroupingConfig::default());
    assert!(toml::from_str::<GroupingConfig>("raw_label = 1").is_err());
}

#[test]
fn derivation_does_not_depend_on_store_order() {
    let snap = fixture("stuck-pod.json");
    let mut reversed = snap.clone();
    fn rev<T: Clone>(v: &std::sync::Arc<Vec<T>>) -> std::sync::Arc<Vec<T>> {
        let mut x: Vec<T> = v.as_ref().clone();
        x.reverse();
        std::sync::Arc::new(x)
    }
    reversed.pods = rev(&snap.pods);
    reversed.deployments = rev(&snap.deployments);
    reversed.services = rev(&snap.services);
    let cfg = GroupingConfig::default();
    assert_eq!(
        derive_endpoints(&snap, &cfg, now()),
        derive_endpoints(&reversed, &cfg, now())
    );
}
