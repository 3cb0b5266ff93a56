//! Reading scenarios: the built-ins embedded in the binary, or a file by path.

use std::path::Path;

use super::ScenarioError;
use super::locate::{locate, split_yaml_error};
use super::model::Scenario;
use super::validate::validate;

/// The scenarios compiled into the binary: (name, file as cited in errors, text).
pub const BUILTIN: &[(&str, &str, &str)] = &[
    (
        "healthy",
        "assets/scenarios/healthy.yaml",
        include_str!("../../../assets/scenarios/healthy.yaml"),
    ),
    (
        "stuck-finalizer",
        "assets/scenarios/stuck-finalizer.yaml",
        include_str!("../../../assets/scenarios/stuck-finalizer.yaml"),
    ),
    (
        "conflict-409",
        "assets/scenarios/conflict-409.yaml",
        include_str!("../../../assets/scenarios/conflict-409.yaml"),
    ),
    (
        "rbac-denied",
        "assets/scenarios/rbac-denied.yaml",
        include_str!("../../../assets/scenarios/rbac-denied.yaml"),
    ),
    (
        "large-fleet",
        "assets/scenarios/large-fleet.yaml",
        include_str!("../../../assets/scenarios/large-fleet.yaml"),
    ),
    (
        "log-flood",
        "assets/scenarios/log-flood.yaml",
        include_str!("../../../assets/scenarios/log-flood.yaml"),
    ),
];

/// Names of the built-in scenarios, in a stable order.
pub fn builtin_names() -> Vec<&'static str> {
    BUILTIN.iter().map(|(name, _, _)| *name).collect()
}

/// A built-in scenario by name (`healthy`, `stuck-finalizer`, ...).
pub fn load_builtin(name: &str) -> Result<Scenario, ScenarioError> {
    match BUILTIN.iter().find(|(n, _, _)| *n == name) {
        Some((_, file, text)) => parse(file, text),
        None => Err(ScenarioError::UnknownBuiltin {
            name: name.to_string(),
            available: builtin_names().join(", "),
        }),
    }
}

/// A scenario file; errors cite `path` as given.
pub fn load_path(path: &Path) -> Result<Scenario, ScenarioError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
        file: file.clone(),
        source,
    })?;
    parse(&file, &text)
}

/// What `--scenario` accepts: a built-in name, or else a path to a file.
pub fn load(name_or_path: &str) -> Result<Scenario, ScenarioError> {
    let looks_like_path = name_or_path.contains(['/', '\\'])
        || name_or_path.ends_with(".yaml")
        || name_or_path.ends_with(".yml");
    if !looks_like_path && BUILTIN.iter().any(|(n, _, _)| *n == name_or_path) {
        return load_builtin(name_or_path);
    }
    if !looks_like_path && !Path::new(name_or_path).exists() {
        return load_builtin(name_or_path);
    }
    load_path(Path::new(name_or_path))
}

/// Parse and validate scenario text; `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<Scenario, ScenarioError> {
    let invalid = |line, column, path: String, message: String| ScenarioError::Invalid {
        file: file.to_string(),
        line,
        column,
        path,
        message,
    };
    let mut scenario: Scenario = match serde_yaml_ng::from_str(text) {
        Ok(s) => s,
        // An empty file (or only comments) reads as null: say so rather than "missing field".
        Err(_)
            if serde_yaml_ng::from_str::<serde_yaml_ng::Value>(text).is_ok_and(|v| v.is_null()) =>
        {
            let why = "the file is empty; a scenario needs at least `name` and `namespaces`";
            return Err(invalid(1, 1, String::new(), why.to_string()));
        }
        Err(e) => {
            let f = split_yaml_error(&e);
            return Err(invalid(f.line, f.column, f.path, f.message));
        }
    };
    scenario.origin = file.to_string();
    validate(&scenario).map_err(|issue| {
        let (line, column) = locate(text, &issue.path).unwrap_or((1, 1));
        invalid(line, column, issue.path.to_string(), issue.message)
    })?;
    Ok(scenario)
}
