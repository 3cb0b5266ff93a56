//! The simulator's HTTP front: one handler that parses the path, authenticates the bearer token,
//! records the request in the audit log, applies RBAC and injected faults, then serves discovery,
//! resources (REST, watch, logs) or the admin API.

mod admin;
mod discovery;
mod json_cache;
mod logs;
mod openapi;
mod query;
mod response;
mod rest;
pub mod route;
mod rv;
mod table;
mod watch;
mod yaml_depth;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use tokio_util::sync::CancellationToken;

use super::context::SimContext;
use super::error::ApiError;
use super::faults::RequestAttrs;
use query::Query;
use response::{error_response, json_response};
use route::{ResourceRoute, Route};

/// Largest request body accepted, as the apiserver's limit (3 MiB).
pub const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;

/// The bearer token that authenticates `user` (written into kubeconfigs by `sim`).
pub fn token_for(user: &str) -> String {
    format!("{user}-token")
}

fn user_for_token(token: &str) -> Option<&str> {
    token.strip_suffix("-token").filter(|u| !u.is_empty())
}

pub(crate) struct HttpState {
    pub ctx: Arc<SimContext>,
    pub shutdown: CancellationToken,
    /// Bumped to end every open watch stream at once (admin `watches/drop`).
    pub drop_watches: tokio::sync::watch::Sender<u64>,
    pub pages: Mutex<rest::PageCache>,
    pub owners: Mutex<std::collections::HashMap<String, crate::sim::patch::FieldOwners>>,
    /// Serialized object versions, shared by lists and watch streams.
    pub json: Arc<json_cache::JsonCache>,
}

/// Serves the API on `listener` until `shutdown` is cancelled. Open watches and log follows end
/// at shutdown too, so the server stops promptly.
pub async fn serve(
    ctx: Arc<SimContext>,
    listener: tokio::net::TcpListener,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let (drop_watches, _) = tokio::sync::watch::channel(0);
    let state = Arc::new(HttpState {
        ctx,
        shutdown: shutdown.clone(),
        drop_watches,
        pages: Mutex::new(rest::PageCache::default()),
        owners: Mutex::new(Default::default()),
        json: Default::default(),
    });
    let app = Router::new().fallback(handle).with_state(state);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
}

/// One parsed API request, handed to the resource handlers.
pub(crate) struct ApiRequest {
    pub method: Method,
    pub route: ResourceRoute,
    pub query: Query,
    pub headers: HeaderMap,
    pub body: bytes::Bytes,
    pub user: String,
    pub verb: &'static str,
}

/// Beyond the limit, how much more of an oversized body is read and thrown away so that the
/// connection stays usable; a longer one is cut off and the connection closed.
const DRAIN_LIMIT: usize = 16 * 1024 * 1024;

/// A request body as read before anything is answered.
struct ReadBody {
    /// The body, or `None` when it was larger than [`MAX_BODY_BYTES`] (or broke off).
    bytes: Option<bytes::Bytes>,
    /// Whether the body was read to its end, so the connection can carry another request.
    /// Answering before the body is read leaves the rest in the socket and the client's next
    /// request on that keep-alive connection fails (a broken pipe), which no apiserver does.
    complete: bool,
}

async fn read_body(body: Body) -> ReadBody {
    use futures::StreamExt;
    let mut stream = body.into_data_stream();
    let mut buf = bytes::BytesMut::new();
    let mut seen = 0usize;
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else {
            return ReadBody {
                bytes: None,
                complete: false,
            };
        };
        seen = seen.saturating_add(chunk.len());
        if seen <= MAX_BODY_BYTES {
            buf.extend_from_slice(&chunk);
        } else if seen > MAX_BODY_BYTES + DRAIN_LIMIT {
            return ReadBody {
                bytes: None,
                complete: false,
            };
        }
    }
    ReadBody {
        bytes: (seen <= MAX_BODY_BYTES).then(|| buf.freeze()),
        complete: true,
    }
}

async fn handle(State(st): State<Arc<HttpState>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = read_body(body).await;
    let mut resp = answer(&st, parts, body.bytes).await;
    if !body.complete {
        resp.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
    }
    resp
}

async fn answer(
    st: &Arc<HttpState>,
    parts: axum::http::request::Parts,
    body: Option<bytes::Bytes>,
) -> Response {
    let path = parts.uri.path().to_string();
    let raw_query = parts.uri.query().unwrap_or("").to_string();
    let route = route::parse(&path);
    if let Route::Admin(rest) = route {
        let Some(body) = body else {
            return error_response(&ApiError::too_large(MAX_BODY_BYTES));
        };
        return admin::handle(st, &parts.method, &rest, &raw_query, &body);
    }
    let verb = verb_for(&parts.method, &route, &raw_query);
    let identity = identify(st, &parts.headers);
    let user = match &identity {
        Ok(u) => u.clone(),
        Err(_) => "system:anonymous".to_string(),
    };
    let grace = (verb == "delete")
        .then(|| delete_grace(&raw_query, body.as_deref()))
        .flatten();
    let audit = |code: u16| {
        st.ctx.audit.record(crate::sim::audit::AuditEntry {
            seq: 0,
            time: crate::sim::meta::format_micro_time(crate::sim::meta::now()),
            user: user.clone(),
            verb: verb.to_string(),
            method: parts.method.to_string(),
            path: path.clone(),
            query: raw_query.clone(),
            grace_period_seconds: grace,
            code,
        })
    };
    // /version and the health checks are open to anonymous requests; a request that presents a
    // bad token is refused everywhere, as the apiserver's authentication filter does.
    let public = matches!(route, Route::Version | Route::Health)
        && !parts
            .headers
            .contains_key(axum::http::header::AUTHORIZATION);
    let user_name = match identity {
        Ok(u) => u,
        Err(_) if public => String::new(),
        Err(e) => {
            audit(e.code);
            return error_response(&e);
        }
    };
    let Some(body) = body else {
        audit(413);
        return error_response(&ApiError::too_large(MAX_BODY_BYTES));
    };
    let read_only = matches!(parts.method, Method::GET | Method::HEAD);
    let resp = match route {
        Route::Version
        | Route::Health
        | Route::CoreVersions
        | Route::GroupList
        | Route::Group(_)
        | Route::GroupVersion { .. }
            if !read_only =>
        {
            error_response(&ApiError::method_not_allowed())
        }
        Route::Version => json_response(200, &discovery::version()),
        Route::Health => Response::new(Body::from("ok")),
        Route::CoreVersions => json_response(200, &discovery::core_versions()),
        Route::GroupList => json_response(200, &discovery::group_list()),
        Route::Group(g) => json_response(200, &discovery::group(&g)),
        Route::GroupVersion { group, version } => {
            json_response(200, &discovery::resource_list(&group, &version))
        }
        Route::OpenApiRoot => json_response(200, &openapi::root()),
        Route::OpenApi(key) => match openapi::group_version(&key) {
            Some(doc) => json_response(200, &doc),
            None => error_response(&ApiError::path_not_found()),
        },
        Route::NotFound | Route::Admin(_) => error_response(&ApiError::path_not_found()),
        Route::Resource(route) => {
            let query = match Query::parse(&raw_query) {
                Ok(q) => q,
                Err(e) => {
                    audit(e.code);
                    return error_response(&e);
                }
            };
            let req = ApiRequest {
                method: parts.method.clone(),
                route,
                query,
                headers: parts.headers.clone(),
                body,
                user: user_name,
                verb,
            };
            serve_resource(st, req).await
        }
    };
    audit(resp.status().as_u16());
    resp
}

/// The grace period a DELETE asked for: `?gracePeriodSeconds=` or the DeleteOptions body
/// (where client-go and kube-rs put it). For the audit only; the delete itself parses both.
fn delete_grace(raw_query: &str, body: Option<&[u8]>) -> Option<i64> {
    let from_query = form_urlencoded::parse(raw_query.as_bytes())
        .find(|(k, _)| k == "gracePeriodSeconds")
        .and_then(|(_, v)| v.parse().ok());
    from_query.or_else(|| {
        let v: serde_json::Value = serde_json::from_slice(body?).ok()?;
        v.get("gracePeriodSeconds")?.as_i64()
    })
}

async fn serve_resource(st: &Arc<HttpState>, req: ApiRequest) -> Response {
    // A method no route serves (OPTIONS, ...): the apiserver authorizes it with an empty verb
    // and go-restful answers 405.
    if req.verb == "unknown" {
        return error_response(&ApiError::method_not_allowed());
    }
    let attrs = RequestAttrs {
        verb: req.verb,
        group: req.route.rt.group,
        resource: req.route.rt.plural,
        subresource: req.route.subresource.as_deref().unwrap_or(""),
        namespace: req.route.ns(),
        name: req.route.name.as_deref().unwrap_or(""),
    };
    // Self-subject reviews are allowed to everyone (system:basic-user), as on a real cluster.
    let is_review = crate::sim::kinds::is_review(req.route.rt);
    if !is_review && !st.ctx.faults.allowed(&req.user, &attrs) {
        let ns = req.route.namespace.as_deref();
        let mut e = ApiError::forbidden(req.route.rt, attrs.name, &req.user, req.verb, ns);
        if !attrs.subresource.is_empty() {
            e.message = e.message.replacen(
                &format!("resource \"{}\"", attrs.resource),
                &format!("resource \"{}/{}\"", attrs.resource, attrs.subresource),
                1,
            );
        }
        return error_response(&e);
    }
    let delay = st.ctx.faults.latency_for(&attrs);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if let Some(e) = st.ctx.faults.injected_error(&attrs) {
        return error_response(&e);
    }
    match (req.verb, req.route.subresource.as_deref()) {
        ("watch", _) => watch::serve(st, &req),
        ("get", Some("log")) => logs::serve(st, &req),
        _ => rest::serve(st, &req).await,
    }
}

/// The user a request acts as: its bearer token's user, else the simulator's default user; then
/// `Impersonate-User` (kubectl `--as`) if the requester may impersonate.
fn identify(st: &HttpState, headers: &HeaderMap) -> Result<String, ApiError> {
    let auth = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let user = match auth {
        None => st.ctx.default_user(),
        Some(value) => value
            .strip_prefix("Bearer ")
            .and_then(|t| user_for_token(t.trim()))
            .map(str::to_string)
            .ok_or_else(ApiError::unauthorized)?,
    };
    if !st.ctx.faults.knows_user(&user) {
        return Err(ApiError::unauthorized());
    }
    let Some(target) = headers
        .get("impersonate-user")
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(user);
    };
    let attrs = RequestAttrs {
        verb: "impersonate",
        group: "",
        resource: "users",
        subresource: "",
        namespace: "",
        name: target,
    };
    if user != "admin" && !st.ctx.faults.allowed(&user, &attrs) {
        return Err(ApiError::new(
            403,
            "Forbidden",
            format!(
                "users \"{target}\" is forbidden: User \"{user}\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope"
            ),
        ));
    }
    if !st.ctx.faults.knows_user(target) {
        return Err(ApiError::unauthorized());
    }
    Ok(target.to_string())
}

/// The Kubernetes verb of a request (the HTTP method for non-resource paths).
fn verb_for(method: &Method, route: &Route, raw_query: &str) -> &'static str {
    let Route::Resource(r) = route else {
        return match *method {
            Method::GET => "get",
            Method::POST => "post",
            Method::PUT => "put",
            Method::DELETE => "delete",
            _ => "other",
        };
    };
    let named = r.name.is_some();
    match *method {
        Method::GET | Method::HEAD => {
            // `watch` on a named object is ignored: the apiserver answers the object.
            let watching = !named
                && form_urlencoded::parse(raw_query.as_bytes())
                    .any(|(k, v)| k == "watch" && (v == "true" || v == "1"));
            if watching {
                "watch"
            } else if named {
                "get"
            } else {
                "list"
            }
        }
        Method::POST => "create",
        Method::PUT => "update",
        Method::PATCH => "patch",
        Method::DELETE if named => "delete",
        Method::DELETE => "deletecollection",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_map_to_users() {
        assert_eq!(user_for_token(&token_for("alice")), Some("alice"));
        assert_eq!(user_for_token("-token"), None);
        assert_eq!(user_for_token("garbage"), None);
    }

    #[test]
    fn verbs() {
        let r = route::parse("/api/v1/namespaces/a/pods");
        assert_eq!(verb_for(&Method::GET, &r, "watch=true&x=1"), "watch");
        assert_eq!(verb_for(&Method::GET, &r, "limit=5"), "list");
        assert_eq!(verb_for(&Method::DELETE, &r, ""), "deletecollection");
        let r = route::parse("/api/v1/namespaces/a/pods/p");
        assert_eq!(verb_for(&Method::GET, &r, ""), "get");
        assert_eq!(verb_for(&Method::DELETE, &r, ""), "delete");
        assert_eq!(verb_for(&Method::GET, &r, "watch=true"), "get");
        assert_eq!(verb_for(&Method::OPTIONS, &r, ""), "unknown");
    }
}
