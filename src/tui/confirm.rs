//! The confirmation of a destructive operation (`r` redeploy, `D` force-delete, `F` strip
//! finalizers): what it deletes and recreates is on screen, and only typing the endpoint's name
//! exactly, then Enter, starts it. Esc closes it with nothing done.

use serde_json::Value;

use crate::cluster::model::{EndpointKey, EndpointView, Kind, ResourceNode};
use crate::config::keymap::{Key, KeySpec};
use crate::orchestrator::progress::OpKind;
use crate::orchestrator::{EndpointId, EscalationPolicy, ObjectTarget, RecoverMode, Request};

use super::app::{App, Level, Pane, Tab};
use super::msg::{Effect, ObjectRef};
use super::ops::UnfinishedOp;
use super::text::sanitize;

/// Longer than any Kubernetes name: typing past it is a mistake, not a name.
const MAX_TYPED: usize = 256;

#[derive(Debug, Clone, PartialEq)]
pub struct Confirm {
    pub kind: OpKind,
    pub endpoint: EndpointKey,
    /// Force-delete / strip of this one object (chosen in the resources pane).
    pub target: Option<ObjectRef>,
    /// What the operator typed so far.
    pub typed: String,
    /// Force-delete: strip finalizers too (Tab toggles; off by default).
    pub strip_too: bool,
    /// Redeploy from `$EDITOR`: the edited root object, and its changes as lines.
    pub edited: Option<Value>,
    pub diff: Vec<String>,
    /// Lines scrolled in the dialog's body (long trees).
    pub scroll: usize,
    /// Redeploy of an endpoint with an unfinished operation: the dialog offers to continue it
    /// or roll it back instead (a new redeploy would be refused by its backup).
    pub unfinished: Option<UnfinishedOp>,
    /// What Enter does with `unfinished` (Tab switches).
    pub recover_mode: RecoverMode,
    /// Enter was pressed with a name that is not the endpoint's: what the dialog says about
    /// it until the operator types again.
    pub wrong: Option<String>,
}

impl Confirm {
    pub fn new(kind: OpKind, endpoint: EndpointKey, target: Option<ObjectRef>) -> Confirm {
        Confirm {
            kind,
            endpoint,
            target,
            typed: String::new(),
            strip_too: false,
            edited: None,
            diff: Vec::new(),
            scroll: 0,
            unfinished: None,
            recover_mode: RecoverMode::Resume,
            wrong: None,
        }
    }

    /// `` `foo` is not `bar`: nothing was done ``, for Enter with a wrong name.
    pub fn mismatch(&self) -> String {
        let name = sanitize(&self.endpoint.name);
        if self.typed.is_empty() {
            format!("nothing typed: type `{name}` to confirm, or esc to cancel")
        } else {
            format!(
                "`{}` is not `{name}`: nothing was done; correct it and press enter, or esc to \
                 cancel",
                sanitize(&self.typed)
            )
        }
    }

    /// The recovery this dialog starts instead of a redeploy: the unfinished operation's id,
    /// the mode, and the request its operation tab shows (policy `ask`: the operator answers).
    pub fn recovery(&self) -> Option<(String, RecoverMode, Request)> {
        let u = self.unfinished.as_ref()?;
        let mut req = Request::new(
            u.kind,
            EndpointId {
                namespace: self.endpoint.namespace.clone(),
                name: self.endpoint.name.clone(),
                mode: Some(self.endpoint.mode),
            },
        );
        req.finalizers = EscalationPolicy::Ask;
        Some((u.op_id.clone(), self.recover_mode, req))
    }

    /// `continue it (resume)` / `roll it back`.
    pub fn recover_words(&self) -> &'static str {
        match self.recover_mode {
            RecoverMode::Resume => "continue it (resume)",
            RecoverMode::Rollback => "roll it back",
            RecoverMode::Discard => "discard its backup",
        }
    }

    /// The `recover` flag of the chosen way on.
    pub fn recover_flag(&self) -> &'static str {
        match self.recover_mode {
            RecoverMode::Resume => "--resume",
            RecoverMode::Rollback => "--rollback",
            RecoverMode::Discard => "--discard",
        }
    }

    /// `Redeploy`, `Force-delete`, `Strip finalizers`.
    pub fn verb(&self) -> &'static str {
        match self.kind {
            OpKind::Redeploy => "Redeploy",
            OpKind::ForceDelete => "Force-delete",
            OpKind::StripFinalizers => "Strip finalizers",
        }
    }

    pub fn matches(&self) -> bool {
        self.typed == self.endpoint.name
    }

    /// The request this dialog starts. Redeploy and force-delete from the console ask before
    /// escalating (the operator is there to answer); force-delete strips without asking when
    /// the toggle says so.
    pub fn request(&self) -> Request {
        let mut req = Request::new(
            self.kind,
            EndpointId {
                namespace: self.endpoint.namespace.clone(),
                name: self.endpoint.name.clone(),
                mode: Some(self.endpoint.mode),
            },
        );
        req.target = self.target.as_ref().map(|t| ObjectTarget {
            kind: t.kind,
            name: t.name.clone(),
        });
        req.finalizers = match self.kind {
            OpKind::Redeploy => EscalationPolicy::Ask,
            OpKind::ForceDelete if self.strip_too => EscalationPolicy::Strip,
            OpKind::ForceDelete => EscalationPolicy::Ask,
            OpKind::StripFinalizers => EscalationPolicy::Never,
        };
        req.edited = self.edited.clone().map(|m| vec![m]);
        req
    }
}

/// The resources the operation touches: the whole tree, or the chosen object's subtree.
pub fn affected<'a>(c: &Confirm, view: &'a EndpointView) -> Vec<&'a ResourceNode> {
    match &c.target {
        None => view.resources.iter().collect(),
        Some(t) => find(&view.resources, &t.uid).into_iter().collect(),
    }
}

fn find<'a>(nodes: &'a [ResourceNode], uid: &str) -> Option<&'a ResourceNode> {
    nodes.iter().find_map(|n| {
        if n.uid == uid {
            Some(n)
        } else {
            find(&n.children, uid)
        }
    })
}

/// What a redeploy creates again: the roots that are not Pods or ReplicaSets (those come back
/// from their controllers), i.e. the InferenceService, or the Deployment with its Service, HPA
/// and Ingress.
pub fn recreated(view: &EndpointView) -> Vec<&ResourceNode> {
    view.resources
        .iter()
        .filter(|n| !matches!(n.kind, Kind::Pod | Kind::ReplicaSet))
        .collect()
}

/// Opens the dialog for `kind` on the selected endpoint (or, for D/F from the resources pane,
/// the selected object).
pub(crate) fn open(app: &mut App, kind: OpKind) {
    let Some(view) = app.selected_endpoint() else {
        return;
    };
    let endpoint = view.key.clone();
    // The operation pane follows the selected endpoint: keep the selection on this one while
    // its rows re-sort (Terminating -> Redeploying -> Ready moves it in a status sort).
    app.table.pin(&app.endpoints);
    let target = match kind {
        OpKind::Redeploy => None,
        _ if app.focus == Pane::Resources => app.tree.selected().map(|r| r.object_ref()),
        _ => None,
    };
    let mut c = Confirm::new(kind, endpoint, target);
    if kind == OpKind::Redeploy {
        c.unfinished = app.ops.unfinished_on(&c.endpoint).cloned();
    }
    app.confirm = Some(c);
}

pub(crate) fn on_key(app: &mut App, key: KeySpec, fx: &mut Vec<Effect>) {
    let Some(c) = app.confirm.as_mut() else {
        return;
    };
    match key.key {
        Key::Esc => close(app),
        Key::Char('c') if key.ctrl => close(app),
        Key::Enter if c.matches() && c.unfinished.as_ref().is_some_and(|u| !u.trusted()) => {
            // A record found only in the cluster is anyone's text: its plan (what it deletes and
            // creates, with diffs and warnings) is reviewed where `recover` prints it.
            if let Some(u) = &c.unfinished {
                let text = format!(
                    "operation {} was found only in the cluster (unverified): review its plan first \
                     with `llmops-console recover {} {}`",
                    sanitize(&u.op_id),
                    sanitize(&u.op_id),
                    c.recover_flag()
                );
                app.say(Level::Warn, text);
            }
        }
        Key::Enter if c.matches() && c.unfinished.is_some() => {
            let Some((op_id, mode, request)) = c.recovery() else {
                return;
            };
            app.confirm = None;
            app.ops.begin(&request, app.now);
            app.tab = Tab::Operation;
            app.focus = Pane::Bottom;
            fx.push(Effect::RecoverOperation {
                op_id,
                mode,
                request,
            });
        }
        Key::Enter if c.matches() => {
            let req = c.request();
            app.confirm = None;
            app.ops.begin(&req, app.now);
            app.tab = Tab::Operation;
            app.focus = Pane::Bottom;
            fx.push(Effect::StartOperation(req));
        }
        Key::Enter => {
            let text = c.mismatch();
            c.wrong = Some(text.clone());
            app.say(Level::Warn, text);
        }
        Key::Backspace => {
            c.typed.pop();
            c.wrong = None;
        }
        Key::Tab if c.unfinished.is_some() => {
            // Discarding drops the backup for good: a shell command, never a tab away.
            c.recover_mode = match c.recover_mode {
                RecoverMode::Resume => RecoverMode::Rollback,
                RecoverMode::Rollback | RecoverMode::Discard => RecoverMode::Resume,
            };
        }
        Key::Tab if c.kind == OpKind::ForceDelete => c.strip_too = !c.strip_too,
        Key::Up => c.scroll = c.scroll.saturating_sub(1),
        Key::Down => c.scroll += 1,
        Key::PageUp => c.scroll = c.scroll.saturating_sub(10),
        Key::PageDown => c.scroll += 10,
        Key::Char(ch) if !key.ctrl && !key.alt && c.typed.chars().count() < MAX_TYPED => {
            c.typed.push(ch);
            c.wrong = None;
        }
        _ => {}
    }
}

fn close(app: &mut App) {
    if let Some(c) = app.confirm.take() {
        let text = format!(
            "{} of {}/{}: cancelled, nothing was done",
            c.kind.name(),
            sanitize(&c.endpoint.namespace),
            sanitize(&c.endpoint.name)
        );
        app.say(Level::Info, text);
    }
}
