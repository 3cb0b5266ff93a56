use std::time::Duration;

use serde_json::json;

use super::*;
use crate::sim::controllers::deployment::{REVISION_ANNOTATION, TEMPLATE_HASH_LABEL};
use crate::sim::faults::ControllerState;
use crate::sim::kinds::{EVENTS, REPLICASETS};

fn events_for(sim: &Sim, name: &str) -> Vec<String> {
    sim.list(&EVENTS)
        .iter()
        .filter(|e| e["involvedObject"]["name"] == name)
        .map(|e| e["reason"].as_str().unwrap_or("").to_string())
        .collect()
}

#[tokio::test]
async fn deployment_becomes_available_with_owned_replicaset_and_pods() {
    let sim = Sim::start();
    let d = available_deployment(&sim, "web", 2).await;
    let duid = meta::uid(&d);

    let rss = sim.owned_by(&REPLICASETS, duid);
    assert_eq!(rss.len(), 1);
    let rs = &rss[0];
    let hash = meta::label(rs, TEMPLATE_HASH_LABEL).unwrap().to_string();
    assert_eq!(hash.len(), 10);
    assert!(
        hash.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    );
    assert_eq!(meta::name(rs), format!("web-{hash}"));
    assert_eq!(meta::label(rs, "app"), Some("web"));
    assert_eq!(
        rs["spec"]["selector"]["matchLabels"][TEMPLATE_HASH_LABEL],
        hash
    );
    assert_eq!(rs["spec"]["selector"]["matchLabels"]["app"], "web");
    assert_eq!(
        rs["spec"]["template"]["metadata"]["labels"][TEMPLATE_HASH_LABEL],
        hash
    );
    let owner = &rs["metadata"]["ownerReferences"][0];
    assert_eq!(owner["kind"], "Deployment");
    assert_eq!(owner["apiVersion"], "apps/v1");
    assert_eq!(owner["name"], "web");
    assert_eq!(owner["controller"], true);
    assert_eq!(owner["blockOwnerDeletion"], true);
    assert_eq!(rs["status"]["replicas"], 2);
    assert_eq!(rs["status"]["readyReplicas"], 2);
    assert_eq!(meta::annotation(rs, REVISION_ANNOTATION), Some("1"));

    let pods = sim.owned_by(&PODS, meta::uid(rs));
    assert_eq!(pods.len(), 2);
    for p in &pods {
        let name = meta::name(p);
        let suffix = name.strip_prefix(&format!("web-{hash}-")).unwrap();
        assert_eq!(suffix.len(), 5, "{name}");
        assert_eq!(p["metadata"]["generateName"], format!("web-{hash}-"));
        assert_eq!(meta::label(p, TEMPLATE_HASH_LABEL), Some(hash.as_str()));
        assert_eq!(meta::label(p, "app"), Some("web"));
        assert_eq!(p["metadata"]["ownerReferences"][0]["kind"], "ReplicaSet");
        assert!(
            p["spec"]["nodeName"]
                .as_str()
                .unwrap()
                .starts_with("sim-node-")
        );
        assert_eq!(p["status"]["phase"], "Running");
        assert!(
            p["status"]["podIP"]
                .as_str()
                .unwrap()
                .starts_with("10.244.")
        );
        assert!(p["status"]["startTime"].is_string());
        assert_eq!(p["status"]["containerStatuses"][0]["ready"], true);
        assert_eq!(p["status"]["containerStatuses"][0]["started"], true);
        assert!(p["status"]["containerStatuses"][0]["state"]["running"]["startedAt"].is_string());
        for c in ["PodScheduled", "Initialized", "ContainersReady", "Ready"] {
            assert_eq!(condition_status(p, c).as_deref(), Some("True"), "{c}");
        }
        let reasons = events_for(&sim, name);
        for r in ["Scheduled", "Pulled", "Created", "Started"] {
            assert!(reasons.iter().any(|x| x == r), "{name}: {reasons:?}");
        }
    }

    let st = &d["status"];
    assert_eq!(st["replicas"], 2);
    assert_eq!(st["updatedReplicas"], 2);
    assert_eq!(st["readyReplicas"], 2);
    assert_eq!(st["availableReplicas"], 2);
    assert_eq!(st["observedGeneration"], 1);
    assert!(st.get("unavailableReplicas").is_none());
    let available = super::super::objects::condition(&d, "Available").unwrap();
    assert_eq!(available["reason"], "MinimumReplicasAvailable");
    assert!(available["lastTransitionTime"].is_string());
    let progressing = sim.wait("progress to complete", TIMEOUT, |s| {
        let d = s.get(&DEPLOYMENTS, "web")?;
        let c = super::super::objects::condition(&d, "Progressing")?.clone();
        (c["reason"] == "NewReplicaSetAvailable").then_some(c)
    });
    let progressing = progressing.await;
    assert_eq!(progressing["status"], "True");
    assert!(events_for(&sim, "web").contains(&"ScalingReplicaSet".to_string()));
    assert!(events_for(&sim, meta::name(rs)).contains(&"SuccessfulCreate".to_string()));
}

#[tokio::test]
async fn scaling_up_and_down_deletes_newest_pods_first() {
    let sim = Sim::start();
    available_deployment(&sim, "web", 1).await;
    let first = pod_names(&sim);
    assert_eq!(first.len(), 1);
    // Creation times have one-second resolution: make the original clearly the oldest.
    tokio::time::sleep(Duration::from_millis(1100)).await;

    sim.patch(&DEPLOYMENTS, "web", |d| d["spec"]["replicas"] = json!(3));
    sim.wait("three ready pods", TIMEOUT, |s| {
        let pods = active(&s.list(&PODS));
        (pods.len() == 3 && pods.iter().all(|p| is_ready(p))).then_some(())
    })
    .await;
    let d = sim
        .wait("deployment status at 3", TIMEOUT, |s| {
            let d = s.get(&DEPLOYMENTS, "web")?;
            (d["status"]["availableReplicas"] == 3).then_some(d)
        })
        .await;
    assert_eq!(d["metadata"]["generation"], 2);
    assert_eq!(d["status"]["observedGeneration"], 2);

    sim.patch(&DEPLOYMENTS, "web", |d| d["spec"]["replicas"] = json!(1));
    sim.wait("scale down to the oldest pod", TIMEOUT, |s| {
        (pod_names(s) == first).then_some(())
    })
    .await;
    sim.wait("deployment status at 1", TIMEOUT, |s| {
        let d = s.get(&DEPLOYMENTS, "web")?;
        (d["status"]["replicas"] == 1 && d["status"]["availableReplicas"] == 1).then_some(())
    })
    .await;
    let reasons: Vec<String> = sim
        .list(&EVENTS)
        .iter()
        .filter(|e| e["reason"] == "SuccessfulDelete")
        .map(|e| e["message"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
}

#[tokio::test]
async fn template_change_creates_new_replicaset_and_scales_old_to_zero() {
    let sim = Sim::start();
    let d = available_deployment(&sim, "web", 2).await;
    let old_rs = sim.owned_by(&REPLICASETS, meta::uid(&d))[0].clone();
    sim.patch(&DEPLOYMENTS, "web", |d| {
        d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("vllm/vllm-openai:v0.7.0")
    });
    let new_rs = sim
        .wait("rollout to the new template", TIMEOUT, |s| {
            let d = s.get(&DEPLOYMENTS, "web")?;
            let rss = s.owned_by(&REPLICASETS, meta::uid(&d));
            let new = rss.iter().find(|r| meta::name(r) != meta::name(&old_rs))?;
            let old = rss.iter().find(|r| meta::name(r) == meta::name(&old_rs))?;
            let done = old["spec"]["replicas"] == 0
                && old["status"]["replicas"] == 0
                && new["status"]["readyReplicas"] == 2
                && d["status"]["updatedReplicas"] == 2
                && d["status"]["replicas"] == 2
                && s.owned_by(&PODS, meta::uid(old)).is_empty();
            done.then(|| new.clone())
        })
        .await;
    assert_eq!(meta::annotation(&new_rs, REVISION_ANNOTATION), Some("2"));
    assert_eq!(
        new_rs["spec"]["template"]["spec"]["containers"][0]["image"],
        "vllm/vllm-openai:v0.7.0"
    );
    let d = sim.get(&DEPLOYMENTS, "web").unwrap();
    assert_eq!(meta::annotation(&d, REVISION_ANNOTATION), Some("2"));
    let pods = sim.list(&PODS);
    assert!(
        pods.iter()
            .all(|p| meta::name(p).starts_with(meta::name(&new_rs)))
    );
}

#[tokio::test]
async fn deployment_controller_down_makes_no_progress_until_up() {
    let sim = Sim::with(
        fast_settings(),
        Controllers {
            deployment: ControllerState::Down,
            ..Default::default()
        },
    );
    sim.create(&DEPLOYMENTS, deployment("web", 1));
    sim.holds(
        "no replicaset while down",
        Duration::from_millis(400),
        |s| {
            s.list(&REPLICASETS).is_empty()
                && s.get(&DEPLOYMENTS, "web")
                    .is_some_and(|d| d.get("status").is_none())
        },
    )
    .await;
    sim.set_controllers(|c| c.deployment = ControllerState::Up);
    let d = sim
        .wait("available after coming back", TIMEOUT, |s| {
            let d = s.get(&DEPLOYMENTS, "web")?;
            (condition_status(&d, "Available").as_deref() == Some("True")
                && d["status"]["availableReplicas"] == 1)
                .then_some(d)
        })
        .await;
    assert_eq!(sim.owned_by(&REPLICASETS, meta::uid(&d)).len(), 1);
}
