//! `--set KEY=VALUE` on an endpoint's root object (a Deployment or an InferenceService).
//!
//! | key        | Deployment                                   | InferenceService |
//! |------------|----------------------------------------------|------------------|
//! | `image`    | `spec.template.spec.containers[0].image`     | `spec.predictor.containers[0].image` when the predictor has containers, else `spec.predictor.model.image` |
//! | `replicas` | `spec.replicas`                              | `spec.predictor.minReplicas`, and `maxReplicas` raised to it when it is set and lower |
//! | `env.NAME` | upsert `NAME` in the first container's `env` | the same in `spec.predictor.containers[0].env`, else `spec.predictor.model.env` |
//! | `storageUri` | refused: a Deployment has none            | `spec.predictor.model.storageUri` |
//!
//! Why `spec.predictor.model.image` for a model-format InferenceService: KServe's model spec
//! inlines a container, and its fields (image, env, resources) are merged over the serving
//! runtime's container, so this overrides the runtime image for this InferenceService only, which
//! is what "redeploy with image X" means to a KServe user. `runtimeVersion` is not an image (it is
//! a tag the runtime substitutes), so it is never touched.
//!
//! Overrides apply in order (a later one for the same key wins) and atomically: on any error the
//! manifest is left as it was.

use serde_json::{Map, Value, json};

use super::{Change, diff};
use crate::cli::SetOverride;
use crate::text::sanitize;

/// The keys `--set` understands, as error messages list them.
pub const VALID_KEYS: &str = "image, replicas, env.NAME, storageUri (InferenceService only)";

/// Why an override was refused. Every variant names the key and the value as given; text from
/// the cluster (kind, name) and from the user (value) is neutralised for the terminal.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum OverrideError {
    #[error("--set {key}={value}: unknown key {key:?}; valid keys: {valid}")]
    UnknownKey {
        key: String,
        value: String,
        valid: String,
    },
    #[error("--set {key}={value}: invalid value: {why}")]
    BadValue {
        key: String,
        value: String,
        why: String,
    },
    #[error("--set {key}={value}: not applicable to {kind} {name}: {why}")]
    NotApplicable {
        key: String,
        value: String,
        kind: String,
        name: String,
        why: String,
    },
    #[error("--set {key}={value}: {kind} {name} has no container to change (no {path})")]
    NoContainer {
        key: String,
        value: String,
        kind: String,
        name: String,
        /// Where a container was looked for.
        path: String,
    },
    #[error(
        "--set {key}={value}: overrides apply to a Deployment or an InferenceService, not {kind} {name}"
    )]
    UnsupportedKind {
        key: String,
        value: String,
        kind: String,
        name: String,
    },
}

/// Applies `overrides` to `manifest` (the endpoint's root object) and returns what changed,
/// sorted by path. Changes exactly the fields named above and nothing else; on error `manifest`
/// is untouched.
pub fn apply_overrides(
    manifest: &mut Value,
    overrides: &[SetOverride],
) -> Result<Vec<Change>, OverrideError> {
    let mut work = manifest.clone();
    for o in overrides {
        apply_one(&mut work, o)?;
    }
    let changes = diff(manifest, &work);
    *manifest = work;
    Ok(changes)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Root {
    Deployment,
    InferenceService,
}

/// The context of one override, for building errors.
struct Ctx<'a> {
    o: &'a SetOverride,
    kind: String,
    name: String,
}

impl Ctx<'_> {
    fn key(&self) -> String {
        sanitize(&self.o.key).into_owned()
    }
    fn value(&self) -> String {
        sanitize(&self.o.value).into_owned()
    }
    fn bad_value(&self, why: &str) -> OverrideError {
        OverrideError::BadValue {
            key: self.key(),
            value: self.value(),
            why: why.to_string(),
        }
    }
    fn not_applicable(&self, why: &str) -> OverrideError {
        OverrideError::NotApplicable {
            key: self.key(),
            value: self.value(),
            kind: self.kind.clone(),
            name: self.name.clone(),
            why: why.to_string(),
        }
    }
    fn no_container(&self, path: &str) -> OverrideError {
        OverrideError::NoContainer {
            key: self.key(),
            value: self.value(),
            kind: self.kind.clone(),
            name: self.name.clone(),
            path: path.to_string(),
        }
    }
}

fn apply_one(m: &mut Value, o: &SetOverride) -> Result<(), OverrideError> {
    let text = |p: &str| sanitize(m.pointer(p).and_then(Value::as_str).unwrap_or("")).into_owned();
    let ns = text("/metadata/namespace");
    let ctx = Ctx {
        o,
        kind: text("/kind"),
        name: if ns.is_empty() {
            text("/metadata/name")
        } else {
            format!("{ns}/{}", text("/metadata/name"))
        },
    };
    let api = m.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let root = match (m.get("kind").and_then(Value::as_str), api) {
        (Some("Deployment"), "apps/v1") => Root::Deployment,
        (Some("InferenceService"), a) if a.starts_with("serving.kserve.io/") => {
            Root::InferenceService
        }
        _ => {
            return Err(OverrideError::UnsupportedKind {
                key: ctx.key(),
                value: ctx.value(),
                kind: ctx.kind.clone(),
                name: ctx.name.clone(),
            });
        }
    };
    match o.key.as_str() {
        "image" => set_image(m, root, &ctx),
        "replicas" => set_replicas(m, root, &ctx),
        "storageUri" => set_storage_uri(m, root, &ctx),
        k => match k.strip_prefix("env.") {
            Some(name) => set_env(m, root, &ctx, name),
            None => Err(OverrideError::UnknownKey {
                key: ctx.key(),
                value: ctx.value(),
                valid: VALID_KEYS.to_string(),
            }),
        },
    }
}

/// Rejects what no registry, URI or API field accepts; the cluster judges the rest.
fn check_token(ctx: &Ctx<'_>, what: &str) -> Result<(), OverrideError> {
    let v = &ctx.o.value;
    if v.is_empty() {
        return Err(ctx.bad_value(&format!("{what} must not be empty")));
    }
    if v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ctx.bad_value(&format!(
            "{what} must not contain spaces or control characters"
        )));
    }
    Ok(())
}

/// Where the serving container is, and a mutable handle on it.
fn serving_container<'m>(
    m: &'m mut Value,
    root: Root,
    ctx: &Ctx<'_>,
) -> Result<&'m mut Map<String, Value>, OverrideError> {
    match root {
        Root::Deployment => {
            let path = "spec.template.spec.containers[0]";
            m.pointer_mut("/spec/template/spec/containers/0")
                .and_then(Value::as_object_mut)
                .ok_or_else(|| ctx.no_container(path))
        }
        Root::InferenceService => {
            // The simulator and KServe both take an explicit container first.
            let has_containers = m
                .pointer("/spec/predictor/containers/0")
                .is_some_and(Value::is_object);
            let pointer = if has_containers {
                "/spec/predictor/containers/0"
            } else {
                "/spec/predictor/model"
            };
            m.pointer_mut(pointer)
                .and_then(Value::as_object_mut)
                .ok_or_else(|| {
                    ctx.no_container("spec.predictor.containers[0] or spec.predictor.model")
                })
        }
    }
}

fn set_image(m: &mut Value, root: Root, ctx: &Ctx<'_>) -> Result<(), OverrideError> {
    check_token(ctx, "an image")?;
    let c = serving_container(m, root, ctx)?;
    c.insert("image".into(), json!(ctx.o.value));
    Ok(())
}

fn set_replicas(m: &mut Value, root: Root, ctx: &Ctx<'_>) -> Result<(), OverrideError> {
    // int32 on the API side; `+3` and ` 3` are refused so what is recorded is what was meant.
    let n: i32 = match ctx.o.value.parse() {
        Ok(n) if n >= 0 && ctx.o.value.bytes().all(|b| b.is_ascii_digit()) => n,
        _ => {
            return Err(ctx.bad_value(&format!(
                "replicas must be a non-negative integer (0 to {})",
                i32::MAX
            )));
        }
    };
    match root {
        Root::Deployment => {
            let spec = object_at(m, "spec").ok_or_else(|| ctx.not_applicable("no spec"))?;
            spec.insert("replicas".into(), json!(n));
        }
        Root::InferenceService => {
            let predictor = m
                .pointer_mut("/spec/predictor")
                .and_then(Value::as_object_mut)
                .ok_or_else(|| ctx.not_applicable("no spec.predictor"))?;
            predictor.insert("minReplicas".into(), json!(n));
            // An unset maxReplicas follows minReplicas already; a lower one would be invalid.
            if let Some(max) = predictor.get("maxReplicas").and_then(Value::as_i64)
                && max < i64::from(n)
            {
                predictor.insert("maxReplicas".into(), json!(n));
            }
        }
    }
    Ok(())
}

fn set_storage_uri(m: &mut Value, root: Root, ctx: &Ctx<'_>) -> Result<(), OverrideError> {
    if root == Root::Deployment {
        return Err(ctx.not_applicable(
            "a Deployment has no storageUri; set the model location with env.NAME=... or edit the manifest",
        ));
    }
    check_token(ctx, "a storage URI")?;
    let model = m
        .pointer_mut("/spec/predictor/model")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| {
            ctx.not_applicable(
                "its predictor is a custom container without spec.predictor.model; edit the manifest instead",
            )
        })?;
    model.insert("storageUri".into(), json!(ctx.o.value));
    Ok(())
}

/// The env var name rule every Kubernetes version accepts (C_IDENTIFIER with `-` and `.`).
fn valid_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, '_' | '-' | '.'))
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

fn set_env(m: &mut Value, root: Root, ctx: &Ctx<'_>, name: &str) -> Result<(), OverrideError> {
    if !valid_env_name(name) {
        return Err(ctx.bad_value(&format!(
            "{:?} is not an environment variable name (letters, digits, '_', '-', '.'; not starting with a digit)",
            sanitize(name)
        )));
    }
    let c = serving_container(m, root, ctx)?;
    let env = c.entry("env").or_insert_with(|| json!([]));
    let Some(list) = env.as_array_mut() else {
        return Err(ctx.not_applicable("its container's env is not a list"));
    };
    // A `valueFrom` is replaced too: the operator asked for this literal value.
    let entry = json!({"name": name, "value": ctx.o.value});
    match list
        .iter_mut()
        .find(|e| e.get("name").and_then(Value::as_str) == Some(name))
    {
        Some(existing) => *existing = entry,
        None => list.push(entry),
    }
    Ok(())
}

fn object_at<'m>(m: &'m mut Value, key: &str) -> Option<&'m mut Map<String, Value>> {
    m.get_mut(key).and_then(Value::as_object_mut)
}
