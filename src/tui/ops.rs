//! The operations this console started, as the operation tab shows them: one timeline of steps
//! per operation (the plan's steps, plus `rollback` when it runs), every progress line, the open
//! question, and the outcome once it came. Pure state; the engine's events arrive as `Msg`s.

use std::time::Duration;

use jiff::Timestamp;

use crate::cluster::model::{EndpointKey, EndpointView, Health, Mode};
use crate::orchestrator::progress::{OpKind, Outcome, Progress, Step, StepState, StuckObject};
use crate::orchestrator::{EndpointId, OpState, Request};

/// Progress lines kept per operation; a stuck deletion retried for minutes must not grow
/// without bound.
pub const LOG_LINES: usize = 2_000;
/// Operations kept (finished ones are dropped oldest first).
const KEPT: usize = 32;

/// One step of the timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct StepView {
    pub step: Step,
    pub state: StepState,
    /// Operation time when the step began (the line before its first one) and of its latest
    /// line (None: not reached).
    pub first: Option<Duration>,
    pub last: Option<Duration>,
    pub retries: u32,
    pub message: String,
    pub api: Option<String>,
}

impl StepView {
    fn new(step: Step) -> StepView {
        StepView {
            step,
            state: StepState::Pending,
            first: None,
            last: None,
            retries: 0,
            message: String::new(),
            api: None,
        }
    }

    /// How long the step has taken so far, by the engine's clock.
    pub fn took(&self) -> Option<Duration> {
        Some(self.last?.saturating_sub(self.first?))
    }
}

/// An escalation question waiting for the operator.
#[derive(Debug, Clone, PartialEq)]
pub struct QuestionView {
    pub op_id: String,
    /// `redeploy serving/llama-prod`, for the dialog's title.
    pub about: String,
    /// The plan that asks (`None`: an operation this console does not know), for the words
    /// of the answers.
    pub kind: Option<OpKind>,
    pub prompt: String,
    pub stuck: Vec<StuckObject>,
}

/// An operation an earlier run (or another console) left unfinished on one endpoint, as the
/// redeploy dialog offers it: continue it or roll it back, instead of a new redeploy that its
/// backup would refuse.
#[derive(Debug, Clone, PartialEq)]
pub struct UnfinishedOp {
    pub op_id: String,
    pub kind: OpKind,
    pub endpoint: EndpointId,
    pub step: Step,
    pub state: OpState,
    /// `journal`, `cluster` or `journal+cluster`.
    pub found_in: String,
    pub holder: String,
}

impl UnfinishedOp {
    /// This machine's journal has it: the console may run it after the typed confirmation. A
    /// record only the cluster holds is reviewed through `recover`, which prints its plan.
    pub fn trusted(&self) -> bool {
        self.found_in.contains("journal")
    }

    pub fn is_for(&self, key: &EndpointKey) -> bool {
        self.endpoint.namespace == key.namespace && self.endpoint.name == key.name
    }
}

/// The uid of a row made for an unfinished operation whose endpoint has no row of its own.
const UNFINISHED_ROW: &str = "unfinished:";

/// Whether `view` is such a row.
pub fn is_unfinished_row(view: &EndpointView) -> bool {
    view.uid.starts_with(UNFINISHED_ROW)
}

/// The endpoint rows, plus one per unfinished operation (in the console's namespace `scope`)
/// whose endpoint has none: its objects are gone after a crash, and the row is where `r` offers
/// to continue it or roll it back. Rows made earlier are replaced.
pub fn with_unfinished(
    mut views: Vec<EndpointView>,
    ops: &[UnfinishedOp],
    scope: Option<&str>,
) -> Vec<EndpointView> {
    views.retain(|v| !is_unfinished_row(v));
    let mut added = false;
    for u in ops {
        let ep = &u.endpoint;
        let in_scope = scope.is_none_or(|ns| ns == ep.namespace);
        let shown = views
            .iter()
            .any(|v| v.key.namespace == ep.namespace && v.key.name == ep.name);
        if !in_scope || shown {
            continue;
        }
        views.push(EndpointView {
            key: EndpointKey {
                namespace: ep.namespace.clone(),
                name: ep.name.clone(),
                mode: ep.mode.unwrap_or(Mode::Kserve),
            },
            uid: format!("{UNFINISHED_ROW}{}", u.op_id),
            health: Health::Failed,
            objects_health: Health::Failed,
            ready: 0,
            desired: 0,
            created: None,
            lease: None,
            resources: Vec::new(),
            oldest_terminating: None,
            reasons: vec![format!(
                "unfinished operation {} ({} at {}): r continues it or rolls it back",
                u.op_id,
                u.kind.name(),
                u.step
            )],
        });
        added = true;
    }
    if added {
        views.sort_by(|a, b| a.key.cmp(&b.key));
    }
    views
}

/// How an operation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Confirmed; the engine has not answered yet.
    Starting,
    Running,
    /// The operator asked to cancel; the engine is winding down.
    Cancelling,
    Finished,
    /// The engine refused to start it (see `start_error`).
    NotStarted,
    /// The event channel closed without an outcome.
    Lost,
}

/// One operation of this console.
#[derive(Debug, Clone, PartialEq)]
pub struct OpView {
    /// None until the engine named it.
    pub op_id: Option<String>,
    pub kind: OpKind,
    pub endpoint: EndpointId,
    /// `Pod/name` for an operation on one object.
    pub target: Option<String>,
    /// Whether the spec came from `$EDITOR`.
    pub edited: bool,
    /// When it was confirmed (the app's clock), for the running time in the header.
    pub started: Timestamp,
    pub phase: Phase,
    pub steps: Vec<StepView>,
    pub log: Vec<Progress>,
    /// Lines dropped from the front of `log`.
    pub log_dropped: usize,
    pub outcome: Option<Outcome>,
    pub start_error: Option<String>,
}

impl OpView {
    pub fn new(request: &Request, now: Timestamp) -> OpView {
        OpView {
            op_id: None,
            kind: request.kind,
            endpoint: request.endpoint.clone(),
            target: request
                .target
                .as_ref()
                .map(|t| format!("{}/{}", t.kind.name(), t.name)),
            edited: request.edited.is_some(),
            started: now,
            phase: Phase::Starting,
            steps: Step::plan(request.kind)
                .iter()
                .copied()
                .map(StepView::new)
                .collect(),
            log: Vec::new(),
            log_dropped: 0,
            outcome: None,
            start_error: None,
        }
    }

    /// Still able to change the cluster (so Esc offers to cancel it).
    pub fn is_active(&self) -> bool {
        matches!(
            self.phase,
            Phase::Starting | Phase::Running | Phase::Cancelling
        )
    }

    pub fn is_for(&self, key: &EndpointKey) -> bool {
        self.endpoint.namespace == key.namespace && self.endpoint.name == key.name
    }

    /// `redeploy serving/llama-prod` (plus ` Pod/x` for one object).
    pub fn about(&self) -> String {
        let mut s = format!("{} {}", self.kind.name(), self.endpoint);
        if let Some(t) = &self.target {
            s.push(' ');
            s.push_str(t);
        }
        s
    }

    fn apply(&mut self, p: Progress) {
        let i = match self.steps.iter().position(|s| s.step == p.step) {
            Some(i) => i,
            None => {
                // Rollback (or a step the plan did not list) joins the timeline when it runs.
                self.steps.push(StepView::new(p.step));
                self.steps.len() - 1
            }
        };
        // A step's time runs from the line before its first one (the previous step's end),
        // so a step reported only once, when done, still shows what it took.
        let before = self.log.last().map_or(Duration::ZERO, |l| l.elapsed);
        let s = &mut self.steps[i];
        s.state = p.state;
        s.first.get_or_insert(before.min(p.elapsed));
        s.last = Some(p.elapsed);
        s.retries = s.retries.max(p.retries);
        if !p.message.is_empty() {
            s.message = p.message.clone();
        }
        if p.api.is_some() {
            s.api = p.api.clone();
        }
        self.log.push(p);
        if self.log.len() > LOG_LINES {
            let extra = self.log.len() - LOG_LINES;
            self.log.drain(..extra);
            self.log_dropped += extra;
        }
    }
}

/// Every operation of this console, newest last, and the questions they ask.
#[derive(Debug, Clone, Default)]
pub struct OpsState {
    pub ops: Vec<OpView>,
    /// Open questions, oldest first; the first is the one on screen.
    pub questions: Vec<QuestionView>,
    /// Esc in the operation tab asked "cancel? y/n" about this operation.
    pub cancel_prompt: Option<String>,
    /// Lines scrolled up from the newest progress line (0: follow the tail).
    pub scroll: usize,
    /// Unfinished operations of earlier runs, as found at start.
    pub unfinished: Vec<String>,
    /// The unfinished operations as last listed (at start and after each operation ends),
    /// newest first: `r` on their endpoint offers them.
    pub unfinished_ops: Vec<UnfinishedOp>,
}

impl OpsState {
    /// The latest operation on `key`.
    pub fn latest_for(&self, key: &EndpointKey) -> Option<&OpView> {
        self.ops.iter().rev().find(|o| o.is_for(key))
    }

    /// The newest unfinished operation on `key`'s endpoint that this console is not running.
    pub fn unfinished_on(&self, key: &EndpointKey) -> Option<&UnfinishedOp> {
        self.unfinished_ops
            .iter()
            .filter(|u| self.by_id(&u.op_id).is_none_or(|o| !o.is_active()))
            .find(|u| u.is_for(key))
    }

    /// The newest view of `op_id` (a recovery continues an operation under its own id, so an
    /// earlier view of it may be there, finished).
    pub fn by_id(&self, op_id: &str) -> Option<&OpView> {
        self.ops
            .iter()
            .rev()
            .find(|o| o.op_id.as_deref() == Some(op_id))
    }

    fn by_id_mut(&mut self, op_id: &str) -> Option<&mut OpView> {
        self.ops
            .iter_mut()
            .rev()
            .find(|o| o.op_id.as_deref() == Some(op_id))
    }

    /// An operation of this console that may still change `key`'s endpoint.
    pub fn active_on(&self, key: &EndpointKey) -> Option<&OpView> {
        self.ops.iter().find(|o| o.is_for(key) && o.is_active())
    }

    pub fn active(&self) -> impl Iterator<Item = &OpView> {
        self.ops.iter().filter(|o| o.is_active())
    }

    /// A confirmed request, shown at once as "starting".
    pub fn begin(&mut self, request: &Request, now: Timestamp) {
        self.ops.push(OpView::new(request, now));
        self.scroll = 0;
        while self.ops.len() > KEPT {
            match self.ops.iter().position(|o| !o.is_active()) {
                Some(i) => {
                    self.ops.remove(i);
                }
                None => break,
            }
        }
    }

    /// The engine named the operation started for `request`'s endpoint.
    pub fn started(&mut self, op_id: String, request: &Request) {
        let pending = self.ops.iter_mut().rev().find(|o| {
            o.phase == Phase::Starting && o.op_id.is_none() && o.endpoint == request.endpoint
        });
        match pending {
            Some(o) => {
                o.op_id = Some(op_id);
                o.phase = Phase::Running;
            }
            // Started by someone else's request (nothing pending here): track it all the same.
            None => {
                let mut o = OpView::new(request, Timestamp::UNIX_EPOCH);
                o.op_id = Some(op_id);
                o.phase = Phase::Running;
                self.ops.push(o);
            }
        }
    }

    pub fn start_failed(&mut self, endpoint: &EndpointId, error: String) {
        if let Some(o) = self
            .ops
            .iter_mut()
            .rev()
            .find(|o| o.phase == Phase::Starting && &o.endpoint == endpoint)
        {
            o.phase = Phase::NotStarted;
            o.start_error = Some(error);
        }
    }

    pub fn progress(&mut self, p: Progress) {
        if let Some(o) = self.by_id_mut(&p.op_id) {
            o.apply(p);
        }
    }

    pub fn question(&mut self, op_id: String, prompt: String, stuck: Vec<StuckObject>) {
        let op = self.by_id(&op_id);
        let about = op.map_or_else(|| op_id.clone(), OpView::about);
        let kind = op.map(|o| o.kind);
        self.questions.retain(|q| q.op_id != op_id);
        self.questions.push(QuestionView {
            op_id,
            about,
            kind,
            prompt,
            stuck,
        });
    }

    /// The operation ended; its question and cancel prompt, if any, go with it.
    pub fn finished(&mut self, outcome: Outcome) {
        let id = outcome.op_id.clone();
        self.forget_prompts(&id);
        if let Some(o) = self.by_id_mut(&id) {
            o.phase = Phase::Finished;
            o.outcome = Some(outcome);
        }
    }

    pub fn lost(&mut self, op_id: &str) {
        self.forget_prompts(op_id);
        if let Some(o) = self.by_id_mut(op_id)
            && o.outcome.is_none()
        {
            o.phase = Phase::Lost;
        }
    }

    pub fn cancelling(&mut self, op_id: &str) {
        if let Some(o) = self.by_id_mut(op_id)
            && o.is_active()
        {
            o.phase = Phase::Cancelling;
        }
    }

    fn forget_prompts(&mut self, op_id: &str) {
        self.questions.retain(|q| q.op_id != op_id);
        if self.cancel_prompt.as_deref() == Some(op_id) {
            self.cancel_prompt = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::model::Mode;

    fn request() -> Request {
        Request::new(
            OpKind::Redeploy,
            EndpointId {
                namespace: "serving".into(),
                name: "llama-prod".into(),
                mode: Some(Mode::Kserve),
            },
        )
    }

    fn line(step: Step, state: StepState, secs: u64, retries: u32) -> Progress {
        Progress {
            op_id: "op-1".into(),
            step,
            state,
            elapsed: Duration::from_secs(secs),
            message: format!("{step} {}", state.name()),
            api: None,
            retries,
        }
    }

    #[test]
    fn timeline_follows_progress_and_rollback_joins_it() {
        let mut s = OpsState::default();
        let req = request();
        s.begin(&req, Timestamp::UNIX_EPOCH);
        assert_eq!(s.ops[0].phase, Phase::Starting);
        // Progress for an unknown id changes nothing.
        s.progress(line(Step::Lock, StepState::Running, 0, 0));
        assert!(s.ops[0].log.is_empty());
        s.started("op-1".into(), &req);
        s.progress(line(Step::Lock, StepState::Running, 1, 0));
        s.progress(line(Step::Lock, StepState::Done, 3, 0));
        s.progress(line(Step::Create, StepState::Retrying, 10, 2));
        s.progress(line(Step::Rollback, StepState::Running, 12, 0));
        let o = &s.ops[0];
        assert_eq!(o.phase, Phase::Running);
        assert_eq!(o.steps[0].state, StepState::Done);
        assert_eq!(o.steps[0].took(), Some(Duration::from_secs(3)));
        let create = o.steps.iter().find(|x| x.step == Step::Create);
        // Reported once: from the end of the step before.
        assert_eq!(
            create.and_then(StepView::took),
            Some(Duration::from_secs(7))
        );
        let create = o.steps.iter().find(|x| x.step == Step::Create);
        assert_eq!(
            create.map(|c| (c.state, c.retries)),
            Some((StepState::Retrying, 2))
        );
        assert_eq!(o.steps.last().map(|x| x.step), Some(Step::Rollback));
        assert_eq!(o.steps.len(), Step::plan(OpKind::Redeploy).len() + 1);
        assert_eq!(o.log.len(), 4);
        s.question("op-1".into(), "strip?".into(), vec![]);
        s.cancel_prompt = Some("op-1".into());
        s.lost("op-1");
        assert_eq!(s.ops[0].phase, Phase::Lost);
        assert!(s.questions.is_empty() && s.cancel_prompt.is_none());
    }

    #[test]
    fn log_is_bounded() {
        let mut s = OpsState::default();
        let req = request();
        s.begin(&req, Timestamp::UNIX_EPOCH);
        s.started("op-1".into(), &req);
        for i in 0..(LOG_LINES + 5) {
            s.progress(line(Step::VerifyDeletion, StepState::Running, i as u64, 0));
        }
        assert_eq!(s.ops[0].log.len(), LOG_LINES);
        assert_eq!(s.ops[0].log_dropped, 5);
    }
}
