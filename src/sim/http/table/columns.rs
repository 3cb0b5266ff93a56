//! Column definitions of every served kind but pods, as the apiserver prints them
//! (kubernetes/pkg/printers/internalversion for built-in kinds, the CRD's
//! additionalPrinterColumns for InferenceServices). Their cells are in `printers.rs`.

use super::{AGE, Column, NAME};
use crate::sim::kinds::ResourceType;

const fn col(
    name: &'static str,
    ty: &'static str,
    priority: u8,
    description: &'static str,
) -> Column {
    Column {
        name,
        ty,
        format: "",
        description,
        priority,
    }
}

const CONTAINERS: Column = col(
    "Containers",
    "string",
    1,
    "Names of each container in the template.",
);
const IMAGES: Column = col(
    "Images",
    "string",
    1,
    "Images referenced by each container in the template.",
);

const DEPLOYMENT: &[Column] = &[
    NAME,
    col("Ready", "string", 0, "Number of the pod with ready state"),
    col(
        "Up-to-date",
        "string",
        0,
        "Total number of non-terminating pods targeted by this deployment that have the desired template spec.",
    ),
    col(
        "Available",
        "string",
        0,
        "Total number of available non-terminating pods (ready for at least minReadySeconds) targeted by this deployment.",
    ),
    AGE,
    CONTAINERS,
    IMAGES,
    col(
        "Selector",
        "string",
        1,
        "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment. It must match the pod template's labels.",
    ),
];

const REPLICASET: &[Column] = &[
    NAME,
    col(
        "Desired",
        "integer",
        0,
        "Replicas is the number of desired pods. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicaset/#how-a-replicaset-works",
    ),
    col(
        "Current",
        "integer",
        0,
        "Replicas is the most recently observed number of non-terminating pods. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicaset/#how-a-replicaset-works",
    ),
    col(
        "Ready",
        "integer",
        0,
        "The number of non-terminating pods targeted by this ReplicaSet with a Ready Condition.",
    ),
    AGE,
    CONTAINERS,
    IMAGES,
    col(
        "Selector",
        "string",
        1,
        "Selector is a label query over pods that should match the replica count. Label keys and values that must match in order to be controlled by this replica set. It must match the pod template's labels. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors",
    ),
];

const SERVICE: &[Column] = &[
    NAME,
    col(
        "Type",
        "string",
        0,
        "type determines how the Service is exposed. Defaults to ClusterIP. Valid options are ExternalName, ClusterIP, NodePort, and LoadBalancer.",
    ),
    col(
        "Cluster-IP",
        "string",
        0,
        "clusterIP is the IP address of the service and is usually assigned randomly.",
    ),
    col(
        "External-IP",
        "string",
        0,
        "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.",
    ),
    col(
        "Port(s)",
        "string",
        0,
        "The list of ports that are exposed by this service. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies",
    ),
    AGE,
    col(
        "Selector",
        "string",
        1,
        "Route service traffic to pods with label keys and values matching this selector. If empty or not present, the service is assumed to have an external process managing its endpoints, which Kubernetes will not modify. More info: https://kubernetes.io/docs/concepts/services-networking/service/",
    ),
];

const HPA: &[Column] = &[
    NAME,
    col(
        "Reference",
        "string",
        0,
        "reference to scaled resource; horizontal pod autoscaler will learn the current resource consumption and will set the desired number of pods by using its Scale subresource.",
    ),
    col(
        "Targets",
        "string",
        0,
        "metrics contains the specifications for which to use to calculate the desired replica count (the maximum replica count across all metrics will be used).",
    ),
    col(
        "MinPods",
        "string",
        0,
        "minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.",
    ),
    col(
        "MaxPods",
        "string",
        0,
        "maxReplicas is the upper limit for the number of pods that can be set by the autoscaler; cannot be smaller than MinReplicas.",
    ),
    col(
        "Replicas",
        "string",
        0,
        "currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler.",
    ),
    AGE,
];

const INGRESS: &[Column] = &[
    NAME,
    col(
        "Class",
        "string",
        0,
        "The name of the IngressClass resource that should be used for additional configuration",
    ),
    col(
        "Hosts",
        "string",
        0,
        "Hosts that incoming requests are matched against before the ingress rule",
    ),
    col(
        "Address",
        "string",
        0,
        "Address is a list containing ingress points for the load-balancer",
    ),
    col(
        "Ports",
        "string",
        0,
        "Ports of TLS configurations that open",
    ),
    AGE,
];

const EVENT: &[Column] = &[
    col(
        "Last Seen",
        "string",
        0,
        "The time at which the most recent occurrence of this event was recorded.",
    ),
    col(
        "Type",
        "string",
        0,
        "Type of this event (Normal, Warning), new types could be added in the future",
    ),
    col(
        "Reason",
        "string",
        0,
        "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
    ),
    col(
        "Object",
        "string",
        0,
        "The object that this event is about.",
    ),
    col(
        "Subobject",
        "string",
        1,
        "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2].",
    ),
    col(
        "Source",
        "string",
        1,
        "The component reporting this event. Should be a short machine understandable string.",
    ),
    col(
        "Message",
        "string",
        0,
        "A human-readable description of the status of this operation.",
    ),
    col(
        "First Seen",
        "string",
        1,
        "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)",
    ),
    col(
        "Count",
        "string",
        1,
        "The number of times this event has occurred.",
    ),
    Column {
        name: "Name",
        ty: "string",
        format: "name",
        description: super::NAME_DESCRIPTION,
        priority: 1,
    },
];

const NAMESPACE: &[Column] = &[
    NAME,
    col("Status", "string", 0, "The status of the namespace"),
    AGE,
];

const CONFIGMAP: &[Column] = &[
    NAME,
    col(
        "Data",
        "string",
        0,
        "Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored in Data must not overlap with the keys in the BinaryData field, this is enforced during validation process.",
    ),
    AGE,
];

const LEASE: &[Column] = &[
    NAME,
    col(
        "Holder",
        "string",
        0,
        "holderIdentity contains the identity of the holder of a current lease. If Coordinated Leader Election is used, the holder identity must be equal to the elected LeaseCandidate.metadata.name field.",
    ),
    AGE,
];

/// The InferenceService CRD's additionalPrinterColumns (KServe v0.15); the apiserver describes a
/// CRD column without a description by its JSONPath.
const INFERENCESERVICE: &[Column] = &[
    NAME,
    col(
        "URL",
        "string",
        0,
        "Custom resource definition column (in JSONPath format): .status.url",
    ),
    col(
        "Ready",
        "string",
        0,
        "Custom resource definition column (in JSONPath format): .status.conditions[?(@.type=='Ready')].status",
    ),
    col(
        "Prev",
        "integer",
        0,
        "Custom resource definition column (in JSONPath format): .status.components.predictor.traffic[?(@.tag=='prev')].percent",
    ),
    col(
        "Latest",
        "integer",
        0,
        "Custom resource definition column (in JSONPath format): .status.components.predictor.traffic[?(@.latestRevision==true)].percent",
    ),
    col(
        "PrevRolledoutRevision",
        "string",
        0,
        "Custom resource definition column (in JSONPath format): .status.components.predictor.traffic[?(@.tag=='prev')].revisionName",
    ),
    col(
        "LatestReadyRevision",
        "string",
        0,
        "Custom resource definition column (in JSONPath format): .status.components.predictor.traffic[?(@.latestRevision==true)].revisionName",
    ),
    col(
        "Age",
        "date",
        0,
        "Custom resource definition column (in JSONPath format): .metadata.creationTimestamp",
    ),
];

pub const SCALE_COLUMNS: &[Column] = &[
    NAME,
    col(
        "Desired",
        "integer",
        0,
        "replicas is the desired number of instances for the scaled object.",
    ),
    col(
        "Available",
        "integer",
        0,
        "replicas is the actual number of observed instances of the scaled object.",
    ),
];

const DEFAULT: &[Column] = &[NAME, AGE];

pub fn columns(rt: &ResourceType) -> &'static [Column] {
    match rt.plural {
        "deployments" => DEPLOYMENT,
        "replicasets" => REPLICASET,
        "services" => SERVICE,
        "horizontalpodautoscalers" => HPA,
        "ingresses" => INGRESS,
        "events" => EVENT,
        "namespaces" => NAMESPACE,
        "configmaps" => CONFIGMAP,
        "leases" => LEASE,
        "inferenceservices" => INFERENCESERVICE,
        _ => DEFAULT,
    }
}
