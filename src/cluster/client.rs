//! A kube client for the cluster the operator means, chosen as kubectl chooses: `--kubeconfig`,
//! else every file in `KUBECONFIG` (merged, first wins, missing files skipped), else
//! `~/.kube/config`; `--context`, else `current-context`; `-n`, else the context's namespace,
//! else `default`; `-A` for every namespace.

use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};
use serde::Serialize;

use super::error::ClusterError;
use crate::text::sanitize;

/// Which namespaces the console shows and acts in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum Scope {
    /// Every namespace (`-A`).
    All,
    Namespace(String),
}

impl Scope {
    /// The namespace, or `None` for every namespace.
    pub fn namespace(&self) -> Option<&str> {
        match self {
            Scope::All => None,
            Scope::Namespace(ns) => Some(ns),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::All => f.write_str("all namespaces"),
            Scope::Namespace(ns) => write!(f, "namespace {ns}"),
        }
    }
}

/// What the command line asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterTarget {
    /// `--kubeconfig`: this file only.
    pub kubeconfig: Option<PathBuf>,
    /// `--context`: instead of the current context.
    pub context: Option<String>,
    /// `-n NS` or `-A`; `None` takes the context's namespace, else `default`.
    pub namespace: Option<Scope>,
}

/// The cluster a client talks to, for headers, messages and the status bar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContextInfo {
    pub context: String,
    /// The cluster's server URL.
    pub server: String,
    /// The kubeconfig user (auth info) name.
    pub user: String,
    pub scope: Scope,
    /// The kubeconfig files that were read.
    pub files: Vec<PathBuf>,
}

impl ContextInfo {
    /// `context (server)`, for error messages.
    pub fn describe(&self) -> String {
        format!("{} ({})", sanitize(&self.context), self.server)
    }
}

/// Where kubeconfig comes from, resolved from flags and environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KubeconfigSource {
    /// `--kubeconfig`: must exist.
    Explicit(PathBuf),
    /// `KUBECONFIG`: the existing ones are merged.
    EnvList(Vec<PathBuf>),
    /// `~/.kube/config`.
    Default(PathBuf),
}

/// Decides the kubeconfig files the way kubectl does. `env` is `KUBECONFIG`, `home` the home dir.
pub fn kubeconfig_source(
    explicit: Option<&Path>,
    env: Option<&OsStr>,
    home: Option<&Path>,
) -> Option<KubeconfigSource> {
    if let Some(p) = explicit {
        return Some(KubeconfigSource::Explicit(p.to_path_buf()));
    }
    if let Some(value) = env {
        let paths: Vec<PathBuf> = std::env::split_paths(value)
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
        if !paths.is_empty() {
            return Some(KubeconfigSource::EnvList(paths));
        }
    }
    home.map(|h| KubeconfigSource::Default(h.join(".kube").join("config")))
}

fn join_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn read_one(path: &Path) -> Result<Kubeconfig, ClusterError> {
    Kubeconfig::read_from(path).map_err(|e| ClusterError::Kubeconfig {
        path: path.display().to_string(),
        message: match e {
            // The error repeats the path; say only what is wrong.
            kube::config::KubeconfigError::ReadConfig(io, _) => io.to_string(),
            other => other.to_string(),
        },
    })
}

/// Reads and merges the kubeconfig files of `source`. Returns the config and the files read.
pub fn load_kubeconfig(
    source: &KubeconfigSource,
) -> Result<(Kubeconfig, Vec<PathBuf>), ClusterError> {
    match source {
        KubeconfigSource::Explicit(p) | KubeconfigSource::Default(p) => {
            if matches!(source, KubeconfigSource::Default(_)) && !p.exists() {
                return Err(ClusterError::NoKubeconfig {
                    tried: p.display().to_string(),
                });
            }
            Ok((read_one(p)?, vec![p.clone()]))
        }
        KubeconfigSource::EnvList(paths) => {
            let existing: Vec<PathBuf> = paths.iter().filter(|p| p.exists()).cloned().collect();
            if existing.is_empty() {
                return Err(ClusterError::NoKubeconfig {
                    tried: format!("KUBECONFIG={}", join_paths(paths)),
                });
            }
            let mut merged: Option<Kubeconfig> = None;
            for p in &existing {
                let next = read_one(p)?;
                merged = Some(match merged {
                    None => next,
                    Some(m) => m.merge(next).map_err(|e| ClusterError::Kubeconfig {
                        path: p.display().to_string(),
                        message: format!("cannot merge with the files before it: {e}"),
                    })?,
                });
            }
            Ok((merged.unwrap_or_default(), existing))
        }
    }
}

/// The context, cluster, user and namespace a target resolves to in a kubeconfig.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedContext {
    pub context: String,
    pub cluster: String,
    pub server: String,
    pub user: String,
    pub scope: Scope,
}

/// Picks the context (`--context`, else `current-context`) and the scope, checking that the
/// context and its cluster exist, with errors that name the files and the known contexts.
pub fn resolve_context(
    kc: &Kubeconfig,
    target: &ClusterTarget,
    files: &[PathBuf],
) -> Result<ResolvedContext, ClusterError> {
    let files_s = join_paths(files);
    let known = || {
        let names: Vec<String> = kc
            .contexts
            .iter()
            .map(|c| format!("{:?}", sanitize(&c.name)))
            .collect();
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        }
    };
    let name = match target.context.as_ref().or(kc.current_context.as_ref()) {
        Some(n) if !n.is_empty() => n.clone(),
        _ => {
            return Err(ClusterError::NoCurrentContext {
                files: files_s,
                known: known(),
            });
        }
    };
    let Some(ctx) = kc
        .contexts
        .iter()
        .find(|c| c.name == name)
        .and_then(|c| c.context.as_ref())
    else {
        return Err(ClusterError::UnknownContext {
            context: sanitize(&name).into_owned(),
            files: files_s,
            known: known(),
        });
    };
    let context_err = |message: String| ClusterError::Context {
        context: sanitize(&name).into_owned(),
        files: files_s.clone(),
        message,
    };
    let cluster = kc
        .clusters
        .iter()
        .find(|c| c.name == ctx.cluster)
        .and_then(|c| c.cluster.as_ref())
        .ok_or_else(|| {
            context_err(format!(
                "its cluster {:?} is not defined",
                sanitize(&ctx.cluster)
            ))
        })?;
    let server = cluster
        .server
        .clone()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            context_err(format!(
                "its cluster {:?} has no server",
                sanitize(&ctx.cluster)
            ))
        })?;
    let scope = target.namespace.clone().unwrap_or_else(|| {
        Scope::Namespace(
            ctx.namespace
                .clone()
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| "default".to_string()),
        )
    });
    Ok(ResolvedContext {
        context: name,
        cluster: ctx.cluster.clone(),
        server,
        user: ctx.user.clone().unwrap_or_default(),
        scope,
    })
}

fn home_dir() -> Option<PathBuf> {
    directories::BaseDirs::new().map(|d| d.home_dir().to_path_buf())
}

/// Connects as kubectl would for `target`. Nothing is requested from the cluster yet: a wrong
/// server shows up on the first request, named by [`ContextInfo::describe`].
pub async fn connect(target: &ClusterTarget) -> Result<(kube::Client, ContextInfo), ClusterError> {
    let env = std::env::var_os("KUBECONFIG");
    let home = home_dir();
    let source = kubeconfig_source(
        target.kubeconfig.as_deref(),
        env.as_deref(),
        home.as_deref(),
    )
    .ok_or_else(|| ClusterError::NoKubeconfig {
        tried: "no --kubeconfig, no KUBECONFIG, no home directory".to_string(),
    })?;
    let (kc, files) = load_kubeconfig(&source)?;
    connect_with(kc, files, target).await
}

/// [`connect`] on an already loaded kubeconfig (tests, or a caller that merged its own).
pub async fn connect_with(
    kc: Kubeconfig,
    files: Vec<PathBuf>,
    target: &ClusterTarget,
) -> Result<(kube::Client, ContextInfo), ClusterError> {
    let resolved = resolve_context(&kc, target, &files)?;
    let context_err = |message: String| ClusterError::Context {
        context: sanitize(&resolved.context).into_owned(),
        files: join_paths(&files),
        message,
    };
    let options = KubeConfigOptions {
        context: Some(resolved.context.clone()),
        cluster: None,
        user: None,
    };
    let config = kube::Config::from_custom_kubeconfig(kc, &options)
        .await
        .map_err(|e| context_err(e.to_string()))?;
    let client = client_from_config(config).map_err(|e| context_err(e.to_string()))?;
    let info = ContextInfo {
        context: resolved.context,
        server: resolved.server,
        user: resolved.user,
        scope: resolved.scope,
        files,
    };
    Ok((client, info))
}

/// A connection is made within this, or the request fails (kube's default is 30 s).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The client every part of the console uses, built from `config` with one retry layer only:
/// kube's default retry policy (429/503/504 retried up to 15 times, backoff up to 1,000 s,
/// honouring Retry-After, all invisible) is turned off, because it multiplied with the
/// orchestrator's visible retries into a silent 45-minute hang (issue 8). The watchers and log
/// followers have their own backoff; the orchestrator retries visibly, every call bounded.
///
/// No read timeout: watch streams are quiet for minutes when nothing changes, and kube-runtime's
/// watcher has its own idle timeout. The orchestrator bounds its calls itself
/// (`orchestrator::kapi::CALL_TIMEOUT`).
pub fn client_from_config(mut config: kube::Config) -> Result<kube::Client, kube::Error> {
    config.default_retry = false;
    config.connect_timeout = Some(CONNECT_TIMEOUT);
    kube::Client::try_from(config)
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
