//! Issue 9's small things, headless: a dead holder's lease expiring on the clock, footer hints
//! per pane, a wrong name typed in a confirmation.

use crate::cluster::model::{Health, LeaseInfo};
use crate::tui::app::App;
use crate::tui::fixtures::{self, ago};
use crate::tui::msg::Msg;

use super::{feed, render, text};

/// The fleet with llama-prod (stuck Terminating) under the lease of an operation whose holder
/// renewed it 5 s ago with 15 s to run.
fn fleet_with_dead_holder() -> Vec<crate::cluster::model::EndpointView> {
    let mut fleet = fixtures::fleet();
    for e in fleet.iter_mut().filter(|e| e.key.name == "llama-prod") {
        e.objects_health = e.health;
        e.health = Health::Redeploying;
        e.lease = Some(LeaseInfo {
            holder: "bob@ops-2/777".into(),
            step: Some("verify-deletion".into()),
            operation_id: Some("op-dead".into()),
            acquired: Some(ago(60)),
            renewed: Some(ago(5)),
            live: true,
            expires: Some(ago(-10)),
            note: None,
        });
        e.reasons.insert(
            0,
            "redeploy by bob@ops-2/777 at step verify-deletion".into(),
        );
    }
    fleet
}

fn screen(app: &App) -> String {
    text(&render(app, 200, 50))
}

fn row_of<'a>(screen: &'a str, name: &str) -> &'a str {
    screen
        .lines()
        .find(|l| l.contains(name) && l.contains("kserve"))
        .unwrap_or_else(|| panic!("no row {name}:\n{screen}"))
}

#[test]
fn an_expired_lease_shows_beside_the_real_status_without_any_event() {
    let mut app = App::new(fixtures::options("default", false, false), fixtures::now());
    feed(
        &mut app,
        [
            Msg::Resize {
                width: 200,
                height: 50,
            },
            Msg::Endpoints(fleet_with_dead_holder()),
        ],
    );
    let s = screen(&app);
    let row = row_of(&s, "llama-prod");
    assert!(row.contains("⟳ Redeploying"), "{s}");
    assert!(!s.contains("lease expired"), "{s}");

    // No watch event, only the clock: 20 s later the lease is 10 s past its expiry.
    feed(&mut app, [Msg::Tick(ago(-20))]);
    let s = screen(&app);
    let row = row_of(&s, "llama-prod");
    assert!(!row.contains("Redeploying"), "{s}");
    assert!(
        row.contains("⚠ Terminating 47m"),
        "the stuck status is back: {s}"
    );
    assert!(row.contains('✗'), "the lease marker says expired: {s}");
    assert!(
        s.contains("✗ lease expired (holder gone?): redeploy by bob@ops-2/777 at step verify-deletion, renewed 25s ago"),
        "{s}"
    );
    // The real Terminating story is still in the resources pane below it.
    assert!(s.contains("⚠ stuck · Terminating 12m"), "{s}");
}

/// The status bar's text (the last line of a 200x50 screen).
fn footer(app: &App) -> String {
    screen(app).lines().last().unwrap_or_default().to_string()
}

#[test]
fn footer_hints_follow_the_focused_pane() {
    let mut app = super::app();
    let f = footer(&app);
    assert!(f.contains(":redeploy") && f.contains(":sort"), "{f}");
    assert!(
        !f.contains(":follow") && !f.contains(":force-delete"),
        "{f}"
    );

    feed(&mut app, [super::special(crate::config::keymap::Key::Tab)]);
    assert_eq!(app.focus(), crate::tui::app::Pane::Resources);
    let f = footer(&app);
    assert!(
        f.contains(":force-delete") && f.contains(":strip-finalizers"),
        "{f}"
    );
    assert!(!f.contains(":follow") && !f.contains(":sort"), "{f}");

    feed(&mut app, [super::key('l')]);
    assert_eq!(app.tab(), crate::tui::app::Tab::Logs);
    assert_eq!(app.focus(), crate::tui::app::Pane::Bottom);
    let f = footer(&app);
    for want in [":follow", ":pause", ":wrap", ":oldest"] {
        assert!(f.contains(want), "no {want} in {f}");
    }
    assert!(!f.contains(":redeploy") && !f.contains(":sort"), "{f}");

    // Read-only: nothing destructive is offered anywhere.
    let (mut ro, _) = super::app_with(fixtures::options("default", true, false), 200, 50);
    assert!(!footer(&ro).contains(":redeploy"), "{}", footer(&ro));
    feed(&mut ro, [super::special(crate::config::keymap::Key::Tab)]);
    assert!(!footer(&ro).contains(":force-delete"), "{}", footer(&ro));
}

#[test]
fn a_wrong_name_in_a_confirmation_says_so() {
    let mut app = super::app();
    feed(&mut app, [super::key('r')]);
    assert!(app.confirm.is_some(), "the redeploy dialog opens");
    super::type_text(&mut app, "llama-prdo");
    let fx = feed(
        &mut app,
        [super::special(crate::config::keymap::Key::Enter)],
    );
    assert!(fx.is_empty(), "nothing starts: {fx:?}");
    let s = screen(&app);
    assert!(
        s.contains("`llama-prdo` is not `llama-prod`: nothing was done"),
        "the dialog says what is wrong:\n{s}"
    );
    // Typing again clears it; the right name then starts the redeploy.
    feed(
        &mut app,
        [super::special(crate::config::keymap::Key::Backspace)],
    );
    assert!(app.confirm.as_ref().is_some_and(|c| c.wrong.is_none()));
    feed(
        &mut app,
        [super::special(crate::config::keymap::Key::Enter)],
    );
    assert!(screen(&app).contains("`llama-prd` is not `llama-prod`"));
    feed(
        &mut app,
        [super::special(crate::config::keymap::Key::Backspace)],
    );
    super::type_text(&mut app, "od");
    let fx = feed(
        &mut app,
        [super::special(crate::config::keymap::Key::Enter)],
    );
    assert!(
        fx.iter()
            .any(|e| matches!(e, crate::tui::msg::Effect::StartOperation(_))),
        "{fx:?}"
    );
}
