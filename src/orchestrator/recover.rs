//! Recovery of unfinished operations: WORK IN PROGRESS (being written in this session).

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::engine::{Engine, RecoverMode};
use super::progress::OpEvent;

pub(crate) async fn run(
    _engine: Engine,
    _id: String,
    _mode: RecoverMode,
    _tx: mpsc::UnboundedSender<OpEvent>,
    _cancel: CancellationToken,
) {
}
