//! The resource types the simulator serves, with everything discovery, URLs and error messages
//! need to know about each of them.

/// One served resource type (a plural under a group/version).
#[derive(Debug, PartialEq, Eq)]
pub struct ResourceType {
    /// API group; empty for the core group.
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub kind: &'static str,
    pub short_names: &'static [&'static str],
    pub namespaced: bool,
    /// A custom resource: rejects strategic merge (415) and PUT without resourceVersion (422).
    pub custom: bool,
    /// Subresources served under `<plural>/<name>/<sub>`.
    pub subresources: &'static [&'static str],
    /// Verbs listed in discovery.
    pub verbs: &'static [&'static str],
    pub categories: &'static [&'static str],
    /// Deleted at once and answered with the object instead of a Status (pods).
    pub delete_returns_object: bool,
    /// Default propagation when the delete request names none and no policy finalizer is set.
    pub default_orphan: bool,
}

const CRUD: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

impl ResourceType {
    /// `apps/v1`, or `v1` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `deployments.apps`, or `pods` for the core group: the name used in most error messages.
    pub fn group_resource(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// `Deployment.apps`, or `Pod`: the name used in 422 and precondition messages.
    pub fn group_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.to_string()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }

    /// `PodList`.
    pub fn list_kind(&self) -> String {
        format!("{}List", self.kind)
    }

    /// URL prefix of the group/version: `/api/v1` or `/apis/apps/v1`.
    pub fn gv_path(&self) -> String {
        if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        }
    }

    /// Path of a collection (namespace `None` for cluster-scoped or all-namespaces).
    pub fn collection_path(&self, namespace: Option<&str>) -> String {
        match namespace {
            Some(ns) if self.namespaced => {
                format!("{}/namespaces/{}/{}", self.gv_path(), ns, self.plural)
            }
            _ => format!("{}/{}", self.gv_path(), self.plural),
        }
    }

    pub fn has_subresource(&self, sub: &str) -> bool {
        self.subresources.contains(&sub)
    }
}

pub static NAMESPACES: ResourceType = ResourceType {
    group: "",
    version: "v1",
    plural: "namespaces",
    singular: "namespace",
    kind: "Namespace",
    short_names: &["ns"],
    namespaced: false,
    custom: false,
    subresources: &["status"],
    verbs: &[
        "create", "delete", "get", "list", "patch", "update", "watch",
    ],
    categories: &[],
    delete_returns_object: false,
    default_orphan: false,
};

pub static PODS: ResourceType = ResourceType {
    group: "",
    version: "v1",
    plural: "pods",
    singular: "pod",
    kind: "Pod",
    short_names: &["po"],
    namespaced: true,
    custom: false,
    subresources: &["status", "log"],
    verbs: CRUD,
    categories: &["all"],
    delete_returns_object: true,
    default_orphan: false,
};

pub static SERVICES: ResourceType = ResourceType {
    group: "",
    version: "v1",
    plural: "services",
    singular: "service",
    kind: "Service",
    short_names: &["svc"],
    namespaced: true,
    custom: false,
    subresources: &["status"],
    verbs: &[
        "create", "delete", "get", "list", "patch", "update", "watch",
    ],
    categories: &["all"],
    delete_returns_object: false,
    default_orphan: false,
};

pub static CONFIGMAPS: ResourceType = ResourceType {
    group: "",
    version: "v1",
    plural: "configmaps",
    singular: "configmap",
    kind: "ConfigMap",
    short_names: &["cm"],
    namespaced: true,
    custom: false,
    subresources: &[],
    verbs: CRUD,
    categories: &[],
    delete_returns_object: false,
    default_orphan: false,
};

pub static EVENTS: ResourceType = ResourceType {
    group: "",
    version: "v1",
    plural: "events",
    singular: "event",
    kind: "Event",
    short_names: &["ev"],
    namespaced: true,
    custom: false,
    subresources: &[],
    verbs: CRUD,
    categories: &[],
    delete_returns_object: false,
    default_orphan: false,
};

pub static LEASES: ResourceType = ResourceType {
    group: "coordination.k8s.io",
    version: "v1",
    plural: "leases",
    singular: "lease",
    kind: "Lease",
    short_names: &[],
    namespaced: true,
    custom: false,
    subresources: &[],
    verbs: CRUD,
    categories: &[],
    delete_returns_object: false,
    default_orphan: false,
};

pub static DEPLOYMENTS: ResourceType = ResourceType {
    group: "apps",
    version: "v1",
    plural: "deployments",
    singular: "deployment",
    kind: "Deployment",
    short_names: &["deploy"],
    namespaced: true,
    custom: false,
    subresources: &["status", "scale"],
    verbs: CRUD,
    categories: &["all"],
    delete_returns_object: false,
    default_orphan: false,
};

pub static REPLICASETS: ResourceType = ResourceType {
    group: "apps",
    version: "v1",
    plural: "replicasets",
    singular: "replicaset",
    kind: "ReplicaSet",
    short_names: &["rs"],
    namespaced: true,
    custom: false,
    subresources: &["status", "scale"],
    verbs: CRUD,
    categories: &["all"],
    delete_returns_object: false,
    default_orphan: false,
};

pub static HPAS: ResourceType = ResourceType {
    group: "autoscaling",
    version: "v2",
    plural: "horizontalpodautoscalers",
    singular: "horizontalpodautoscaler",
    kind: "HorizontalPodAutoscaler",
    short_names: &["hpa"],
    namespaced: true,
    custom: false,
    subresources: &["status"],
    verbs: CRUD,
    categories: &["all"],
    delete_returns_object: false,
    default_orphan: false,
};

pub static INGRESSES: ResourceType = ResourceType {
    group: "networking.k8s.io",
    version: "v1",
    plural: "ingresses",
    singular: "ingress",
    kind: "Ingress",
    short_names: &["ing"],
    namespaced: true,
    custom: false,
    subresources: &["status"],
    verbs: CRUD,
    categories: &[],
    delete_returns_object: false,
    default_orphan: false,
};

pub static INFERENCESERVICES: ResourceType = ResourceType {
    group: "serving.kserve.io",
    version: "v1beta1",
    plural: "inferenceservices",
    singular: "inferenceservice",
    kind: "InferenceService",
    short_names: &["isvc"],
    namespaced: true,
    custom: true,
    subresources: &["status"],
    verbs: CRUD,
    categories: &[],
    delete_returns_object: false,
    default_orphan: false,
};

pub static SELFSUBJECTACCESSREVIEWS: ResourceType = ResourceType {
    group: "authorization.k8s.io",
    version: "v1",
    plural: "selfsubjectaccessreviews",
    singular: "selfsubjectaccessreview",
    kind: "SelfSubjectAccessReview",
    short_names: &[],
    namespaced: false,
    custom: false,
    subresources: &[],
    verbs: &["create"],
    categories: &[],
    delete_returns_object: false,
    default_orphan: false,
};

pub static SELFSUBJECTRULESREVIEWS: ResourceType = ResourceType {
    group: "authorization.k8s.io",
    version: "v1",
    plural: "selfsubjectrulesreviews",
    singular: "selfsubjectrulesreview",
    kind: "SelfSubjectRulesReview",
    short_names: &[],
    namespaced: false,
    custom: false,
    subresources: &[],
    verbs: &["create"],
    categories: &[],
    delete_returns_object: false,
    default_orphan: false,
};

/// Whether `rt` is one of the reviews (asked, never stored).
pub fn is_review(rt: &ResourceType) -> bool {
    rt == &SELFSUBJECTACCESSREVIEWS || rt == &SELFSUBJECTRULESREVIEWS
}

/// Every served type, in discovery order.
pub static ALL: &[&ResourceType] = &[
    &NAMESPACES,
    &PODS,
    &SERVICES,
    &CONFIGMAPS,
    &EVENTS,
    &LEASES,
    &DEPLOYMENTS,
    &REPLICASETS,
    &HPAS,
    &INGRESSES,
    &INFERENCESERVICES,
    &SELFSUBJECTACCESSREVIEWS,
    &SELFSUBJECTRULESREVIEWS,
];

/// The type served at `group/version/plural`.
pub fn lookup(group: &str, version: &str, plural: &str) -> Option<&'static ResourceType> {
    ALL.iter()
        .copied()
        .find(|rt| rt.group == group && rt.version == version && rt.plural == plural)
}

/// The type with this apiVersion and kind (as written in a manifest).
pub fn by_kind(api_version: &str, kind: &str) -> Option<&'static ResourceType> {
    ALL.iter()
        .copied()
        .find(|rt| rt.kind == kind && rt.api_version() == api_version)
}

/// Distinct API groups (other than core) with their versions, in discovery order.
pub fn groups() -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    for rt in ALL {
        if !rt.group.is_empty() && !out.contains(&(rt.group, rt.version)) {
            out.push((rt.group, rt.version));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_apiserver_conventions() {
        assert_eq!(DEPLOYMENTS.group_resource(), "deployments.apps");
        assert_eq!(PODS.group_resource(), "pods");
        assert_eq!(DEPLOYMENTS.group_kind(), "Deployment.apps");
        assert_eq!(INFERENCESERVICES.api_version(), "serving.kserve.io/v1beta1");
        assert_eq!(
            PODS.collection_path(Some("ns1")),
            "/api/v1/namespaces/ns1/pods"
        );
        assert_eq!(NAMESPACES.collection_path(Some("x")), "/api/v1/namespaces");
        assert_eq!(lookup("apps", "v1", "deployments"), Some(&DEPLOYMENTS));
        assert_eq!(lookup("apps", "v2", "deployments"), None);
        assert_eq!(by_kind("v1", "Pod"), Some(&PODS));
    }
}
