//! Tests of the TUI: headless app tests (messages in, state and effects out), snapshots of every
//! pane and of the full screen per built-in theme, and the escape-sequence test.

/// An insta snapshot in src/tui/snapshots, named as given (shared by the snapshot modules).
macro_rules! snap {
    ($name:expr, $value:expr) => {
        insta::with_settings!({
            snapshot_path => "../snapshots",
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

mod conn;
mod escapes;
mod headless;
mod logs_pause;
mod names;
mod op_snapshots;
mod ops;
mod scope;
mod small;
mod snapshots;
mod too_small;
mod unfinished;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;

use crate::config::keymap::{Key, KeySpec};

use super::app::{App, AppOptions, update};
use super::fixtures;
use super::msg::{Effect, Msg};

/// An app with the fixture fleet loaded at the fixed `now`, sized `w`x`h`.
pub(super) fn app_with(opts: AppOptions, w: u16, h: u16) -> (App, Vec<Effect>) {
    let mut app = App::new(opts, fixtures::now());
    let mut fx = update(
        &mut app,
        Msg::Resize {
            width: w,
            height: h,
        },
    );
    fx.extend(update(&mut app, Msg::Endpoints(fixtures::fleet())));
    (app, fx)
}

pub(super) fn app() -> App {
    app_with(fixtures::options("default", false, false), 200, 50).0
}

pub(super) fn key(c: char) -> Msg {
    Msg::Key(KeySpec::plain(Key::Char(c)))
}

pub(super) fn special(k: Key) -> Msg {
    Msg::Key(KeySpec::plain(k))
}

/// Feeds messages, returning all effects.
pub(super) fn feed(app: &mut App, msgs: impl IntoIterator<Item = Msg>) -> Vec<Effect> {
    msgs.into_iter().flat_map(|m| update(app, m)).collect()
}

pub(super) fn type_text(app: &mut App, text: &str) -> Vec<Effect> {
    feed(app, text.chars().map(key))
}

/// Renders with `draw` into a `w`x`h` TestBackend.
pub(super) fn render_with(w: u16, h: u16, draw: impl FnOnce(&mut ratatui::Frame)) -> Buffer {
    let mut t = match Terminal::new(TestBackend::new(w, h)) {
        Ok(t) => t,
        Err(e) => panic!("test backend: {e}"),
    };
    if let Err(e) = t.draw(draw) {
        panic!("draw: {e}");
    }
    t.backend().buffer().clone()
}

pub(super) fn render(app: &App, w: u16, h: u16) -> Buffer {
    render_with(w, h, |f| super::view::draw(f, app))
}

/// The buffer's text, one line per row, trailing spaces trimmed.
pub(super) fn text(buf: &Buffer) -> String {
    let w = usize::from(buf.area.width);
    let mut out = String::new();
    for row in buf.content.chunks(w) {
        let mut line = String::new();
        let mut skip = 0usize;
        for cell in row {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            line.push_str(cell.symbol());
            skip = unicode_cell_width(cell.symbol()).saturating_sub(1);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn unicode_cell_width(s: &str) -> usize {
    ratatui::text::Span::raw(s).width()
}
