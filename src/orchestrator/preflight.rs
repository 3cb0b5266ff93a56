//! Permissions before anything is touched: one SelfSubjectAccessReview per permission an
//! operation needs, so a user who may delete the Deployment but not the InferenceService learns
//! it before the first delete, not halfway through a redeploy.

use std::fmt;

use futures::future::join_all;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use kube::Api;
use kube::api::PostParams;

use crate::cluster::error::{describe_kube_error, status_code};
use crate::text::sanitize;

/// One permission: `verb` on `resource` (plural) of API `group` ("" for core) in `namespace`
/// ("" for cluster-scoped resources or all namespaces).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    pub verb: String,
    pub group: String,
    pub resource: String,
    pub namespace: String,
}

impl Need {
    pub fn new(
        verb: impl Into<String>,
        group: impl Into<String>,
        resource: impl Into<String>,
        namespace: impl Into<String>,
    ) -> Need {
        Need {
            verb: verb.into(),
            group: group.into(),
            resource: resource.into(),
            namespace: namespace.into(),
        }
    }
}

impl fmt::Display for Need {
    /// As RBAC names it: `delete inferenceservices.serving.kserve.io in llm-prod`, `delete pods
    /// in llm-prod`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.verb, self.resource)?;
        if !self.group.is_empty() {
            write!(f, ".{}", self.group)?;
        }
        if self.namespace.is_empty() {
            f.write_str(" cluster-wide")
        } else {
            write!(f, " in {}", self.namespace)
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PreflightError {
    /// Every denied permission, in the order asked, with the review's reason (may be empty).
    #[error("{}", denied_message(missing))]
    Denied { missing: Vec<(Need, String)> },
    /// A review could not be made.
    #[error("{what}: {message}{}", code_suffix(message, *code))]
    Api {
        what: String,
        message: String,
        code: Option<u16>,
        /// The server's Retry-After (429, 503), when it named one.
        retry_after: Option<std::time::Duration>,
    },
}

fn denied_message(missing: &[(Need, String)]) -> String {
    let list: Vec<String> = missing
        .iter()
        .map(|(need, reason)| {
            if reason.is_empty() {
                need.to_string()
            } else {
                format!("{need} ({reason})")
            }
        })
        .collect();
    format!(
        "not allowed: {} — ask a cluster admin for these permissions, or run as a user who has them",
        list.join("; ")
    )
}

/// The code, unless the message already starts with it (kube API errors do: "403 Forbidden: ...").
fn code_suffix(message: &str, code: Option<u16>) -> String {
    match code {
        Some(c) if !message.starts_with(&c.to_string()) => format!(" (HTTP {c})"),
        _ => String::new(),
    }
}

/// Asks the API server whether the current user may do each of `needs` (duplicates asked once),
/// all reviews in parallel. Creates nothing but the reviews, which the server does not store.
pub async fn check(client: &kube::Client, needs: &[Need]) -> Result<(), PreflightError> {
    let mut unique: Vec<&Need> = Vec::with_capacity(needs.len());
    for need in needs {
        if !unique.contains(&need) {
            unique.push(need);
        }
    }
    let api: Api<SelfSubjectAccessReview> = Api::all(client.clone());
    let reviews = unique.iter().map(|need| {
        let review = SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    verb: Some(need.verb.clone()),
                    group: Some(need.group.clone()),
                    resource: Some(need.resource.clone()),
                    namespace: Some(need.namespace.clone()).filter(|ns| !ns.is_empty()),
                    ..ResourceAttributes::default()
                }),
                ..SelfSubjectAccessReviewSpec::default()
            },
            ..SelfSubjectAccessReview::default()
        };
        let api = api.clone();
        async move {
            crate::orchestrator::kapi::bounded(api.create(&PostParams::default(), &review)).await
        }
    });
    let answers = join_all(reviews).await;

    let mut missing = Vec::new();
    for (need, answer) in unique.into_iter().zip(answers) {
        let review = answer.map_err(|e| PreflightError::Api {
            what: format!("review permission to {need}"),
            message: describe_kube_error(&e),
            code: status_code(&e),
            retry_after: crate::orchestrator::kapi::retry_after_of(&e),
        })?;
        let status = review.status.unwrap_or_default();
        if !status.allowed {
            // A denial with an evaluation error (a broken webhook, say) is still a denial, and
            // the error is the most useful reason to show.
            let reason = [status.reason, status.evaluation_error]
                .into_iter()
                .flatten()
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty())
                .collect::<Vec<_>>()
                .join("; ");
            missing.push((need.clone(), sanitize(&reason).into_owned()));
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(PreflightError::Denied { missing })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orchestrator::lease::testsim::TestSim;

    fn needs(ns: &str) -> Vec<Need> {
        vec![
            Need::new("get", "serving.kserve.io", "inferenceservices", ns),
            Need::new("delete", "serving.kserve.io", "inferenceservices", ns),
            Need::new("create", "serving.kserve.io", "inferenceservices", ns),
            Need::new("delete", "apps", "deployments", ns),
            Need::new("patch", "apps", "deployments", ns),
            Need::new("update", "apps", "deployments", ns),
            Need::new("delete", "", "pods", ns),
            Need::new("create", "coordination.k8s.io", "leases", ns),
            Need::new("update", "coordination.k8s.io", "leases", ns),
            Need::new("create", "", "configmaps", ns),
            // Asked twice, reviewed (and reported) once.
            Need::new("delete", "serving.kserve.io", "inferenceservices", ns),
        ]
    }

    #[test]
    fn needs_read_as_rbac_names_them() {
        let isvc = Need::new(
            "delete",
            "serving.kserve.io",
            "inferenceservices",
            "llm-prod",
        );
        assert_eq!(
            isvc.to_string(),
            "delete inferenceservices.serving.kserve.io in llm-prod"
        );
        let pods = Need::new("delete", "", "pods", "llm-prod");
        assert_eq!(pods.to_string(), "delete pods in llm-prod");
        let ns = Need::new("list", "", "namespaces", "");
        assert_eq!(ns.to_string(), "list namespaces cluster-wide");
        let err = PreflightError::Denied {
            missing: vec![(isvc, "no rule".into()), (pods, String::new())],
        };
        assert_eq!(
            err.to_string(),
            "not allowed: delete inferenceservices.serving.kserve.io in llm-prod (no rule); \
             delete pods in llm-prod — ask a cluster admin for these permissions, or run as a \
             user who has them"
        );
    }

    #[tokio::test]
    async fn admin_may_do_everything() {
        let sim = TestSim::start_scenario("rbac-denied").await;
        check(&sim.client, &needs("llm-prod"))
            .await
            .expect("admin is allowed");
        check(&sim.client, &[]).await.expect("nothing to check");
        sim.stop().await;
    }

    #[tokio::test]
    async fn operator_is_told_every_missing_permission_and_nothing_is_touched() {
        let sim = TestSim::start_scenario("rbac-denied").await;
        let operator = sim.client("operator").await;
        let since = sim.audit_seq().await;
        let err = check(&operator, &needs("llm-prod"))
            .await
            .expect_err("operator lacks permissions");
        let PreflightError::Denied { missing } = &err else {
            panic!("expected Denied, got {err}");
        };
        let denied: Vec<String> = missing.iter().map(|(n, _)| n.to_string()).collect();
        assert_eq!(
            denied,
            [
                "delete inferenceservices.serving.kserve.io in llm-prod",
                "patch deployments.apps in llm-prod",
                "update deployments.apps in llm-prod",
            ]
        );
        let text = err.to_string();
        assert!(text.contains("ask a cluster admin"), "{text}");

        let audit = sim.audit_since(since).await;
        // Ten distinct needs, ten reviews, nothing else.
        assert_eq!(audit.len(), 10, "{audit:#?}");
        for entry in &audit {
            assert_eq!(entry["user"], "operator", "{entry}");
            assert_eq!(entry["verb"], "create", "{entry}");
            assert_eq!(
                entry["path"], "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                "{entry}"
            );
        }
        sim.stop().await;
    }

    #[tokio::test]
    async fn a_failing_review_is_an_api_error_naming_the_permission() {
        let sim = TestSim::start().await;
        sim.inject("create", "selfsubjectaccessreviews", 500, 1)
            .await;
        let err = check(
            &sim.client,
            &[Need::new(
                "delete",
                "",
                "pods",
                crate::orchestrator::lease::testsim::NS,
            )],
        )
        .await
        .expect_err("review fails");
        let PreflightError::Api { what, code, .. } = &err else {
            panic!("expected Api, got {err}");
        };
        assert_eq!(what, "review permission to delete pods in test");
        assert_eq!(*code, Some(500));
        sim.stop().await;
    }
}
