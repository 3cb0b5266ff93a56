//! Headless tests of the operation flows: the confirmation (only the exact name starts
//! anything), read-only refusal, the operation's messages, the escalation question, cancelling,
//! quitting while an operation runs, and the `e` edit flow.

use std::time::Duration;

use crate::cluster::model::{Kind, Mode};
use crate::config::keymap::{Key, KeySpec};
use crate::orchestrator::progress::{
    EscalationChoice, OpKind, OpResult, Outcome, Progress, Step, StepState, StuckObject,
};
use crate::orchestrator::{EndpointId, EscalationPolicy, ObjectId, ObjectTarget, Request};
use crate::tui::app::{App, Pane, Tab};
use crate::tui::fixtures;
use crate::tui::msg::{Effect, Msg};
use crate::tui::ops::Phase;

use super::{app, app_with, feed, key, render, special, text, type_text};

pub(super) const OP: &str = "redeploy-llama-prod-20261103T140000000Z-4242";

pub(super) fn llama() -> EndpointId {
    EndpointId {
        namespace: "serving".into(),
        name: "llama-prod".into(),
        mode: Some(Mode::Kserve),
    }
}

pub(super) fn progress(
    step: Step,
    state: StepState,
    ms: u64,
    retries: u32,
    message: &str,
    api: Option<&str>,
) -> Msg {
    Msg::OpProgress(Progress {
        op_id: OP.into(),
        step,
        state,
        elapsed: Duration::from_millis(ms),
        message: message.into(),
        api: api.map(str::to_string),
        retries,
    })
}

pub(super) fn stuck_pod() -> StuckObject {
    StuckObject {
        object: ObjectId {
            kind: "Pod".into(),
            namespace: "serving".into(),
            name: "llama-prod-predictor-7c9d8-abcde".into(),
            uid: "uid-llama-prod-predictor-7c9d8-abcde".into(),
        },
        finalizers: vec!["example.com/stuck-volume-cleanup".into()],
        terminating_for_seconds: Some(2832),
        awaiting_gc: None,
    }
}

pub(super) fn outcome(result: OpResult, failed: Option<Step>, rollback: Option<&str>) -> Msg {
    Msg::OpFinished(Box::new(Outcome {
        op_id: OP.into(),
        kind: OpKind::Redeploy,
        endpoint: llama(),
        result,
        failed_step: failed,
        message: "create: InferenceService serving/llama-prod was refused 3 times with 409 \
                  AlreadyExists (the old one is still being deleted); the endpoint was restored \
                  from the backup. Check the finalizer inferenceservice.finalizers and run \
                  redeploy again."
            .into(),
        rollback: rollback.map(str::to_string),
        created: vec![],
        deleted: vec![],
        retries: 3,
        elapsed: Duration::from_millis(131_400),
        journal: None,
    }))
}

/// `r`, the name, Enter: the redeploy of llama-prod started and named [`OP`].
pub(super) fn started_redeploy() -> App {
    let mut app = app();
    feed(&mut app, [key('r')]);
    type_text(&mut app, "llama-prod");
    let fx = feed(&mut app, [special(Key::Enter)]);
    let Some(Effect::StartOperation(req)) = fx.into_iter().next() else {
        panic!("no StartOperation");
    };
    feed(
        &mut app,
        [Msg::OpStarted {
            op_id: OP.into(),
            request: req,
        }],
    );
    app
}

fn started(fx: &[Effect]) -> Option<&Request> {
    fx.iter().find_map(|f| match f {
        Effect::StartOperation(r) => Some(r),
        _ => None,
    })
}

#[test]
fn only_the_exact_name_and_enter_start_a_redeploy() {
    let mut app = app();
    assert!(feed(&mut app, [key('r')]).is_empty());
    // Keys are text now: q does not quit, j does not move.
    let fx = type_text(&mut app, "qj");
    assert!(fx.is_empty() && !app.should_quit(), "{fx:?}");
    feed(&mut app, [special(Key::Backspace), special(Key::Backspace)]);
    for wrong in ["llama-pro", "llama-prodd", "LLAMA-PROD", " llama-prod"] {
        type_text(&mut app, wrong);
        let fx = feed(&mut app, [special(Key::Enter)]);
        assert!(started(&fx).is_none(), "{wrong}: {fx:?}");
        assert!(app.confirm().is_some(), "{wrong}: the dialog stays");
        let m = app.message().map(|m| m.text.clone()).unwrap_or_default();
        assert!(m.contains(&format!("`{wrong}` is not `llama-prod`")), "{m}");
        for _ in 0..wrong.len() {
            feed(&mut app, [special(Key::Backspace)]);
        }
    }
    assert_eq!(app.confirm().map(|c| c.typed.as_str()), Some(""));
    type_text(&mut app, "llama-prod");
    let fx = feed(&mut app, [special(Key::Enter)]);
    let req = started(&fx).cloned();
    let mut want = Request::new(OpKind::Redeploy, llama());
    want.finalizers = EscalationPolicy::Ask;
    assert_eq!(req, Some(want));
    assert!(app.confirm().is_none());
    // The operation tab opens at once, "starting…" until the engine answers.
    assert_eq!((app.tab(), app.focus()), (Tab::Operation, Pane::Bottom));
    assert!(text(&render(&app, 200, 50)).contains("redeploy serving/llama-prod · starting…"));
}

#[test]
fn esc_and_ctrl_c_close_the_dialog_with_nothing_done() {
    let mut app = app();
    for close in [special(Key::Esc), Msg::Key(KeySpec::ctrl('c'))] {
        feed(&mut app, [key('D')]);
        type_text(&mut app, "llama-prod");
        let fx = feed(&mut app, [close]);
        assert!(fx.is_empty(), "{fx:?}");
        assert!(app.confirm().is_none() && !app.should_quit());
        assert!(app.ops().ops.is_empty());
        let m = app.message().map(|m| m.text.clone()).unwrap_or_default();
        assert_eq!(
            m,
            "force-delete of serving/llama-prod: cancelled, nothing was done"
        );
    }
}

#[test]
fn force_delete_of_one_object_and_the_strip_toggle() {
    let mut app = app();
    // Into the resources pane, down to the stuck pod.
    feed(&mut app, [special(Key::Enter)]);
    while app.tree.selected().is_some_and(|r| r.kind != Kind::Pod) {
        feed(&mut app, [key('j')]);
    }
    let pod = app
        .tree
        .selected()
        .map(|r| r.name.clone())
        .unwrap_or_default();
    feed(&mut app, [key('D')]);
    assert_eq!(app.confirm().map(|c| c.strip_too), Some(false));
    feed(&mut app, [special(Key::Tab)]);
    assert_eq!(app.confirm().map(|c| c.strip_too), Some(true));
    type_text(&mut app, "llama-prod");
    let fx = feed(&mut app, [special(Key::Enter)]);
    let req = started(&fx).cloned().unwrap_or_else(|| panic!("{fx:?}"));
    assert_eq!(req.kind, OpKind::ForceDelete);
    assert_eq!(
        req.target,
        Some(ObjectTarget {
            kind: Kind::Pod,
            name: pod
        })
    );
    assert_eq!(req.finalizers, EscalationPolicy::Strip);
    // F on the endpoint (from the endpoints pane): the whole endpoint, no escalation policy.
    let mut app = super::app();
    feed(&mut app, [key('j'), key('F')]);
    assert!(feed(&mut app, [special(Key::Tab)]).is_empty());
    assert_eq!(
        app.confirm().map(|c| c.strip_too),
        Some(false),
        "tab is D's only"
    );
    type_text(&mut app, "qwen-coder");
    let fx = feed(&mut app, [special(Key::Enter)]);
    let req = started(&fx).cloned().unwrap_or_else(|| panic!("{fx:?}"));
    assert_eq!(
        (req.kind, req.target, req.finalizers),
        (OpKind::StripFinalizers, None, EscalationPolicy::Never)
    );
    assert_eq!(req.endpoint.mode, Some(Mode::Raw));
}

/// Issue 8, case 14: `D` on a pod without "also strip" asks when it will not go (policy `ask`:
/// the engine asks at once for a pod stuck longer than the deadline), and the question speaks
/// force-delete's words: no backup is restored, nothing is recreated.
#[test]
fn force_delete_without_strip_asks_in_its_own_words() {
    let mut app = app();
    feed(&mut app, [special(Key::Enter)]);
    while app.tree.selected().is_some_and(|r| r.kind != Kind::Pod) {
        feed(&mut app, [key('j')]);
    }
    feed(&mut app, [key('D')]);
    let dialog = text(&render(&app, 200, 50));
    assert!(
        dialog.contains("off: you are asked if something will not go"),
        "{dialog}"
    );
    type_text(&mut app, "llama-prod");
    let fx = feed(&mut app, [special(Key::Enter)]);
    let req = started(&fx).cloned().unwrap_or_else(|| panic!("{fx:?}"));
    assert_eq!(
        (req.kind, req.finalizers),
        (OpKind::ForceDelete, EscalationPolicy::Ask)
    );
    feed(
        &mut app,
        [
            Msg::OpStarted {
                op_id: OP.into(),
                request: req,
            },
            Msg::OpQuestion {
                op_id: OP.into(),
                prompt: "1 object will not go (1 held by finalizers). Strip their finalizers and \
                         delete again?"
                    .into(),
                stuck: vec![stuck_pod()],
            },
        ],
    );
    let screen = text(&render(&app, 200, 50));
    // The question's popup (double border): the table behind it may say "Redeploying".
    let popup: String = screen
        .lines()
        .filter_map(|l| {
            let (_, rest) = l.split_once(['║', '╔', '╚'])?;
            Some(format!("{rest}\n"))
        })
        .collect();
    for want in [
        "force-delete serving/llama-prod Pod/",
        "Strip their finalizers and delete again?",
        "example.com/stuck-volume-cleanup",
        "the force-delete fails and leaves them as they are (nothing is recreated)",
    ] {
        assert!(popup.contains(want), "no {want:?}:\n{screen}");
    }
    for word in ["backup", "redeploy", "restored"] {
        assert!(!popup.contains(word), "{word:?} in the question:\n{popup}");
    }
}

#[test]
fn readonly_and_kiosk_never_open_a_dialog_or_start_anything() {
    for (readonly, kiosk) in [(true, false), (false, true)] {
        let (mut app, _) = app_with(fixtures::options("default", readonly, kiosk), 200, 50);
        for c in ['r', 'D', 'F', 'e'] {
            let mut fx = feed(&mut app, [key(c)]);
            fx.extend(type_text(&mut app, "llama-prod"));
            fx.extend(feed(&mut app, [special(Key::Enter)]));
            assert!(app.confirm().is_none(), "{c}");
            assert!(
                !fx.iter().any(|f| matches!(
                    f,
                    Effect::StartOperation(_)
                        | Effect::PrepareEdit { .. }
                        | Effect::RunEditor { .. }
                )),
                "{c}: {fx:?}"
            );
        }
        // An edit answer that arrives anyway opens nothing.
        let endpoint = app
            .selected_endpoint()
            .map(|e| e.key.clone())
            .unwrap_or_else(|| panic!("no endpoint"));
        let fx = feed(
            &mut app,
            [Msg::EditSource {
                endpoint,
                object: Some(fixtures::manifest()),
            }],
        );
        assert!(fx.is_empty() && app.confirm().is_none(), "{fx:?}");
    }
}

#[test]
fn a_second_operation_on_the_same_endpoint_is_refused_here() {
    let mut app = started_redeploy();
    feed(&mut app, [key('r')]);
    assert!(app.confirm().is_none());
    let m = app.message().map(|m| m.text.clone()).unwrap_or_default();
    assert!(m.contains("still running in this console"), "{m}");
    // The engine's own refusal (another window of this console) is shown on the pane.
    let mut app = super::app();
    feed(&mut app, [key('r')]);
    type_text(&mut app, "llama-prod");
    feed(&mut app, [special(Key::Enter)]);
    feed(
        &mut app,
        [Msg::OpStartFailed {
            endpoint: llama(),
            error: "an operation on serving/llama-prod is already running in this console".into(),
        }],
    );
    assert_eq!(app.ops().ops[0].phase, Phase::NotStarted);
    let screen = text(&render(&app, 200, 50));
    assert!(
        screen.contains("✖ not started: an operation on serving/llama-prod"),
        "{screen}"
    );
}

#[test]
fn the_question_is_answered_only_by_y_or_n() {
    let mut app = started_redeploy();
    let ask = Msg::OpQuestion {
        op_id: OP.into(),
        prompt: "1 object still there after 120s".into(),
        stuck: vec![stuck_pod()],
    };
    feed(&mut app, [ask.clone()]);
    for stray in [key('q'), key('r'), special(Key::Esc), special(Key::Enter)] {
        let fx = feed(&mut app, [stray]);
        assert!(fx.is_empty() && !app.should_quit(), "{fx:?}");
        assert_eq!(app.ops().questions.len(), 1);
    }
    let fx = feed(&mut app, [key('y')]);
    assert_eq!(
        fx,
        [Effect::AnswerQuestion {
            op_id: OP.into(),
            choice: EscalationChoice::Strip
        }]
    );
    assert!(app.ops().questions.is_empty());
    feed(&mut app, [ask]);
    let fx = feed(&mut app, [key('n')]);
    assert_eq!(
        fx,
        [Effect::AnswerQuestion {
            op_id: OP.into(),
            choice: EscalationChoice::GiveUp
        }]
    );
}

#[test]
fn a_question_waits_behind_a_confirmation_being_typed() {
    let mut app = started_redeploy();
    // Another endpoint's confirmation is open when the question comes (tab leaves the
    // operation tab: Esc there would offer to cancel).
    feed(&mut app, [special(Key::Tab), key('j'), key('F')]);
    assert!(app.confirm().is_some());
    feed(
        &mut app,
        [Msg::OpQuestion {
            op_id: OP.into(),
            prompt: "stuck".into(),
            stuck: vec![],
        }],
    );
    let fx = type_text(&mut app, "ny");
    assert!(fx.is_empty(), "{fx:?}");
    assert_eq!(app.confirm().map(|c| c.typed.as_str()), Some("ny"));
    assert_eq!(app.ops().questions.len(), 1);
    feed(&mut app, [special(Key::Esc)]);
    let screen = text(&render(&app, 200, 50));
    assert!(screen.contains("objects are stuck"), "{screen}");
}

#[test]
fn esc_in_the_operation_tab_asks_before_cancelling() {
    let mut app = started_redeploy();
    feed(
        &mut app,
        [progress(
            Step::Delete,
            StepState::Running,
            4_000,
            0,
            "deleting 9 objects",
            None,
        )],
    );
    let fx = feed(&mut app, [special(Key::Esc)]);
    assert!(fx.is_empty());
    assert_eq!(app.ops().cancel_prompt.as_deref(), Some(OP));
    assert!(text(&render(&app, 200, 50)).contains("cancel redeploy serving/llama-prod? y: cancel"));
    // Anything but y keeps it running.
    assert!(feed(&mut app, [key('x')]).is_empty());
    assert_eq!(app.ops().ops[0].phase, Phase::Running);
    feed(&mut app, [special(Key::Esc)]);
    let fx = feed(&mut app, [key('y')]);
    assert_eq!(fx, [Effect::CancelOperation { op_id: OP.into() }]);
    assert_eq!(app.ops().ops[0].phase, Phase::Cancelling);
    assert!(text(&render(&app, 200, 50)).contains("· cancelling…"));
    // Esc again does not cancel twice.
    assert!(feed(&mut app, [special(Key::Esc)]).is_empty());
    feed(&mut app, [outcome(OpResult::Cancelled, None, None)]);
    assert_eq!(app.ops().ops[0].phase, Phase::Finished);
    // Finished: Esc is plain "back" again.
    feed(&mut app, [special(Key::Esc)]);
    assert_eq!(app.focus(), Pane::Resources);
}

#[test]
fn a_channel_closed_without_an_outcome_ends_the_operation_on_screen() {
    let mut app = started_redeploy();
    feed(&mut app, [Msg::OpEndedWithoutResult { op_id: OP.into() }]);
    assert_eq!(app.ops().ops[0].phase, Phase::Lost);
    let screen = text(&render(&app, 200, 50));
    assert!(screen.contains("ended without a result"), "{screen}");
    // Over: a new redeploy may start.
    feed(&mut app, [special(Key::Esc), special(Key::Esc), key('r')]);
    assert!(app.confirm().is_some());
}

#[test]
fn quitting_while_an_operation_runs_takes_a_second_q() {
    let mut app = started_redeploy();
    assert!(feed(&mut app, [key('q')]).is_empty());
    assert!(!app.should_quit());
    let m = app.message().map(|m| m.text.clone()).unwrap_or_default();
    assert!(m.contains("press q again"), "{m}");
    assert_eq!(feed(&mut app, [key('q')]), [Effect::Quit]);
}

#[test]
fn progress_of_other_endpoints_stays_with_them() {
    let mut app = started_redeploy();
    feed(
        &mut app,
        [progress(
            Step::Lock,
            StepState::Done,
            100,
            0,
            "lease acquired",
            None,
        )],
    );
    // Another endpoint selected: its own (empty) operation view.
    feed(&mut app, [special(Key::Tab), key('j'), key('O')]);
    assert_eq!(app.tab(), Tab::Operation);
    let screen = text(&render(&app, 200, 50));
    assert!(
        screen.contains("no operation on research/qwen-coder"),
        "{screen}"
    );
    feed(&mut app, [outcome(OpResult::Succeeded, None, None)]);
    let m = app.message().map(|m| m.text.clone()).unwrap_or_default();
    assert_eq!(m, "redeploy serving/llama-prod: succeeded");
}

#[test]
fn edit_flow_from_spec_to_confirmation() {
    let mut app = app();
    let ep = app
        .selected_endpoint()
        .map(|e| e.key.clone())
        .unwrap_or_else(|| panic!("no endpoint"));
    // An answer nobody asked for is ignored.
    let source = Msg::EditSource {
        endpoint: ep.clone(),
        object: Some(fixtures::manifest()),
    };
    assert!(feed(&mut app, [source.clone()]).is_empty());
    let fx = feed(&mut app, [key('e')]);
    assert_eq!(
        fx,
        [Effect::PrepareEdit {
            endpoint: ep.clone()
        }]
    );
    let fx = feed(&mut app, [source.clone()]);
    let Some(Effect::RunEditor { yaml, .. }) = fx.first() else {
        panic!("{fx:?}");
    };
    // Generated fields are not offered for editing.
    assert!(
        yaml.contains("name: llama-prod") && !yaml.contains("managedFields"),
        "{yaml}"
    );
    assert!(!yaml.contains("status:"), "{yaml}");
    let done = |text: String| Msg::EditorDone {
        endpoint: ep.clone(),
        result: Ok(text),
    };
    // Saved unchanged, or emptied: aborted, nothing opens.
    for (text, word) in [(yaml.clone(), "unchanged"), (String::new(), "empty")] {
        feed(&mut app, [key('e'), source.clone(), done(text)]);
        assert!(app.confirm().is_none());
        let m = app.message().map(|m| m.text.clone()).unwrap_or_default();
        assert!(m.contains(word) && m.contains("aborted"), "{m}");
    }
    // A parse error names its line and column.
    feed(
        &mut app,
        [key('e'), source.clone(), done("spec: [\n  a: b\n".into())],
    );
    assert!(app.confirm().is_none());
    let m = app.message().map(|m| m.text.clone()).unwrap_or_default();
    assert!(m.contains("line ") && m.contains("column "), "{m}");
    // The editor failed: said, nothing opens.
    feed(
        &mut app,
        [
            key('e'),
            source.clone(),
            Msg::EditorDone {
                endpoint: ep.clone(),
                result: Err("the editor \"vi\" exited with exit status: 1; nothing changed".into()),
            },
        ],
    );
    assert!(app.confirm().is_none());
    // A real change: the redeploy confirmation, with the change listed and the manifest sent.
    let changed = yaml.replace("huggingface", "vllm");
    feed(&mut app, [key('e'), source, done(changed)]);
    let c = app
        .confirm()
        .cloned()
        .unwrap_or_else(|| panic!("no confirmation"));
    assert_eq!(c.kind, OpKind::Redeploy);
    assert!(
        c.diff
            .iter()
            .any(|d| d.contains("huggingface") && d.contains("vllm")),
        "{:?}",
        c.diff
    );
    type_text(&mut app, "llama-prod");
    let fx = feed(&mut app, [special(Key::Enter)]);
    let req = started(&fx).cloned().unwrap_or_else(|| panic!("{fx:?}"));
    let edited = req.edited.unwrap_or_default();
    assert_eq!(edited.len(), 1);
    assert_eq!(
        edited[0].pointer("/spec/predictor/model/modelFormat/name"),
        Some(&serde_json::json!("vllm"))
    );
}

#[test]
fn unfinished_operations_at_start_are_offered_not_acted_on() {
    let mut app = app();
    let line = "redeploy-llama-prod-20261102T090000000Z-77 (redeploy serving/llama-prod at \
                verify-deletion, was running, journal)";
    let fx = feed(&mut app, [Msg::UnfinishedOps(vec![line.into()])]);
    assert!(
        !fx.iter().any(|f| matches!(
            f,
            Effect::StartOperation(_) | Effect::CancelOperation { .. }
        )),
        "{fx:?}"
    );
    let m = app.message().map(|m| m.text.clone()).unwrap_or_default();
    assert!(
        m.starts_with("1 unfinished operation from an earlier run") && m.contains("recover"),
        "{m}"
    );
    feed(&mut app, [key('O')]);
    let screen = text(&render(&app, 200, 50));
    assert!(screen.contains(line), "{screen}");
    assert!(
        screen.contains("llmops-console recover ID --resume"),
        "{screen}"
    );
}

#[test]
fn the_endpoint_being_confirmed_stays_selected_when_its_status_re_sorts_the_table() {
    // Status sort, nothing chosen yet: the worst endpoint is on top and selected. Once the
    // operator opens the redeploy dialog on it, a better status (Redeploying, then Ready) must
    // not move the selection to whatever is now on top: the operation pane follows it.
    let mut app = app();
    let first = app
        .selected_endpoint()
        .map(|e| e.key.clone())
        .expect("a fleet");
    feed(&mut app, [key('r')]);
    assert!(app.confirm.is_some(), "r opens the confirmation");
    let mut fleet = fixtures::fleet();
    for e in &mut fleet {
        if e.key == first {
            e.health = crate::cluster::model::Health::Ready;
        }
    }
    feed(&mut app, [Msg::Endpoints(fleet)]);
    assert_eq!(app.selected_endpoint().map(|e| e.key.clone()), Some(first));
}
