//! Request paths to what they address. Pure, so the mapping of every URL shape is unit tested.

use crate::sim::kinds::{self, NAMESPACES, ResourceType};

#[derive(Debug, PartialEq)]
pub enum Route {
    Version,
    Health,
    /// `/api`
    CoreVersions,
    /// `/apis`
    GroupList,
    /// `/apis/<group>`
    Group(String),
    /// `/api/v1`, `/apis/<group>/<version>`
    GroupVersion {
        group: String,
        version: String,
    },
    Resource(ResourceRoute),
    /// `/openapi/v3`
    OpenApiRoot,
    /// `/openapi/v3/<group version key>`: `api/v1`, `apis/apps/v1`
    OpenApi(String),
    /// `/sim/v1/...`: the simulator's admin API (the rest of the path).
    Admin(Vec<String>),
    NotFound,
}

/// A path under a resource: a collection, an object, or an object's subresource.
#[derive(Debug, PartialEq)]
pub struct ResourceRoute {
    pub rt: &'static ResourceType,
    /// The namespace in the path; `None` for cluster-scoped kinds or an all-namespaces list.
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub subresource: Option<String>,
}

pub fn parse(path: &str) -> Route {
    let segs: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(decode)
        .collect();
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    match s.as_slice() {
        ["version"] => Route::Version,
        ["healthz"] | ["livez"] | ["readyz"] => Route::Health,
        ["api"] => Route::CoreVersions,
        ["apis"] => Route::GroupList,
        ["openapi", "v3"] => Route::OpenApiRoot,
        ["openapi", "v3", rest @ ..] => Route::OpenApi(rest.join("/")),
        ["sim", "v1", rest @ ..] => Route::Admin(rest.iter().map(|x| x.to_string()).collect()),
        ["api", version] => gv_route("", version),
        ["apis", group] => {
            if kinds::groups().iter().any(|(g, _)| g == group) {
                Route::Group((*group).to_string())
            } else {
                Route::NotFound
            }
        }
        ["apis", group, version] => gv_route(group, version),
        ["api", version, rest @ ..] => resource_route("", version, rest),
        ["apis", group, version, rest @ ..] => resource_route(group, version, rest),
        _ => Route::NotFound,
    }
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

fn gv_route(group: &str, version: &str) -> Route {
    if kinds::ALL
        .iter()
        .any(|rt| rt.group == group && rt.version == version)
    {
        Route::GroupVersion {
            group: group.to_string(),
            version: version.to_string(),
        }
    } else {
        Route::NotFound
    }
}

fn resource_route(group: &str, version: &str, rest: &[&str]) -> Route {
    let make =
        |rt: &'static ResourceType, ns: Option<&str>, name: Option<&str>, sub: Option<&str>| {
            if let Some(sub) = sub
                && !rt.has_subresource(sub)
            {
                return Route::NotFound;
            }
            Route::Resource(ResourceRoute {
                rt,
                namespace: ns.map(str::to_string),
                name: name.map(str::to_string),
                subresource: sub.map(str::to_string),
            })
        };
    let find = |plural: &str| kinds::lookup(group, version, plural);
    match rest {
        // namespaces/<ns>/<plural>[/<name>[/<sub>]] for namespaced kinds
        ["namespaces", ns, plural, tail @ ..] if find(plural).is_some_and(|rt| rt.namespaced) => {
            let Some(rt) = find(plural) else {
                return Route::NotFound;
            };
            match tail {
                [] => make(rt, Some(ns), None, None),
                [name] => make(rt, Some(ns), Some(name), None),
                [name, sub] => make(rt, Some(ns), Some(name), Some(sub)),
                _ => Route::NotFound,
            }
        }
        [plural, tail @ ..] => {
            let Some(rt) = find(plural) else {
                return Route::NotFound;
            };
            match tail {
                [] => make(rt, None, None, None),
                // A namespaced object needs its namespace in the path.
                [name] if !rt.namespaced => make(rt, None, Some(name), None),
                [name, sub] if !rt.namespaced => make(rt, None, Some(name), Some(sub)),
                _ => Route::NotFound,
            }
        }
        [] => Route::NotFound,
    }
}

impl ResourceRoute {
    /// The namespace of the addressed object(s); empty for cluster-scoped kinds and
    /// all-namespaces lists.
    pub fn ns(&self) -> &str {
        self.namespace.as_deref().unwrap_or("")
    }

    pub fn is_namespace_object(&self) -> bool {
        std::ptr::eq(self.rt, &NAMESPACES)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::kinds::{DEPLOYMENTS, INFERENCESERVICES, PODS};

    fn res(path: &str) -> ResourceRoute {
        match parse(path) {
            Route::Resource(r) => r,
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn resource_paths() {
        let r = res("/api/v1/namespaces/ns/pods/p/log");
        assert_eq!(r.rt, &PODS);
        assert_eq!(
            (r.ns(), r.name.as_deref(), r.subresource.as_deref()),
            ("ns", Some("p"), Some("log"))
        );
        let r = res("/apis/apps/v1/deployments");
        assert_eq!((r.rt, r.namespace.clone()), (&DEPLOYMENTS, None));
        let r = res("/apis/serving.kserve.io/v1beta1/namespaces/a/inferenceservices/m");
        assert_eq!(r.rt, &INFERENCESERVICES);
        let r = res("/api/v1/namespaces/a");
        assert_eq!((r.rt, r.name.as_deref()), (&NAMESPACES, Some("a")));
        let r = res("/api/v1/namespaces/a/status");
        assert_eq!(r.subresource.as_deref(), Some("status"));
        let r = res("/api/v1/namespaces");
        assert!(r.name.is_none());
    }

    #[test]
    fn other_paths() {
        assert_eq!(parse("/version"), Route::Version);
        assert_eq!(parse("/api"), Route::CoreVersions);
        assert_eq!(parse("/apis/"), Route::GroupList);
        assert_eq!(parse("/apis/apps"), Route::Group("apps".into()));
        assert_eq!(
            parse("/apis/apps/v1"),
            Route::GroupVersion {
                group: "apps".into(),
                version: "v1".into()
            }
        );
        assert_eq!(parse("/sim/v1/audit"), Route::Admin(vec!["audit".into()]));
        assert_eq!(parse("/openapi/v3"), Route::OpenApiRoot);
        assert_eq!(
            parse("/openapi/v3/apis/apps/v1"),
            Route::OpenApi("apis/apps/v1".into())
        );
        for bad in [
            "/apis/apps/v2",
            "/apis/nope",
            "/api/v1/widgets",
            "/api/v1/pods/p",
            "/api/v1/namespaces/a/pods/p/exec",
            "/api/v1/namespaces/a/pods/p/log/x",
            "/",
            "/openapi/v2",
        ] {
            assert_eq!(parse(bad), Route::NotFound, "{bad}");
        }
    }
}
