//! Faults as data: latency, injected errors, controllers switched off or broken, dropped watch
//! streams, and per-user RBAC rules. Scenarios set the initial faults; the admin API changes them
//! live. Everything here is plain serde data so both speak the same JSON.

use std::collections::BTreeMap;
use std::sync::RwLock;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::rng::Rng;

/// State of one controller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum ControllerState {
    #[default]
    Up,
    Down,
    /// Runs, but its deletion handling is broken (KServe: never removes its finalizer).
    Broken,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Controllers {
    pub deployment: ControllerState,
    pub kserve: ControllerState,
    /// The KServe controller's deletion handling, a fault separate from the controller itself.
    pub kserve_deletion: ControllerState,
    pub garbage_collector: ControllerState,
    pub kubelet: ControllerState,
}

impl Controllers {
    /// The state of a controller by its name in the admin API.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut ControllerState> {
        match name {
            "deployment" => Some(&mut self.deployment),
            "kserve" => Some(&mut self.kserve),
            "kserveDeletion" | "kserve-deletion" => Some(&mut self.kserve_deletion),
            "garbageCollector" | "garbage-collector" | "gc" => Some(&mut self.garbage_collector),
            "kubelet" => Some(&mut self.kubelet),
            _ => None,
        }
    }
}

/// Added latency for matching requests. Empty verb/resource match everything.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LatencyRule {
    #[serde(default)]
    pub verb: String,
    #[serde(default)]
    pub resource: String,
    pub ms: u64,
}

/// An injected error for matching requests, for `count` requests or with a probability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorRule {
    #[serde(default)]
    pub verb: String,
    #[serde(default)]
    pub resource: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub namespace: String,
    pub code: u16,
    #[serde(default)]
    pub message: String,
    /// How many matching requests fail; none = every one (subject to probability).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u64>,
}

/// One RBAC rule: `*` or empty lists allow everything in that dimension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    pub verbs: Vec<String>,
    /// Plural resources, `*`, or `plural/subresource` (`pods/log`).
    pub resources: Vec<String>,
    #[serde(default)]
    pub api_groups: Vec<String>,
    #[serde(default)]
    pub namespaces: Vec<String>,
}

/// What a request is, for matching faults and rules.
#[derive(Debug, Clone, Copy)]
pub struct RequestAttrs<'a> {
    pub verb: &'a str,
    pub group: &'a str,
    /// Plural resource.
    pub resource: &'a str,
    pub subresource: &'a str,
    pub namespace: &'a str,
    pub name: &'a str,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct FaultState {
    pub controllers: Controllers,
    pub latency: Vec<LatencyRule>,
    pub errors: Vec<ErrorRule>,
    /// End every watch stream after this many seconds (clients must re-watch).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub watch_drop_every_seconds: Option<u64>,
    /// RBAC rules by user name. A user not listed here has no rights at all, except `admin`,
    /// who may do everything unless listed.
    pub users: BTreeMap<String, Vec<Rule>>,
}

pub struct Faults {
    state: RwLock<FaultState>,
    rng: std::sync::Mutex<Rng>,
}

fn matches_word(pattern: &str, value: &str) -> bool {
    pattern.is_empty() || pattern == "*" || pattern == value
}

impl Faults {
    pub fn new(state: FaultState, seed: u64) -> Self {
        Faults {
            state: RwLock::new(state),
            rng: std::sync::Mutex::new(Rng::new(seed ^ 0x5EED_FA17)),
        }
    }

    pub fn snapshot(&self) -> FaultState {
        self.state.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn update<T>(&self, f: impl FnOnce(&mut FaultState) -> T) -> T {
        f(&mut self.state.write().unwrap_or_else(|p| p.into_inner()))
    }

    pub fn controllers(&self) -> Controllers {
        self.state
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .controllers
            .clone()
    }

    pub fn watch_drop_every(&self) -> Option<Duration> {
        self.state
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .watch_drop_every_seconds
            .filter(|s| *s > 0)
            .map(Duration::from_secs)
    }

    /// Total added latency for a request.
    pub fn latency_for(&self, req: &RequestAttrs) -> Duration {
        let st = self.state.read().unwrap_or_else(|p| p.into_inner());
        let ms: u64 = st
            .latency
            .iter()
            .filter(|r| matches_word(&r.verb, req.verb) && matches_word(&r.resource, req.resource))
            .map(|r| r.ms)
            .sum();
        Duration::from_millis(ms)
    }

    /// The injected error for this request, if a rule fires (consuming one of its `count`).
    pub fn injected_error(&self, req: &RequestAttrs) -> Option<ApiError> {
        let mut st = self.state.write().unwrap_or_else(|p| p.into_inner());
        let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        let mut fired = None;
        for (i, r) in st.errors.iter_mut().enumerate() {
            let hit = matches_word(&r.verb, req.verb)
                && matches_word(&r.resource, req.resource)
                && matches_word(&r.name, req.name)
                && matches_word(&r.namespace, req.namespace)
                && r.count != Some(0);
            if !hit {
                continue;
            }
            if let Some(p) = r.probability {
                if rng.unit() >= p {
                    continue;
                }
            }
            if let Some(c) = r.count.as_mut() {
                *c -= 1;
            }
            fired = Some((i, error_for(r)));
            break;
        }
        let (i, err) = fired?;
        if st.errors[i].count == Some(0) {
            st.errors.remove(i);
        }
        Some(err)
    }

    /// Whether `user` may do this request.
    pub fn allowed(&self, user: &str, req: &RequestAttrs) -> bool {
        let st = self.state.read().unwrap_or_else(|p| p.into_inner());
        match st.users.get(user) {
            None => user == "admin",
            Some(rules) => rules.iter().any(|r| rule_allows(r, req)),
        }
    }

    pub fn knows_user(&self, user: &str) -> bool {
        user == "admin"
            || self
                .state
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .users
                .contains_key(user)
    }
}

fn rule_allows(r: &Rule, req: &RequestAttrs) -> bool {
    let any = |list: &[String], v: &str| list.is_empty() || list.iter().any(|x| x == "*" || x == v);
    let full = if req.subresource.is_empty() {
        req.resource.to_string()
    } else {
        format!("{}/{}", req.resource, req.subresource)
    };
    let resource_ok = r.resources.iter().any(|x| {
        x == "*"
            || *x == full
            || (req.subresource.is_empty() && x == req.resource)
            || (x.ends_with("/*") && x.trim_end_matches("/*") == req.resource)
    });
    any(&r.verbs, req.verb)
        && resource_ok
        && any(&r.api_groups, req.group)
        && (req.namespace.is_empty() || any(&r.namespaces, req.namespace))
}

fn error_for(r: &ErrorRule) -> ApiError {
    let msg = if r.message.is_empty() {
        "injected fault"
    } else {
        r.message.as_str()
    };
    match r.code {
        429 => {
            let mut e = ApiError::too_many_requests(r.retry_after_seconds.unwrap_or(1));
            if !r.message.is_empty() {
                e.message = r.message.clone();
            }
            e
        }
        500 => ApiError::internal(msg),
        503 => ApiError::new(503, "ServiceUnavailable", msg),
        504 => ApiError::new(504, "Timeout", msg),
        409 => ApiError::new(409, "Conflict", msg),
        403 => ApiError::new(403, "Forbidden", msg),
        404 => ApiError::new(404, "NotFound", msg),
        code => ApiError::new(code, "InternalError", msg),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs<'a>(verb: &'a str, resource: &'a str, ns: &'a str) -> RequestAttrs<'a> {
        RequestAttrs {
            verb,
            group: "",
            resource,
            subresource: "",
            namespace: ns,
            name: "x",
        }
    }

    #[test]
    fn counted_errors_fire_then_disappear() {
        let f = Faults::new(
            FaultState {
                errors: vec![ErrorRule {
                    verb: "delete".into(),
                    resource: "pods".into(),
                    name: String::new(),
                    namespace: String::new(),
                    code: 429,
                    message: String::new(),
                    count: Some(2),
                    probability: None,
                    retry_after_seconds: Some(3),
                }],
                ..Default::default()
            },
            1,
        );
        assert!(f.injected_error(&attrs("get", "pods", "a")).is_none());
        let e = f.injected_error(&attrs("delete", "pods", "a")).unwrap();
        assert_eq!((e.code, e.retry_after), (429, Some(3)));
        assert!(f.injected_error(&attrs("delete", "pods", "a")).is_some());
        assert!(f.injected_error(&attrs("delete", "pods", "a")).is_none());
        assert!(f.snapshot().errors.is_empty());
    }

    #[test]
    fn rbac_rules() {
        let mut users = BTreeMap::new();
        users.insert(
            "viewer".to_string(),
            vec![Rule {
                verbs: vec!["get".into(), "list".into(), "watch".into()],
                resources: vec!["*".into()],
                api_groups: vec![],
                namespaces: vec!["*".into()],
            }],
        );
        let f = Faults::new(
            FaultState {
                users,
                ..Default::default()
            },
            1,
        );
        assert!(f.allowed("viewer", &attrs("list", "pods", "a")));
        assert!(!f.allowed("viewer", &attrs("delete", "pods", "a")));
        assert!(f.allowed("admin", &attrs("delete", "pods", "a")));
        assert!(!f.allowed("nobody", &attrs("get", "pods", "a")));
        let log = RequestAttrs {
            subresource: "log",
            ..attrs("get", "pods", "a")
        };
        assert!(f.allowed("viewer", &log));
    }
}
