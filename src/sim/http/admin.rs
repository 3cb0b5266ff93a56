//! The admin API under `/sim/v1/`: faults, controllers, RBAC users, watch drops, compaction and
//! the audit log. Unauthenticated (the simulator listens on loopback) and not audited itself.
//!
//! | method | path | body / query | effect |
//! |---|---|---|---|
//! | GET | `/sim/v1/audit?since=N` | | `{"items":[AuditEntry...],"lastSeq":N}` |
//! | GET | `/sim/v1/faults` | | the whole fault state |
//! | PUT | `/sim/v1/faults` | fault state | replaces it |
//! | POST | `/sim/v1/faults/errors` | ErrorFault `{verb, resource, name, namespace, code, message, count | probability, retryAfterSeconds}` | adds an injected error |
//! | DELETE | `/sim/v1/faults/errors` | | removes all injected errors |
//! | POST | `/sim/v1/faults/latency` | LatencyFault `{verb, resource, ms}` | adds latency |
//! | DELETE | `/sim/v1/faults/latency` | | removes all latency |
//! | PUT | `/sim/v1/faults/watch-drop` | `{"everySeconds":N}` (0 = off) | watch streams end every N s |
//! | PUT | `/sim/v1/controllers/NAME` | `{"state":"up"\|"down"\|"broken"}` | NAME: deployment, kserve, kserveDeletion, garbageCollector, kubelet |
//! | PUT | `/sim/v1/users/NAME` | `[Rule...]` | sets a user's RBAC rules |
//! | DELETE | `/sim/v1/users/NAME` | | removes a user |
//! | POST | `/sim/v1/watches/drop` | | ends every open watch stream now |
//! | POST | `/sim/v1/compact` | | drops the watch history (resuming watches get 410) |
//! | GET | `/sim/v1/info` | | resourceVersion, object counts |

use std::sync::Arc;

use axum::http::Method;
use axum::response::Response;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::HttpState;
use super::response::{error_response, json_response};
use crate::sim::error::ApiError;
use crate::sim::faults::{ControllerState, ErrorFault, FaultState, LatencyFault, Rule};
use crate::sim::kinds;
use crate::sim::scenario::BROKEN_ONLY_FOR_KSERVE_DELETION;

pub fn handle(
    st: &Arc<HttpState>,
    method: &Method,
    path: &[String],
    query: &str,
    body: &[u8],
) -> Response {
    match route(st, method, path, query, body) {
        Ok(v) => json_response(200, &v),
        Err(e) => error_response(&e),
    }
}

/// Parses a JSON body; the error names the field that is wrong (`invalid error rule: code:
/// invalid type: string "x", expected u16 at line 1 column 12`).
fn parse<T: DeserializeOwned>(body: &[u8], what: &str) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let parsed = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            ApiError::bad_request(format!("invalid {what}: {inner}"))
        } else {
            ApiError::bad_request(format!("invalid {what}: {path}: {inner}"))
        }
    })?;
    de.end()
        .map_err(|e| ApiError::bad_request(format!("invalid {what}: {e}")))?;
    Ok(parsed)
}

/// The first problem `problems` found, as 400 naming the field (`invalid error rule: code:
/// 302 is not an error code (4xx or 5xx)`): the scenario loader's own checks.
fn refuse(what: &str, problems: Vec<(&'static str, String)>) -> Result<(), ApiError> {
    match problems.into_iter().next() {
        None => Ok(()),
        Some((field, message)) => Err(ApiError::bad_request(format!(
            "invalid {what}: {field}: {message}"
        ))),
    }
}

fn route(
    st: &Arc<HttpState>,
    method: &Method,
    path: &[String],
    query: &str,
    body: &[u8],
) -> Result<Value, ApiError> {
    let faults = &st.ctx.faults;
    let p: Vec<&str> = path.iter().map(String::as_str).collect();
    match (method.clone(), p.as_slice()) {
        (Method::GET, ["audit"]) => {
            let since = match form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "since")
            {
                None => 0,
                Some((_, v)) => v.parse::<u64>().map_err(|_| {
                    ApiError::bad_request(format!(
                        "invalid query parameter since: {v:?} is not a sequence number (a whole number >= 0)"
                    ))
                })?,
            };
            Ok(json!({"items": st.ctx.audit.since(since), "lastSeq": st.ctx.audit.last_seq()}))
        }
        (Method::GET, ["faults"]) => Ok(json!(faults.snapshot())),
        (Method::PUT, ["faults"]) => {
            let new: FaultState = parse(body, "fault state")?;
            for (i, rule) in new.errors.iter().enumerate() {
                refuse(&format!("fault state: errors[{i}]"), rule.problems())?;
            }
            for (i, rule) in new.latency.iter().enumerate() {
                refuse(&format!("fault state: latency[{i}]"), rule.problems())?;
            }
            if let Some(name) = new.controllers.wrongly_broken().first() {
                return Err(ApiError::bad_request(format!(
                    "invalid fault state: controllers.{name}: {BROKEN_ONLY_FOR_KSERVE_DELETION}"
                )));
            }
            faults.update(|f| *f = new);
            Ok(json!(faults.snapshot()))
        }
        (Method::POST, ["faults", "errors"]) => {
            let rule: ErrorFault = parse(body, "error rule")?;
            refuse("error rule", rule.problems())?;
            faults.update(|f| f.errors.push(rule));
            Ok(json!(faults.snapshot()))
        }
        (Method::DELETE, ["faults", "errors"]) => {
            faults.update(|f| f.errors.clear());
            Ok(json!(faults.snapshot()))
        }
        (Method::POST, ["faults", "latency"]) => {
            let rule: LatencyFault = parse(body, "latency rule")?;
            refuse("latency rule", rule.problems())?;
            faults.update(|f| f.latency.push(rule));
            Ok(json!(faults.snapshot()))
        }
        (Method::DELETE, ["faults", "latency"]) => {
            faults.update(|f| f.latency.clear());
            Ok(json!(faults.snapshot()))
        }
        (Method::PUT, ["faults", "watch-drop"]) => {
            let v: Value = parse(body, "watch drop setting")?;
            let every = v
                .get("everySeconds")
                .and_then(Value::as_u64)
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "invalid watch drop setting: everySeconds (a whole number) is required",
                    )
                })?;
            faults.update(|f| {
                f.watch_drop_every_seconds =
                    (every > 0).then_some(every.min(u64::from(u32::MAX)) as u32)
            });
            Ok(json!(faults.snapshot()))
        }
        (Method::PUT, ["controllers", name]) => {
            let v: Value = parse(body, "controller state")?;
            let state: ControllerState = serde_json::from_value(
                v.get("state").cloned().unwrap_or(Value::Null),
            )
            .map_err(|_| {
                ApiError::bad_request(
                    "invalid controller state: \"state\" must be one of up, down, broken",
                )
            })?;
            faults.update(|f| {
                let mut controllers = f.controllers;
                *controllers.get_mut(name).ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "unknown controller {name:?}: expected deployment, kserve, kserveDeletion, garbageCollector or kubelet"
                    ))
                })? = state;
                if !controllers.wrongly_broken().is_empty() {
                    return Err(ApiError::bad_request(format!(
                        "invalid controller state: state: {BROKEN_ONLY_FOR_KSERVE_DELETION} (not {name})"
                    )));
                }
                f.controllers = controllers;
                Ok(())
            })?;
            Ok(json!(faults.snapshot().controllers))
        }
        (Method::PUT, ["users", name]) => {
            let rules: Vec<Rule> = parse(body, "RBAC rules")?;
            faults.update(|f| f.users.insert(name.to_string(), rules));
            Ok(json!(faults.snapshot().users))
        }
        (Method::DELETE, ["users", name]) => {
            faults.update(|f| f.users.remove(*name));
            Ok(json!(faults.snapshot().users))
        }
        (Method::POST, ["watches", "drop"]) => {
            st.drop_watches.send_modify(|n| *n += 1);
            Ok(json!({"dropped": true}))
        }
        (Method::POST, ["compact"]) => {
            st.ctx.store.compact();
            Ok(json!({"compactedAt": st.ctx.store.current_rv().to_string()}))
        }
        (Method::GET, ["info"]) => {
            let counts: serde_json::Map<String, Value> = kinds::ALL
                .iter()
                .map(|rt| {
                    (
                        rt.group_resource(),
                        json!(st.ctx.store.list(rt, None, &|_| true).0.len()),
                    )
                })
                .collect();
            Ok(json!({
                "resourceVersion": st.ctx.store.current_rv().to_string(),
                "seed": st.ctx.settings.seed,
                "objects": counts,
            }))
        }
        _ => Err(ApiError::new(
            404,
            "NotFound",
            format!("no admin endpoint {} /sim/v1/{}", method, path.join("/")),
        )),
    }
}
