//! Runs one operation from its request to its outcome.

use jiff::Timestamp;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::ctx::Ctx;
use super::engine::Engine;
use super::finish::finish;
use super::progress::{OpEvent, OpKind, Step};
use super::record::{OpRecord, OpState};
use super::request::Request;
use super::{redeploy, single};

pub(crate) fn new_op_id(req: &Request) -> String {
    OpRecord::make_id(
        req.kind,
        &req.endpoint.name,
        Timestamp::now(),
        std::process::id(),
    )
}

pub(crate) fn new_record(engine: &Engine, req: &Request, id: String) -> OpRecord {
    let now = Timestamp::now();
    OpRecord {
        id,
        kind: req.kind,
        endpoint: req.endpoint.clone(),
        holder: engine.settings.holder.clone(),
        context: engine.info.context.clone(),
        server: engine.info.server.clone(),
        cluster_uid: engine.cluster_uid_cached(),
        started: now,
        updated: now,
        state: OpState::Running,
        step: Step::Lock,
        backup: Vec::new(),
        old_objects: Vec::new(),
        decided: None,
        overrides: req
            .overrides
            .iter()
            .map(|o| format!("{}={}", o.key, o.value))
            .collect(),
        created: Vec::new(),
        steps: Vec::new(),
        adopted_from: None,
        result: None,
    }
}

pub(crate) async fn run(
    engine: Engine,
    req: Request,
    id: String,
    tx: mpsc::UnboundedSender<OpEvent>,
    cancel: CancellationToken,
) -> super::progress::Outcome {
    let rec = new_record(&engine, &req, id);
    let mut ctx = Ctx::new(engine, rec, tx.clone(), cancel);
    let end = match req.kind {
        OpKind::Redeploy => redeploy::run(&mut ctx, &req).await,
        OpKind::ForceDelete => single::force_delete(&mut ctx, &req).await,
        OpKind::StripFinalizers => single::strip(&mut ctx, &req).await,
    };
    finish(&mut ctx, &req, end).await
}
