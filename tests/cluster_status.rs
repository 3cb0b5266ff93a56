//! `llmops-console status` against the simulator: the library call and the real binary, table
//! and JSON, one list pass and no watch, and errors that name the context and server.

mod cluster_support;

use std::process::Command;

use cluster_support::*;
use llmops_console::cluster::client::{ClusterTarget, Scope};
use llmops_console::cluster::{GroupingConfig, status_cmd};

const BIN: &str = env!("CARGO_BIN_EXE_llmops-console");

async fn run_bin(args: Vec<String>) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        Command::new(BIN)
            .args(&args)
            .env_remove("KUBECONFIG")
            .env_remove("LLMOPS_LOG")
            // No user config.toml can change the grouping under test.
            .env("LLMOPS_CONSOLE_CONFIG_DIR", "/nonexistent-llmops-test")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_shows_the_stuck_isvc_with_age_and_finalizer() {
    let sim = start("stuck-finalizer").await;
    reader(&sim, "scripts").await;
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("config");
    sim.write_kubeconfig(&kubeconfig, "scripts").unwrap();
    let target = ClusterTarget {
        kubeconfig: Some(kubeconfig.clone()),
        context: None,
        namespace: Some(Scope::All),
    };
    let (_, mark) = audit_since(&sim, 0).await;
    let table = status_cmd::run(&target, &GroupingConfig::default(), false)
        .await
        .unwrap();
    println!("{table}");
    let header = table.lines().next().unwrap();
    assert!(
        header.starts_with("NAMESPACE ") && header.contains(" NAME "),
        "{table}"
    );
    for col in ["MODE", "STATUS", "READY", "AGE", "TERMINATING", "LEASE"] {
        assert!(header.contains(col), "{header}");
    }
    let row = table
        .lines()
        .find(|l| l.contains("llama-3-70b-instruct"))
        .unwrap_or_else(|| panic!("no stuck isvc in:\n{table}"));
    assert!(
        row.contains("kserve") && row.contains("Terminating"),
        "{row}"
    );
    assert!(
        row.contains(" 12m") && row.contains("(inferenceservice.finalizers)"),
        "{row}"
    );
    let whisper = table.lines().find(|l| l.contains("whisper-large")).unwrap();
    assert!(
        whisper.contains(" 47m") && whisper.contains("(example.com/stuck-volume-cleanup)"),
        "{whisper}"
    );
    // One list per kind, nothing else: no watch, and only the get of the kube-system namespace
    // whose UID names the cluster (journals belong to a cluster).
    let (entries, _) = audit_since(&sim, mark).await;
    let identity = |e: &&serde_json::Value| {
        e["verb"] == "get" && e["path"] == "/api/v1/namespaces/kube-system"
    };
    assert!(
        entries
            .iter()
            .filter(|e| e["user"] == "scripts")
            .filter(identity)
            .count()
            <= 1,
        "{entries:#?}"
    );
    let mut verbs: Vec<String> = entries
        .iter()
        .filter(|e| e["user"] == "scripts")
        .filter(|e| !identity(e))
        .map(|e| e["verb"].as_str().unwrap_or("").to_string())
        .collect();
    verbs.dedup();
    assert_eq!(verbs, ["list"], "{entries:#?}");
    let lists = entries
        .iter()
        .filter(|e| e["user"] == "scripts" && e["verb"] == "list")
        .count();
    // One per kind, and one of the backup ConfigMaps (unfinished operations).
    assert_eq!(lists, 9, "one list per kind and the backups");

    // The binary, JSON.
    let out = run_bin(vec![
        "status".into(),
        "-A".into(),
        "-o".into(),
        "json".into(),
        "--kubeconfig".into(),
        kubeconfig.display().to_string(),
    ])
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let eps = v.as_array().unwrap();
    let stuck = eps
        .iter()
        .find(|e| e["key"]["name"] == "llama-3-70b-instruct")
        .unwrap();
    assert_eq!(stuck["health"], "Terminating");
    assert_eq!(
        stuck["oldest_terminating"]["finalizers"][0],
        "inferenceservice.finalizers"
    );
    // -n narrows it like kubectl.
    let out = run_bin(vec![
        "status".into(),
        "-n".into(),
        "llm-staging".into(),
        "--kubeconfig".into(),
        kubeconfig.display().to_string(),
    ])
    .await;
    assert_eq!(out.status.code(), Some(0));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.lines().skip(1).all(|l| l.starts_with("llm-staging ")),
        "{table}"
    );
    assert!(table.contains("mistral-7b-instruct"), "{table}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_kinds_are_warnings_and_errors_name_context_and_server() {
    let sim = start("rbac-denied").await;
    set_rules(
        &sim,
        "no-leases",
        serde_json::json!([{
            "verbs": ["list"], "resources": ["*"],
            "apiGroups": ["", "apps", "autoscaling", "networking.k8s.io", "serving.kserve.io"],
        }]),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("config");
    sim.write_kubeconfig(&kubeconfig, "no-leases").unwrap();
    let out = run_bin(vec![
        "status".into(),
        "-A".into(),
        "--kubeconfig".into(),
        kubeconfig.display().to_string(),
    ])
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("warning: cannot list leases in all namespaces: 403"),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("llama-3-70b-instruct"));
    sim.shutdown().await;

    // Nobody listening: exit 1, naming the context and the server.
    let dead = llmops_console::sim::server::kubeconfig_yaml("http://127.0.0.1:9", "admin");
    std::fs::write(&kubeconfig, dead).unwrap();
    let out = run_bin(vec![
        "status".into(),
        "--kubeconfig".into(),
        kubeconfig.display().to_string(),
    ])
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("context \"llmops-sim\"") && stderr.contains("http://127.0.0.1:9"),
        "{stderr}"
    );
    // A context that is not there is bad input: exit 2 (README), naming it and the file.
    let out = run_bin(vec![
        "status".into(),
        "--context".into(),
        "prod".into(),
        "--kubeconfig".into(),
        kubeconfig.display().to_string(),
    ])
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("context \"prod\" not found in kubeconfig")
            && stderr.contains(&kubeconfig.display().to_string()),
        "{stderr}"
    );
}
