//! How lists of the built-in kinds merge, from their Go struct tags (`patchStrategy`,
//! `patchMergeKey`). Shared by strategic merge patch and server-side apply.
//!
//! | field (where) | strategy |
//! |---|---|
//! | `containers`, `initContainers`, `ephemeralContainers` | merge by `name` |
//! | `volumes`, `env`, `imagePullSecrets`, `resourceClaims`, `schedulingGates` | merge by `name` |
//! | `ports` in a container | merge by `containerPort` |
//! | `ports` in a Service `spec` | merge by `port` |
//! | `volumeMounts` | merge by `mountPath` |
//! | `volumeDevices` | merge by `devicePath` |
//! | `conditions` | merge by `type` |
//! | `metadata.ownerReferences` | merge by `uid` |
//! | `hostAliases`, `podIPs`, `hostIPs` | merge by `ip` |
//! | `topologySpreadConstraints` | merge by `topologyKey` |
//! | `metadata.finalizers` | set (union of scalars) |
//! | anything else (`args`, `command`, `tolerations`, `envFrom`, `rules`, ...) | replace |
//!
//! `tolerations` replaces: the apiserver's PodSpec declares no patch strategy for it.

/// How a list merges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListStrategy {
    /// Atomic: the new list replaces the old one.
    Replace,
    /// A list of objects merged element-wise by this key.
    MergeKey(&'static str),
    /// A list of scalars merged as a set (union, order kept, duplicates dropped).
    Set,
}

const CONTAINER_LISTS: &[&str] = &["containers", "initContainers", "ephemeralContainers"];

/// The strategy of the list stored under `field` in an object that itself sits under `parent`
/// (the field name holding that object; for list elements, the list's field name; `""` at the
/// top). `ports` inside `containers` merges by `containerPort`, `ports` in a Service `spec` by
/// `port`; `finalizers` and `ownerReferences` merge only under `metadata`.
pub fn list_strategy(field: &str, parent: &str) -> ListStrategy {
    match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "volumes"
        | "env"
        | "imagePullSecrets"
        | "resourceClaims"
        | "schedulingGates" => ListStrategy::MergeKey("name"),
        "ports" if CONTAINER_LISTS.contains(&parent) => ListStrategy::MergeKey("containerPort"),
        "ports" if parent == "spec" => ListStrategy::MergeKey("port"),
        "volumeMounts" => ListStrategy::MergeKey("mountPath"),
        "volumeDevices" => ListStrategy::MergeKey("devicePath"),
        "conditions" => ListStrategy::MergeKey("type"),
        "ownerReferences" if parent == "metadata" => ListStrategy::MergeKey("uid"),
        "hostAliases" | "podIPs" | "hostIPs" => ListStrategy::MergeKey("ip"),
        "topologySpreadConstraints" => ListStrategy::MergeKey("topologyKey"),
        "finalizers" if parent == "metadata" => ListStrategy::Set,
        _ => ListStrategy::Replace,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategies_depend_on_context() {
        assert_eq!(
            list_strategy("containers", "spec"),
            ListStrategy::MergeKey("name")
        );
        assert_eq!(
            list_strategy("ports", "containers"),
            ListStrategy::MergeKey("containerPort")
        );
        assert_eq!(
            list_strategy("ports", "initContainers"),
            ListStrategy::MergeKey("containerPort")
        );
        assert_eq!(
            list_strategy("ports", "spec"),
            ListStrategy::MergeKey("port")
        );
        assert_eq!(list_strategy("ports", "subsets"), ListStrategy::Replace);
        assert_eq!(list_strategy("finalizers", "metadata"), ListStrategy::Set);
        // Namespace spec.finalizers has no strategy.
        assert_eq!(list_strategy("finalizers", "spec"), ListStrategy::Replace);
        assert_eq!(
            list_strategy("ownerReferences", "metadata"),
            ListStrategy::MergeKey("uid")
        );
        assert_eq!(list_strategy("tolerations", "spec"), ListStrategy::Replace);
        assert_eq!(list_strategy("args", "containers"), ListStrategy::Replace);
        assert_eq!(
            list_strategy("conditions", "status"),
            ListStrategy::MergeKey("type")
        );
        assert_eq!(
            list_strategy("volumeMounts", "containers"),
            ListStrategy::MergeKey("mountPath")
        );
    }
}
