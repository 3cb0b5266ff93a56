use std::time::Duration;

use serde_json::{Value, json};

use super::*;
use crate::sim::controllers::kserve::FINALIZER;
use crate::sim::faults::ControllerState;
use crate::sim::kinds::{EVENTS, HPAS, INFERENCESERVICES, INGRESSES, REPLICASETS, SERVICES};

fn isvc(name: &str) -> Value {
    json!({
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {
            "name": name,
            "labels": {"team": "search"},
            "annotations": {"serving.kserve.io/deploymentMode": "RawDeployment"},
        },
        "spec": {"predictor": {
            "minReplicas": 1,
            "maxReplicas": 3,
            "model": {
                "modelFormat": {"name": "huggingface"},
                "storageUri": "s3://models/llama-3-8b/",
                "resources": {"limits": {"nvidia.com/gpu": "1"}},
            },
        }},
    })
}

const CHILD_KINDS: [&ResourceType; 4] = [&DEPLOYMENTS, &SERVICES, &HPAS, &INGRESSES];

fn child_name(rt: &ResourceType, isvc: &str) -> String {
    if rt == &INGRESSES {
        isvc.to_string()
    } else {
        format!("{isvc}-predictor")
    }
}

async fn ready_isvc(sim: &Sim, name: &str) -> Arc<Value> {
    sim.create(&INFERENCESERVICES, isvc(name));
    sim.wait("the InferenceService to be Ready", TIMEOUT, |s| {
        s.get(&INFERENCESERVICES, name)
            .filter(|i| condition_status(i, "Ready").as_deref() == Some("True"))
    })
    .await
}

#[tokio::test]
async fn inference_service_gets_finalizer_children_ingress_and_ready_status() {
    let sim = Sim::start();
    // Without a kubelet the predictor never becomes available: see the in-between state.
    sim.set_controllers(|c| c.kubelet = ControllerState::Down);
    tokio::time::sleep(Duration::from_millis(300)).await;
    sim.create(&INFERENCESERVICES, isvc("llama"));
    let pending = sim
        .wait("the not-ready status", TIMEOUT, |s| {
            let i = s.get(&INFERENCESERVICES, "llama")?;
            let c = super::super::objects::condition(&i, "IngressReady")?.clone();
            (c["status"] == "False").then_some(i)
        })
        .await;
    assert_eq!(meta::finalizers(&pending), vec![FINALIZER.to_string()]);
    let ingress_cond = super::super::objects::condition(&pending, "IngressReady").unwrap();
    assert_eq!(ingress_cond["reason"], "Predictor ingress not created");
    assert_ne!(condition_status(&pending, "Ready").as_deref(), Some("True"));
    assert!(pending["status"].get("url").is_none());
    assert!(sim.get(&INGRESSES, "llama").is_none());
    assert!(sim.get(&DEPLOYMENTS, "llama-predictor").is_some());

    sim.set_controllers(|c| c.kubelet = ControllerState::Up);
    let i = sim
        .wait("Ready", TIMEOUT, |s| {
            s.get(&INFERENCESERVICES, "llama")
                .filter(|i| condition_status(i, "Ready").as_deref() == Some("True"))
        })
        .await;
    let uid = meta::uid(&i);
    for rt in CHILD_KINDS {
        let name = child_name(rt, "llama");
        let child = sim
            .get(rt, &name)
            .unwrap_or_else(|| panic!("{} {name}", rt.kind));
        let owner = &child["metadata"]["ownerReferences"][0];
        assert_eq!(
            owner,
            &json!({"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
                    "name": "llama", "uid": uid, "controller": true, "blockOwnerDeletion": true})
        );
        assert_eq!(meta::label(&child, "team"), Some("search"));
        assert_eq!(
            meta::label(&child, "serving.kserve.io/inferenceservice"),
            Some("llama")
        );
        assert_eq!(meta::label(&child, "component"), Some("predictor"));
        assert_eq!(meta::label(&child, "app"), Some("isvc.llama-predictor"));
    }
    let d = sim.get(&DEPLOYMENTS, "llama-predictor").unwrap();
    assert_eq!(
        d["spec"]["selector"],
        json!({"matchLabels": {"app": "isvc.llama-predictor"}})
    );
    assert_eq!(d["spec"]["replicas"], 1);
    let c = &d["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["name"], "kserve-container");
    assert_eq!(c["image"], "kserve/huggingfaceserver:v0.15.0");
    assert_eq!(c["ports"][0]["containerPort"], 8080);
    assert_eq!(c["resources"]["limits"]["nvidia.com/gpu"], "1");
    let svc = sim.get(&SERVICES, "llama-predictor").unwrap();
    assert_eq!(svc["spec"]["ports"][0]["port"], 80);
    assert_eq!(svc["spec"]["ports"][0]["targetPort"], 8080);
    let hpa = sim.get(&HPAS, "llama-predictor").unwrap();
    assert_eq!(hpa["apiVersion"], "autoscaling/v2");
    assert_eq!(hpa["spec"]["minReplicas"], 1);
    assert_eq!(hpa["spec"]["maxReplicas"], 3);
    assert_eq!(
        hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"],
        80
    );
    let ing = sim.get(&INGRESSES, "llama").unwrap();
    assert_eq!(ing["spec"]["ingressClassName"], "istio");
    let hosts: Vec<&str> = ing["spec"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["host"].as_str().unwrap())
        .collect();
    assert_eq!(
        hosts,
        ["llama-ns.example.com", "llama-predictor-ns.example.com"]
    );

    let st = &i["status"];
    assert_eq!(st["url"], "http://llama-ns.example.com");
    assert_eq!(
        st["address"]["url"],
        "http://llama-predictor.ns.svc.cluster.local"
    );
    assert_eq!(st["deploymentMode"], "RawDeployment");
    assert_eq!(st["observedGeneration"], 1);
    for t in ["PredictorReady", "IngressReady", "Ready"] {
        let c = super::super::objects::condition(&i, t).unwrap();
        assert_eq!(c["status"], "True", "{t}");
        assert!(c["lastTransitionTime"].is_string(), "{t}");
    }
    // Pods come through the Deployment and carry the InferenceService's labels.
    let pods = sim.list(&PODS);
    assert_eq!(pods.len(), 1);
    assert_eq!(
        meta::label(&pods[0], "serving.kserve.io/inferenceservice"),
        Some("llama")
    );
    assert!(meta::name(&pods[0]).starts_with("llama-predictor-"));
    let ready_events = sim
        .list(&EVENTS)
        .iter()
        .filter(|e| e["reason"] == "InferenceServiceReady")
        .count();
    assert_eq!(ready_events, 1);
}

#[tokio::test]
async fn spec_change_updates_the_predictor() {
    let sim = Sim::start();
    ready_isvc(&sim, "llama").await;
    sim.patch(&INFERENCESERVICES, "llama", |i| {
        i["spec"]["predictor"]["minReplicas"] = json!(2);
        i["spec"]["predictor"]["model"]["storageUri"] = json!("s3://models/llama-3.1-8b/");
    });
    sim.wait("two ready replicas of the new template", TIMEOUT, |s| {
        let d = s.get(&DEPLOYMENTS, "llama-predictor")?;
        let args = d["spec"]["template"]["spec"]["containers"][0]["args"].to_string();
        let hpa = s.get(&HPAS, "llama-predictor")?;
        let i = s.get(&INFERENCESERVICES, "llama")?;
        let ok = d["spec"]["replicas"] == 2
            && args.contains("llama-3.1-8b")
            && d["status"]["availableReplicas"] == 2
            && d["status"]["updatedReplicas"] == 2
            && hpa["spec"]["minReplicas"] == 2
            && i["status"]["observedGeneration"] == 2
            && condition_status(&i, "Ready").as_deref() == Some("True");
        ok.then_some(())
    })
    .await;
}

#[tokio::test]
async fn deleting_with_deletion_up_removes_the_service_and_gc_its_children() {
    let sim = Sim::start();
    ready_isvc(&sim, "llama").await;
    sim.delete(&INFERENCESERVICES, "llama", None);
    sim.wait("everything gone", TIMEOUT, |s| {
        let gone = s.get(&INFERENCESERVICES, "llama").is_none()
            && CHILD_KINDS
                .iter()
                .all(|rt| s.get(rt, &child_name(rt, "llama")).is_none())
            && s.list(&REPLICASETS).is_empty()
            && s.list(&PODS).is_empty();
        gone.then_some(())
    })
    .await;
}

#[tokio::test]
async fn broken_deletion_keeps_the_service_terminating_with_its_finalizer() {
    let sim = Sim::with(
        fast_settings(),
        Controllers {
            kserve_deletion: ControllerState::Broken,
            ..Default::default()
        },
    );
    ready_isvc(&sim, "llama").await;
    let DeleteOutcome::Terminating(t) = sim.delete(&INFERENCESERVICES, "llama", None) else {
        panic!("the finalizer holds it");
    };
    assert!(meta::is_terminating(&t));
    sim.holds(
        "Terminating with its finalizer",
        Duration::from_millis(1500),
        |s| {
            let i = s.get(&INFERENCESERVICES, "llama");
            i.is_some_and(|i| {
                meta::is_terminating(&i) && meta::finalizers(&i) == vec![FINALIZER.to_string()]
            }) && s.get(&DEPLOYMENTS, "llama-predictor").is_some()
        },
    )
    .await;
    // Fixed: the controller resyncs and lets it go.
    sim.set_controllers(|c| c.kserve_deletion = ControllerState::Up);
    sim.wait("deleted once deletion works", TIMEOUT, |s| {
        (s.get(&INFERENCESERVICES, "llama").is_none()
            && s.get(&DEPLOYMENTS, "llama-predictor").is_none())
        .then_some(())
    })
    .await;
}

#[tokio::test]
async fn kserve_down_does_nothing_until_up() {
    let sim = Sim::with(
        fast_settings(),
        Controllers {
            kserve: ControllerState::Down,
            ..Default::default()
        },
    );
    sim.create(&INFERENCESERVICES, isvc("llama"));
    sim.holds("untouched while down", Duration::from_millis(400), |s| {
        s.get(&INFERENCESERVICES, "llama")
            .is_some_and(|i| meta::finalizers(&i).is_empty() && i.get("status").is_none())
            && s.list(&DEPLOYMENTS).is_empty()
    })
    .await;
    sim.set_controllers(|c| c.kserve = ControllerState::Up);
    ready_isvc_existing(&sim, "llama").await;
}

async fn ready_isvc_existing(sim: &Sim, name: &str) {
    sim.wait("Ready after coming up", TIMEOUT, |s| {
        s.get(&INFERENCESERVICES, name)
            .filter(|i| condition_status(i, "Ready").as_deref() == Some("True"))
            .map(|_| ())
    })
    .await;
}

#[tokio::test]
async fn a_settled_cluster_stops_writing_even_after_a_resync() {
    let sim = Sim::start();
    ready_isvc(&sim, "llama").await;
    available_deployment(&sim, "web", 2).await;
    // Let the last status writes land.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rv = sim.store().current_rv();
    sim.holds("no writes", Duration::from_millis(700), |s| {
        s.store().current_rv() == rv
    })
    .await;
    // Any state change makes every controller resync: still nothing to write.
    sim.set_controllers(|c| c.kubelet = ControllerState::Down);
    tokio::time::sleep(Duration::from_millis(300)).await;
    sim.set_controllers(|c| c.kubelet = ControllerState::Up);
    sim.holds("no writes after resync", Duration::from_millis(800), |s| {
        s.store().current_rv() == rv
    })
    .await;
}

/// Regression (sim_fuzz): a child whose `spec` a client replaced by a non-object (`{"spec": 5}` on
/// the predictor HPA) made the controller panic while putting the desired fields back.
#[tokio::test]
async fn a_child_spec_that_is_not_an_object_is_restored() {
    let sim = Sim::start();
    ready_isvc(&sim, "junk").await;
    for (rt, junk) in [(&HPAS, json!(5)), (&INGRESSES, json!([1]))] {
        let name = child_name(rt, "junk");
        sim.patch(rt, &name, |o| {
            o.as_object_mut().unwrap().insert("spec".into(), junk);
        });
        sim.wait("the child's spec to be restored", TIMEOUT, |s| {
            s.get(rt, &name)
                .filter(|o| o["spec"].is_object() && o["spec"] != json!({}))
        })
        .await;
    }
}
