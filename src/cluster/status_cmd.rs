//! `llmops-console status`: the endpoint rollup without the TUI, for scripts. One list pass per
//! kind (no watch), the same derivation as the console, printed as a table or as JSON.

use std::fmt::Write as _;

use jiff::Timestamp;
use k8s_openapi::NamespaceResourceScope;
use kube::Resource;
use kube::api::{Api, ListParams};
use kube::core::DynamicObject;
use serde::de::DeserializeOwned;

use super::client::{ClusterTarget, ContextInfo, Scope, connect};
use super::derive::{GroupingConfig, derive_endpoints};
use super::error::{ClusterError, describe_kube_error, status_code};
use super::kinds::{self, LEASE_PREFIX, inference_service_resource};
use super::model::{EndpointView, Kind};
use super::snapshot::SnapshotBuilder;
use crate::text::sanitize;
use crate::util::age::format_age;

/// Objects per list page, as kubectl and the watcher ask.
const PAGE: u32 = 500;

/// The rollup and what could not be read.
#[derive(Debug, Clone)]
pub struct StatusReport {
    pub context: ContextInfo,
    pub endpoints: Vec<EndpointView>,
    /// Kinds that could not be listed (RBAC, KServe not installed); they count as empty.
    pub notices: Vec<String>,
    pub now: Timestamp,
}

async fn list_all<K>(api: Api<K>) -> Result<Vec<K>, kube::Error>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    let mut out = Vec::new();
    let mut lp = ListParams::default().limit(PAGE);
    loop {
        let page = api.list(&lp).await?;
        out.extend(page.items);
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => lp = lp.continue_token(&token),
            None => return Ok(out),
        }
    }
}

fn api_for<K>(client: &kube::Client, scope: &Scope) -> Api<K>
where
    K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>,
{
    match scope {
        Scope::All => Api::all(client.clone()),
        Scope::Namespace(ns) => Api::namespaced(client.clone(), ns),
    }
}

/// What to do with a failed list: a 403/404 is a notice (the kind stays empty); anything else
/// fails the command.
struct ListFailure<'a> {
    info: &'a ContextInfo,
    notices: Vec<String>,
}

impl ListFailure<'_> {
    fn take<T>(
        &mut self,
        plural: &str,
        r: Result<Vec<T>, kube::Error>,
    ) -> Result<Vec<T>, ClusterError> {
        let what = format!("list {plural} in {}", self.info.scope);
        match r {
            Ok(v) => Ok(v),
            Err(e) if matches!(status_code(&e), Some(403 | 404)) => {
                let hint = if status_code(&e) == Some(404) {
                    " (not served here; is KServe installed?)"
                } else {
                    ""
                };
                self.notices.push(format!(
                    "cannot {what}: {}{hint}; shown as none",
                    describe_kube_error(&e)
                ));
                Ok(Vec::new())
            }
            Err(e) => Err(ClusterError::api(
                &self.info.context,
                &self.info.server,
                what,
                &e,
            )),
        }
    }
}

/// Connects, lists every kind once, derives the endpoints.
pub async fn collect(
    target: &ClusterTarget,
    cfg: &GroupingConfig,
) -> Result<StatusReport, ClusterError> {
    let (client, info) = connect(target).await?;
    collect_with(client, info, cfg).await
}

/// [`collect`] with a client already made.
pub async fn collect_with(
    client: kube::Client,
    info: ContextInfo,
    cfg: &GroupingConfig,
) -> Result<StatusReport, ClusterError> {
    let scope = &info.scope;
    let ar = inference_service_resource();
    let isvc_api: Api<DynamicObject> = match scope {
        Scope::All => Api::all_with(client.clone(), &ar),
        Scope::Namespace(ns) => Api::namespaced_with(client.clone(), ns, &ar),
    };
    let (isvcs, deploys, rss, pods, svcs, hpas, ings, leases) = futures::join!(
        list_all(isvc_api),
        list_all(api_for::<kinds::DeploymentObject>(&client, scope)),
        list_all(api_for::<kinds::ReplicaSetObject>(&client, scope)),
        list_all(api_for::<kinds::PodObject>(&client, scope)),
        list_all(api_for::<kinds::ServiceObject>(&client, scope)),
        list_all(api_for::<kinds::HpaObject>(&client, scope)),
        list_all(api_for::<kinds::IngressObject>(&client, scope)),
        list_all(api_for::<kinds::LeaseObject>(&client, scope)),
    );
    let mut f = ListFailure {
        info: &info,
        notices: Vec::new(),
    };
    fn arc<T>(v: Vec<T>) -> Vec<std::sync::Arc<T>> {
        v.into_iter().map(std::sync::Arc::new).collect()
    }
    let b = SnapshotBuilder {
        inference_services: arc(f.take(kinds::plural(Kind::InferenceService), isvcs)?),
        deployments: arc(f.take(kinds::plural(Kind::Deployment), deploys)?),
        replica_sets: arc(f.take(kinds::plural(Kind::ReplicaSet), rss)?),
        pods: arc(f.take(kinds::plural(Kind::Pod), pods)?),
        services: arc(f.take(kinds::plural(Kind::Service), svcs)?),
        hpas: arc(f.take(kinds::plural(Kind::HorizontalPodAutoscaler), hpas)?),
        ingresses: arc(f.take(kinds::plural(Kind::Ingress), ings)?),
        leases: f
            .take("leases", leases)?
            .into_iter()
            .filter(|l| {
                l.metadata
                    .name
                    .as_deref()
                    .is_some_and(|n| n.starts_with(LEASE_PREFIX))
            })
            .map(std::sync::Arc::new)
            .collect(),
    };
    let notices = f.notices;
    let now = Timestamp::now();
    let endpoints = derive_endpoints(&b.build(), cfg, now);
    Ok(StatusReport {
        context: info,
        endpoints,
        notices,
        now,
    })
}

/// The TERMINATING cell: how long, and what holds it.
pub fn terminating_cell(ep: &EndpointView, now: Timestamp) -> String {
    let Some(t) = &ep.oldest_terminating else {
        return "-".to_string();
    };
    let age = format_age(t.since, now);
    if t.finalizers.is_empty() {
        format!("{age} (grace period)")
    } else {
        format!("{age} ({})", t.finalizers.join(","))
    }
}

fn lease_cell(ep: &EndpointView) -> String {
    match &ep.lease {
        None => "-".to_string(),
        Some(l) if !l.live => format!("expired ({})", l.holder),
        Some(l) => match &l.step {
            Some(step) => format!("{} @ {step}", l.holder),
            None => l.holder.clone(),
        },
    }
}

/// Aligned columns, every cluster-supplied string neutralised for the terminal.
pub fn render_table(report: &StatusReport) -> String {
    let now = report.now;
    let header = [
        "NAMESPACE",
        "NAME",
        "MODE",
        "STATUS",
        "READY",
        "AGE",
        "TERMINATING",
        "LEASE",
    ];
    let rows: Vec<[String; 8]> = report
        .endpoints
        .iter()
        .map(|ep| {
            [
                sanitize(&ep.key.namespace).into_owned(),
                sanitize(&ep.key.name).into_owned(),
                match ep.key.mode {
                    super::model::Mode::Kserve => "kserve".to_string(),
                    super::model::Mode::Raw => "raw".to_string(),
                },
                format!("{:?}", ep.health),
                format!("{}/{}", ep.ready, ep.desired),
                ep.created
                    .map_or_else(|| "-".to_string(), |c| format_age(c, now)),
                sanitize(&terminating_cell(ep, now)).into_owned(),
                sanitize(&lease_cell(ep)).into_owned(),
            ]
        })
        .collect();
    let mut out = String::new();
    if rows.is_empty() {
        let scope = report.context.scope.to_string();
        let _ = writeln!(out, "No endpoints found in {}.", sanitize(&scope));
    } else {
        let mut widths = header.map(str::len);
        for r in &rows {
            for (w, cell) in widths.iter_mut().zip(r) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: Vec<&str>| {
            let mut s = String::new();
            let last = cells.len() - 1;
            for (i, c) in cells.into_iter().enumerate() {
                s.push_str(c);
                if i < last {
                    let pad = widths[i] + 3 - c.chars().count();
                    s.extend(std::iter::repeat_n(' ', pad));
                }
            }
            s.trim_end().to_string()
        };
        let _ = writeln!(out, "{}", line(header.to_vec()));
        for r in &rows {
            let _ = writeln!(out, "{}", line(r.iter().map(String::as_str).collect()));
        }
    }
    for n in &report.notices {
        let _ = writeln!(out, "warning: {}", sanitize(n));
    }
    out
}

/// The endpoints as a JSON array; DEL, C1 and bidi controls are escaped as `\uXXXX` too
/// (serde_json leaves them raw), so it is terminal-safe.
pub fn render_json(report: &StatusReport) -> String {
    crate::text::to_json_pretty(&report.endpoints).unwrap_or_else(|e| {
        // EndpointView is plain data; this cannot fail, but never panic over output.
        format!("{{\"error\": {:?}}}", e.to_string())
    })
}

/// Runs `status` and returns what to print: the table (with warnings under it) or the JSON.
pub async fn run(
    target: &ClusterTarget,
    cfg: &GroupingConfig,
    json: bool,
) -> Result<String, ClusterError> {
    let report = collect(target, cfg).await?;
    Ok(if json {
        render_json(&report) + "\n"
    } else {
        render_table(&report)
    })
}

#[cfg(test)]
#[path = "status_cmd_tests.rs"]
mod tests;
