//! An endpoint's objects as the tests compare them: which objects a redeploy recreates, their
//! UIDs, their specs with what the server or a controller fills in taken out, and whether the
//! endpoint is Ready.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::cluster::{Cluster, K};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Raw,
    Kserve,
}

/// An endpoint: a raw Deployment (with its Service, HPA and Ingress of the same name) or an
/// InferenceService (whose controller derives `<name>-predictor` Deployment, Service and HPA and
/// an Ingress `<name>`).
#[derive(Debug, Clone)]
pub struct Ep {
    pub ns: String,
    pub name: String,
    pub mode: Mode,
}

/// The objects of an endpoint that exist, by `Kind/name`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct State {
    pub objects: BTreeMap<String, Value>,
}

/// Which spec an endpoint is on, compared with a snapshot taken before an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecIs {
    /// Every object as in the snapshot.
    Old,
    /// As in the snapshot except the workload's image, which is the new one.
    New,
    /// Anything else, with what differs.
    Other(Vec<String>),
}

impl SpecIs {
    pub fn word(&self) -> &'static str {
        match self {
            SpecIs::Old => "old",
            SpecIs::New => "new",
            SpecIs::Other(_) => "OTHER",
        }
    }
}

impl Ep {
    pub fn raw(ns: &str, name: &str) -> Ep {
        Ep {
            ns: ns.into(),
            name: name.into(),
            mode: Mode::Raw,
        }
    }

    pub fn kserve(ns: &str, name: &str) -> Ep {
        Ep {
            ns: ns.into(),
            name: name.into(),
            mode: Mode::Kserve,
        }
    }

    /// `NS/NAME`, as the commands take it.
    pub fn arg(&self) -> String {
        format!("{}/{}", self.ns, self.name)
    }

    /// The Deployment that runs the pods.
    pub fn deployment(&self) -> String {
        match self.mode {
            Mode::Raw => self.name.clone(),
            Mode::Kserve => format!("{}-predictor", self.name),
        }
    }

    /// The objects a redeploy deletes and recreates (directly, or through the KServe controller).
    pub fn objects(&self) -> Vec<(K, String)> {
        let n = self.name.clone();
        match self.mode {
            Mode::Raw => vec![
                (K::Deployment, n.clone()),
                (K::Service, n.clone()),
                (K::Hpa, n.clone()),
                (K::Ingress, n),
            ],
            Mode::Kserve => {
                let p = self.deployment();
                vec![
                    (K::InferenceService, n.clone()),
                    (K::Deployment, p.clone()),
                    (K::Service, p.clone()),
                    (K::Hpa, p),
                    (K::Ingress, n),
                ]
            }
        }
    }

    pub fn read(&self, c: &Cluster) -> State {
        let objects = self
            .objects()
            .into_iter()
            .filter_map(|(k, n)| c.get(k, &self.ns, &n).map(|v| (key(k, &n), v)))
            .collect();
        State { objects }
    }

    /// Ready: every object there and not Terminating, the Deployment rolled out with all replicas
    /// available, the InferenceService's Ready condition True. `Err` says what is missing.
    pub fn ready(&self, c: &Cluster) -> Result<State, String> {
        let st = self.read(c);
        for (k, n) in self.objects() {
            let Some(o) = st.objects.get(&key(k, &n)) else {
                return Err(format!("{} {n} does not exist", k.kind()));
            };
            if o.pointer("/metadata/deletionTimestamp").is_some() {
                return Err(format!("{} {n} is Terminating", k.kind()));
            }
        }
        let d = &st.objects[&key(K::Deployment, &self.deployment())];
        let int = |p: &str| d.pointer(p).and_then(Value::as_i64).unwrap_or(0);
        let want = d
            .pointer("/spec/replicas")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        if int("/status/observedGeneration") < int("/metadata/generation")
            || int("/status/updatedReplicas") != want
            || int("/status/availableReplicas") < want
            || int("/status/readyReplicas") != want
        {
            return Err(format!(
                "Deployment {} not rolled out: status {}",
                self.deployment(),
                d["status"]
            ));
        }
        if self.mode == Mode::Kserve {
            let isvc = &st.objects[&key(K::InferenceService, &self.name)];
            let ready = isvc
                .pointer("/status/conditions")
                .and_then(Value::as_array)
                .is_some_and(|cs| {
                    cs.iter()
                        .any(|c| c["type"] == "Ready" && c["status"] == "True")
                });
            if !ready {
                return Err(format!(
                    "InferenceService {} not Ready: {}",
                    self.name, isvc["status"]
                ));
            }
        }
        Ok(st)
    }

    /// Polls until Ready (failing the test after `deadline`, which only bounds a broken run).
    pub fn wait_ready(&self, c: &Cluster, deadline: Duration) -> State {
        let started = Instant::now();
        loop {
            match self.ready(c) {
                Ok(st) => return st,
                Err(why) if started.elapsed() > deadline => {
                    panic!("{} not Ready after {deadline:?}: {why}", self.arg())
                }
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    /// The pods of the endpoint (by the Deployment's `app` label).
    pub fn pods(&self, c: &Cluster) -> Vec<Value> {
        let app = match self.mode {
            Mode::Raw => self.name.clone(),
            Mode::Kserve => format!("isvc.{}", self.deployment()),
        };
        c.list(K::Pod, &self.ns, Some(&format!("app={app}")))
    }
}

pub fn key(k: K, name: &str) -> String {
    format!("{}/{name}", k.kind())
}

impl State {
    pub fn uids(&self) -> BTreeMap<String, String> {
        self.objects
            .iter()
            .map(|(k, v)| (k.clone(), str_at(v, "/metadata/uid")))
            .collect()
    }

    /// Every object [`sanitize`]d.
    pub fn specs(&self) -> BTreeMap<String, Value> {
        self.objects
            .iter()
            .map(|(k, v)| (k.clone(), sanitize(v)))
            .collect()
    }

    /// The first container's image of the (raw) Deployment `name`.
    pub fn image(&self, deployment: &str) -> Option<String> {
        self.objects
            .get(&key(K::Deployment, deployment))
            .and_then(|d| d.pointer("/spec/template/spec/containers/0/image"))
            .and_then(Value::as_str)
            .map(str::to_string)
    }

    /// Old, new (only the Deployment `deployment`'s image changed, to `new_image`) or other.
    pub fn spec_is(&self, before: &State, deployment: &str, new_image: &str) -> SpecIs {
        let (a, b) = (before.specs(), self.specs());
        let mut diffs = Vec::new();
        for k in a
            .keys()
            .chain(b.keys())
            .collect::<std::collections::BTreeSet<_>>()
        {
            match (a.get(k), b.get(k)) {
                (Some(x), Some(y)) => json_diff(x, y, k, &mut diffs),
                (Some(_), None) => diffs.push(format!("{k}: missing now")),
                (None, Some(_)) => diffs.push(format!("{k}: was not there before")),
                (None, None) => {}
            }
        }
        if diffs.is_empty() {
            return SpecIs::Old;
        }
        let image_path = format!(
            "{}.spec.template.spec.containers[0].image",
            key(K::Deployment, deployment)
        );
        if diffs.len() == 1
            && diffs[0].starts_with(&format!("{image_path}:"))
            && self.image(deployment).as_deref() == Some(new_image)
        {
            return SpecIs::New;
        }
        SpecIs::Other(diffs)
    }
}

pub fn str_at(v: &Value, p: &str) -> String {
    v.pointer(p)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Annotations the server or a controller writes, which say nothing about the spec.
const VOLATILE_ANNOTATIONS: &[&str] = &["deployment.kubernetes.io/revision"];

/// What an operator applied: name, namespace, labels, annotations (minus the server's) and spec,
/// without what the API server or a controller fills in (uid, resourceVersion, timestamps,
/// status, finalizers, a Service's cluster IPs, the owner's UID).
pub fn sanitize(obj: &Value) -> Value {
    let m = &obj["metadata"];
    let mut meta = serde_json::Map::new();
    for f in ["name", "namespace", "labels"] {
        if let Some(v) = m.get(f) {
            meta.insert(f.into(), v.clone());
        }
    }
    if let Some(Value::Object(a)) = m.get("annotations") {
        let kept: serde_json::Map<String, Value> = a
            .iter()
            .filter(|(k, _)| !VOLATILE_ANNOTATIONS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !kept.is_empty() {
            meta.insert("annotations".into(), Value::Object(kept));
        }
    }
    if let Some(Value::Array(owners)) = m.get("ownerReferences") {
        let owners: Vec<Value> = owners
            .iter()
            .map(|o| {
                let mut o = o.clone();
                if let Some(map) = o.as_object_mut() {
                    map.remove("uid");
                }
                o
            })
            .collect();
        meta.insert("ownerReferences".into(), Value::Array(owners));
    }
    let mut spec = obj.get("spec").cloned().unwrap_or(Value::Null);
    if obj["kind"] == "Service"
        && let Some(s) = spec.as_object_mut()
    {
        s.remove("clusterIP");
        s.remove("clusterIPs");
    }
    serde_json::json!({
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "metadata": meta,
        "spec": spec,
    })
}

/// Paths where `a` and `b` differ, as `PREFIX.path: a -> b`.
pub fn json_diff(a: &Value, b: &Value, prefix: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x
                .keys()
                .chain(y.keys())
                .collect::<std::collections::BTreeSet<_>>()
            {
                let p = format!("{prefix}.{k}");
                match (x.get(k), y.get(k)) {
                    (Some(u), Some(v)) => json_diff(u, v, &p, out),
                    (u, v) => out.push(format!("{p}: {} -> {}", show(u), show(v))),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (u, v)) in x.iter().zip(y).enumerate() {
                json_diff(u, v, &format!("{prefix}[{i}]"), out);
            }
        }
        _ if a == b => {}
        _ => out.push(format!("{prefix}: {a} -> {b}")),
    }
}

fn show(v: Option<&Value>) -> String {
    v.map_or_else(|| "(none)".into(), Value::to_string)
}
