//! SelfSubjectRulesReview (`kubectl auth can-i --list`): what a user may do in one namespace,
//! from rules limited to namespaces as a RoleBinding gives them.

use reqwest::Method;
use serde_json::{Value, json};

use super::support::{NS, Sim, bytes};

const SSRR: &str = "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews";

async fn review(sim: &Sim, namespace: &str, token: Option<&str>) -> super::support::Reply {
    let body = json!({
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectRulesReview",
        "spec": {"namespace": namespace},
    });
    sim.send_as(
        Method::POST,
        SSRR,
        Some("application/json"),
        Some(bytes(&body)),
        token,
    )
    .await
}

/// The resource rules naming `resource` (not the basic-user review rule every user has).
fn rules_for<'a>(answer: &'a Value, resource: &str) -> Vec<&'a Value> {
    answer["status"]["resourceRules"]
        .as_array()
        .map(|rules| {
            rules
                .iter()
                .filter(|r| {
                    r["resources"]
                        .as_array()
                        .is_some_and(|rs| rs.iter().any(|x| x == resource))
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn rules_review_lists_only_the_rules_of_that_namespace() {
    let sim = Sim::start("healthy").await;
    sim.put(
        "/sim/v1/users/bob",
        &json!([
            {"verbs": ["get", "list", "watch"], "resources": ["pods"], "namespaces": [NS]},
            {"verbs": ["list"], "resources": ["deployments"], "apiGroups": ["apps"]},
        ]),
    )
    .await
    .expect(200);
    let bob = Some("bob-token");
    let here = review(&sim, NS, bob).await.expect(201);
    assert_eq!(here["kind"], "SelfSubjectRulesReview", "{here}");
    assert_eq!(here["apiVersion"], "authorization.k8s.io/v1", "{here}");
    // The apiserver does not echo the spec.
    assert_eq!(here["spec"], json!({}), "{here}");
    assert_eq!(here["status"]["incomplete"], false, "{here}");
    assert_eq!(
        rules_for(&here, "pods"),
        vec![
            &json!({"verbs": ["get", "list", "watch"], "apiGroups": ["*"], "resources": ["pods"]})
        ],
        "{here}"
    );
    assert_eq!(
        rules_for(&here, "deployments"),
        vec![&json!({"verbs": ["list"], "apiGroups": ["apps"], "resources": ["deployments"]})],
        "{here}"
    );
    // Every user may ask (system:basic-user) and read discovery (system:discovery).
    assert_eq!(
        rules_for(&here, "selfsubjectrulesreviews").len(),
        1,
        "{here}"
    );
    let urls = &here["status"]["nonResourceRules"][0]["nonResourceURLs"];
    assert!(
        urls.as_array().is_some_and(|u| u.contains(&json!("/apis"))),
        "{here}"
    );

    // Elsewhere only the cluster-wide rule applies.
    let there = review(&sim, "default", bob).await.expect(201);
    assert!(rules_for(&there, "pods").is_empty(), "{there}");
    assert_eq!(rules_for(&there, "deployments").len(), 1, "{there}");

    // The admin is cluster-admin.
    let admin = review(&sim, NS, None).await.expect(201);
    assert_eq!(
        admin["status"]["resourceRules"][0],
        json!({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}),
        "{admin}"
    );
    sim.stop().await;
}

#[tokio::test]
async fn rules_review_needs_a_namespace_and_a_known_user() {
    let sim = Sim::start("healthy").await;
    review(&sim, "", None)
        .await
        .expect_status(400, "BadRequest", "no namespace on request");
    review(&sim, NS, Some("nobody-token")).await.expect(401);
    // A user with no rights at all may still ask (and is told: nothing but the review itself).
    sim.put("/sim/v1/users/carol", &json!([])).await.expect(200);
    let carol = review(&sim, NS, Some("carol-token")).await.expect(201);
    assert!(rules_for(&carol, "pods").is_empty(), "{carol}");
    assert_eq!(
        rules_for(&carol, "selfsubjectrulesreviews").len(),
        1,
        "{carol}"
    );
    // Listing is still refused where no rule allows it, with the apiserver's message.
    sim.send_as(
        Method::GET,
        &format!("/api/v1/namespaces/{NS}/pods"),
        None,
        None,
        Some("carol-token"),
    )
    .await
    .expect(403);
    sim.stop().await;
}
