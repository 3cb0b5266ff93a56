//! Snapshots of the operation screens: the confirmation (plain, with an edited spec's changes,
//! force-delete of one pod with the strip toggle), the operation tab mid-run and after a failure
//! with rollback, and the escalation question.

use crate::config::keymap::Key;
use crate::orchestrator::progress::{OpResult, Step, StepState};
use crate::tui::app::App;
use crate::tui::fixtures;
use crate::tui::msg::Msg;
use crate::tui::view;

use super::ops::{OP, outcome, progress, started_redeploy, stuck_pod};
use super::{app, feed, key, render, render_with, special, text, type_text};

fn bottom(app: &App, w: u16, h: u16) -> String {
    text(&render_with(w, h, |f| view::bottom::draw(f, app, f.area())))
}

#[test]
fn confirm_redeploy() {
    let mut app = app();
    feed(&mut app, [key('r')]);
    type_text(&mut app, "llama");
    snap!("confirm_redeploy", text(&render(&app, 140, 45)));
}

#[test]
fn confirm_redeploy_with_edited_spec() {
    let mut app = app();
    let ep = app.selected_endpoint().map(|e| e.key.clone());
    let Some(endpoint) = ep else {
        panic!("no endpoint")
    };
    let fx = feed(
        &mut app,
        [
            key('e'),
            Msg::EditSource {
                endpoint: endpoint.clone(),
                object: Some(fixtures::manifest()),
            },
        ],
    );
    let yaml = fx
        .iter()
        .find_map(|f| match f {
            crate::tui::msg::Effect::RunEditor { yaml, .. } => Some(yaml.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{fx:?}"));
    // Edited as an operator would: the model format changed, an env var added.
    let mut v: serde_json::Value =
        serde_yaml_ng::from_str(&yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    v["spec"]["predictor"]["model"]["modelFormat"]["name"] = "vllm".into();
    if let Some(env) = v["spec"]["predictor"]["model"]["env"].as_array_mut() {
        env.push(serde_json::json!({"name": "MAX_MODEL_LEN", "value": "8192"}));
    }
    let edited = serde_yaml_ng::to_string(&v).unwrap_or_else(|e| panic!("{e}"));
    feed(
        &mut app,
        [Msg::EditorDone {
            endpoint,
            result: Ok(edited),
        }],
    );
    type_text(&mut app, "llama-prod");
    snap!("confirm_redeploy_edited", text(&render(&app, 140, 45)));
}

#[test]
fn confirm_force_delete_one_pod() {
    let mut app = app();
    feed(&mut app, [special(Key::Enter)]);
    for _ in 0..3 {
        feed(&mut app, [key('j')]);
    }
    feed(&mut app, [key('D'), special(Key::Tab)]);
    type_text(&mut app, "llama-prod");
    snap!("confirm_force_delete_pod", text(&render(&app, 140, 30)));
}

#[test]
fn operation_pane_mid_run() {
    let mut app = started_redeploy();
    feed(
        &mut app,
        [
            progress(
                Step::Lock,
                StepState::Running,
                10,
                0,
                "acquiring lease llmops-console-llama-prod",
                None,
            ),
            progress(
                Step::Lock,
                StepState::Done,
                180,
                0,
                "lease llmops-console-llama-prod held by ops@console/4242",
                Some("201 Created"),
            ),
            progress(
                Step::Preflight,
                StepState::Done,
                420,
                0,
                "9 objects, RBAC allows delete and create",
                None,
            ),
            progress(
                Step::Snapshot,
                StepState::Done,
                1_250,
                0,
                "2 manifests in the journal and ConfigMap llmops-console-backup-llama-prod",
                Some("201 Created"),
            ),
            progress(
                Step::Delete,
                StepState::Running,
                1_300,
                0,
                "deleting 9 objects (propagation Background)",
                None,
            ),
            progress(
                Step::Delete,
                StepState::Done,
                2_100,
                0,
                "9 delete requests accepted",
                Some("200 OK"),
            ),
            progress(
                Step::VerifyDeletion,
                StepState::Running,
                2_150,
                0,
                "watching 9 UIDs until they are gone (deadline 120s)",
                None,
            ),
            progress(
                Step::VerifyDeletion,
                StepState::Retrying,
                64_000,
                1,
                "Pod serving/llama-prod-predictor-7c9d8-abcde still Terminating: finalizer example.com/stuck-volume-cleanup",
                None,
            ),
            progress(
                Step::VerifyDeletion,
                StepState::Retrying,
                95_000,
                2,
                "2 objects still Terminating: InferenceService serving/llama-prod (inferenceservice.finalizers), Pod serving/llama-prod-predictor-7c9d8-abcde (example.com/stuck-volume-cleanup)",
                None,
            ),
            Msg::Tick(fixtures::ago(-96)),
        ],
    );
    snap!("operation_mid_run", bottom(&app, 150, 24));
}

#[test]
fn operation_pane_failed_with_rollback() {
    let mut app = started_redeploy();
    feed(
        &mut app,
        [
            progress(
                Step::Lock,
                StepState::Done,
                180,
                0,
                "lease held",
                Some("201 Created"),
            ),
            progress(Step::Preflight, StepState::Done, 420, 0, "9 objects", None),
            progress(
                Step::Snapshot,
                StepState::Done,
                1_250,
                0,
                "2 manifests backed up",
                None,
            ),
            progress(
                Step::Delete,
                StepState::Done,
                2_100,
                0,
                "9 objects deleted",
                Some("200 OK"),
            ),
            progress(
                Step::VerifyDeletion,
                StepState::Done,
                30_500,
                0,
                "all 9 UIDs gone",
                None,
            ),
            progress(
                Step::DecideSpec,
                StepState::Done,
                30_510,
                0,
                "the backup as it was",
                None,
            ),
            progress(
                Step::Create,
                StepState::Retrying,
                31_000,
                1,
                "InferenceService serving/llama-prod: already exists",
                Some("409 AlreadyExists: object is being deleted"),
            ),
            progress(
                Step::Create,
                StepState::Failed,
                95_000,
                3,
                "InferenceService serving/llama-prod: gave up after 3 retries",
                Some("409 AlreadyExists: object is being deleted"),
            ),
            progress(
                Step::Rollback,
                StepState::Running,
                95_100,
                0,
                "recreating 2 objects from the backup",
                None,
            ),
            progress(
                Step::Rollback,
                StepState::Done,
                131_000,
                0,
                "InferenceService serving/llama-prod recreated and Ready",
                Some("201 Created"),
            ),
            outcome(
                OpResult::Failed,
                Some(Step::Create),
                Some(
                    "recreated from the backup: InferenceService serving/llama-prod is Ready again",
                ),
            ),
        ],
    );
    snap!("operation_failed_rollback", bottom(&app, 150, 30));
}

#[test]
fn escalation_question() {
    let mut app = started_redeploy();
    let mut isvc = stuck_pod();
    isvc.object.kind = "InferenceService".into();
    isvc.object.name = "llama-prod".into();
    isvc.finalizers = vec!["inferenceservice.finalizers".into()];
    isvc.terminating_for_seconds = Some(125);
    feed(
        &mut app,
        [Msg::OpQuestion {
            op_id: OP.into(),
            prompt: "verify-deletion: 2 objects are still there after 120s, held by finalizers. \
                     Strip them and delete again, or give up (the endpoint is restored from \
                     the backup)?"
                .into(),
            stuck: vec![stuck_pod(), isvc],
        }],
    );
    snap!("escalation_question", text(&render(&app, 140, 40)));
}
