//! The simulator's wire behaviour, over raw HTTP, against `/work/shared/reference/k8s-api.md`:
//! Status bodies, list paging, watch streams, delete answers, pod logs, the admin API, field
//! validation, resourceVersions that are not numbers or lie in the future, Events without an
//! involved uid and deeply nested bodies. Each test starts its own simulator in-process on a free
//! loopback port and creates what it needs in the namespace `wire`.

#[path = "sim_wire/admin.rs"]
mod admin;
#[path = "sim_wire/delete.rs"]
mod delete;
#[path = "sim_wire/errors.rs"]
mod errors;
#[path = "sim_wire/events.rs"]
mod events;
#[path = "sim_wire/list.rs"]
mod list;
#[path = "sim_wire/logs.rs"]
mod logs;
#[path = "sim_wire/nesting.rs"]
mod nesting;
#[path = "sim_wire/rbac_rules.rs"]
mod rbac_rules;
#[path = "sim_wire/resource_versions.rs"]
mod resource_versions;
#[path = "sim_wire/support.rs"]
mod support;
#[path = "sim_wire/validation.rs"]
mod validation;
#[path = "sim_wire/watch.rs"]
mod watch;
#[path = "sim_wire/writes.rs"]
mod writes;
