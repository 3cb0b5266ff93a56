//! llmops-console: a terminal console for LLM serving endpoints on Kubernetes.
//!
//! Layers (see DESIGN.md): `sim` is the simulated cluster, `cluster` the kube-rs side, `orchestrator`
//! the redeploy engine and `tui` the only code that knows about the terminal.

pub mod sim;
