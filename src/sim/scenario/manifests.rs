//! The manifests a user would have applied for an endpoint: the InferenceService for a kserve
//! endpoint (the simulated KServe controller makes its Deployment, Service, HPA and Ingress), or
//! Deployment, Service, HPA and Ingress for a raw one. Controllers add the rest (finalizers,
//! ReplicaSets, pods, status), exactly as they would on a real cluster.
//!
//! Kept beside the plan so that the labels the console groups by (`llm-ops.io/endpoint`, `app`) are
//! decided in one place.

use serde_json::{Map, Value, json};

use super::duration::HumanDuration;
use super::expand::EndpointPlan;
use super::model::EndpointKind;

/// Label that makes a Deployment an endpoint of its own (the console's default selector).
pub const ENDPOINT_LABEL: &str = "llm-ops.io/endpoint";
/// Finalizer of `finalizerDelay`: the simulator removes it that long after deletion starts.
pub const SLOW_DELETE_FINALIZER: &str = "sim.llmops.io/slow-delete";
/// Annotation carrying the delay, so it survives on the object itself (`6s`).
pub const FINALIZER_DELAY_ANNOTATION: &str = "sim.llmops.io/finalizer-delay";
pub const DEPLOYMENT_MODE_ANNOTATION: &str = "serving.kserve.io/deploymentMode";
/// Domain of generated Ingress hosts and status URLs, as in KServe's default config.
pub const INGRESS_DOMAIN: &str = "example.com";

impl EndpointPlan {
    /// Labels selecting a raw endpoint's pods (its Deployment selector and Service selector).
    pub fn selector_labels(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("app".into(), json!(self.name));
        m
    }

    /// What to create at load, in creation order.
    pub fn manifests(&self) -> Vec<Value> {
        match self.kind {
            EndpointKind::Kserve => vec![self.inference_service()],
            EndpointKind::Raw => vec![
                self.deployment(),
                self.service(),
                self.hpa(),
                self.ingress(),
            ],
        }
    }

    fn metadata(&self, name: &str, extra_labels: &[(&str, &str)], slow_delete: bool) -> Value {
        let mut labels: Map<String, Value> = self
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        for (k, v) in extra_labels {
            labels.insert((*k).to_string(), json!(v));
        }
        let mut annotations: Map<String, Value> = self
            .annotations
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        let mut meta = json!({"name": name, "namespace": self.namespace, "labels": labels});
        if self.kind == EndpointKind::Kserve {
            annotations.insert(DEPLOYMENT_MODE_ANNOTATION.into(), json!("RawDeployment"));
        }
        if let Some(delay) = self.finalizer_delay {
            // On the InferenceService the annotation tells the KServe controller to pass the
            // finalizer on to the Deployment and Service it creates.
            if slow_delete || self.kind == EndpointKind::Kserve {
                annotations.insert(
                    FINALIZER_DELAY_ANNOTATION.into(),
                    json!(HumanDuration(delay).to_string()),
                );
            }
            if slow_delete {
                meta["finalizers"] = json!([SLOW_DELETE_FINALIZER]);
            }
        }
        if !annotations.is_empty() {
            meta["annotations"] = Value::Object(annotations);
        }
        meta
    }

    fn resources(&self) -> Value {
        if self.gpus == 0 {
            return json!({"requests": {"cpu": "1", "memory": "4Gi"}, "limits": {"memory": "8Gi"}});
        }
        json!({
            "requests": {"cpu": "4", "memory": "32Gi", "nvidia.com/gpu": self.gpus.to_string()},
            "limits": {"memory": "48Gi", "nvidia.com/gpu": self.gpus.to_string()},
        })
    }

    /// KServe raw mode: the controller derives the predictor Deployment, Service, HPA and Ingress.
    /// A `finalizerDelay` travels as an annotation for the controller to put on the Deployment and
    /// Service it creates.
    fn inference_service(&self) -> Value {
        let meta = self.metadata(&self.name, &[], false);
        let mut model = json!({
            "modelFormat": {"name": self.model_format.as_deref().unwrap_or("huggingface")},
            "image": self.image,
            "resources": self.resources(),
        });
        if let Some(uri) = &self.storage_uri {
            model["storageUri"] = json!(uri);
        }
        json!({
            "apiVersion": "serving.kserve.io/v1beta1",
            "kind": "InferenceService",
            "metadata": meta,
            "spec": {"predictor": {
                "minReplicas": self.replicas,
                "maxReplicas": self.max_replicas,
                "model": model,
            }},
        })
    }

    fn deployment(&self) -> Value {
        let endpoint = [
            (ENDPOINT_LABEL, self.name.as_str()),
            ("app", self.name.as_str()),
        ];
        let mut args = vec![json!("--port"), json!("8080")];
        if let Some(uri) = &self.storage_uri {
            args.extend([json!("--model"), json!(uri)]);
        }
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": self.metadata(&self.name, &endpoint, true),
            "spec": {
                "replicas": self.replicas,
                "selector": {"matchLabels": self.selector_labels()},
                "template": {
                    "metadata": {"labels": {"app": self.name, ENDPOINT_LABEL: self.name}},
                    "spec": {
                        "terminationGracePeriodSeconds": self.termination_grace_period_seconds,
                        "containers": [{
                            "name": "server",
                            "image": self.image,
                            "args": args,
                            "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                            "readinessProbe": {"httpGet": {"path": "/health", "port": 8080}},
                            "resources": self.resources(),
                        }],
                    },
                },
            },
        })
    }

    fn service(&self) -> Value {
        let endpoint = [
            (ENDPOINT_LABEL, self.name.as_str()),
            ("app", self.name.as_str()),
        ];
        json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": self.metadata(&self.name, &endpoint, true),
            "spec": {
                "selector": self.selector_labels(),
                "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}],
            },
        })
    }

    fn hpa(&self) -> Value {
        let endpoint = [
            (ENDPOINT_LABEL, self.name.as_str()),
            ("app", self.name.as_str()),
        ];
        json!({
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": self.metadata(&self.name, &endpoint, false),
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": self.name},
                "minReplicas": self.replicas.max(1),
                "maxReplicas": self.max_replicas,
                "metrics": [{"type": "Resource", "resource": {
                    "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80},
                }}],
            },
        })
    }

    fn ingress(&self) -> Value {
        let endpoint = [
            (ENDPOINT_LABEL, self.name.as_str()),
            ("app", self.name.as_str()),
        ];
        let host = format!("{}-{}.{INGRESS_DOMAIN}", self.name, self.namespace);
        json!({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": self.metadata(&self.name, &endpoint, false),
            "spec": {
                "ingressClassName": "nginx",
                "rules": [{"host": host, "http": {"paths": [{
                    "path": "/", "pathType": "Prefix",
                    "backend": {"service": {"name": self.name, "port": {"number": 80}}},
                }]}}],
            },
        })
    }
}
