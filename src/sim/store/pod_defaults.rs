//! Defaulting of pod specs, in pods and in the pod templates of Deployments and ReplicaSets, as
//! the apiserver does on every write (`SetDefaults_PodSpec`, `SetDefaults_Container`,
//! `SetDefaults_Probe`, ...). `kubectl describe` and `-o yaml` show these fields on a real cluster.

use serde_json::{Value, json};

use super::defaults::default_field;
use crate::sim::kinds::ResourceType;

/// Where `rt` keeps a pod spec, if it has one.
fn pod_spec_pointer(rt: &ResourceType) -> Option<&'static str> {
    match rt.plural {
        "pods" => Some("/spec"),
        "deployments" | "replicasets" => Some("/spec/template/spec"),
        _ => None,
    }
}

/// Defaults the pod spec of an object of `rt` (pods, Deployments, ReplicaSets); a no-op for
/// other kinds and for fields already set, so it is safe on every write.
pub fn apply(rt: &ResourceType, obj: &mut Value) {
    let Some(pointer) = pod_spec_pointer(rt) else {
        return;
    };
    if let Some(spec) = obj.pointer_mut(pointer).filter(|s| s.is_object()) {
        default_pod_spec(spec);
    }
}

pub fn default_pod_spec(spec: &mut Value) {
    default_field(spec, "/restartPolicy", json!("Always"));
    default_field(spec, "/terminationGracePeriodSeconds", json!(30));
    default_field(spec, "/dnsPolicy", json!("ClusterFirst"));
    default_field(spec, "/schedulerName", json!("default-scheduler"));
    default_field(spec, "/securityContext", json!({}));
    default_field(spec, "/enableServiceLinks", json!(true));
    for list in ["containers", "initContainers"] {
        if let Some(containers) = spec.get_mut(list).and_then(Value::as_array_mut) {
            containers
                .iter_mut()
                .filter(|c| c.is_object())
                .for_each(default_container);
        }
    }
}

/// `Always` for an image without a tag or tagged `latest`, else `IfNotPresent`.
fn pull_policy(image: &str) -> &'static str {
    if image.contains('@') {
        return "IfNotPresent";
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        Some((_, tag)) if tag != "latest" => "IfNotPresent",
        _ => "Always",
    }
}

fn default_container(c: &mut Value) {
    default_field(c, "/terminationMessagePath", json!("/dev/termination-log"));
    default_field(c, "/terminationMessagePolicy", json!("File"));
    let policy = pull_policy(c.get("image").and_then(Value::as_str).unwrap_or(""));
    default_field(c, "/imagePullPolicy", json!(policy));
    default_field(c, "/resources", json!({}));
    if let Some(ports) = c.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports.iter_mut().filter(|p| p.is_object()) {
            default_field(p, "/protocol", json!("TCP"));
        }
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        let Some(p) = c.get_mut(probe).filter(|p| p.is_object()) else {
            continue;
        };
        default_field(p, "/timeoutSeconds", json!(1));
        default_field(p, "/periodSeconds", json!(10));
        default_field(p, "/successThreshold", json!(1));
        default_field(p, "/failureThreshold", json!(3));
        if let Some(get) = p.get_mut("httpGet").filter(|g| g.is_object()) {
            default_field(get, "/scheme", json!("HTTP"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::kinds;

    #[test]
    fn pull_policy_follows_the_tag() {
        assert_eq!(pull_policy("nginx"), "Always");
        assert_eq!(pull_policy("nginx:latest"), "Always");
        assert_eq!(pull_policy("nginx:1.27"), "IfNotPresent");
        assert_eq!(pull_policy("registry:5000/team/app"), "Always");
        assert_eq!(pull_policy("registry:5000/team/app:v2"), "IfNotPresent");
        assert_eq!(pull_policy("app@sha256:abc"), "IfNotPresent");
    }

    #[test]
    fn templates_and_pods_get_the_apiserver_defaults() {
        let mut dep = json!({"spec": {"template": {"spec": {"containers": [{
            "name": "c", "image": "vllm/vllm-openai:v0.8.5",
            "ports": [{"containerPort": 8080}],
            "readinessProbe": {"httpGet": {"path": "/health", "port": 8080}},
        }]}}}});
        apply(&kinds::DEPLOYMENTS, &mut dep);
        let spec = &dep["spec"]["template"]["spec"];
        assert_eq!(spec["restartPolicy"], "Always");
        assert_eq!(spec["terminationGracePeriodSeconds"], 30);
        assert_eq!(spec["securityContext"], json!({}));
        let c = &spec["containers"][0];
        assert_eq!(c["imagePullPolicy"], "IfNotPresent");
        assert_eq!(c["terminationMessagePath"], "/dev/termination-log");
        assert_eq!(c["ports"][0]["protocol"], "TCP");
        assert_eq!(
            c["readinessProbe"],
            json!({"httpGet": {"path": "/health", "port": 8080, "scheme": "HTTP"},
                   "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1,
                   "failureThreshold": 3})
        );
        // Idempotent, and set fields are kept.
        let mut pod = json!({"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "x"}]}});
        apply(&kinds::PODS, &mut pod);
        let once = pod.clone();
        apply(&kinds::PODS, &mut pod);
        assert_eq!(pod, once);
        assert_eq!(pod["spec"]["restartPolicy"], "Never");
        assert_eq!(pod["spec"]["containers"][0]["imagePullPolicy"], "Always");
        let mut cm = json!({"spec": {}});
        apply(&kinds::CONFIGMAPS, &mut cm);
        assert_eq!(cm, json!({"spec": {}}));
    }
}
