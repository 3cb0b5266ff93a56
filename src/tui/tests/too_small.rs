//! A terminal below the minimum size shows only "terminal too small": no key may act unseen
//! there (no dialog opened behind the message, no effect emitted); only quit works.

use crate::config::keymap::{Key, KeySpec};
use crate::tui::fixtures;
use crate::tui::msg::{Effect, Msg};

use super::{app_with, feed, key, render, special, text};

#[test]
fn only_quit_works_while_the_terminal_is_too_small() {
    let (mut app, _) = app_with(fixtures::options("default", false, false), 79, 20);
    assert!(text(&render(&app, 79, 20)).contains("terminal too small"));
    let before = (app.focus(), app.table.sort, app.table.filter.clone());
    for c in ['r', 'D', 'F', 'e', ':', '/', '?', 's', 'l', 'j', 'O'] {
        let fx = feed(&mut app, [key(c)]);
        assert!(fx.is_empty(), "{c}: {fx:?}");
        assert!(app.confirm().is_none(), "{c} opened a confirmation unseen");
        assert!(app.input.is_none(), "{c} opened a prompt unseen");
        assert!(!app.help_open(), "{c} opened help unseen");
    }
    let fx = feed(&mut app, [special(Key::Tab), special(Key::Enter)]);
    assert!(fx.is_empty(), "{fx:?}");
    assert_eq!(
        (app.focus(), app.table.sort, app.table.filter.clone()),
        before
    );
    assert_eq!(feed(&mut app, [key('q')]), vec![Effect::Quit]);
    let ctrl_c = Msg::Key(KeySpec::ctrl('c'));
    assert_eq!(feed(&mut app, [ctrl_c]), vec![Effect::Quit]);
    // Grown back to the minimum, the keys act again.
    feed(
        &mut app,
        [Msg::Resize {
            width: 80,
            height: 20,
        }],
    );
    feed(&mut app, [key('r')]);
    assert_eq!(app.confirm().map(|c| c.verb()), Some("Redeploy"));
}
