//! Round trips against the in-process simulator: real objects, as its controllers made them,
//! sanitised, deleted, and POSTed again. Also the simulator helper the backup tests share.

use std::collections::HashSet;
use std::time::Duration;

use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::{ApiResource, DynamicObject, GroupVersionKind};
use kube::{Client, Config};
use serde_json::Value;

use super::sanitize;
use crate::sim::scenario;
use crate::sim::server::SimServer;

pub(crate) const NS: &str = "test";

/// One raw endpoint (Deployment, Service with an allocated clusterIP, HPA, Ingress) and one
/// KServe endpoint (an InferenceService the controller gives a finalizer and a status), fast pods.
const SCENARIO: &str = "\
name: manifest-tests
description: sanitize round trips
seed: 7
settings:
  podStartDelay: 20ms
  podReadyDelay: 20ms
  jitter: 0
  terminationGracePeriodSeconds: 30
namespaces: [test]
endpoints:
  - name: web
    namespace: test
    kind: raw
    replicas: 1
    image: ghcr.io/llmops/web:1.0
    storageUri: org/model
    labels: {team: search}
    annotations: {note: kept}
  - name: llm
    namespace: test
    kind: kserve
    replicas: 1
    storageUri: hf://org/llm
    labels: {team: assistant}
";

/// A simulator started from `scenario_yaml` (or the default above) and an admin client built
/// from its kubeconfig, as any program builds one.
pub(crate) async fn start_sim(scenario_yaml: Option<&str>) -> (SimServer, Client) {
    let parsed =
        scenario::parse("test.yaml", scenario_yaml.unwrap_or(SCENARIO)).expect("test scenario");
    let plan = scenario::expand(&parsed, parsed.seed);
    let sim = SimServer::start_plan(&plan, "127.0.0.1:0")
        .await
        .expect("simulator starts");
    let kubeconfig = Kubeconfig::from_yaml(&sim.kubeconfig_yaml("admin")).expect("kubeconfig");
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("config");
    let client = Client::try_from(config).expect("client");
    (sim, client)
}

/// Polls `check` every 20 ms until it gives `Some`; fails the test after 20 s.
pub(crate) async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not done after 20 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn api(
    client: &Client,
    group: &str,
    version: &str,
    kind: &str,
    plural: &str,
) -> Api<DynamicObject> {
    let ar =
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural);
    Api::namespaced_with(client.clone(), NS, &ar)
}

fn to_value(o: &DynamicObject) -> Value {
    serde_json::to_value(o).expect("object serialises")
}

/// Deletes `name` (grace 0), waits until the object with that uid is gone, POSTs `manifest`
/// and returns what the server stored.
async fn recreate(a: &Api<DynamicObject>, name: &str, old_uid: &str, manifest: &Value) -> Value {
    a.delete(name, &DeleteParams::default().grace_period(0))
        .await
        .expect("delete");
    eventually(&format!("{name} gone"), || async {
        match a.get_opt(name).await.expect("get") {
            Some(o) if o.metadata.uid.as_deref() == Some(old_uid) => None,
            _ => Some(()),
        }
    })
    .await;
    let obj: DynamicObject = serde_json::from_value(manifest.clone()).expect("manifest parses");
    let created = a
        .create(&PostParams::default(), &obj)
        .await
        .unwrap_or_else(|e| panic!("POST of the sanitised {name} failed: {e}"));
    to_value(&created)
}

/// What a user wrote survives: labels, annotations (minus controller ones) and the spec fields
/// in `spec_fields`.
fn assert_user_fields_kept(old: &Value, sanitized: &Value, new: &Value, spec_fields: &[&str]) {
    assert_eq!(new["metadata"]["labels"], old["metadata"]["labels"]);
    assert_eq!(
        new["metadata"]["annotations"],
        sanitized["metadata"]["annotations"]
    );
    for f in spec_fields {
        assert_eq!(new.pointer(f), old.pointer(f), "{f}");
    }
    assert_ne!(new["metadata"]["uid"], old["metadata"]["uid"]);
}

#[tokio::test]
async fn sanitized_objects_of_the_simulator_can_be_created_again() {
    let (sim, client) = start_sim(None).await;

    // InferenceService with the controller's finalizer and a status.
    let isvcs = api(
        &client,
        "serving.kserve.io",
        "v1beta1",
        "InferenceService",
        "inferenceservices",
    );
    let isvc = eventually("isvc has finalizer and status", || async {
        let o = to_value(&isvcs.get("llm").await.expect("isvc"));
        let ready = o["metadata"]["finalizers"].is_array() && o["status"]["conditions"].is_array();
        ready.then_some(o)
    })
    .await;
    // The pod, owned by a ReplicaSet owned by the Deployment of the raw endpoint.
    let pods = api(&client, "", "v1", "Pod", "pods");
    let pod = eventually("web pod scheduled", || async {
        let list = pods
            .list(&ListParams::default().labels("app=web"))
            .await
            .expect("pods");
        list.items
            .first()
            .map(to_value)
            .filter(|p| p.pointer("/spec/nodeName").is_some())
    })
    .await;
    let deploys = api(&client, "apps", "v1", "Deployment", "deployments");
    let deploy = to_value(&deploys.get("web").await.expect("deployment"));
    let services = api(&client, "", "v1", "Service", "services");
    let svc = to_value(&services.get("web").await.expect("service"));
    assert!(svc.pointer("/spec/clusterIP").is_some(), "{svc}");

    let rs_uid = pod["metadata"]["ownerReferences"][0]["uid"]
        .as_str()
        .expect("pod owner")
        .to_string();
    let none = HashSet::new();

    // The pod first: its ReplicaSet is "deleted with it", so the reference goes.
    let s = sanitize(&pod, &HashSet::from([rs_uid]));
    assert!(s["metadata"].get("ownerReferences").is_none(), "{s}");
    assert!(s["spec"].get("nodeName").is_none());
    assert!(s.get("status").is_none());
    let new = recreate(
        &pods,
        pod["metadata"]["name"].as_str().expect("name"),
        pod["metadata"]["uid"].as_str().expect("uid"),
        &s,
    )
    .await;
    assert_user_fields_kept(&pod, &s, &new, &["/spec/containers/0/image"]);

    let s = sanitize(&deploy, &none);
    for gone in [
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "managedFields",
        "finalizers",
    ] {
        assert!(s["metadata"].get(gone).is_none(), "{gone} kept: {s}");
    }
    assert!(
        s["metadata"]["annotations"]
            .as_object()
            .is_some_and(|a| !a.keys().any(|k| k.starts_with("deployment.kubernetes.io/"))),
        "{s}"
    );
    let new = recreate(
        &deploys,
        "web",
        deploy["metadata"]["uid"].as_str().expect("uid"),
        &s,
    )
    .await;
    assert_user_fields_kept(
        &deploy,
        &s,
        &new,
        &[
            "/spec/replicas",
            "/spec/selector",
            "/spec/template/spec/containers",
        ],
    );

    let s = sanitize(&svc, &none);
    assert!(s["spec"].get("clusterIP").is_none() && s["spec"].get("clusterIPs").is_none());
    let new = recreate(
        &services,
        "web",
        svc["metadata"]["uid"].as_str().expect("uid"),
        &s,
    )
    .await;
    assert_user_fields_kept(&svc, &s, &new, &["/spec/ports", "/spec/selector"]);
    assert!(
        new.pointer("/spec/clusterIP").is_some(),
        "a new address is allocated"
    );

    let s = sanitize(&isvc, &none);
    assert!(s.get("status").is_none() && s["metadata"].get("finalizers").is_none());
    let new = recreate(
        &isvcs,
        "llm",
        isvc["metadata"]["uid"].as_str().expect("uid"),
        &s,
    )
    .await;
    assert_user_fields_kept(&isvc, &s, &new, &["/spec/predictor"]);

    sim.shutdown().await;
}

/// Overrides on sanitised manifests give objects the simulator accepts, and its controllers roll
/// out what was asked: a Deployment's pods run the new image; an InferenceService's predictor
/// Deployment gets the new storage URI and replica count.
#[tokio::test]
async fn overridden_manifests_are_created_and_rolled_out() {
    use crate::cli::SetOverride;
    let (sim, client) = start_sim(None).await;
    let sets = |list: &[&str]| -> Vec<SetOverride> {
        list.iter().map(|s| s.parse().expect("override")).collect()
    };

    let deploys = api(&client, "apps", "v1", "Deployment", "deployments");
    let old = to_value(&deploys.get("web").await.expect("deployment"));
    let mut m = sanitize(&old, &HashSet::new());
    let changes = super::apply_overrides(
        &mut m,
        &sets(&[
            "image=ghcr.io/llmops/web:2.0",
            "replicas=2",
            "env.MODE=fast",
        ]),
    )
    .expect("overrides");
    assert_eq!(changes.len(), 3, "{changes:?}");
    let old_uid = old["metadata"]["uid"].as_str().expect("uid");
    recreate(&deploys, "web", old_uid, &m).await;
    let pods = api(&client, "", "v1", "Pod", "pods");
    eventually("two pods of the new image", || async {
        let list = pods
            .list(&ListParams::default().labels("app=web"))
            .await
            .expect("pods");
        let new: Vec<Value> = list
            .items
            .iter()
            .map(to_value)
            .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
            .collect();
        let all_new = new.iter().all(|p| {
            p.pointer("/spec/containers/0/image") == Some(&Value::from("ghcr.io/llmops/web:2.0"))
                && p.pointer("/spec/containers/0/env")
                    .and_then(Value::as_array)
                    .is_some_and(|e| {
                        e.iter()
                            .any(|v| v["name"] == "MODE" && v["value"] == "fast")
                    })
        });
        (new.len() == 2 && all_new).then_some(())
    })
    .await;

    let isvcs = api(
        &client,
        "serving.kserve.io",
        "v1beta1",
        "InferenceService",
        "inferenceservices",
    );
    let old = to_value(&isvcs.get("llm").await.expect("isvc"));
    let mut m = sanitize(&old, &HashSet::new());
    super::apply_overrides(&mut m, &sets(&["storageUri=hf://org/llm-v2", "replicas=2"]))
        .expect("overrides");
    let old_uid = old["metadata"]["uid"].as_str().expect("uid");
    recreate(&isvcs, "llm", old_uid, &m).await;
    eventually("predictor rolled out with the new storage URI", || async {
        let d = to_value(&deploys.get_opt("llm-predictor").await.expect("get")?);
        let env = d
            .pointer("/spec/template/spec/containers/0/env")?
            .as_array()?
            .clone();
        let uri = env
            .iter()
            .any(|v| v["name"] == "STORAGE_URI" && v["value"] == "hf://org/llm-v2");
        (uri && d.pointer("/spec/replicas") == Some(&Value::from(2))).then_some(())
    })
    .await;
    sim.shutdown().await;
}
