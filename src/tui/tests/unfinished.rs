//! Issue 8, case 5 in the console: `r` on an endpoint with an unfinished operation opens a
//! dialog that names it and offers to continue it (resume) or roll it back, started through the
//! engine after the typed name; Esc cancels with nothing done. Never a dead end.

use crate::config::keymap::Key;
use crate::orchestrator::progress::{OpKind, Step};
use crate::orchestrator::{EscalationPolicy, OpState, RecoverMode, Request};
use crate::tui::app::{Pane, Tab};
use crate::tui::msg::{Effect, Msg};
use crate::tui::ops::{Phase, UnfinishedOp};

use super::ops::llama;
use super::{app, feed, key, render, special, text, type_text};

const LEFT: &str = "redeploy-llama-prod-20261102T090000000Z-77";

fn left_behind() -> UnfinishedOp {
    UnfinishedOp {
        op_id: LEFT.into(),
        kind: OpKind::Redeploy,
        endpoint: llama(),
        step: Step::VerifyDeletion,
        state: OpState::NeedsRecovery,
        found_in: "journal+cluster".into(),
        holder: "ops@host-1/4242".into(),
    }
}

fn recovery(fx: &[Effect]) -> Option<(String, RecoverMode, Request)> {
    fx.iter().find_map(|f| match f {
        Effect::RecoverOperation {
            op_id,
            mode,
            request,
        } => Some((op_id.clone(), *mode, request.clone())),
        _ => None,
    })
}

#[test]
fn r_on_an_endpoint_with_an_unfinished_operation_offers_to_continue_it() {
    let mut app = app();
    feed(&mut app, [Msg::UnfinishedFound(vec![left_behind()])]);
    assert!(feed(&mut app, [key('r')]).is_empty());
    let c = app.confirm().expect("the dialog is open");
    assert_eq!(c.unfinished.as_ref().map(|u| u.op_id.as_str()), Some(LEFT));
    let screen = text(&render(&app, 200, 50));
    for want in [
        "Unfinished operation on serving/llama-prod",
        LEFT,
        "(redeploy at verify-deletion,",
        "needs-recovery, found in journal+cluster",
        "(•) continue it (resume)",
        "( ) roll it back",
        &format!("Same as: llmops-console recover {LEFT} --resume"),
        "enter: continue it (resume) · esc: cancel, nothing is done",
    ] {
        assert!(screen.contains(want), "no {want:?} in:\n{screen}");
    }
    // Only the typed name starts it, through the engine's recovery (policy ask).
    let fx = feed(&mut app, [special(Key::Enter)]);
    assert!(recovery(&fx).is_none() && app.confirm().is_some(), "{fx:?}");
    type_text(&mut app, "llama-prod");
    let fx = feed(&mut app, [special(Key::Enter)]);
    let (op, mode, req) = recovery(&fx).unwrap_or_else(|| panic!("no recovery in {fx:?}"));
    assert_eq!((op.as_str(), mode), (LEFT, RecoverMode::Resume));
    let mut want = Request::new(OpKind::Redeploy, llama());
    want.finalizers = EscalationPolicy::Ask;
    assert_eq!(req, want);
    assert!(
        !fx.iter().any(|f| matches!(f, Effect::StartOperation(_))),
        "no new redeploy: {fx:?}"
    );
    assert!(app.confirm().is_none());
    assert_eq!((app.tab(), app.focus()), (Tab::Operation, Pane::Bottom));
    // The engine names it with the unfinished operation's id: the view follows it.
    feed(
        &mut app,
        [Msg::OpStarted {
            op_id: LEFT.into(),
            request: req,
        }],
    );
    let view = app.ops().by_id(LEFT).expect("tracked");
    assert_eq!(view.phase, Phase::Running);
    // While it runs here, `r` is refused as for any running operation.
    feed(&mut app, [special(Key::Esc), special(Key::Esc), key('r')]);
    assert!(app.confirm().is_none());
}

#[test]
fn tab_chooses_the_rollback_and_esc_cancels_with_nothing_done() {
    let mut app = app();
    feed(&mut app, [Msg::UnfinishedFound(vec![left_behind()])]);
    feed(&mut app, [key('r'), special(Key::Tab)]);
    let screen = text(&render(&app, 200, 50));
    assert!(screen.contains("(•) roll it back"), "{screen}");
    assert!(
        screen.contains(&format!("llmops-console recover {LEFT} --rollback")),
        "{screen}"
    );
    type_text(&mut app, "llama-prod");
    let fx = feed(&mut app, [special(Key::Enter)]);
    assert_eq!(
        recovery(&fx).map(|(op, m, _)| (op, m)),
        Some((LEFT.to_string(), RecoverMode::Rollback))
    );

    let mut app = super::app();
    feed(&mut app, [Msg::UnfinishedFound(vec![left_behind()])]);
    feed(&mut app, [key('r')]);
    type_text(&mut app, "llama-prod");
    let fx = feed(&mut app, [special(Key::Esc)]);
    assert!(fx.is_empty() && app.confirm().is_none(), "{fx:?}");
    let m = app.message().map(|m| m.text.clone()).unwrap_or_default();
    assert!(m.contains("cancelled, nothing was done"), "{m}");
}

#[test]
fn a_record_found_only_in_the_cluster_is_never_run_from_the_console() {
    // Anyone who may write ConfigMaps can plant one: its plan is reviewed where `recover`
    // prints it, not started by a typed name.
    let mut app = app();
    let mut planted = left_behind();
    planted.found_in = "cluster".into();
    feed(&mut app, [Msg::UnfinishedFound(vec![planted])]);
    feed(&mut app, [key('r')]);
    let screen = text(&render(&app, 200, 50));
    assert!(
        screen.contains("Found only in the cluster (unverified)"),
        "{screen}"
    );
    type_text(&mut app, "llama-prod");
    let fx = feed(&mut app, [special(Key::Enter)]);
    assert!(recovery(&fx).is_none(), "{fx:?}");
    assert!(
        !fx.iter().any(|f| matches!(f, Effect::StartOperation(_))),
        "{fx:?}"
    );
    let m = app.message().map(|m| m.text.clone()).unwrap_or_default();
    assert!(
        m.contains(&format!(
            "review its plan first with `llmops-console recover {LEFT} --resume`"
        )),
        "{m}"
    );
}

#[test]
fn once_nothing_is_unfinished_r_is_a_plain_redeploy_again() {
    let mut app = app();
    feed(&mut app, [Msg::UnfinishedFound(vec![left_behind()])]);
    // Listed again after the recovery ended: nothing left.
    feed(&mut app, [Msg::UnfinishedFound(vec![])]);
    feed(&mut app, [key('r')]);
    let c = app.confirm().expect("the dialog is open");
    assert!(c.unfinished.is_none());
    // Another endpoint's unfinished operation does not change this one's dialog.
    let mut other = left_behind();
    other.endpoint.name = "other".into();
    let mut app = super::app();
    feed(&mut app, [Msg::UnfinishedFound(vec![other]), key('/')]);
    type_text(&mut app, "llama-prod");
    feed(&mut app, [special(Key::Enter), key('r')]);
    let c = app.confirm().expect("the dialog is open");
    assert_eq!(c.endpoint.name, "llama-prod");
    assert!(c.unfinished.is_none());
}

/// Case 10 in the console: an unfinished operation whose endpoint has no objects left gets a
/// row of its own (it would otherwise be nowhere to select), kept across cluster updates and
/// gone once nothing is unfinished; `r` on it offers the recovery.
#[test]
fn an_endpoint_whose_objects_are_gone_keeps_a_row_for_its_unfinished_operation() {
    let mut app = app();
    let mut gone = left_behind();
    gone.op_id = "redeploy-vanished-1".into();
    gone.endpoint.name = "vanished".into();
    feed(&mut app, [Msg::UnfinishedFound(vec![gone.clone()])]);
    assert!(app.visible_endpoints().any(|e| e.key.name == "vanished"));
    // A cluster update does not drop it.
    feed(&mut app, [Msg::Endpoints(crate::tui::fixtures::fleet())]);
    feed(&mut app, [key('/')]);
    type_text(&mut app, "vanished");
    feed(&mut app, [special(Key::Enter)]);
    assert_eq!(
        app.selected_endpoint().map(|e| e.key.name.as_str()),
        Some("vanished")
    );
    let screen = text(&render(&app, 200, 50));
    assert!(screen.contains("⚠ Unfinished"), "{screen}");
    feed(&mut app, [key('r')]);
    assert_eq!(
        app.confirm()
            .and_then(|c| c.unfinished.as_ref())
            .map(|u| u.op_id.as_str()),
        Some("redeploy-vanished-1")
    );
    type_text(&mut app, "vanished");
    let fx = feed(&mut app, [special(Key::Enter)]);
    assert_eq!(
        recovery(&fx).map(|(op, m, _)| (op, m)),
        Some(("redeploy-vanished-1".to_string(), RecoverMode::Resume))
    );
    // Recovered: listed again with nothing left, the row goes.
    feed(&mut app, [Msg::UnfinishedFound(vec![]), special(Key::Esc)]);
    assert!(!app.endpoints.iter().any(|e| e.key.name == "vanished"));
}
