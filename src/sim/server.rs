//! Starting and stopping a simulator: scenario -> store -> controllers -> HTTP on loopback. Used
//! by `llmops-console sim`, by `demo` (in-process) and by every test.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::context::SimContext;
use super::error::ApiError;
use super::faults::Faults;
use super::load::{LoadPhase, LoadProgress};
use super::scenario::{self, Plan, ScenarioError};
use super::{controllers, http, load};
use crate::exit::Exit;

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("{0}")]
    Scenario(#[from] ScenarioError),
    #[error("loading the scenario into the simulator failed: {0}")]
    Load(#[from] ApiError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("cannot write kubeconfig {path}: {source}")]
    Kubeconfig {
        path: String,
        source: std::io::Error,
    },
}

/// A running simulator.
pub struct SimServer {
    pub addr: SocketAddr,
    pub ctx: Arc<SimContext>,
    pub scenario: String,
    shutdown: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
    server: JoinHandle<std::io::Result<()>>,
}

/// How long loading waits for controllers to put finalizers on objects a scenario deletes.
const LOAD_WAIT: Duration = Duration::from_secs(10);
/// How long loading waits for the initial fleet to be running before serving anyway.
const SETTLE_WAIT: Duration = Duration::from_secs(60);

impl SimServer {
    /// Loads `scenario` (a built-in name or a file path) with `seed` (else the scenario's own)
    /// and serves it on `listen` (port 0 picks one).
    pub async fn start(
        scenario: &str,
        seed: Option<u64>,
        listen: &str,
    ) -> Result<SimServer, SimError> {
        Self::start_reporting(scenario, seed, listen, &watch::Sender::default()).await
    }

    /// [`SimServer::start`], telling `progress` how loading goes.
    pub async fn start_reporting(
        scenario: &str,
        seed: Option<u64>,
        listen: &str,
        progress: &watch::Sender<LoadProgress>,
    ) -> Result<SimServer, SimError> {
        let parsed = scenario::load(scenario)?;
        let seed = seed.unwrap_or(parsed.seed);
        let plan = scenario::expand(&parsed, seed);
        Self::start_plan_reporting(&plan, listen, progress).await
    }

    pub async fn start_plan(plan: &Plan, listen: &str) -> Result<SimServer, SimError> {
        Self::start_plan_reporting(plan, listen, &watch::Sender::default()).await
    }

    async fn start_plan_reporting(
        plan: &Plan,
        listen: &str,
        progress: &watch::Sender<LoadProgress>,
    ) -> Result<SimServer, SimError> {
        let phase = |phase| {
            progress.send_modify(|p| p.phase = phase);
        };
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|source| SimError::Bind {
                addr: listen.to_string(),
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| SimError::Bind {
            addr: listen.to_string(),
            source,
        })?;
        let ctx = SimContext::new(
            load::settings(plan),
            Faults::new(load::faults(plan), plan.seed),
        );
        ctx.set_warming(true);
        phase(LoadPhase::Creating);
        load::create_objects(&ctx, plan)?;
        let shutdown = CancellationToken::new();
        let tasks = controllers::spawn_all(ctx.clone(), shutdown.child_token());
        phase(LoadPhase::Settling);
        load::wait_settled_reporting(&ctx, SETTLE_WAIT, progress).await;
        ctx.set_warming(false);
        phase(LoadPhase::Terminating);
        load::apply_terminating(&ctx, plan, LOAD_WAIT).await?;
        phase(LoadPhase::Done);
        let server = tokio::spawn(http::serve(ctx.clone(), listener, shutdown.clone()));
        Ok(SimServer {
            addr,
            ctx,
            scenario: plan.scenario.clone(),
            shutdown,
            tasks,
            server,
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A kubeconfig whose current context points at this simulator as `user`.
    pub fn kubeconfig_yaml(&self, user: &str) -> String {
        kubeconfig_yaml(&self.url(), user)
    }

    /// Writes the kubeconfig atomically (temp file + rename), readable only by the owner.
    pub fn write_kubeconfig(&self, path: &Path, user: &str) -> Result<(), SimError> {
        let err = |source| SimError::Kubeconfig {
            path: path.display().to_string(),
            source,
        };
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, self.kubeconfig_yaml(user)).map_err(err)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600)).map_err(err)?;
        }
        std::fs::rename(&tmp, path).map_err(err)
    }

    /// Stops serving (open watches and log streams end) and stops the controllers.
    pub async fn shutdown(self) {
        self.shutdown.cancel();
        let _ = self.server.await;
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

pub fn kubeconfig_yaml(server: &str, user: &str) -> String {
    let token = http::token_for(user);
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: llmops-sim\n  cluster:\n    server: {server}\ncontexts:\n- name: llmops-sim\n  context:\n    cluster: llmops-sim\n    user: {user}\n    namespace: default\ncurrent-context: llmops-sim\nusers:\n- name: {user}\n  user:\n    token: {token}\n"
    )
}

/// What `llmops-console sim` was asked to do.
#[derive(Debug, Clone)]
pub struct SimCommand {
    pub listen: String,
    pub scenario: String,
    pub write_kubeconfig: std::path::PathBuf,
    pub user: String,
    pub seed: Option<u64>,
}

/// Runs `llmops-console sim` until SIGINT or SIGTERM.
pub fn run_command(cmd: &SimCommand) -> Exit {
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("llmops-console sim: cannot start the async runtime: {e}");
            return Exit::Failed;
        }
    };
    rt.block_on(async {
        let server = match SimServer::start(&cmd.scenario, cmd.seed, &cmd.listen).await {
            Ok(s) => s,
            Err(e @ SimError::Scenario(_)) => {
                eprintln!("llmops-console sim: {e}");
                return Exit::Usage;
            }
            Err(e) => {
                eprintln!("llmops-console sim: {e}");
                return Exit::Failed;
            }
        };
        if !server.ctx.faults.knows_user(&cmd.user) {
            eprintln!(
                "llmops-console sim: user {:?} is not defined by scenario {:?} (known: admin and the scenario's users)",
                cmd.user, server.scenario
            );
            server.shutdown().await;
            return Exit::Usage;
        }
        server.ctx.set_default_user(&cmd.user);
        if let Err(e) = server.write_kubeconfig(&cmd.write_kubeconfig, &cmd.user) {
            eprintln!("llmops-console sim: {e}");
            server.shutdown().await;
            return Exit::Failed;
        }
        {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "listening on {}", server.url());
            let _ = out.flush();
        }
        wait_for_signal().await;
        server.shutdown().await;
        Exit::Ok
    })
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) {
            (Ok(mut int), Ok(mut term)) => {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
