//! The few API calls plans make, on any of the endpoint's kinds through one dynamic client, with
//! errors that keep the HTTP code and the API's message (sanitised) for the progress lines.
//! Every call is bounded ([`CALL_TIMEOUT`]): a server that never answers is a transient failure
//! ("no answer within 30s"), retried visibly like a 503, never a silent hang.

use std::future::Future;
use std::time::Duration;

use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, Preconditions};
use kube::core::{ApiResource, DynamicObject};
use serde_json::Value;

use crate::cluster::error::{describe_kube_error, status_code};
use crate::cluster::kinds::{self, inference_service_resource};
use crate::cluster::model::Kind;

/// An API call that failed: what was done, the code (None: no answer) and the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: {message}")]
pub struct ApiFailure {
    pub what: String,
    pub code: Option<u16>,
    /// `409 AlreadyExists: ...` or the transport error, sanitised.
    pub message: String,
    /// The Status reason (`AlreadyExists`, `Conflict`, `NotFound`, ...), empty when none.
    pub reason: String,
    /// The server's `retryAfterSeconds` (429, 503), when it gave one.
    pub retry_after: Option<Duration>,
}

/// How long one API call of an operation may take before it counts as unanswered. Watches are
/// not calls: they are long-lived and bounded by their step's deadline instead.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a call ended without an answer, as a `kube::Error` so every caller's error path (status
/// code `None`: transient) handles it like a dropped connection.
#[derive(Debug, thiserror::Error)]
#[error("no answer within {}", crate::util::duration::format_elapsed(*.0))]
pub struct NoAnswer(pub Duration);

/// `fut`, or a [`NoAnswer`] error after `limit`.
pub async fn within<T>(
    limit: Duration,
    fut: impl Future<Output = kube::Result<T>>,
) -> kube::Result<T> {
    match tokio::time::timeout(limit, fut).await {
        Ok(r) => r,
        Err(_) => Err(kube::Error::Service(Box::new(NoAnswer(limit)))),
    }
}

/// `fut` bounded by [`CALL_TIMEOUT`].
pub async fn bounded<T>(fut: impl Future<Output = kube::Result<T>>) -> kube::Result<T> {
    within(CALL_TIMEOUT, fut).await
}

/// The `retryAfterSeconds` of an API error's Status (the apiserver sets it with 429 and 503;
/// kube does not expose the `Retry-After` header, and the two carry the same value).
pub fn retry_after_of(err: &kube::Error) -> Option<Duration> {
    match err {
        kube::Error::Api(s) => s
            .details
            .as_ref()
            .map(|d| d.retry_after_seconds)
            .filter(|&secs| secs > 0)
            .map(|secs| Duration::from_secs(u64::from(secs))),
        _ => None,
    }
}

impl ApiFailure {
    pub fn new(what: impl Into<String>, err: &kube::Error) -> ApiFailure {
        let (reason, message) = match err {
            kube::Error::Api(s) => (s.reason.clone(), describe_kube_error(err)),
            kube::Error::Service(e) if e.is::<NoAnswer>() => (String::new(), e.to_string()),
            _ => (String::new(), describe_kube_error(err)),
        };
        ApiFailure {
            what: what.into(),
            code: status_code(err),
            message,
            reason,
            retry_after: retry_after_of(err),
        }
    }

    /// Worth another try: throttled, a server error, or no answer at all.
    pub fn transient(&self) -> bool {
        match self.code {
            None => true,
            Some(c) => c == 429 || c >= 500,
        }
    }

    pub fn not_found(&self) -> bool {
        self.code == Some(404)
    }
}

/// The API resource of a kind.
pub fn resource(kind: Kind) -> ApiResource {
    use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
    use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
    use k8s_openapi::api::core::v1::{Pod, Service};
    use k8s_openapi::api::networking::v1::Ingress;
    match kind {
        Kind::InferenceService => inference_service_resource(),
        Kind::Deployment => ApiResource::erase::<Deployment>(&()),
        Kind::ReplicaSet => ApiResource::erase::<ReplicaSet>(&()),
        Kind::Pod => ApiResource::erase::<Pod>(&()),
        Kind::Service => ApiResource::erase::<Service>(&()),
        Kind::HorizontalPodAutoscaler => ApiResource::erase::<HorizontalPodAutoscaler>(&()),
        Kind::Ingress => ApiResource::erase::<Ingress>(&()),
    }
}

/// `deployments` -> group/plural as RBAC names it: (`apps`, `deployments`).
pub fn rbac_resource(kind: Kind) -> (String, String) {
    let ar = resource(kind);
    (ar.group, kinds::plural(kind).to_string())
}

/// A namespaced dynamic API for `kind`.
pub fn api(client: &kube::Client, ns: &str, kind: Kind) -> Api<DynamicObject> {
    Api::namespaced_with(client.clone(), ns, &resource(kind))
}

fn to_value(obj: &DynamicObject, kind: Kind) -> Value {
    let mut v = serde_json::to_value(obj).unwrap_or(Value::Null);
    // DynamicObject keeps apiVersion/kind as they came; lists leave them out of items.
    if let Some(m) = v.as_object_mut() {
        m.entry("apiVersion")
            .or_insert_with(|| Value::String(kinds::api_version(kind).into()));
        m.entry("kind")
            .or_insert_with(|| Value::String(kind.name().into()));
        if m.get("kind").is_some_and(|k| k.as_str() == Some("")) {
            m.insert("kind".into(), Value::String(kind.name().into()));
        }
    }
    v
}

/// GET; `Ok(None)` when it does not exist.
pub async fn get(
    client: &kube::Client,
    ns: &str,
    kind: Kind,
    name: &str,
) -> Result<Option<Value>, ApiFailure> {
    match bounded(api(client, ns, kind).get_opt(name)).await {
        Ok(o) => Ok(o.map(|o| to_value(&o, kind))),
        Err(e) => Err(ApiFailure::new(
            format!("get {} {ns}/{name}", kind.name()),
            &e,
        )),
    }
}

/// Every object of `kind` in `ns` (all pages).
pub async fn list(client: &kube::Client, ns: &str, kind: Kind) -> Result<Vec<Value>, ApiFailure> {
    let api = api(client, ns, kind);
    let mut out = Vec::new();
    let mut lp = ListParams::default().limit(500);
    loop {
        let page = bounded(api.list(&lp))
            .await
            .map_err(|e| ApiFailure::new(format!("list {} in {ns}", kinds::plural(kind)), &e))?;
        out.extend(page.items.iter().map(|o| to_value(o, kind)));
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => lp = lp.continue_token(&token),
            None => return Ok(out),
        }
    }
}

/// DELETE with background propagation, conditioned on `uid` so a newer object of the same name
/// is never hit. `grace`: `Some(0)` for a force delete. Returns the answer as a short line.
pub async fn delete(
    client: &kube::Client,
    ns: &str,
    kind: Kind,
    name: &str,
    uid: &str,
    grace: Option<u32>,
) -> Result<String, ApiFailure> {
    let mut dp = DeleteParams::background();
    dp.preconditions = Some(Preconditions {
        uid: Some(uid.to_string()),
        resource_version: None,
    });
    if let Some(g) = grace {
        dp = dp.grace_period(g);
    }
    match bounded(api(client, ns, kind).delete(name, &dp)).await {
        Ok(either) => Ok(if either.is_left() {
            "200 OK (deletion started)".to_string()
        } else {
            "200 OK (deleted)".to_string()
        }),
        Err(e) => Err(ApiFailure::new(
            format!("delete {} {ns}/{name}", kind.name()),
            &e,
        )),
    }
}

/// POST a manifest; returns the created object.
pub async fn create(
    client: &kube::Client,
    ns: &str,
    kind: Kind,
    manifest: &Value,
) -> Result<Value, ApiFailure> {
    let name = manifest
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_string();
    let what = format!("create {} {ns}/{name}", kind.name());
    let obj: DynamicObject = serde_json::from_value(manifest.clone()).map_err(|e| ApiFailure {
        what: what.clone(),
        code: None,
        message: format!("manifest is not an object: {e}"),
        reason: String::new(),
        retry_after: None,
    })?;
    match bounded(api(client, ns, kind).create(&PostParams::default(), &obj)).await {
        Ok(o) => Ok(to_value(&o, kind)),
        Err(e) => Err(ApiFailure::new(what, &e)),
    }
}

/// Removes every finalizer with a JSON patch that first tests the resourceVersion, so finalizers
/// added since the object was read are never dropped unseen.
pub async fn strip_finalizers(
    client: &kube::Client,
    ns: &str,
    kind: Kind,
    name: &str,
    resource_version: &str,
) -> Result<Value, ApiFailure> {
    let ops: json_patch::Patch = serde_json::from_value(serde_json::json!([
        {"op": "test", "path": "/metadata/resourceVersion", "value": resource_version},
        {"op": "replace", "path": "/metadata/finalizers", "value": []},
    ]))
    .map_err(|e| ApiFailure {
        what: format!("strip finalizers of {} {ns}/{name}", kind.name()),
        code: None,
        message: e.to_string(),
        reason: String::new(),
        retry_after: None,
    })?;
    match bounded(api(client, ns, kind).patch(
        name,
        &PatchParams::default(),
        &Patch::<()>::Json(ops),
    ))
    .await
    {
        Ok(o) => Ok(to_value(&o, kind)),
        Err(e) => Err(ApiFailure::new(
            format!("strip finalizers of {} {ns}/{name}", kind.name()),
            &e,
        )),
    }
}

/// Creates a core/v1 Event; returns the API answer on failure only.
pub async fn create_event(
    client: &kube::Client,
    ns: &str,
    event: &Value,
) -> Result<(), ApiFailure> {
    use k8s_openapi::api::core::v1::Event;
    let ev: Event = serde_json::from_value(event.clone()).map_err(|e| ApiFailure {
        what: format!("create event in {ns}"),
        code: None,
        message: e.to_string(),
        reason: String::new(),
        retry_after: None,
    })?;
    let api: Api<Event> = Api::namespaced(client.clone(), ns);
    bounded(api.create(&PostParams::default(), &ev))
        .await
        .map(|_| ())
        .map_err(|e| ApiFailure::new(format!("create event in {ns}"), &e))
}

/// Metadata accessors on JSON objects.
pub fn uid(v: &Value) -> &str {
    v.pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or("")
}
pub fn name(v: &Value) -> &str {
    v.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
}
pub fn resource_version(v: &Value) -> &str {
    v.pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .unwrap_or("")
}
pub fn finalizers(v: &Value) -> Vec<String> {
    v.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}
pub fn deletion_timestamp(v: &Value) -> Option<jiff::Timestamp> {
    v.pointer("/metadata/deletionTimestamp")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
}
