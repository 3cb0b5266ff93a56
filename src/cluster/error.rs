//! Errors of the cluster layer. Each names what was wrong: the kubeconfig file, the context, the
//! server and the request, so the one report at the edge can say what to do next.

use crate::text::sanitize;

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// No kubeconfig file to read.
    #[error("no kubeconfig found (tried {tried}); pass --kubeconfig or set KUBECONFIG")]
    NoKubeconfig { tried: String },

    /// A kubeconfig file could not be read or parsed.
    #[error("kubeconfig {path}: {message}")]
    Kubeconfig { path: String, message: String },

    /// The asked-for context is not in the kubeconfig.
    #[error("context {context:?} not found in kubeconfig {files} (known contexts: {known})")]
    UnknownContext {
        context: String,
        files: String,
        known: String,
    },

    /// No `--context` and no `current-context`.
    #[error("kubeconfig {files} sets no current-context; pass --context (known contexts: {known})")]
    NoCurrentContext { files: String, known: String },

    /// The context's cluster, user or TLS material could not be turned into a client.
    #[error("context {context:?} in kubeconfig {files}: {message}")]
    Context {
        context: String,
        files: String,
        message: String,
    },

    /// A request to the cluster failed.
    #[error("{what} on context {context:?} ({server}): {message}")]
    Api {
        context: String,
        server: String,
        /// What was being done: `list inferenceservices in llm-prod`.
        what: String,
        message: String,
    },
}

impl ClusterError {
    /// Bad input (the kubeconfig or the context asked for) is a usage error, exit 2 as README
    /// says; a cluster that fails or cannot be reached is a failure, exit 1.
    pub fn is_usage(&self) -> bool {
        !matches!(self, ClusterError::Api { .. })
    }

    /// An API error, with the server's message neutralised for the terminal.
    pub fn api(
        context: &str,
        server: &str,
        what: impl Into<String>,
        err: &kube::Error,
    ) -> ClusterError {
        ClusterError::Api {
            context: sanitize(context).into_owned(),
            server: server.to_string(),
            what: what.into(),
            message: describe_kube_error(err),
        }
    }
}

/// A kube error as one line: the API's own status message when there is one.
pub fn describe_kube_error(err: &kube::Error) -> String {
    let text = match err {
        kube::Error::Api(status) => {
            let reason = if status.reason.is_empty() {
                String::new()
            } else {
                format!(" {}", status.reason)
            };
            format!("{}{}: {}", status.code, reason, status.message)
        }
        other => {
            // Walk the source chain: "ServiceError: client error (Connect)" alone says little.
            let mut s = other.to_string();
            let mut src = std::error::Error::source(other);
            while let Some(e) = src {
                let t = e.to_string();
                if !s.contains(&t) {
                    s.push_str(": ");
                    s.push_str(&t);
                }
                src = e.source();
            }
            s
        }
    };
    sanitize(&text).into_owned()
}

/// The HTTP status code of an API error, if it was one.
pub fn status_code(err: &kube::Error) -> Option<u16> {
    match err {
        kube::Error::Api(status) => Some(status.code),
        _ => None,
    }
}
