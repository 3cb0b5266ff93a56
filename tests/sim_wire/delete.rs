//! DELETE answers: a Status with the uid, the pod itself, the object held by finalizers or in its
//! grace period, preconditions, propagation (k8s-api.md §1, §2).

use serde_json::{Value, json};

use super::support::*;

fn success(name: &str, group: Option<&str>, kind: &str, uid: &str) -> Value {
    let mut details = json!({"name": name, "kind": kind, "uid": uid});
    if let Some(g) = group {
        details["group"] = json!(g);
    }
    json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
        "details": details,
    })
}

#[tokio::test]
async fn an_immediate_delete_answers_a_status_with_the_uid() {
    let sim = Sim::start("healthy").await;
    sim.quiet_controllers().await;
    let cm = sim.create(CMS, &configmap("c")).await;
    let d = sim.create(DEPLOYS, &deployment("web")).await;
    let m = sim.create(ISVCS, &isvc("m")).await;
    // kube-rs sends `{}`, kubectl `{"propagationPolicy":"Background"}`.
    let r = sim.delete(&cm_path("c"), Some(&json!({}))).await;
    assert_eq!(r.expect(200), success("c", None, "configmaps", &uid(&cm)));
    let r = sim
        .delete(
            &format!("{DEPLOYS}/web"),
            Some(&json!({"propagationPolicy": "Background"})),
        )
        .await;
    assert_eq!(
        r.expect(200),
        success("web", Some("apps"), "deployments", &uid(&d))
    );
    let r = sim.delete(&format!("{ISVCS}/m"), None).await;
    assert_eq!(
        r.expect(200),
        success(
            "m",
            Some("serving.kserve.io"),
            "inferenceservices",
            &uid(&m)
        )
    );
    // Gone: 404 from now on.
    sim.delete(&cm_path("c"), None).await.expect_status(
        404,
        "NotFound",
        "configmaps \"c\" not found",
    );
    sim.get(&format!("{DEPLOYS}/web")).await.expect_status(
        404,
        "NotFound",
        "deployments.apps \"web\" not found",
    );
    sim.stop().await;
}

#[tokio::test]
async fn an_unscheduled_pod_goes_at_once_and_the_answer_is_the_pod() {
    let sim = Sim::start("healthy").await;
    sim.quiet_controllers().await;
    let p = sim.create(PODS, &pod("p", &["c"], None)).await;
    let gone = sim.delete(&format!("{PODS}/p"), Some(&json!({}))).await;
    let gone = gone.expect(200);
    assert_eq!(gone["kind"], "Pod");
    assert_eq!(gone["apiVersion"], "v1");
    assert_eq!(uid(&gone), uid(&p));
    assert!(rv_num(&gone) > rv_num(&p), "the deletion revision");
    sim.get(&format!("{PODS}/p"))
        .await
        .expect_status(404, "NotFound", "pods \"p\" not found");
    sim.stop().await;
}

#[tokio::test]
async fn a_scheduled_pod_is_deleted_gracefully() {
    let sim = Sim::start("healthy").await;
    sim.quiet_controllers().await;
    sim.create(PODS, &pod("p", &["c"], Some("node-1"))).await;
    let path = format!("{PODS}/p");
    let first = sim.delete(&path, Some(&json!({}))).await.expect(200);
    assert_eq!(first["kind"], "Pod");
    assert_eq!(first["metadata"]["deletionGracePeriodSeconds"], 30);
    let ts = first["metadata"]["deletionTimestamp"]
        .as_str()
        .expect("a deletionTimestamp")
        .to_string();
    // Still there, Terminating; a second DELETE answers the object again, timestamp unchanged.
    let again = sim.delete(&path, None).await.expect(200);
    assert_eq!(again["metadata"]["deletionTimestamp"], ts.as_str());
    // A shorter grace moves the deletion earlier.
    let shorter = sim
        .delete(&path, Some(&json!({"gracePeriodSeconds": 5})))
        .await
        .expect(200);
    assert_eq!(shorter["metadata"]["deletionGracePeriodSeconds"], 5);
    assert!(shorter["metadata"]["deletionTimestamp"].as_str().unwrap() <= ts.as_str());
    // The kubelet's final delete: gone, answered with the pod.
    let gone = sim
        .delete(&path, Some(&json!({"gracePeriodSeconds": 0})))
        .await
        .expect(200);
    assert_eq!(gone["kind"], "Pod");
    sim.get(&path).await.expect(404);
    // An absurd grace period is answered, not overflowed.
    sim.create(PODS, &pod("q", &["c"], Some("node-1"))).await;
    let far = sim
        .delete(
            &format!("{PODS}/q"),
            Some(&json!({"gracePeriodSeconds": i64::MAX})),
        )
        .await
        .expect(200);
    assert!(far["metadata"]["deletionTimestamp"].is_string());
    sim.delete(&format!("{PODS}/q?gracePeriodSeconds=0"), None)
        .await
        .expect(200);
    sim.get(&format!("{PODS}/q")).await.expect(404);
    sim.stop().await;
}

#[tokio::test]
async fn finalizers_hold_the_object_with_a_deletion_timestamp() {
    let sim = Sim::start("healthy").await;
    let created = sim
        .create(DEPLOYS, &{
            let mut d = deployment("held");
            d["metadata"]["finalizers"] = json!(["example.com/hold"]);
            d
        })
        .await;
    let path = format!("{DEPLOYS}/held");
    let held = sim.delete(&path, Some(&json!({}))).await.expect(200);
    assert_eq!(held["kind"], "Deployment");
    assert_eq!(held["metadata"]["deletionGracePeriodSeconds"], 0);
    assert_eq!(held["metadata"]["finalizers"], json!(["example.com/hold"]));
    assert_eq!(
        held["metadata"]["generation"].as_i64().unwrap(),
        created["metadata"]["generation"].as_i64().unwrap() + 1
    );
    let ts = held["metadata"]["deletionTimestamp"].clone();
    assert!(ts.is_string());
    let again = sim.delete(&path, None).await.expect(200);
    assert_eq!(again["metadata"]["deletionTimestamp"], ts);
    // An update cannot move or remove the deletionTimestamp: the old value is kept.
    let mut edited = again.clone();
    edited["metadata"]["deletionTimestamp"] = json!("2000-01-01T00:00:00Z");
    edited["metadata"]["labels"] = json!({"edited": "yes"});
    let kept = sim.put(&path, &edited).await.expect(200);
    assert_eq!(kept["metadata"]["deletionTimestamp"], ts);
    // Its grace period may not change either.
    sim.merge_patch(
        &path,
        &json!({"metadata": {"deletionGracePeriodSeconds": 30}}),
    )
    .await
    .expect_status(
        422,
        "Invalid",
        "Deployment.apps \"held\" is invalid: metadata.deletionGracePeriodSeconds: Invalid value: 30: field is immutable",
    );
    // Removing the last finalizer deletes it; the answer is the patched object.
    let last = sim
        .merge_patch(&path, &json!({"metadata": {"finalizers": null}}))
        .await
        .expect(200);
    assert_eq!(last["metadata"]["name"], "held");
    sim.get(&path).await.expect(404);
    sim.stop().await;
}

#[tokio::test]
async fn a_live_object_cannot_be_given_a_deletion_timestamp() {
    let sim = Sim::start("healthy").await;
    let cm = sim.create(CMS, &configmap("live")).await;
    let mut edited = cm.clone();
    edited["metadata"]["deletionTimestamp"] = json!("2030-01-02T03:04:05Z");
    let d = sim.put(&cm_path("live"), &edited).await.expect_status(
        422,
        "Invalid",
        "ConfigMap \"live\" is invalid: metadata.deletionTimestamp: Invalid value: 2030-01-02 03:04:05 +0000 UTC: field is immutable",
    );
    assert_eq!(d["causes"][0]["field"], "metadata.deletionTimestamp");
    sim.merge_patch(
        &cm_path("live"),
        &json!({"metadata": {"deletionGracePeriodSeconds": 0}}),
    )
    .await
    .expect_status(
        422,
        "Invalid",
        "ConfigMap \"live\" is invalid: metadata.deletionGracePeriodSeconds: Invalid value: 0: field is immutable",
    );
    assert_eq!(sim.get(&cm_path("live")).await.expect(200), cm);
    sim.stop().await;
}

#[tokio::test]
async fn propagation_policies_add_their_finalizers() {
    let sim = Sim::start("healthy").await;
    sim.quiet_controllers().await;
    sim.create(DEPLOYS, &deployment("fg")).await;
    sim.create(DEPLOYS, &deployment("orph")).await;
    let fg = sim
        .delete(
            &format!("{DEPLOYS}/fg"),
            Some(&json!({"propagationPolicy": "Foreground"})),
        )
        .await
        .expect(200);
    assert_eq!(fg["metadata"]["finalizers"], json!(["foregroundDeletion"]));
    assert!(fg["metadata"]["deletionTimestamp"].is_string());
    let orphan = sim
        .delete(&format!("{DEPLOYS}/orph?propagationPolicy=Orphan"), None)
        .await
        .expect(200);
    assert_eq!(orphan["metadata"]["finalizers"], json!(["orphan"]));
    // A new policy on a second delete swaps the policy finalizer.
    let swapped = sim
        .delete(
            &format!("{DEPLOYS}/orph"),
            Some(&json!({"propagationPolicy": "Foreground"})),
        )
        .await
        .expect(200);
    assert_eq!(
        swapped["metadata"]["finalizers"],
        json!(["foregroundDeletion"])
    );
    assert_eq!(
        swapped["metadata"]["deletionTimestamp"],
        orphan["metadata"]["deletionTimestamp"]
    );
    sim.delete(
        &format!("{DEPLOYS}/fg"),
        Some(&json!({"propagationPolicy": "Sideways"})),
    )
    .await
    .expect_status(
        422,
        "Invalid",
        "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: \"Sideways\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\"",
    );
    sim.stop().await;
}

#[tokio::test]
async fn a_precondition_mismatch_is_409_naming_the_kind() {
    let sim = Sim::start("healthy").await;
    sim.quiet_controllers().await;
    let web = sim.create(DEPLOYS, &deployment("web")).await;
    let path = format!("{DEPLOYS}/web");
    let d = sim
        .delete(
            &path,
            Some(&json!({"preconditions": {"resourceVersion": "1"}})),
        )
        .await
        .expect_status(
            409,
            "Conflict",
            &format!(
                "Operation cannot be fulfilled on Deployment.apps \"web\": the ResourceVersion in the precondition (1) does not match the ResourceVersion in record ({}). The object might have been modified",
                rv(&web)
            ),
        );
    assert_eq!(
        d,
        json!({"name": "web", "group": "apps", "kind": "deployments"})
    );
    sim.delete(&path, Some(&json!({"preconditions": {"uid": "not-it"}})))
        .await
        .expect_status(
            409,
            "Conflict",
            &format!(
                "Operation cannot be fulfilled on Deployment.apps \"web\": the UID in the precondition (not-it) does not match the UID in record ({}). The object might have been modified",
                uid(&web)
            ),
        );
    let cm = sim.create(CMS, &configmap("c")).await;
    sim.delete(
        &cm_path("c"),
        Some(&json!({"preconditions": {"resourceVersion": "1"}})),
    )
    .await
    .expect_status(
        409,
        "Conflict",
        &format!(
            "Operation cannot be fulfilled on ConfigMap \"c\": the ResourceVersion in the precondition (1) does not match the ResourceVersion in record ({}). The object might have been modified",
            rv(&cm)
        ),
    );
    // Matching preconditions: deleted.
    let ok = sim
        .delete(
            &path,
            Some(&json!({"preconditions": {"resourceVersion": rv(&web), "uid": uid(&web)}})),
        )
        .await
        .expect(200);
    assert_eq!(ok["details"]["uid"], uid(&web).as_str());
    sim.stop().await;
}

#[tokio::test]
async fn dry_run_deletes_nothing() {
    let sim = Sim::start("healthy").await;
    let cm = sim.create(CMS, &configmap("c")).await;
    let r = sim
        .delete(&cm_path("c"), Some(&json!({"dryRun": ["All"]})))
        .await;
    assert_eq!(r.expect(200), success("c", None, "configmaps", &uid(&cm)));
    sim.delete(&format!("{}?dryRun=All", cm_path("c")), None)
        .await
        .expect(200);
    assert_eq!(sim.get(&cm_path("c")).await.expect(200), cm);
    sim.stop().await;
}

#[tokio::test]
async fn delete_options_are_validated_before_the_lookup() {
    let sim = Sim::start("healthy").await;
    let d = sim
        .delete(&cm_path("absent"), Some(&json!({"dryRun": ["Some"]})))
        .await
        .expect_status(
            422,
            "Invalid",
            "DeleteOptions.meta.k8s.io \"\" is invalid: dryRun: Unsupported value: [\"Some\"]: supported values: \"All\"",
        );
    assert_eq!(
        d,
        json!({"group": "meta.k8s.io", "kind": "DeleteOptions", "causes": [{
            "reason": "FieldValueNotSupported",
            "message": "Unsupported value: [\"Some\"]: supported values: \"All\"",
            "field": "dryRun",
        }]})
    );
    sim.delete(
        &cm_path("absent"),
        Some(&json!({"orphanDependents": true, "propagationPolicy": "Foreground"})),
    )
    .await
    .expect_status(
        422,
        "Invalid",
        "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Invalid value: \"Foreground\": orphanDependents and deletionPropagation cannot be both set",
    );
    sim.delete(
        &cm_path("absent"),
        Some(&json!({"gracePeriodSeconds": "soon"})),
    )
    .await
    .expect_status_naming(400, "BadRequest", &["gracePeriodSeconds"]);
    // Valid options on an absent object: 404.
    sim.delete(
        &cm_path("absent"),
        Some(&json!({"propagationPolicy": "Background"})),
    )
    .await
    .expect(404);
    sim.stop().await;
}
