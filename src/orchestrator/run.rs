//! Runs one operation: WORK IN PROGRESS (being written in this session).

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::engine::Engine;
use super::progress::OpEvent;
use super::record::OpRecord;
use super::request::Request;

pub(crate) fn new_op_id(req: &Request) -> String {
    OpRecord::make_id(
        req.kind,
        &req.endpoint.name,
        jiff::Timestamp::now(),
        std::process::id(),
    )
}

pub(crate) async fn run(
    _engine: Engine,
    _req: Request,
    _id: String,
    _tx: mpsc::UnboundedSender<OpEvent>,
    _cancel: CancellationToken,
) {
}
