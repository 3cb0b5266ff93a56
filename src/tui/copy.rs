//! `y`: the selected object's full name to the clipboard. The name goes out as
//! [`Effect::CopyToClipboard`], which the event loop turns into OSC 52 on the terminal (never
//! while drawing); the status line says what was copied.
//!
//! What is copied is the name alone, as k9s does: it pastes into any kubectl command
//! (`kubectl logs NAME -n NS`, `kubectl describe pod NAME`); the notice names the kind and the
//! namespace beside it.

use crate::cluster::model::Mode;

use super::app::{App, Level, Pane};
use super::msg::Effect;
use super::text::sanitize;

/// The object `y` copies: in the endpoint table (and the kiosk) the endpoint's root object, in
/// the resources pane and the bottom tabs the selected resource. (kind, namespace, name).
pub fn selected_object(app: &App) -> Option<(&'static str, String, String)> {
    let endpoint = || {
        app.selected_endpoint().map(|e| {
            let kind = match e.key.mode {
                Mode::Kserve => "isvc",
                Mode::Raw => "deploy",
            };
            (kind, e.key.namespace.clone(), e.key.name.clone())
        })
    };
    if app.kiosk() || app.focus() == Pane::Endpoints {
        return endpoint();
    }
    app.tree
        .selected()
        .map(|r| (r.kind.short(), r.namespace.clone(), r.name.clone()))
        .or_else(endpoint)
}

pub(crate) fn copy_selected(app: &mut App, fx: &mut Vec<Effect>) {
    let Some((kind, ns, name)) = selected_object(app) else {
        app.say(Level::Warn, "copy: nothing selected");
        return;
    };
    if super::term::osc52(&name).is_none() {
        let text = format!(
            "copy refused: the name of {kind}/{} holds control characters",
            sanitize(&name)
        );
        app.say(Level::Error, text);
        return;
    }
    let text = format!(
        "copied {kind}/{name} (namespace {}) via OSC 52",
        sanitize(&ns)
    );
    fx.push(Effect::CopyToClipboard { text: name });
    app.say(Level::Info, text);
}
