//! Which namespaces the console can watch: the scope asked for (`-n`, `-A`, `:ns`) against what
//! RBAC lets this user list. A user who may not list across all namespaces but may list in some
//! gets one watch set per such namespace instead of every kind shown as Forbidden.
//!
//! The namespaces tried are the config's `namespaces = [...]`, the kubeconfig context's
//! namespace and, if the user may list Namespaces, every namespace. For each a
//! SelfSubjectRulesReview (authorization.k8s.io/v1) says what the user may do there; a namespace
//! is kept when some watched kind may be listed and watched in it. That is a choice of where to
//! look, not a promise: each namespace's watches still report Forbidden for a kind RBAC refuses
//! there.

use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, ResourceRule, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
    SelfSubjectRulesReview, SelfSubjectRulesReviewSpec,
};
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ListParams, PostParams};

use super::client::Scope;
use super::error::describe_kube_error;

/// `(api group, plural)` of what the console watches in a namespace.
const WATCHED: &[(&str, &str)] = &[
    ("serving.kserve.io", "inferenceservices"),
    ("apps", "deployments"),
    ("apps", "replicasets"),
    ("", "pods"),
    ("", "services"),
    ("autoscaling", "horizontalpodautoscalers"),
    ("networking.k8s.io", "ingresses"),
    ("coordination.k8s.io", "leases"),
    ("", "events"),
];

/// Where the watches go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Watched {
    /// One watch per kind over `scope` (all namespaces, or one).
    Scope(Scope),
    /// The user may not list across namespaces: one watch set per namespace.
    Namespaces(Vec<String>),
}

/// The outcome of [`plan`]: where to watch, and what to tell the user about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopePlan {
    pub watched: Watched,
    pub notice: Option<String>,
}

/// Whether `name` is a namespace name: an RFC 1123 label (`a-z`, `0-9`, `-`, at most 63,
/// starting and ending with a letter or digit), as the API server requires.
pub fn valid_namespace(name: &str) -> bool {
    let b = name.as_bytes();
    let inner = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    !b.is_empty()
        && b.len() <= 63
        && b.iter().all(|c| inner(c) || *c == b'-')
        && b.first().is_some_and(inner)
        && b.last().is_some_and(inner)
}

/// Why `name` is not a namespace name, in the API server's words, or `None` when it is one.
pub fn namespace_error(name: &str) -> Option<String> {
    (!valid_namespace(name)).then(|| {
        format!(
            "{:?} is not a valid namespace name: a lowercase RFC 1123 label must consist of lower \
             case alphanumeric characters or '-', start and end with an alphanumeric character, \
             and be at most 63 characters (e.g. 'my-name', or '123-abc')",
            crate::text::sanitize(name)
        )
    })
}

fn word_ok(list: &[String], value: &str) -> bool {
    list.iter().any(|x| x == "*" || x == value)
}

/// Whether `rules` allow `verb` on `group`/`plural` (RBAC matching, as in a Role).
pub fn rules_allow(rules: &[ResourceRule], verb: &str, group: &str, plural: &str) -> bool {
    rules.iter().any(|r| {
        word_ok(&r.verbs, verb)
            && word_ok(r.api_groups.as_deref().unwrap_or(&[]), group)
            && word_ok(r.resources.as_deref().unwrap_or(&[]), plural)
    })
}

/// Whether the console can watch anything of its own in a namespace with these rules.
pub fn rules_allow_watching(rules: &[ResourceRule]) -> bool {
    WATCHED
        .iter()
        .any(|(g, p)| rules_allow(rules, "list", g, p) && rules_allow(rules, "watch", g, p))
}

async fn may(client: &kube::Client, verb: &str, group: &str, resource: &str) -> bool {
    let api: Api<SelfSubjectAccessReview> = Api::all(client.clone());
    let review = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                verb: Some(verb.to_string()),
                group: Some(group.to_string()),
                resource: Some(resource.to_string()),
                ..ResourceAttributes::default()
            }),
            ..SelfSubjectAccessReviewSpec::default()
        },
        ..SelfSubjectAccessReview::default()
    };
    match bounded(api.create(&PostParams::default(), &review)).await {
        Ok(r) => r.status.is_some_and(|s| s.allowed),
        Err(e) => {
            tracing::warn!(%verb, %resource, error = %e, "access review failed");
            // Unknown: watch everywhere, and let the watches say what is refused.
            true
        }
    }
}

/// The rules this user has in `namespace`, or why they could not be asked for.
async fn rules_in(client: &kube::Client, namespace: &str) -> Result<Vec<ResourceRule>, String> {
    let api: Api<SelfSubjectRulesReview> = Api::all(client.clone());
    let review = SelfSubjectRulesReview {
        spec: SelfSubjectRulesReviewSpec {
            namespace: Some(namespace.to_string()),
        },
        ..SelfSubjectRulesReview::default()
    };
    let r = bounded(api.create(&PostParams::default(), &review)).await?;
    Ok(r.status.map(|s| s.resource_rules).unwrap_or_default())
}

/// A call that answers within 10 s, or an error saying it did not.
async fn bounded<T>(
    fut: impl std::future::Future<Output = Result<T, kube::Error>>,
) -> Result<T, String> {
    match tokio::time::timeout(std::time::Duration::from_secs(10), fut).await {
        Ok(r) => r.map_err(|e| describe_kube_error(&e)),
        Err(_) => Err("no answer within 10 s".to_string()),
    }
}

/// Decides where to watch for `scope`. `configured` is the config's `namespaces`, `context_ns`
/// the kubeconfig context's namespace. Only all-namespaces needs asking: a named namespace is
/// watched as asked, and its watches say Forbidden if RBAC refuses.
pub async fn plan(
    client: &kube::Client,
    scope: &Scope,
    configured: &[String],
    context_ns: Option<&str>,
) -> ScopePlan {
    let plain = ScopePlan {
        watched: Watched::Scope(scope.clone()),
        notice: None,
    };
    if !matches!(scope, Scope::All) || may(client, "list", "", "pods").await {
        return plain;
    }
    let mut candidates: Vec<String> = Vec::new();
    let mut add = |n: &str| {
        if valid_namespace(n) && !candidates.iter().any(|c| c == n) {
            candidates.push(n.to_string());
        }
    };
    configured.iter().for_each(|n| add(n));
    if let Some(n) = context_ns {
        add(n);
    }
    if may(client, "list", "", "namespaces").await {
        let api: Api<Namespace> = Api::all(client.clone());
        match bounded(api.list_metadata(&ListParams::default())).await {
            Ok(list) => list
                .items
                .iter()
                .filter_map(|n| n.metadata.name.as_deref())
                .for_each(&mut add),
            Err(e) => tracing::warn!(error = %e, "cannot list namespaces"),
        }
    }
    let mut chosen = Vec::new();
    for ns in candidates {
        match rules_in(client, &ns).await {
            Ok(rules) if rules_allow_watching(&rules) => chosen.push(ns),
            Ok(_) => {}
            Err(e) => {
                // Cannot ask: a namespace the config names is watched all the same (its watches
                // will tell); others are not guessed at.
                tracing::warn!(namespace = %ns, error = %e, "rules review failed");
                if configured.contains(&ns) {
                    chosen.push(ns);
                }
            }
        }
    }
    chosen.sort();
    if chosen.is_empty() {
        return ScopePlan {
            watched: Watched::Scope(Scope::All),
            notice: Some(
                "you may not list pods across all namespaces, and no namespace tried allows it: \
                 name yours in the config (namespaces = [\"prod\", \"staging\"]) or use :ns NAME"
                    .to_string(),
            ),
        };
    }
    let notice = format!(
        "you may not list pods across all namespaces: watching the {} namespace{} you may list: {}",
        chosen.len(),
        if chosen.len() == 1 { "" } else { "s" },
        chosen.join(", ")
    );
    ScopePlan {
        watched: Watched::Namespaces(chosen),
        notice: Some(crate::text::sanitize(&notice).into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(verbs: &[&str], groups: &[&str], resources: &[&str]) -> ResourceRule {
        let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        ResourceRule {
            verbs: v(verbs),
            api_groups: Some(v(groups)),
            resources: Some(v(resources)),
            resource_names: None,
        }
    }

    #[test]
    fn namespace_names_are_rfc1123_labels() {
        for ok in ["prod", "a", "team-1", "0abc", &"a".repeat(63)] {
            assert!(valid_namespace(ok), "{ok}");
            assert_eq!(namespace_error(ok), None);
        }
        for bad in [
            "",
            "Prod",
            "-a",
            "a-",
            "a_b",
            "a.b",
            "ns\u{1b}[2J",
            &"a".repeat(64),
        ] {
            assert!(!valid_namespace(bad), "{bad:?}");
        }
        let e = namespace_error("Bad_Name").unwrap_or_default();
        assert!(
            e.contains("\"Bad_Name\" is not a valid namespace name"),
            "{e}"
        );
        assert!(e.contains("RFC 1123"), "{e}");
    }

    #[test]
    fn watching_needs_list_and_watch_on_a_watched_kind() {
        let review = rule(
            &["create"],
            &["authorization.k8s.io"],
            &["selfsubjectrulesreviews"],
        );
        assert!(!rules_allow_watching(std::slice::from_ref(&review)));
        assert!(!rules_allow_watching(&[rule(&["list"], &[""], &["pods"])]));
        assert!(rules_allow_watching(&[
            rule(&["list"], &[""], &["pods"]),
            rule(&["watch"], &["*"], &["pods"]),
        ]));
        assert!(rules_allow_watching(&[rule(&["*"], &["*"], &["*"])]));
        // A group mismatch is not a match.
        assert!(!rules_allow_watching(&[rule(&["*"], &["apps"], &["pods"])]));
        assert!(rules_allow_watching(&[rule(
            &["get", "list", "watch"],
            &["apps"],
            &["deployments"]
        )]));
    }
}
