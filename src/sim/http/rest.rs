//! get, list (with paging), create, update, patch, delete and the `status`/`scale` subresources.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{Method, header};
use axum::response::Response;
use serde_json::{Value, json};

use super::query::{Filter, WriteKind, dry_run_error};
use super::response::{error_response, json_response, with_warnings};
use super::table;
use super::{ApiRequest, HttpState};
use crate::sim::error::{ApiError, FieldError, success_status};
use crate::sim::kinds::ResourceType;
use crate::sim::meta;
use crate::sim::patch::{self, PatchType};
use crate::sim::selectors::validation::go_quote;
use crate::sim::store::{
    DeleteOptions, DeleteOutcome, Precondition, Propagation, WriteOptions, validation,
};

mod review;
mod scale;

/// A list being read page by page: when it was taken, its items, its resourceVersion.
type ListSnapshot = (Instant, Arc<Vec<Arc<Value>>>, u64);

/// Snapshots of lists being read page by page, so every page is consistent with the first.
#[derive(Default)]
pub struct PageCache {
    next_id: u64,
    pages: HashMap<u64, ListSnapshot>,
}

/// How long an unfinished paged list is kept (the apiserver's etcd compaction window is 5 min).
const PAGE_TTL: Duration = Duration::from_secs(300);

pub async fn serve(st: &Arc<HttpState>, req: &ApiRequest) -> Response {
    if let Err(e) = super::rv::gate(&st.ctx.store, req).await {
        return error_response(&e);
    }
    match handle(st, req) {
        Ok(resp) => resp,
        Err(e) => error_response(&e),
    }
}

fn handle(st: &Arc<HttpState>, req: &ApiRequest) -> Result<Response, ApiError> {
    let r = &req.route;
    let rt = r.rt;
    let sub = r.subresource.as_deref();
    if rt.plural == "selfsubjectaccessreviews" {
        return review::create(st, req);
    }
    if rt.plural == "selfsubjectrulesreviews" {
        return review::rules(st, req);
    }
    if rt.namespaced && r.namespace.is_none() && (r.name.is_some() || req.method != Method::GET) {
        // Only list and watch are served across namespaces.
        return Err(ApiError::method_not_allowed());
    }
    // Table output (kubectl get): only reads are printed, as kubectl only asks for them.
    let table = match req.verb {
        "get" | "list" => table::requested(&req.headers, &req.query)?,
        _ => None,
    };
    match (req.verb, sub) {
        ("get", Some("scale")) => scale::get(st, req, table),
        ("update" | "patch", Some("scale")) => scale::write(st, req),
        ("get", _) => {
            let obj = st.ctx.store.get(rt, r.ns(), name(req)?)?;
            Ok(match table {
                Some(opts) => {
                    json_response(200, &table::for_object(rt, &obj, opts, true, meta::now()))
                }
                None => json_response(200, &obj),
            })
        }
        ("list", _) => list(st, req, table),
        // Writes to a collection path other than create, or a create on an object path: no
        // route serves them.
        ("create", None) if r.name.is_none() => create(st, req),
        ("update", _) if r.name.is_some() => update(st, req),
        ("patch", _) if r.name.is_some() => patch_object(st, req),
        ("delete", None) => delete(st, req),
        ("deletecollection", None) => delete_collection(st, req),
        _ => Err(ApiError::method_not_allowed()),
    }
}

fn name(req: &ApiRequest) -> Result<&str, ApiError> {
    req.route
        .name
        .as_deref()
        .ok_or_else(|| ApiError::bad_request("a resource name is required"))
}

/// Parses a request body: JSON, or YAML for apply patches.
pub(super) fn parse_body(req: &ApiRequest) -> Result<Value, ApiError> {
    if req.body.is_empty() {
        return Err(ApiError::bad_request("the request body is empty"));
    }
    let ct = content_type(req);
    if ct.contains("protobuf") && req.route.rt.custom {
        // Custom resources have no protobuf form.
        return Err(ApiError::unsupported_media_type(&[
            "application/json",
            "application/yaml",
        ]));
    }
    if ct.starts_with("application/vnd.kubernetes.protobuf") {
        // kubectl sends typed objects (create configmap, auth can-i, ...) as protobuf.
        return crate::sim::protobuf::decode(&req.body).map_err(|e| match e {
            crate::sim::protobuf::ProtoError::NoMagic
            | crate::sim::protobuf::ProtoError::Malformed(_) => ApiError::bad_request(format!(
                "the body of the request could not be decoded as protobuf: {e}"
            )),
            _ => {
                let mut err =
                    ApiError::unsupported_media_type(&["application/json", "application/yaml"]);
                err.message = format!("{}: {e}", err.message);
                err
            }
        });
    }
    if ct.contains("yaml") {
        if let Some((line, column)) = super::yaml_depth::too_deep(&req.body) {
            return Err(ApiError::bad_request(format!(
                "the body of the request could not be decoded as YAML: recursion limit exceeded at line {line} column {column}"
            )));
        }
        return serde_yaml_ng::from_slice::<Value>(&req.body).map_err(|e| {
            ApiError::bad_request(format!(
                "the body of the request could not be decoded as YAML: {e}"
            ))
        });
    }
    serde_json::from_slice::<Value>(&req.body).map_err(|e| {
        ApiError::bad_request(format!(
            "the body of the request could not be decoded as JSON: {e}"
        ))
    })
}

fn content_type(req: &ApiRequest) -> String {
    req.headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_ascii_lowercase()
}

/// The options of a write, validated as the apiserver does before it reads the body.
fn write_options(req: &ApiRequest, kind: WriteKind) -> Result<WriteOptions, ApiError> {
    req.query.validate_write_options(kind)?;
    Ok(WriteOptions {
        dry_run: req.query.dry_run(),
        field_manager: req.query.field_manager(),
        keep_status: false,
        status_only: req.route.subresource.as_deref() == Some("status"),
    })
}

fn list(
    st: &Arc<HttpState>,
    req: &ApiRequest,
    table: Option<table::TableOptions>,
) -> Result<Response, ApiError> {
    let rt = req.route.rt;
    req.query.validate_list_options(false)?;
    let limit = req
        .query
        .int("limit")?
        .filter(|l| *l > 0)
        .map(|l| l as usize);
    let continued = req.query.get("continue").map(parse_continue).transpose()?;
    let (items, rv, offset) = match continued {
        Some((id, offset)) => {
            let pages = st.pages.lock().unwrap_or_else(|p| p.into_inner());
            let (_, items, rv) = pages.pages.get(&id).cloned().ok_or_else(|| {
                ApiError::new(
                    410,
                    "Expired",
                    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
                )
            })?;
            let offset = offset.min(items.len());
            (items, rv, offset)
        }
        None => {
            let filter = Filter::from_query(&req.query, rt, req.route.namespace.as_deref())?;
            let (items, rv) = st
                .ctx
                .store
                .list(rt, req.route.namespace.as_deref(), &|o| filter.matches(o));
            (Arc::new(items), rv, 0)
        }
    };
    let end = limit.map_or(items.len(), |l| offset.saturating_add(l).min(items.len()));
    let mut metadata = json!({"resourceVersion": rv.to_string()});
    {
        let mut pages = st.pages.lock().unwrap_or_else(|p| p.into_inner());
        if end < items.len() {
            pages.pages.retain(|_, (t, _, _)| t.elapsed() < PAGE_TTL);
            // Every page of one list shares the snapshot taken for its first page.
            let id = match continued {
                Some((id, _)) => id,
                None => {
                    pages.next_id += 1;
                    let id = pages.next_id;
                    pages.pages.insert(id, (Instant::now(), items.clone(), rv));
                    id
                }
            };
            meta::set_field(&mut metadata, "continue", json!(format!("{id}-{end}")));
            meta::set_field(
                &mut metadata,
                "remainingItemCount",
                json!(items.len() - end),
            );
        } else if let Some((id, _)) = continued {
            // The last page was read: the snapshot is no longer needed.
            pages.pages.remove(&id);
        }
    }
    let page = &items[offset.min(items.len())..end];
    Ok(match table {
        Some(opts) => {
            let rows = page.iter().map(|o| &**o);
            json_response(
                200,
                &table::build(rt, rows, opts, true, metadata, meta::now()),
            )
        }
        None => list_response(st, rt, metadata, page),
    })
}

/// Serialises a list from the items' cached JSON, without building one big `Value`.
fn list_response(
    st: &HttpState,
    rt: &ResourceType,
    metadata: Value,
    items: &[Arc<Value>],
) -> Response {
    let parts = st.json.serialize_all(items);
    let mut out = Vec::with_capacity(parts.iter().map(|p| p.len() + 1).sum::<usize>() + 256);
    out.extend_from_slice(b"{\"kind\":");
    let _ = serde_json::to_writer(&mut out, &rt.list_kind());
    out.extend_from_slice(b",\"apiVersion\":");
    let _ = serde_json::to_writer(&mut out, &rt.api_version());
    out.extend_from_slice(b",\"metadata\":");
    let _ = serde_json::to_writer(&mut out, &metadata);
    out.extend_from_slice(b",\"items\":[");
    for (i, item) in parts.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(item);
    }
    out.extend_from_slice(b"]}");
    super::response::bytes_response(200, "application/json", out)
}

fn parse_continue(token: &str) -> Result<(u64, usize), ApiError> {
    let bad = || ApiError::bad_request(format!("continue key is not valid: {token:?}"));
    let (id, offset) = token.split_once('-').ok_or_else(bad)?;
    Ok((
        id.parse().map_err(|_| bad())?,
        offset.parse().map_err(|_| bad())?,
    ))
}

fn create(st: &Arc<HttpState>, req: &ApiRequest) -> Result<Response, ApiError> {
    let rt = req.route.rt;
    let opts = write_options(req, WriteKind::Create)?;
    let body = parse_body(req)?;
    let obj = st.ctx.store.create(rt, req.route.ns(), body, &opts)?;
    Ok(written(201, &obj, None))
}

/// The answer to a successful write, with the warnings the written object draws.
fn written(code: u16, obj: &Value, before: Option<&Value>) -> Response {
    with_warnings(json_response(code, obj), &validation::warnings(obj, before))
}

fn update(st: &Arc<HttpState>, req: &ApiRequest) -> Result<Response, ApiError> {
    let rt = req.route.rt;
    let opts = write_options(req, WriteKind::Update)?;
    let body = parse_body(req)?;
    let before = st.ctx.store.get(rt, req.route.ns(), name(req)?).ok();
    let obj = st
        .ctx
        .store
        .update(rt, req.route.ns(), name(req)?, body, &opts)?;
    Ok(written(200, &obj, before.as_deref()))
}

fn patch_object(st: &Arc<HttpState>, req: &ApiRequest) -> Result<Response, ApiError> {
    let rt = req.route.rt;
    let name = name(req)?;
    let ct = content_type(req);
    let accepted: &[&str] = if rt.custom {
        &[
            "application/json-patch+json",
            "application/merge-patch+json",
            "application/apply-patch+yaml",
        ]
    } else {
        &[
            "application/json-patch+json",
            "application/merge-patch+json",
            "application/strategic-merge-patch+json",
            "application/apply-patch+yaml",
        ]
    };
    let kind = patch::patch_type_from_content_type(&ct)
        .filter(|k| !(rt.custom && *k == PatchType::Strategic))
        .ok_or_else(|| ApiError::unsupported_media_type(accepted))?;
    let apply_patch = kind == PatchType::Apply;
    let mut opts = write_options(req, WriteKind::Patch { apply: apply_patch })?;
    let body = parse_body(req)?;
    if apply_patch {
        // validate_write_options made sure there is a field manager.
        let manager = opts.field_manager.clone().unwrap_or_default();
        return apply(st, req, name, body, &manager, req.query.flag("force"), opts);
    }
    let manager = opts
        .field_manager
        .get_or_insert_with(|| "unknown".into())
        .clone();
    let before = st.ctx.store.get(rt, req.route.ns(), name).ok();
    let obj =
        st.ctx
            .store
            .patch(rt, req.route.ns(), name, &opts, |current| {
                let patched = match kind {
                    PatchType::Json => {
                        patch::json_patch(current, &body).map_err(|e| e.to_api_error())?
                    }
                    PatchType::Merge => patch::merge_patch(current, &body),
                    PatchType::Strategic => patch::strategic_merge_patch(current, &body)
                        .map_err(|e| e.to_api_error())?,
                    PatchType::Apply => current.clone(),
                };
                let mut owners = st.owners.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(o) = owners.get_mut(meta::uid(current)) {
                    patch::record_update(o, current, &patched, &manager);
                }
                Ok(patched)
            })?;
    Ok(written(200, &obj, before.as_deref()))
}

/// Server-side apply: merges the applied configuration, tracking which manager owns which field;
/// may create the object.
fn apply(
    st: &Arc<HttpState>,
    req: &ApiRequest,
    name: &str,
    body: Value,
    manager: &str,
    force: bool,
    opts: WriteOptions,
) -> Result<Response, ApiError> {
    let rt = req.route.rt;
    let ns = req.route.ns();
    match st.ctx.store.get(rt, ns, name) {
        Err(e) if e.code == 404 => {
            let mut owners = patch::FieldOwners::default();
            let obj = patch::apply_patch(None, &body, manager, force, &mut owners)
                .map_err(|c| patch::conflict_error(rt, name, &c))?;
            let created = st.ctx.store.create(rt, ns, obj, &opts)?;
            if !opts.dry_run {
                let mut all = st.owners.lock().unwrap_or_else(|p| p.into_inner());
                all.insert(meta::uid(&created).to_string(), owners);
            }
            Ok(written(201, &created, None))
        }
        Err(e) => Err(e),
        Ok(before) => {
            let obj = st.ctx.store.patch(rt, ns, name, &opts, |current| {
                let mut all = st.owners.lock().unwrap_or_else(|p| p.into_inner());
                let owners = all.entry(meta::uid(current).to_string()).or_default();
                let mut trial = owners.clone();
                let out = patch::apply_patch(Some(current), &body, manager, force, &mut trial)
                    .map_err(|c| patch::conflict_error(rt, name, &c))?;
                if !opts.dry_run {
                    *owners = trial;
                }
                Ok(out)
            })?;
            Ok(written(200, &obj, Some(&before)))
        }
    }
}

/// DeleteOptions from the body and the query string (query wins, as in the apiserver), then
/// `ValidateDeleteOptions`: 422 on `DeleteOptions.meta.k8s.io`.
fn delete_options(req: &ApiRequest) -> Result<DeleteOptions, ApiError> {
    let mut opts = DeleteOptions::default();
    let mut policy: Option<String> = None;
    let mut orphan_dependents: Option<bool> = None;
    let mut dry_run: Vec<String> = Vec::new();
    if !req.body.is_empty() {
        let body: Value = serde_json::from_slice(&req.body).map_err(|e| {
            ApiError::bad_request(format!(
                "the DeleteOptions body could not be decoded as JSON: {e}"
            ))
        })?;
        if !body.is_object() {
            return Err(ApiError::bad_request(
                "the DeleteOptions body must be a JSON object",
            ));
        }
        let wrong = |field: &str, want: &str| {
            ApiError::bad_request(format!(
                "the DeleteOptions body could not be decoded: {field} must be {want}"
            ))
        };
        let present = |k: &str| body.get(k).filter(|v| !v.is_null());
        if let Some(g) = present("gracePeriodSeconds") {
            opts.grace_period_seconds = Some(
                g.as_i64()
                    .ok_or_else(|| wrong("gracePeriodSeconds", "an integer"))?,
            );
        }
        if let Some(p) = present("propagationPolicy") {
            policy = Some(
                p.as_str()
                    .ok_or_else(|| wrong("propagationPolicy", "a string"))?
                    .to_string(),
            );
        }
        if let Some(o) = present("orphanDependents") {
            orphan_dependents = Some(
                o.as_bool()
                    .ok_or_else(|| wrong("orphanDependents", "a boolean"))?,
            );
        }
        if let Some(pre) = present("preconditions") {
            let field = |k: &str| -> Result<Option<String>, ApiError> {
                match pre.get(k).filter(|v| !v.is_null()) {
                    None => Ok(None),
                    Some(v) => v
                        .as_str()
                        .map(|s| Some(s.to_string()))
                        .ok_or_else(|| wrong(&format!("preconditions.{k}"), "a string")),
                }
            };
            opts.preconditions = Precondition {
                uid: field("uid")?,
                resource_version: field("resourceVersion")?,
            };
        }
        if let Some(d) = present("dryRun") {
            let list = d
                .as_array()
                .ok_or_else(|| wrong("dryRun", "a list of strings"))?;
            for v in list {
                dry_run.push(
                    v.as_str()
                        .ok_or_else(|| wrong("dryRun", "a list of strings"))?
                        .to_string(),
                );
            }
        }
    }
    if let Some(g) = req.query.int("gracePeriodSeconds")? {
        opts.grace_period_seconds = Some(g);
    }
    if let Some(p) = req.query.get("propagationPolicy") {
        policy = Some(p.to_string());
    }
    if let Some(d) = req.query.get("dryRun") {
        dry_run = vec![d.to_string()];
    }
    let mut errs = Vec::new();
    if let (Some(p), Some(_)) = (&policy, orphan_dependents) {
        errs.push(FieldError::invalid(
            "propagationPolicy",
            &go_quote(p),
            "orphanDependents and deletionPropagation cannot be both set",
        ));
    }
    match policy.as_deref() {
        None => {}
        Some(p) => match Propagation::parse(p) {
            Some(parsed) => opts.propagation = Some(parsed),
            None => errs.push(FieldError::not_supported(
                "propagationPolicy",
                p,
                &["Foreground", "Background", "Orphan", "nil"],
            )),
        },
    }
    if policy.is_none() && orphan_dependents == Some(true) {
        // The deprecated flag.
        opts.propagation = Some(Propagation::Orphan);
    }
    let values: Vec<&str> = dry_run.iter().map(String::as_str).collect();
    errs.extend(dry_run_error(&values));
    if !errs.is_empty() {
        return Err(ApiError::invalid_fields(
            "meta.k8s.io",
            "DeleteOptions",
            "",
            &errs,
        ));
    }
    opts.dry_run = !dry_run.is_empty();
    Ok(opts)
}

fn delete(st: &Arc<HttpState>, req: &ApiRequest) -> Result<Response, ApiError> {
    let rt = req.route.rt;
    let name = name(req)?;
    let opts = delete_options(req)?;
    match st.ctx.store.delete(rt, req.route.ns(), name, &opts)? {
        DeleteOutcome::Terminating(obj) => Ok(json_response(200, &obj)),
        DeleteOutcome::Removed(obj) if rt.delete_returns_object => Ok(json_response(200, &obj)),
        DeleteOutcome::Removed(obj) => Ok(json_response(
            200,
            &success_status(rt, name, meta::uid(&obj)),
        )),
    }
}

fn delete_collection(st: &Arc<HttpState>, req: &ApiRequest) -> Result<Response, ApiError> {
    let rt = req.route.rt;
    let opts = delete_options(req)?;
    let filter = Filter::from_query(&req.query, rt, req.route.namespace.as_deref())?;
    let (items, _) = st
        .ctx
        .store
        .list(rt, req.route.namespace.as_deref(), &|o| filter.matches(o));
    let mut deleted = Vec::new();
    for item in items {
        match st
            .ctx
            .store
            .delete(rt, meta::namespace(&item), meta::name(&item), &opts)
        {
            Ok(DeleteOutcome::Removed(o)) | Ok(DeleteOutcome::Terminating(o)) => deleted.push(o),
            Err(e) if e.code == 404 => {}
            Err(e) => return Err(e),
        }
    }
    let rv = st.ctx.store.current_rv();
    Ok(list_response(
        st,
        rt,
        json!({"resourceVersion": rv.to_string()}),
        &deleted,
    ))
}
