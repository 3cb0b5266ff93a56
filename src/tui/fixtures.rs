//! Fixture fleets for tests, snapshots and the render benchmark: the stuck-finalizer scenario (a
//! Terminating InferenceService held by `inferenceservice.finalizers`, a pod stuck Terminating
//! with `example.com/stuck-volume-cleanup`), healthy endpoints, a Degraded one in
//! CrashLoopBackOff and one being redeployed under a lease. Times are relative to a fixed `now`.

use jiff::{SignedDuration, Timestamp};

use crate::cluster::model::{
    EndpointKey, EndpointView, Health, Kind, LeaseInfo, Mode, ResourceNode, Terminating,
};
use crate::config::keymap::KeyMap;
use crate::config::settings::Settings;
use crate::config::theme::Theme;

use super::app::AppOptions;
use super::msg::{EventRow, LogLine};

/// 2026-11-03T14:00:00Z.
pub fn now() -> Timestamp {
    Timestamp::from_second(1_793_714_400).unwrap_or(Timestamp::UNIX_EPOCH)
}

pub fn ago(secs: i64) -> Timestamp {
    now() - SignedDuration::from_secs(secs)
}

pub fn options(theme: &str, readonly: bool, kiosk: bool) -> AppOptions {
    AppOptions {
        context: "kind-llmops-demo".into(),
        server: "https://127.0.0.1:6443".into(),
        namespace: None,
        readonly,
        kiosk,
        theme: Theme::builtin(theme).unwrap_or_else(|| Theme {
            name: "none".into(),
            colors: crate::config::theme::Colors {
                fg: crate::config::theme::Color::Reset,
                bg: crate::config::theme::Color::Reset,
                accent: crate::config::theme::Color::Reset,
                muted: crate::config::theme::Color::Reset,
                ok: crate::config::theme::Color::Reset,
                warn: crate::config::theme::Color::Reset,
                error: crate::config::theme::Color::Reset,
                terminating: crate::config::theme::Color::Reset,
                selection_fg: crate::config::theme::Color::Reset,
                selection_bg: crate::config::theme::Color::Reset,
                border: crate::config::theme::Color::Reset,
                title: crate::config::theme::Color::Reset,
                header: crate::config::theme::Color::Reset,
            },
        }),
        keymap: KeyMap::default(),
        settings: Settings::default(),
        tz: jiff::tz::TimeZone::UTC,
    }
}

fn uid(name: &str) -> String {
    format!("uid-{name}")
}

/// A node with no children, finalizers or termination.
pub fn node(
    kind: Kind,
    ns: &str,
    name: &str,
    health: Health,
    summary: &str,
    age: i64,
) -> ResourceNode {
    ResourceNode {
        kind,
        namespace: ns.into(),
        name: name.into(),
        uid: uid(name),
        health,
        summary: summary.into(),
        created: Some(ago(age)),
        terminating: None,
        finalizers: vec![],
        owners: vec![],
        children: vec![],
    }
}

fn terminating(since_secs: i64, finalizers: &[&str], grace: Option<i64>) -> Terminating {
    Terminating {
        deletion_timestamp: ago(since_secs - grace.unwrap_or(0)),
        since: ago(since_secs),
        finalizers: finalizers.iter().map(|f| f.to_string()).collect(),
        grace_period_seconds: grace,
    }
}

fn with_children(mut n: ResourceNode, children: Vec<ResourceNode>) -> ResourceNode {
    n.children = children;
    n
}

fn owned(mut n: ResourceNode, owners: &[&str]) -> ResourceNode {
    n.owners = owners.iter().map(|o| o.to_string()).collect();
    n
}

fn endpoint(
    ns: &str,
    name: &str,
    mode: Mode,
    health: Health,
    ready: u32,
    desired: u32,
    age: i64,
) -> EndpointView {
    EndpointView {
        key: EndpointKey {
            namespace: ns.into(),
            name: name.into(),
            mode,
        },
        uid: uid(name),
        health,
        objects_health: health,
        ready,
        desired,
        created: Some(ago(age)),
        lease: None,
        resources: vec![],
        oldest_terminating: None,
        reasons: vec![],
    }
}

/// The standard KServe raw-mode tree: isvc -> deploy -> rs -> pods, plus svc, hpa, ing.
fn kserve_tree(
    ns: &str,
    name: &str,
    isvc_health: Health,
    pods: Vec<ResourceNode>,
    age: i64,
) -> Vec<ResourceNode> {
    let pred = format!("{name}-predictor");
    let rs = format!("{pred}-7c9d8");
    let pods: Vec<ResourceNode> = pods
        .into_iter()
        .map(|p| {
            owned(
                p,
                &[&format!("ReplicaSet/{rs}"), &format!("Deployment/{pred}")],
            )
        })
        .collect();
    let ready = pods.iter().filter(|p| p.health == Health::Ready).count();
    let dep_health = if ready == pods.len() {
        Health::Ready
    } else {
        Health::Degraded
    };
    let rs_node = with_children(
        owned(
            node(
                Kind::ReplicaSet,
                ns,
                &rs,
                dep_health,
                &format!("{ready}/{} ready", pods.len()),
                age,
            ),
            &[&format!("Deployment/{pred}")],
        ),
        pods,
    );
    let deploy = with_children(
        owned(
            node(
                Kind::Deployment,
                ns,
                &pred,
                dep_health,
                &format!("{ready}/{} ready", rs_node.children.len()),
                age,
            ),
            &[&format!("InferenceService/{name}")],
        ),
        vec![rs_node],
    );
    let mut isvc = node(
        Kind::InferenceService,
        ns,
        name,
        isvc_health,
        "RawDeployment",
        age,
    );
    isvc.finalizers = vec!["inferenceservice.finalizers".into()];
    isvc.children = vec![
        deploy,
        node(
            Kind::Service,
            ns,
            &pred,
            Health::Ready,
            "ClusterIP 10.96.0.12",
            age,
        ),
        node(
            Kind::HorizontalPodAutoscaler,
            ns,
            &pred,
            Health::Ready,
            "1-4 replicas, cpu 80%",
            age,
        ),
        node(
            Kind::Ingress,
            ns,
            name,
            Health::Ready,
            &format!("{name}.example.com"),
            age,
        ),
    ];
    vec![isvc]
}

fn pod(ns: &str, name: &str, health: Health, summary: &str, age: i64) -> ResourceNode {
    node(Kind::Pod, ns, name, health, summary, age)
}

/// The stuck-finalizer fleet (six endpoints).
pub fn fleet() -> Vec<EndpointView> {
    let day = 86_400;
    // 1. The stuck one: isvc Terminating 12m3s on its finalizer, one pod stuck 47m12s.
    let mut stuck_pod = pod(
        "serving",
        "llama-prod-predictor-7c9d8-abcde",
        Health::Terminating,
        "Terminating",
        2 * day,
    );
    stuck_pod.terminating = Some(terminating(
        47 * 60 + 12,
        &["example.com/stuck-volume-cleanup"],
        Some(30),
    ));
    stuck_pod.finalizers = vec!["example.com/stuck-volume-cleanup".into()];
    let mut llama = endpoint(
        "serving",
        "llama-prod",
        Mode::Kserve,
        Health::Terminating,
        1,
        2,
        3 * day,
    );
    llama.resources = kserve_tree(
        "serving",
        "llama-prod",
        Health::Terminating,
        vec![
            stuck_pod,
            pod(
                "serving",
                "llama-prod-predictor-7c9d8-fghij",
                Health::Ready,
                "Running",
                2 * day,
            ),
        ],
        3 * day,
    );
    llama.resources[0].terminating = Some(terminating(
        12 * 60 + 3,
        &["inferenceservice.finalizers"],
        None,
    ));
    llama.oldest_terminating = Some(terminating(
        47 * 60 + 12,
        &["example.com/stuck-volume-cleanup"],
        Some(30),
    ));
    llama.reasons = vec![
        "isvc llama-prod: Terminating, finalizer inferenceservice.finalizers".into(),
        "pod llama-prod-predictor-7c9d8-abcde: Terminating, finalizer example.com/stuck-volume-cleanup".into(),
    ];

    // 2. Healthy KServe.
    let mut mistral = endpoint(
        "serving",
        "mistral-chat",
        Mode::Kserve,
        Health::Ready,
        2,
        2,
        5 * day,
    );
    mistral.resources = kserve_tree(
        "serving",
        "mistral-chat",
        Health::Ready,
        vec![
            pod(
                "serving",
                "mistral-chat-predictor-7c9d8-k2m4q",
                Health::Ready,
                "Running",
                5 * day,
            ),
            pod(
                "serving",
                "mistral-chat-predictor-7c9d8-p9z8x",
                Health::Ready,
                "Running",
                5 * day,
            ),
        ],
        5 * day,
    );

    // 3. Degraded raw Deployment with a crash-looping pod.
    let mut qwen = endpoint(
        "research",
        "qwen-coder",
        Mode::Raw,
        Health::Degraded,
        1,
        2,
        2 * day,
    );
    let crash = pod(
        "research",
        "qwen-coder-5f6b9-x2k9p",
        Health::Failed,
        "CrashLoopBackOff (14 restarts)",
        3600,
    );
    let running = pod(
        "research",
        "qwen-coder-5f6b9-r7t2w",
        Health::Ready,
        "Running",
        2 * day,
    );
    qwen.resources = vec![
        with_children(
            node(
                Kind::Deployment,
                "research",
                "qwen-coder",
                Health::Degraded,
                "1/2 ready",
                2 * day,
            ),
            vec![with_children(
                node(
                    Kind::ReplicaSet,
                    "research",
                    "qwen-coder-5f6b9",
                    Health::Degraded,
                    "1/2 ready",
                    2 * day,
                ),
                vec![crash, running],
            )],
        ),
        node(
            Kind::Service,
            "research",
            "qwen-coder",
            Health::Ready,
            "ClusterIP 10.96.4.20",
            2 * day,
        ),
    ];
    qwen.reasons = vec!["pod qwen-coder-5f6b9-x2k9p: CrashLoopBackOff".into()];

    // 4. Being redeployed: a live lease.
    let mut gemma = endpoint(
        "research",
        "gemma-embed",
        Mode::Kserve,
        Health::Redeploying,
        0,
        1,
        9 * day,
    );
    gemma.lease = Some(LeaseInfo {
        holder: "alice@ops-1/4242".into(),
        step: Some("verify-deletion".into()),
        operation_id: Some("op-7f3a".into()),
        acquired: Some(ago(95)),
        renewed: Some(ago(5)),
        live: true,
        // Live through the ticks the snapshot tests send (up to 96 s).
        expires: Some(ago(-600)),
        note: None,
    });
    gemma.objects_health = Health::Progressing;
    gemma.resources = kserve_tree(
        "research",
        "gemma-embed",
        Health::Progressing,
        vec![pod(
            "research",
            "gemma-embed-predictor-7c9d8-n4v6b",
            Health::Progressing,
            "ContainerCreating",
            40,
        )],
        9 * day,
    );
    gemma.reasons = vec!["lease held by alice@ops-1/4242 (verify-deletion)".into()];

    // 5. Healthy raw.
    let mut phi = endpoint(
        "default",
        "phi-mini",
        Mode::Raw,
        Health::Ready,
        1,
        1,
        20 * day,
    );
    phi.resources = vec![with_children(
        node(
            Kind::Deployment,
            "default",
            "phi-mini",
            Health::Ready,
            "1/1 ready",
            20 * day,
        ),
        vec![with_children(
            node(
                Kind::ReplicaSet,
                "default",
                "phi-mini-6d5c4",
                Health::Ready,
                "1/1 ready",
                20 * day,
            ),
            vec![pod(
                "default",
                "phi-mini-6d5c4-q8w2e",
                Health::Ready,
                "Running",
                20 * day,
            )],
        )],
    )];

    // 6. Scaling up.
    let mut falcon = endpoint(
        "legacy",
        "falcon-old",
        Mode::Raw,
        Health::Progressing,
        1,
        3,
        400 * day,
    );
    falcon.resources = vec![node(
        Kind::Deployment,
        "legacy",
        "falcon-old",
        Health::Progressing,
        "1/3 ready",
        400 * day,
    )];

    vec![mistral, phi, llama, qwen, gemma, falcon]
}

/// `n` endpoints with full trees, for the benchmark.
pub fn large_fleet(n: usize) -> Vec<EndpointView> {
    let base = fleet();
    (0..n)
        .map(|i| {
            let mut e = base[i % base.len()].clone();
            e.key.name = format!("{}-{i:04}", e.key.name);
            e.key.namespace = format!("team-{:02}", i % 17);
            e.uid = format!("uid-{i}");
            e
        })
        .collect()
}

pub fn events() -> Vec<EventRow> {
    vec![
        EventRow {
            type_: "Warning".into(),
            reason: "FailedKillPod".into(),
            message: "error killing pod: volume cleanup did not finish".into(),
            count: 23,
            last_seen: Some(ago(30)),
            source: "kubelet, node-2".into(),
            object: "Pod/llama-prod-predictor-7c9d8-abcde".into(),
        },
        EventRow {
            type_: "Normal".into(),
            reason: "Killing".into(),
            message: "Stopping container kserve-container".into(),
            count: 1,
            last_seen: Some(ago(47 * 60)),
            source: "kubelet, node-2".into(),
            object: "Pod/llama-prod-predictor-7c9d8-abcde".into(),
        },
    ]
}

pub fn log_lines(pod_n: usize, n: usize, start_sec: i64) -> Vec<LogLine> {
    (0..n)
        .map(|i| LogLine {
            ts: Some(ago(start_sec - i as i64)),
            text: format!("pod{pod_n} INFO request {i} served in 42ms tokens=128"),
        })
        .collect()
}

pub fn manifest() -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {
            "name": "llama-prod",
            "namespace": "serving",
            "finalizers": ["inferenceservice.finalizers"],
            "deletionTimestamp": "2026-11-03T13:47:57Z",
            "managedFields": [{"manager": "kubectl-client-side-apply"}]
        },
        "spec": {"predictor": {"model": {"modelFormat": {"name": "huggingface"},
            "env": [{"name": "HF_TOKEN", "value": "hf_secret_value"}]}}},
        "status": {"conditions": [
            {"type": "Ready", "status": "False", "reason": "Terminating",
             "message": "waiting for finalizer", "lastTransitionTime": "2026-11-03T13:47:57Z"}
        ]}
    })
}
