//! llmops-console: a terminal console for LLM serving endpoints on Kubernetes.
//!
//! Layers (see DESIGN.md): `sim` is the simulated cluster, `cluster` the kube-rs side, `orchestrator`
//! the redeploy engine and `tui` the only code that knows about the terminal. `cli` and `exit` are
//! the command-line interface that `main.rs` dispatches on.

pub mod cli;
pub mod cluster;
pub mod config;
pub mod console;
pub mod exit;
pub mod headless;
pub mod logging;
pub mod orchestrator;
pub mod sim;
pub mod text;
pub mod tui;
pub mod util;
