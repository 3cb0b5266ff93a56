//! Hostile text from the cluster and from logs renders as visible, inert text: no ESC, BEL, C1
//! or other control character reaches a cell.

use crate::tui::fixtures;
use crate::tui::msg::{EventRow, LogLine, Msg};
use crate::tui::text::has_controls;

use super::{app_with, feed, key, render, text};

const SGR: &str = "\x1b[31m";
const OSC: &str = "\x1b]0;pwned\x07";
const C1: &str = "\u{9b}2J";

fn hostile(what: &str) -> String {
    format!("{what}{SGR}{OSC}{C1}")
}

#[test]
fn escape_sequences_render_as_visible_inert_text() {
    let mut fleet = fixtures::fleet();
    for e in &mut fleet {
        if e.key.name == "llama-prod" {
            e.key.name = hostile("llama");
            e.reasons = vec![hostile("reason")];
            let isvc = &mut e.resources[0];
            isvc.children[1].summary = hostile("summary");
            if let Some(t) = &mut isvc.terminating {
                t.finalizers = vec![hostile("fin")];
            }
            isvc.children[0].name = hostile("deploy");
        }
    }
    let (mut app, _) = app_with(fixtures::options("default", false, false), 200, 50);
    feed(&mut app, [Msg::Endpoints(fleet)]);
    if let Some(target) = app.detail.requested.clone() {
        let mut manifest = fixtures::manifest();
        manifest["metadata"]["annotations"] = serde_json::json!({ "note": hostile("ann") });
        feed(
            &mut app,
            [Msg::Detail {
                target,
                manifest: Some(manifest),
                events: vec![EventRow {
                    type_: "Warning".into(),
                    reason: hostile("Reason"),
                    message: hostile("event"),
                    count: 1,
                    last_seen: Some(fixtures::ago(5)),
                    source: hostile("kubelet"),
                    object: String::new(),
                }],
            }],
        );
    }
    let mut screens = vec![text(&render(&app, 200, 50))];
    feed(&mut app, [key('l')]);
    feed(
        &mut app,
        [Msg::LogLines {
            pod: hostile("pod"),
            container: "c".into(),
            lines: vec![LogLine {
                ts: Some(fixtures::ago(1)),
                text: hostile("log"),
            }],
        }],
    );
    screens.push(text(&render(&app, 200, 50)));
    feed(&mut app, [Msg::Notice(hostile("notice"))]);
    screens.push(text(&render(&app, 200, 50)));
    let all = screens.join("\n");
    assert!(
        !has_controls(&all.replace('\n', "")),
        "a control character reached a cell"
    );
    for visible in [
        "llama^[[31m^[]0;pwned^G<U+009B>2J",
        "summary^[[31m",
        "fin^[[31m",
        "deploy^[[31m",
        "event^[[31m^[]0;pwned^G<U+009B>2J",
        "Reason^[[31m",
        "kubelet^[[31m",
        r#"ann\e[31m\e]0;pwned\a\x9B2J"#,
        "log^[[31m^[]0;pwned^G<U+009B>2J",
        "notice^[[31m",
    ] {
        assert!(all.contains(visible), "{visible} not shown:\n{all}");
    }
}
