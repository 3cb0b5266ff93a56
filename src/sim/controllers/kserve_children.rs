//! The objects KServe's raw-deployment mode makes for an InferenceService: Deployment, Service
//! and HPA `<isvc>-predictor`, and Ingress `<isvc>`, all controlled by the InferenceService.

use serde_json::{Map, Value, json};

use super::objects::{int_at, owner_ref, str_at};
use crate::sim::meta;

pub const ISVC_LABEL: &str = "serving.kserve.io/inferenceservice";
pub const DOMAIN: &str = "example.com";
/// Version of the stock KServe runtimes' images.
const RUNTIME_TAG: &str = "v0.15.0";

pub fn predictor_name(isvc: &Value) -> String {
    format!("{}-predictor", meta::name(isvc))
}

/// `http://<isvc>-<ns>.example.com`
pub fn external_host(isvc: &Value) -> String {
    format!("{}-{}.{DOMAIN}", meta::name(isvc), meta::namespace(isvc))
}

pub fn predictor_host(isvc: &Value) -> String {
    format!(
        "{}-{}.{DOMAIN}",
        predictor_name(isvc),
        meta::namespace(isvc)
    )
}

pub fn internal_host(isvc: &Value) -> String {
    format!(
        "{}.{}.svc.cluster.local",
        predictor_name(isvc),
        meta::namespace(isvc)
    )
}

/// `(minReplicas, maxReplicas)`: min defaults to 1; max is at least min.
pub fn replica_bounds(isvc: &Value) -> (i64, i64) {
    let min = int_at(isvc, "/spec/predictor/minReplicas")
        .unwrap_or(1)
        .max(0);
    let max = int_at(isvc, "/spec/predictor/maxReplicas").unwrap_or(0);
    (min, max.max(min).max(1))
}

/// The isvc's labels plus the ones KServe adds to every predictor object.
pub fn labels(isvc: &Value) -> Value {
    let mut l: Map<String, Value> = meta::labels(isvc).cloned().unwrap_or_default();
    l.insert(ISVC_LABEL.into(), json!(meta::name(isvc)));
    l.insert("component".into(), json!("predictor"));
    l.insert(
        "app".into(),
        json!(format!("isvc.{}", predictor_name(isvc))),
    );
    Value::Object(l)
}

fn selector(isvc: &Value) -> Value {
    json!({"app": format!("isvc.{}", predictor_name(isvc))})
}

fn object_meta(isvc: &Value, name: &str) -> Value {
    json!({
        "name": name,
        "namespace": meta::namespace(isvc),
        "labels": labels(isvc),
        "ownerReferences": [owner_ref(isvc)],
    })
}

/// The serving image: an explicit container's, else the named runtime's, else the stock
/// runtime for the model format.
fn image(isvc: &Value) -> String {
    let explicit = str_at(isvc, "/spec/predictor/containers/0/image");
    if !explicit.is_empty() {
        return explicit.to_string();
    }
    // KServe merges the model's container fields over the serving runtime's: a model `image`
    // wins over the runtime's.
    let model = str_at(isvc, "/spec/predictor/model/image");
    if !model.is_empty() {
        return model.to_string();
    }
    let runtime = str_at(isvc, "/spec/predictor/model/runtime");
    let format = str_at(isvc, "/spec/predictor/model/modelFormat/name");
    let stock = |server: &str| format!("kserve/{server}:{RUNTIME_TAG}");
    match runtime {
        "kserve-tritonserver" => return "nvcr.io/nvidia/tritonserver:23.05-py3".into(),
        "kserve-torchserve" => return "pytorch/torchserve-kfs:0.9.0".into(),
        "kserve-tensorflow-serving" => return "tensorflow/serving:2.6.2".into(),
        r if r.starts_with("kserve-") => return stock(&r["kserve-".len()..]),
        _ => {}
    }
    match format.to_ascii_lowercase().as_str() {
        "sklearn" => stock("sklearnserver"),
        "xgboost" => stock("xgbserver"),
        "lightgbm" => stock("lgbserver"),
        "pmml" => stock("pmmlserver"),
        "paddle" => stock("paddleserver"),
        "tensorflow" => "tensorflow/serving:2.6.2".into(),
        "pytorch" => "pytorch/torchserve-kfs:0.9.0".into(),
        "onnx" | "triton" => "nvcr.io/nvidia/tritonserver:23.05-py3".into(),
        _ => stock("huggingfaceserver"),
    }
}

fn container(isvc: &Value) -> Value {
    let name = meta::name(isvc);
    let storage = str_at(isvc, "/spec/predictor/model/storageUri");
    let mut c = isvc
        .pointer("/spec/predictor/containers/0")
        .cloned()
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    meta::set_field(&mut c, "name", json!("kserve-container"));
    meta::set_field(&mut c, "image", json!(image(isvc)));
    if c.get("args").is_none() {
        let mut args = vec![
            format!("--model_name={name}"),
            "--model_dir=/mnt/models".to_string(),
            "--http_port=8080".to_string(),
        ];
        if !storage.is_empty() {
            args.push(format!("--storage_uri={storage}"));
        }
        meta::set_field(&mut c, "args", json!(args));
    }
    if c.get("ports").is_none() {
        meta::set_field(
            &mut c,
            "ports",
            json!([{"name": "http1", "containerPort": 8080, "protocol": "TCP"}]),
        );
    }
    if c.get("resources").is_none()
        && let Some(r) = isvc.pointer("/spec/predictor/model/resources")
    {
        meta::set_field(&mut c, "resources", r.clone());
    }
    // The model's env merges over the container's, by name, as KServe does.
    if let Some(Value::Array(model_env)) = isvc.pointer("/spec/predictor/model/env") {
        let env = c
            .as_object_mut()
            .map(|o| o.entry("env").or_insert(json!([])));
        if let Some(Value::Array(env)) = env {
            for e in model_env {
                let name = str_at(e, "/name");
                env.retain(|x| str_at(x, "/name") != name);
                env.push(e.clone());
            }
        }
    }
    if !storage.is_empty() {
        let env = c
            .as_object_mut()
            .map(|o| o.entry("env").or_insert(json!([])));
        if let Some(Value::Array(env)) = env
            && !env.iter().any(|e| str_at(e, "/name") == "STORAGE_URI")
        {
            env.push(json!({"name": "STORAGE_URI", "value": storage}));
        }
    }
    c
}

pub fn deployment(isvc: &Value) -> Value {
    let name = predictor_name(isvc);
    let (min, _) = replica_bounds(isvc);
    let mut template_meta = json!({"labels": labels(isvc)});
    let storage = str_at(isvc, "/spec/predictor/model/storageUri");
    if !storage.is_empty() {
        meta::set_field(
            &mut template_meta,
            "annotations",
            json!({"serving.kserve.io/storage-initializer-sourceuri": storage}),
        );
    }
    let mut md = object_meta(isvc, &name);
    meta::set_field(
        &mut md,
        "annotations",
        json!({"serving.kserve.io/deploymentMode": "RawDeployment"}),
    );
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": md,
        "spec": {
            "replicas": min,
            "selector": {"matchLabels": selector(isvc)},
            "template": {
                "metadata": template_meta,
                "spec": {"containers": [container(isvc)]},
            },
        },
    })
}

pub fn service(isvc: &Value) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": object_meta(isvc, &predictor_name(isvc)),
        "spec": {
            "type": "ClusterIP",
            "selector": selector(isvc),
            "ports": [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": 8080}],
        },
    })
}

pub fn hpa(isvc: &Value) -> Value {
    let (min, max) = replica_bounds(isvc);
    let metric = match str_at(isvc, "/spec/predictor/scaleMetric") {
        "memory" => "memory",
        _ => "cpu",
    };
    let target = int_at(isvc, "/spec/predictor/scaleTarget").unwrap_or(80);
    json!({
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": object_meta(isvc, &predictor_name(isvc)),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": predictor_name(isvc)},
            "minReplicas": min.max(1),
            "maxReplicas": max,
            "metrics": [{"type": "Resource", "resource": {"name": metric, "target": {"type": "Utilization", "averageUtilization": target}}}],
        },
    })
}

pub fn ingress(isvc: &Value) -> Value {
    let rule = |host: String| {
        json!({
            "host": host,
            "http": {"paths": [{
                "path": "/",
                "pathType": "Prefix",
                "backend": {"service": {"name": predictor_name(isvc), "port": {"number": 80}}},
            }]},
        })
    };
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": object_meta(isvc, meta::name(isvc)),
        "spec": {
            "ingressClassName": "istio",
            "rules": [rule(external_host(isvc)), rule(predictor_host(isvc))],
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn isvc(predictor: Value) -> Value {
        json!({
            "apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
            "metadata": {"name": "m", "namespace": "ns", "uid": "u1", "labels": {"team": "a"}},
            "spec": {"predictor": predictor},
        })
    }

    #[test]
    fn images_follow_container_runtime_then_format() {
        let c = isvc(json!({"containers": [{"image": "my/img:1"}]}));
        assert_eq!(image(&c), "my/img:1");
        let r = isvc(
            json!({"model": {"runtime": "kserve-huggingfaceserver", "modelFormat": {"name": "sklearn"}}}),
        );
        assert_eq!(image(&r), "kserve/huggingfaceserver:v0.15.0");
        let f = isvc(json!({"model": {"modelFormat": {"name": "sklearn"}}}));
        assert_eq!(image(&f), "kserve/sklearnserver:v0.15.0");
    }

    #[test]
    fn deployment_has_kserve_labels_selector_and_owner() {
        let i = isvc(
            json!({"minReplicas": 2, "model": {"modelFormat": {"name": "sklearn"}, "storageUri": "gs://b/m"}}),
        );
        let d = deployment(&i);
        assert_eq!(d["metadata"]["name"], "m-predictor");
        assert_eq!(d["metadata"]["labels"]["team"], "a");
        assert_eq!(d["metadata"]["labels"]["app"], "isvc.m-predictor");
        assert_eq!(d["metadata"]["labels"]["component"], "predictor");
        assert_eq!(d["metadata"]["labels"][ISVC_LABEL], "m");
        assert_eq!(
            d["spec"]["selector"]["matchLabels"],
            json!({"app": "isvc.m-predictor"})
        );
        assert_eq!(d["spec"]["replicas"], 2);
        let c = &d["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(c["name"], "kserve-container");
        assert!(
            c["args"]
                .as_array()
                .unwrap()
                .contains(&json!("--storage_uri=gs://b/m"))
        );
        let owner = &d["metadata"]["ownerReferences"][0];
        assert_eq!(owner["kind"], "InferenceService");
        assert_eq!(owner["uid"], "u1");
        assert_eq!(owner["blockOwnerDeletion"], true);
        assert_eq!(replica_bounds(&i), (2, 2));
    }
}
