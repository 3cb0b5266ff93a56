//! `GET .../pods/<name>/log`: container checks, tailLines, sinceSeconds/sinceTime, timestamps,
//! limitBytes, and follow (the response stays open until the pod's log ends or the client goes).

use std::sync::Arc;

use axum::response::Response;
use bytes::Bytes;
use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;

use super::response::{bytes_response, error_response, stream_response};
use super::{ApiRequest, HttpState};
use crate::sim::error::{ApiError, FieldError};
use crate::sim::logs::LogLine;

pub fn serve(st: &Arc<HttpState>, req: &ApiRequest) -> Response {
    match start(st, req) {
        Ok(r) => r,
        Err(e) => error_response(&e),
    }
}

struct Options {
    timestamps: bool,
    tail: Option<usize>,
    since: Option<jiff::Timestamp>,
    limit_bytes: Option<usize>,
}

/// `ValidatePodLogOptions`: checked before the pod is looked up, 422 on `PodLogOptions`.
fn validate(req: &ApiRequest, name: &str) -> Result<(), ApiError> {
    let mut errs = Vec::new();
    if let Some(t) = req.query.int("tailLines")?.filter(|t| *t < 0) {
        errs.push(FieldError::invalid(
            "tailLines",
            &t.to_string(),
            "must be greater than or equal to 0",
        ));
    }
    if let Some(b) = req.query.int("limitBytes")?.filter(|b| *b < 1) {
        errs.push(FieldError::invalid(
            "limitBytes",
            &b.to_string(),
            "must be greater than 0",
        ));
    }
    match (req.query.int("sinceSeconds")?, req.query.get("sinceTime")) {
        (Some(_), Some(_)) => errs.push(FieldError::forbidden(
            "",
            "at most one of `sinceTime` or `sinceSeconds` may be specified",
        )),
        (Some(s), None) if s < 1 => errs.push(FieldError::invalid(
            "sinceSeconds",
            &s.to_string(),
            "must be greater than 0",
        )),
        _ => {}
    }
    if errs.is_empty() {
        return Ok(());
    }
    Err(ApiError::invalid_fields("", "PodLogOptions", name, &errs))
}

fn start(st: &Arc<HttpState>, req: &ApiRequest) -> Result<Response, ApiError> {
    let ns = req.route.ns().to_string();
    let name = req.route.name.clone().unwrap_or_default();
    validate(req, &name)?;
    let pod = st.ctx.store.get(&crate::sim::kinds::PODS, &ns, &name)?;
    let container = pick_container(&pod, &name, req.query.get("container"))?;
    if req.query.flag("previous") {
        return Err(ApiError::bad_request(format!(
            "previous terminated container \"{container}\" in pod \"{name}\" not found"
        )));
    }
    let started = pod
        .pointer("/status/phase")
        .and_then(Value::as_str)
        .is_some_and(|p| p != "Pending");
    if !started {
        return Err(ApiError::bad_request(format!(
            "container \"{container}\" in pod \"{name}\" is waiting to start: ContainerCreating"
        )));
    }
    let since = match (req.query.int("sinceSeconds")?, req.query.get("sinceTime")) {
        // A window reaching before the earliest representable time covers every line.
        (Some(s), _) => jiff::Timestamp::now()
            .checked_sub(jiff::SignedDuration::from_secs(s))
            .ok(),
        (None, Some(t)) => Some(t.parse::<jiff::Timestamp>().map_err(|_| {
            ApiError::bad_request(format!("sinceTime: invalid RFC3339 time {t:?}"))
        })?),
        (None, None) => None,
    };
    let opts = Options {
        timestamps: req.query.flag("timestamps"),
        tail: req.query.int("tailLines")?.map(|t| t.max(0) as usize),
        since,
        limit_bytes: req
            .query
            .int("limitBytes")?
            .filter(|b| *b > 0)
            .map(|b| b as usize),
    };
    let log = st.ctx.logs.pod(&ns, &name);
    let mut cursor = log.open();
    // Hold no handle on the log: when the pod is deleted its log goes, and a follower's stream ends.
    drop(log);
    let backlog: Vec<&LogLine> = {
        let kept: Vec<&LogLine> = cursor
            .backlog
            .iter()
            .filter(|l| opts.since.is_none_or(|s| l.time >= s))
            .collect();
        let skip = opts.tail.map_or(0, |t| kept.len().saturating_sub(t));
        kept.into_iter().skip(skip).collect()
    };
    let mut first = Vec::new();
    for l in &backlog {
        format_line(&mut first, l, opts.timestamps);
    }
    if let Some(limit) = opts.limit_bytes {
        first.truncate(limit);
    }
    if !req.query.flag("follow") {
        return Ok(bytes_response(200, "text/plain", first));
    }
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let shutdown = st.shutdown.clone();
    let mut budget = opts.limit_bytes.map(|l| l.saturating_sub(first.len()));
    tokio::spawn(async move {
        if !first.is_empty() && tx.send(Bytes::from(first)).await.is_err() {
            return;
        }
        // The backlog used up limitBytes: done, without waiting for another line.
        if budget == Some(0) {
            return;
        }
        loop {
            let batch = tokio::select! {
                _ = shutdown.cancelled() => return,
                b = cursor.rx.recv() => b,
            };
            let batch = match batch {
                Ok(b) => b,
                // A reader slower than the writer misses lines, like a rotated kubelet log.
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return,
            };
            let mut chunk = Vec::with_capacity(batch.len() * 96);
            for l in batch.iter() {
                format_line(&mut chunk, l, opts.timestamps);
            }
            if let Some(b) = budget.as_mut() {
                chunk.truncate(*b);
                *b -= chunk.len();
            }
            if !chunk.is_empty() && tx.send(Bytes::from(chunk)).await.is_err() {
                return;
            }
            if budget == Some(0) {
                return;
            }
        }
    });
    Ok(stream_response("text/plain", rx))
}

fn format_line(out: &mut Vec<u8>, l: &LogLine, timestamps: bool) {
    if timestamps {
        out.extend_from_slice(
            l.time
                .strftime("%Y-%m-%dT%H:%M:%S.%9fZ")
                .to_string()
                .as_bytes(),
        );
        out.push(b' ');
    }
    out.extend_from_slice(l.text.as_bytes());
    out.push(b'\n');
}

fn pick_container(pod: &Value, name: &str, asked: Option<&str>) -> Result<String, ApiError> {
    let names: Vec<&str> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .filter_map(|c| c.get("name").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default();
    match asked {
        Some(c) if names.contains(&c) => Ok(c.to_string()),
        Some(c) => Err(ApiError::bad_request(format!(
            "container {c} is not valid for pod {name}"
        ))),
        None if names.len() == 1 => Ok(names[0].to_string()),
        None => Err(ApiError::bad_request(format!(
            "a container name must be specified for pod {name}, choose one of: [{}]",
            names.join(" ")
        ))),
    }
}
