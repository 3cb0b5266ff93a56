//! placeholder until merge
use std::sync::Arc;
pub fn spawn_all(
    _ctx: Arc<crate::sim::context::SimContext>,
    _s: tokio_util::sync::CancellationToken,
) -> Vec<tokio::task::JoinHandle<()>> {
    Vec::new()
}
