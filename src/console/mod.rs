//! The console: `llmops-console` (against the kubeconfig's cluster) and `llmops-console demo`
//! (against the embedded simulator, started in-process on a loopback port). Both connect one
//! `kube::Client`, start the watches, and run the TUI with the bridge between them.

mod bridge;
mod loading;
mod ops;

use std::path::PathBuf;

use jiff::Timestamp;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::cli::{DemoArgs, GlobalArgs};
use crate::cluster::access::Watched;
use crate::cluster::logs::LogConfig;
use crate::cluster::watch::scope::ScopedWatch;
use crate::cluster::{ClusterTarget, GroupingConfig, Scope, WatchConfig, connect};
use crate::config::keymap::KeyMap;
use crate::config::paths::Paths;
use crate::config::settings::Settings;
use crate::config::theme::Theme;
use crate::exit::Exit;
use crate::orchestrator::{Engine, EngineSettings};
use crate::sim::server::SimServer;
use crate::tui::{self, App, AppOptions};

/// Everything decided before the terminal is taken over, so that every configuration error is
/// printed plainly on stderr instead of inside a half-drawn screen.
struct Prepared {
    settings: Settings,
    theme: Theme,
    keymap: KeyMap,
    themes_dir: Option<PathBuf>,
    /// State directory paths (journal, audit log), or why there are none.
    paths: Result<Paths, String>,
}

fn prepare(global: &GlobalArgs) -> Result<Prepared, String> {
    let found = Paths::discover();
    let paths = found.as_ref().ok().cloned();
    let config_file = match (&global.config, &paths) {
        (Some(p), _) => Some(p.clone()),
        (None, Some(p)) => Some(p.config_file()),
        (None, None) => None,
    };
    let settings = match &config_file {
        Some(p) => Settings::load(p).map_err(|e| e.to_string())?,
        None => Settings::default(),
    };
    let themes_dir = paths.as_ref().map(Paths::themes_dir);
    let name = tui::style::theme_name(
        global.theme.as_deref(),
        &settings,
        global.kiosk,
        tui::style::no_color_from_env(),
    );
    let theme = Theme::load(name, themes_dir.as_deref()).map_err(|e| e.to_string())?;
    let keymap = KeyMap::new(&settings.keys).map_err(|e| {
        format!(
            "{}: {e}",
            config_file
                .as_ref()
                .map_or("config".to_string(), |p| p.display().to_string())
        )
    })?;
    Ok(Prepared {
        settings,
        theme,
        keymap,
        themes_dir,
        paths: found,
    })
}

/// `llmops-console` (demo = None) or `llmops-console demo`.
pub fn run(global: &GlobalArgs, demo: Option<&DemoArgs>) -> Exit {
    if demo.is_some()
        && let Some(message) = demo_refuses(global)
    {
        eprintln!("llmops-console demo: {message}");
        return Exit::Usage;
    }
    let prepared = match prepare(global) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("llmops-console: {e}");
            return Exit::Usage;
        }
    };
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("llmops-console: cannot start the async runtime: {e}");
            return Exit::Failed;
        }
    };
    rt.block_on(run_async(global, demo, prepared))
}

async fn run_async(global: &GlobalArgs, demo: Option<&DemoArgs>, p: Prepared) -> Exit {
    // The demo's simulator lives as long as the console; its kubeconfig goes to a private file,
    // removed when the console ends.
    let mut sim: Option<SimServer> = None;
    let mut _demo_dir: Option<DemoDir> = None;
    let mut target = global.cluster_target();
    if let Some(d) = demo {
        match start_demo(d).await {
            Ok((server, dir)) => {
                let kubeconfig = dir.kubeconfig();
                _demo_dir = Some(dir);
                target = ClusterTarget {
                    kubeconfig: Some(kubeconfig),
                    context: None,
                    namespace: Some(match &global.namespace {
                        Some(ns) => Scope::Namespace(ns.clone()),
                        None => Scope::All,
                    }),
                };
                sim = Some(server);
            }
            Err(e) => {
                eprintln!("llmops-console demo: {e}");
                return Exit::Usage;
            }
        }
    }
    let (client, info) = match connect(&target).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("llmops-console: {e}");
            if let Some(s) = sim {
                s.shutdown().await;
            }
            return Exit::Failed;
        }
    };
    if let Err(e) = tui::init_console_log(
        crate::logging::filter(
            std::env::var(crate::logging::LOG_ENV).ok().as_deref(),
            global.verbose.max(1),
        )
        .0,
    ) {
        eprintln!("llmops-console: console log unavailable: {e}");
    }
    let grouping = GroupingConfig::from(&p.settings.endpoints);
    // The bridge starts the watches on the scope (after asking RBAC where, for all namespaces).
    let (watch, notices) = ScopedWatch::start(
        client.clone(),
        &Watched::Namespaces(Vec::new()),
        WatchConfig::default(),
    );
    let app = App::new(
        AppOptions {
            context: info.context.clone(),
            server: info.server.clone(),
            namespace: info.scope.namespace().map(str::to_string),
            readonly: global.readonly || global.kiosk,
            kiosk: global.kiosk,
            theme: p.theme,
            keymap: p.keymap,
            settings: p.settings.clone(),
            tz: jiff::tz::TimeZone::system(),
        },
        Timestamp::now(),
    );
    let (msg_tx, msg_rx) = mpsc::channel(1024);
    let (fx_tx, fx_rx) = mpsc::channel(64);
    let cancel = CancellationToken::new();
    let engine = p.paths.map(|paths| {
        Engine::new(
            client.clone(),
            info.clone(),
            EngineSettings {
                journal_dir: paths.journal_dir(),
                audit_log: paths.audit_log(),
                grouping: grouping.clone(),
                holder: crate::orchestrator::lease::holder_identity(),
            },
        )
    });
    let bridge = bridge::Bridge {
        watch,
        scope: bridge::ScopeSource {
            start: info.scope.clone(),
            configured: p.settings.namespaces.clone(),
            context_ns: Some(client.default_namespace().to_string()),
            watch_config: WatchConfig::default(),
        },
        client,
        grouping,
        engine,
        themes_dir: p.themes_dir,
        log_config: LogConfig {
            tail_lines: p.settings.logs.tail_lines,
            ..LogConfig::default()
        },
    };
    let bridge_task = tokio::spawn(bridge.run(notices, fx_rx, msg_tx, cancel.clone()));
    let result = tui::run(app, msg_rx, fx_tx).await;
    // The terminal is restored by now; this also tells the bridge to cancel what still runs and
    // report it on stderr (see `Operations::shutdown`).
    cancel.cancel();
    let _ = bridge_task.await;
    if let Some(s) = sim {
        s.shutdown().await;
    }
    match result {
        Ok(()) => Exit::Ok,
        Err(e) => {
            // After a hangup the terminal is gone: the write may fail, and must not panic.
            crate::headless::print::stderr_line(&format!("llmops-console: terminal error: {e}"));
            Exit::Failed
        }
    }
}

/// `demo` runs against its own simulator: a flag that picks another cluster would be silently
/// ignored, so it is refused instead (`-n`/`-A` scope the demo's watches as usual).
fn demo_refuses(global: &GlobalArgs) -> Option<String> {
    let flag = if global.kubeconfig.is_some() {
        "--kubeconfig"
    } else if global.context.is_some() {
        "--context"
    } else {
        return None;
    };
    Some(format!(
        "{flag} does not apply: the demo runs against its own simulator, not a kubeconfig's \
         cluster. Drop {flag} to run the demo, or run `llmops-console {flag} ...` without \
         `demo` to open the console against that cluster."
    ))
}

/// The demo's private directory (its kubeconfig), removed on drop: a demo leaves nothing behind.
struct DemoDir(PathBuf);

impl DemoDir {
    fn kubeconfig(&self) -> PathBuf {
        self.0.join("kubeconfig")
    }
}

impl Drop for DemoDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Starts the embedded simulator on an ephemeral loopback port and writes its kubeconfig.
/// Says how loading goes on stderr meanwhile (a large fleet takes seconds).
async fn start_demo(d: &DemoArgs) -> Result<(SimServer, DemoDir), String> {
    let scenario = d.scenario.to_string();
    let (progress, rx) = tokio::sync::watch::channel(Default::default());
    let reporter = tokio::spawn(loading::report(scenario.clone(), rx));
    let started = SimServer::start_reporting(&scenario, d.seed, "127.0.0.1:0", &progress).await;
    drop(progress);
    let _ = reporter.await;
    let server = started.map_err(|e| e.to_string())?;
    let path = std::env::temp_dir().join(format!("llmops-console-demo-{}", std::process::id()));
    std::fs::create_dir_all(&path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    let dir = DemoDir(path);
    server
        .write_kubeconfig(&dir.kubeconfig(), "admin")
        .map_err(|e| e.to_string())?;
    Ok((server, dir))
}
