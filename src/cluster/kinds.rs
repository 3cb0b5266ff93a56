//! The Kubernetes types behind each [`Kind`]: typed k8s-openapi structs, and InferenceService as a
//! `DynamicObject` (KServe's CRD may not be installed, and its schema changes between releases;
//! the console reads a handful of fields by path). Plus the names, labels and annotations the
//! console relies on.

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Event, Pod, Service};
use k8s_openapi::api::networking::v1::Ingress;
use kube::core::{ApiResource, DynamicObject, GroupVersionKind};

use super::model::Kind;

pub use k8s_openapi;

/// KServe's API group, version and plural.
pub const KSERVE_GROUP: &str = "serving.kserve.io";
pub const KSERVE_VERSION: &str = "v1beta1";
pub const INFERENCESERVICE_PLURAL: &str = "inferenceservices";

/// Label KServe puts on an InferenceService's children.
pub const ISVC_LABEL: &str = "serving.kserve.io/inferenceservice";
/// The finalizer KServe holds on InferenceServices.
pub const ISVC_FINALIZER: &str = "inferenceservice.finalizers";

/// Leases the console takes are named `llmops-console-<endpoint>`.
pub const LEASE_PREFIX: &str = "llmops-console-";
/// Annotations on a console lease: the running step and the operation id.
pub const LEASE_STEP_ANNOTATION: &str = "llmops.io/step";
pub const LEASE_OPERATION_ANNOTATION: &str = "llmops.io/operation-id";
/// Optional annotation on a console lease: `kserve` or `raw`, so an endpoint whose objects are
/// all deleted mid-redeploy still shows in the right mode.
pub const LEASE_MODE_ANNOTATION: &str = "llmops.io/mode";

/// The InferenceService resource as a dynamic type.
pub fn inference_service_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(KSERVE_GROUP, KSERVE_VERSION, "InferenceService"),
        INFERENCESERVICE_PLURAL,
    )
}

/// Aliases for the typed kinds, so callers need not spell out the k8s-openapi paths.
pub type InferenceServiceObject = DynamicObject;
pub type DeploymentObject = Deployment;
pub type ReplicaSetObject = ReplicaSet;
pub type PodObject = Pod;
pub type ServiceObject = Service;
pub type HpaObject = HorizontalPodAutoscaler;
pub type IngressObject = Ingress;
pub type LeaseObject = Lease;
pub type EventObject = Event;

/// `apiVersion` of each kind, as in manifests.
pub fn api_version(kind: Kind) -> &'static str {
    match kind {
        Kind::InferenceService => "serving.kserve.io/v1beta1",
        Kind::Deployment | Kind::ReplicaSet => "apps/v1",
        Kind::Pod | Kind::Service => "v1",
        Kind::HorizontalPodAutoscaler => "autoscaling/v2",
        Kind::Ingress => "networking.k8s.io/v1",
    }
}

/// Plural resource name of each kind, as RBAC and URLs name it.
pub fn plural(kind: Kind) -> &'static str {
    match kind {
        Kind::InferenceService => INFERENCESERVICE_PLURAL,
        Kind::Deployment => "deployments",
        Kind::ReplicaSet => "replicasets",
        Kind::Pod => "pods",
        Kind::Service => "services",
        Kind::HorizontalPodAutoscaler => "horizontalpodautoscalers",
        Kind::Ingress => "ingresses",
    }
}

/// The name of the lease guarding `endpoint`.
pub fn lease_name(endpoint: &str) -> String {
    format!("{LEASE_PREFIX}{endpoint}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isvc_resource_url_parts() {
        let ar = inference_service_resource();
        assert_eq!(ar.api_version, "serving.kserve.io/v1beta1");
        assert_eq!(ar.plural, "inferenceservices");
        assert_eq!(ar.kind, "InferenceService");
        for k in Kind::ALL {
            assert!(!plural(k).is_empty() && !api_version(k).is_empty());
        }
        assert_eq!(lease_name("llama"), "llmops-console-llama");
    }
}
