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
use super::model::{EndpointView, Kind, Mode};
use super::snapshot::SnapshotBuilder;
use crate::text::sanitize;
use crate::util::age::format_age;
use serde::Serialize;

/// Objects per list page, as kubectl and the watcher ask.
const PAGE: u32 = 500;

/// The rollup and what could not be read.
#[derive(Debug, Clone)]
pub struct StatusReport {
    pub context: ContextInfo,
    pub endpoints: Vec<EndpointView>,
    /// Operations left unfinished (a crash, a rollback that could not finish), newest first:
    /// shown on their endpoint's row, or as a row of their own when its objects are gone.
    pub unfinished: Vec<UnfinishedOp>,
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

/// An unfinished operation as `status` names it (the fields of `recover --list`, plus the
/// command that continues it).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UnfinishedOp {
    pub id: String,
    pub kind: String,
    pub namespace: String,
    pub endpoint: String,
    pub mode: Option<Mode>,
    pub step: String,
    pub state: String,
    pub started: String,
    pub holder: String,
    /// `journal` (this machine), `cluster` (backup ConfigMap), or `journal+cluster`.
    pub found_in: String,
    /// `llmops-console recover OP --resume -n NS`
    pub command: String,
}

/// Connects, lists every kind once, derives the endpoints, and adds the unfinished operations of
/// this machine's journal and the cluster's backup ConfigMaps.
pub async fn collect(
    target: &ClusterTarget,
    cfg: &GroupingConfig,
) -> Result<StatusReport, ClusterError> {
    let (client, info) = connect(target).await?;
    let journal = crate::config::paths::Paths::discover()
        .ok()
        .map(|p| p.journal_dir());
    let mut report = collect_with(client.clone(), info.clone(), cfg).await?;
    let (unfinished, notes) = unfinished_ops(client, info, cfg, journal).await;
    report.unfinished = unfinished;
    report.notices.extend(notes);
    Ok(report)
}

/// Unfinished operations in the report's scope, as `recover --list` finds them (the journal
/// at `journal`, if any, and the backup ConfigMaps), and problems reading them.
pub async fn unfinished_ops(
    client: kube::Client,
    info: ContextInfo,
    cfg: &GroupingConfig,
    journal: Option<std::path::PathBuf>,
) -> (Vec<UnfinishedOp>, Vec<String>) {
    use crate::orchestrator::{Engine, EngineSettings};
    let scope_ns = info.scope.namespace().map(str::to_string);
    let server = info.server.clone();
    // Without a state directory only the cluster's copies count.
    let journal_dir =
        journal.unwrap_or_else(|| std::path::PathBuf::from("/nonexistent/llmops-journal"));
    let engine = Engine::new(
        client,
        info,
        EngineSettings {
            audit_log: journal_dir.join("unused-audit.log"),
            journal_dir,
            grouping: cfg.clone(),
            holder: String::new(),
        },
    );
    let (found, notes) = crate::orchestrator::recover::list(&engine).await;
    let ops = found
        .into_iter()
        // A journal record of another cluster is not this one's to report.
        .filter(|u| u.found_in != "journal" || u.record.server == server)
        .filter(|u| {
            scope_ns
                .as_deref()
                .is_none_or(|ns| u.record.endpoint.namespace == ns)
        })
        .map(|u| {
            let r = &u.record;
            UnfinishedOp {
                command: format!(
                    "llmops-console recover {} --resume -n {}",
                    r.id, r.endpoint.namespace
                ),
                id: r.id.clone(),
                kind: r.kind.name().to_string(),
                namespace: r.endpoint.namespace.clone(),
                endpoint: r.endpoint.name.clone(),
                mode: r.endpoint.mode,
                step: r.step.name().to_string(),
                state: r.state.name().to_string(),
                started: r.started.to_string(),
                holder: r.holder.clone(),
                found_in: u.found_in.clone(),
            }
        })
        .collect();
    (ops, notes)
}

/// [`collect`] with a client already made, without the unfinished operations.
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
        unfinished: Vec::new(),
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
        Some(l) if l.expired() => {
            let mut s = format!("{} {}", super::derive::LEASE_EXPIRED, l.holder);
            if let Some(step) = &l.step {
                s.push_str(&format!(" @ {step}"));
            }
            s
        }
        Some(l) if !l.live => "released".to_string(),
        Some(l) => match &l.step {
            Some(step) => format!("{} @ {step}", l.holder),
            None => l.holder.clone(),
        },
    }
}

/// `Unfinished (operation OP at verify-deletion; llmops-console recover OP --resume -n NS)`
pub fn unfinished_cell(u: &UnfinishedOp) -> String {
    format!(
        "Unfinished (operation {} at {}; {})",
        u.id, u.step, u.command
    )
}

/// The unfinished operation of `key`'s endpoint, if any (the newest).
fn unfinished_of<'a>(report: &'a StatusReport, ns: &str, name: &str) -> Option<&'a UnfinishedOp> {
    report
        .unfinished
        .iter()
        .find(|u| u.namespace == ns && u.endpoint == name)
}

/// Unfinished operations whose endpoint has no objects left (a row of their own), one per
/// endpoint.
fn gone(report: &StatusReport) -> Vec<&UnfinishedOp> {
    let mut out: Vec<&UnfinishedOp> = Vec::new();
    for u in &report.unfinished {
        let shown = report
            .endpoints
            .iter()
            .any(|e| e.key.namespace == u.namespace && e.key.name == u.endpoint);
        if !shown
            && !out
                .iter()
                .any(|o| o.namespace == u.namespace && o.endpoint == u.endpoint)
        {
            out.push(u);
        }
    }
    out
}

fn mode_word(mode: Option<Mode>) -> String {
    mode.map_or("-", Mode::as_str).to_string()
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
    let mut rows: Vec<[String; 8]> = report
        .endpoints
        .iter()
        .map(|ep| {
            let mut status = format!("{:?}", ep.health);
            if let Some(u) = unfinished_of(report, &ep.key.namespace, &ep.key.name) {
                status = if ep.resources.is_empty() {
                    // Only its lease is left: the operation is what there is to say.
                    unfinished_cell(u)
                } else {
                    format!("{status}; {}", unfinished_cell(u))
                };
            }
            [
                sanitize(&ep.key.namespace).into_owned(),
                sanitize(&ep.key.name).into_owned(),
                mode_word(Some(ep.key.mode)),
                sanitize(&status).into_owned(),
                format!("{}/{}", ep.ready, ep.desired),
                ep.created
                    .map_or_else(|| "-".to_string(), |c| format_age(c, now)),
                sanitize(&terminating_cell(ep, now)).into_owned(),
                sanitize(&lease_cell(ep)).into_owned(),
            ]
        })
        .collect();
    for u in gone(report) {
        rows.push([
            sanitize(&u.namespace).into_owned(),
            sanitize(&u.endpoint).into_owned(),
            mode_word(u.mode),
            sanitize(&unfinished_cell(u)).into_owned(),
            "-".to_string(),
            "-".to_string(),
            "-".to_string(),
            "-".to_string(),
        ]);
    }
    // Stable: the derived order (namespace, name, mode) stays; gone endpoints join it.
    rows.sort_by(|a, b| (&a[0], &a[1]).cmp(&(&b[0], &b[1])));
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
/// (serde_json leaves them raw), so it is terminal-safe. An endpoint with
/// an unfinished operation carries it as `unfinished`; one whose objects are gone is an entry of
/// the same shape with health `Unfinished` and no resources.
pub fn render_json(report: &StatusReport) -> String {
    let mut items: Vec<serde_json::Value> = Vec::new();
    for ep in &report.endpoints {
        let mut v = serde_json::to_value(ep).unwrap_or(serde_json::Value::Null);
        if let (Some(u), Some(map)) = (
            unfinished_of(report, &ep.key.namespace, &ep.key.name),
            v.as_object_mut(),
        ) {
            map.insert(
                "unfinished".into(),
                serde_json::to_value(u).unwrap_or_default(),
            );
            if ep.resources.is_empty() {
                map.insert("health".into(), "Unfinished".into());
            }
        }
        items.push(v);
    }
    for u in gone(report) {
        items.push(serde_json::json!({
            "key": {"namespace": u.namespace, "name": u.endpoint, "mode": u.mode},
            "uid": "",
            "health": "Unfinished",
            "ready": 0,
            "desired": 0,
            "created": null,
            "lease": null,
            "resources": [],
            "oldest_terminating": null,
            "reasons": [unfinished_cell(u)],
            "unfinished": u,
        }));
    }
    crate::text::to_json_pretty(&items).unwrap_or_else(|e| {
        // Plain data; this cannot fail, but never panic over output.
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
