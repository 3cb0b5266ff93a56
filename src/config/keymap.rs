//! Actions and the keys bound to them: k9s-like defaults, remappable in config.toml's `[keys]`.
//! Keys are plain data (`KeySpec`); the TUI translates terminal events into them.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::Deserialize;

/// Everything a key can do. Names (snake_case) are what config.toml's `[keys]` uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Quit,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    /// Drill in (endpoint -> resources -> detail).
    Enter,
    /// Back out, close an overlay, cancel.
    Back,
    NextPane,
    PrevPane,
    Filter,
    Command,
    Help,
    Sort,
    Logs,
    Events,
    /// The console's own log.
    ConsoleLog,
    /// The operation tab: the selected endpoint's latest redeploy / force-delete / strip.
    Operation,
    Redeploy,
    ForceDelete,
    StripFinalizers,
    EditSpec,
    Follow,
    Pause,
    Wrap,
    Timestamps,
    /// Cycle the log source: all pods of the endpoint, or each pod.
    LogSource,
    /// Copy the selected object's full name to the clipboard (OSC 52).
    CopyName,
}

impl Action {
    pub const ALL: &'static [Action] = &[
        Action::Quit,
        Action::Up,
        Action::Down,
        Action::PageUp,
        Action::PageDown,
        Action::Top,
        Action::Bottom,
        Action::Enter,
        Action::Back,
        Action::NextPane,
        Action::PrevPane,
        Action::Filter,
        Action::Command,
        Action::Help,
        Action::Sort,
        Action::Logs,
        Action::Events,
        Action::ConsoleLog,
        Action::Operation,
        Action::Redeploy,
        Action::ForceDelete,
        Action::StripFinalizers,
        Action::EditSpec,
        Action::Follow,
        Action::Pause,
        Action::Wrap,
        Action::Timestamps,
        Action::LogSource,
        Action::CopyName,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Action::Quit => "quit",
            Action::Up => "up",
            Action::Down => "down",
            Action::PageUp => "page_up",
            Action::PageDown => "page_down",
            Action::Top => "top",
            Action::Bottom => "bottom",
            Action::Enter => "enter",
            Action::Back => "back",
            Action::NextPane => "next_pane",
            Action::PrevPane => "prev_pane",
            Action::Filter => "filter",
            Action::Command => "command",
            Action::Help => "help",
            Action::Sort => "sort",
            Action::Logs => "logs",
            Action::Events => "events",
            Action::ConsoleLog => "console_log",
            Action::Operation => "operation",
            Action::Redeploy => "redeploy",
            Action::ForceDelete => "force_delete",
            Action::StripFinalizers => "strip_finalizers",
            Action::EditSpec => "edit_spec",
            Action::Follow => "follow",
            Action::Pause => "pause",
            Action::Wrap => "wrap",
            Action::Timestamps => "timestamps",
            Action::LogSource => "log_source",
            Action::CopyName => "copy_name",
        }
    }

    /// One line for the help overlay.
    pub fn describe(self) -> &'static str {
        match self {
            Action::Quit => "quit",
            Action::Up => "move up",
            Action::Down => "move down",
            Action::PageUp => "page up",
            Action::PageDown => "page down",
            Action::Top => "go to top",
            Action::Bottom => "go to bottom",
            Action::Enter => "open / drill in",
            Action::Back => "back / close / cancel",
            Action::NextPane => "next pane",
            Action::PrevPane => "previous pane",
            Action::Filter => "filter",
            Action::Command => "command (:ns NAME, :theme NAME, :q)",
            Action::Help => "this help",
            Action::Sort => "cycle sort column",
            Action::Logs => "pod logs",
            Action::Events => "Kubernetes events",
            Action::ConsoleLog => "console's own log",
            Action::Operation => "operation progress (redeploy, force-delete, strip)",
            Action::Redeploy => "redeploy endpoint",
            Action::ForceDelete => "force-delete",
            Action::StripFinalizers => "strip finalizers",
            Action::EditSpec => "edit spec in $EDITOR",
            Action::Follow => "follow log tail",
            Action::Pause => "pause / resume log view",
            Action::Wrap => "wrap long lines",
            Action::Timestamps => "show timestamps",
            Action::LogSource => "all pods / one pod",
            Action::CopyName => "copy the selected object's full name (OSC 52 clipboard)",
        }
    }

    /// Whether the action changes the cluster (refused in read-only and kiosk modes).
    pub fn is_destructive(self) -> bool {
        matches!(
            self,
            Action::Redeploy | Action::ForceDelete | Action::StripFinalizers | Action::EditSpec
        )
    }
}

/// A key, independent of the terminal library.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    Char(char),
    Enter,
    Esc,
    Tab,
    BackTab,
    Backspace,
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Home,
    End,
    F(u8),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeySpec {
    pub key: Key,
    pub ctrl: bool,
    pub alt: bool,
}

impl KeySpec {
    pub const fn plain(key: Key) -> KeySpec {
        KeySpec {
            key,
            ctrl: false,
            alt: false,
        }
    }

    pub const fn ctrl(c: char) -> KeySpec {
        KeySpec {
            key: Key::Char(c),
            ctrl: true,
            alt: false,
        }
    }
}

impl FromStr for KeySpec {
    type Err = String;

    /// `q`, `R`, `/`, `ctrl-c`, `alt-x`, `enter`, `esc`, `tab`, `backtab`, `up`, `pgdn`, `f1`.
    fn from_str(s: &str) -> Result<KeySpec, String> {
        let mut rest = s;
        let (mut ctrl, mut alt) = (false, false);
        loop {
            let lower = rest.to_ascii_lowercase();
            if rest.len() > 1 && (lower.starts_with("ctrl-") || lower.starts_with("ctrl+")) {
                ctrl = true;
                rest = &rest[5..];
            } else if rest.len() > 1 && (lower.starts_with("alt-") || lower.starts_with("alt+")) {
                alt = true;
                rest = &rest[4..];
            } else {
                break;
            }
        }
        let mut chars = rest.chars();
        let key = match (chars.next(), chars.next()) {
            (Some(c), None) => Key::Char(c),
            _ => match rest.to_ascii_lowercase().as_str() {
                "enter" | "return" => Key::Enter,
                "esc" | "escape" => Key::Esc,
                "tab" => Key::Tab,
                "backtab" | "shift-tab" => Key::BackTab,
                "backspace" => Key::Backspace,
                "up" => Key::Up,
                "down" => Key::Down,
                "left" => Key::Left,
                "right" => Key::Right,
                "pgup" | "pageup" => Key::PageUp,
                "pgdn" | "pagedown" => Key::PageDown,
                "home" => Key::Home,
                "end" => Key::End,
                "space" => Key::Char(' '),
                f if f.starts_with('f')
                    && f[1..].parse::<u8>().is_ok_and(|n| (1..=12).contains(&n)) =>
                {
                    Key::F(f[1..].parse().unwrap_or(1))
                }
                _ => {
                    return Err(format!(
                        "invalid key {s:?}: expected a character (q, R, /), a name (enter, esc, tab, up, pgdn, f1) optionally after ctrl- or alt-"
                    ));
                }
            },
        };
        Ok(KeySpec { key, ctrl, alt })
    }
}

impl fmt::Display for KeySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("ctrl-")?;
        }
        if self.alt {
            f.write_str("alt-")?;
        }
        match self.key {
            Key::Char(' ') => f.write_str("space"),
            Key::Char(c) => write!(f, "{c}"),
            Key::Enter => f.write_str("enter"),
            Key::Esc => f.write_str("esc"),
            Key::Tab => f.write_str("tab"),
            Key::BackTab => f.write_str("shift-tab"),
            Key::Backspace => f.write_str("backspace"),
            Key::Up => f.write_str("↑"),
            Key::Down => f.write_str("↓"),
            Key::Left => f.write_str("←"),
            Key::Right => f.write_str("→"),
            Key::PageUp => f.write_str("pgup"),
            Key::PageDown => f.write_str("pgdn"),
            Key::Home => f.write_str("home"),
            Key::End => f.write_str("end"),
            Key::F(n) => write!(f, "f{n}"),
        }
    }
}

/// `[keys]` in config.toml: action name -> one key or a list.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(transparent)]
pub struct KeyOverrides(pub BTreeMap<String, OneOrMany>);

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn keys(&self) -> Vec<&str> {
        match self {
            OneOrMany::One(k) => vec![k.as_str()],
            OneOrMany::Many(ks) => ks.iter().map(String::as_str).collect(),
        }
    }
}

impl KeyOverrides {
    /// Checks action names, key syntax and clashes; the error is (action name, message).
    ///
    /// Every keymap action is looked up in one context (the TUI's key dispatch finds one action
    /// per key, whatever the pane), so a key may belong to one action only. Taking another
    /// action's default key is refused unless that action is given keys of its own here (moving
    /// `r` to quit would otherwise leave redeploy, or `j` to filter leave down, without a key).
    /// The console log's own keys shadow the actions that work there, so those are refused too.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let mut mine: Vec<(KeySpec, Action)> = Vec::new();
        for (name, keys) in &self.0 {
            let Some(action) = Action::ALL.iter().copied().find(|a| a.name() == name) else {
                let known: Vec<&str> = Action::ALL.iter().map(|a| a.name()).collect();
                return Err((
                    name.clone(),
                    format!(
                        "keys.{name}: unknown action; actions are {}",
                        known.join(", ")
                    ),
                ));
            };
            let bad = |m: String| (name.clone(), format!("keys.{name}: {m}"));
            if keys.keys().is_empty() {
                return Err(bad("no key given; every action needs one".into()));
            }
            for k in keys.keys() {
                let spec = k.parse::<KeySpec>().map_err(&bad)?;
                if let Some((_, other)) = mine.iter().find(|(s, a)| *s == spec && *a != action) {
                    return Err(bad(format!(
                        "{k:?} is also keys.{}'s key; give each action its own key",
                        other.name()
                    )));
                }
                let taken = defaults()
                    .into_iter()
                    .find(|(s, a)| *s == spec && *a != action && !self.0.contains_key(a.name()));
                if let Some((_, other)) = taken {
                    return Err(bad(format!(
                        "{k:?} is already {}'s key; bind {} elsewhere too",
                        other.name(),
                        other.name()
                    )));
                }
                if let Some(what) = console_log_key(spec).filter(|_| works_in_console_log(action)) {
                    return Err(bad(format!(
                        "{k:?} is the console log's {what:?} key there; choose another"
                    )));
                }
                mine.push((spec, action));
            }
        }
        Ok(())
    }
}

/// The console log's fixed keys (tui-logger's), which win over the keymap in that tab.
fn console_log_key(k: KeySpec) -> Option<&'static str> {
    let Key::Char(c) = k.key else { return None };
    if k.ctrl || k.alt {
        return None;
    }
    Some(match c {
        '+' | '-' => "capture level",
        '<' | '>' => "shown level",
        'h' => "hide targets",
        'f' => "focus target",
        ' ' => "hide off targets",
        _ => return None,
    })
}

/// Actions that still act while the console log has the focus (its pane keys and the global
/// ones).
fn works_in_console_log(a: Action) -> bool {
    use Action::*;
    matches!(
        a,
        Up | Down | PageUp | PageDown | Back | NextPane | PrevPane | Command | Help | Quit
    )
}

/// Keys to actions.
#[derive(Debug, Clone)]
pub struct KeyMap {
    bindings: Vec<(KeySpec, Action)>,
}

fn defaults() -> Vec<(KeySpec, Action)> {
    use Key::*;
    let p = KeySpec::plain;
    let c = |ch| p(Char(ch));
    vec![
        (c('q'), Action::Quit),
        (KeySpec::ctrl('c'), Action::Quit),
        (c('k'), Action::Up),
        (p(Up), Action::Up),
        (c('j'), Action::Down),
        (p(Down), Action::Down),
        (p(PageUp), Action::PageUp),
        (KeySpec::ctrl('b'), Action::PageUp),
        (p(PageDown), Action::PageDown),
        (KeySpec::ctrl('f'), Action::PageDown),
        (c('g'), Action::Top),
        (p(Home), Action::Top),
        (c('G'), Action::Bottom),
        (p(End), Action::Bottom),
        (p(Enter), Action::Enter),
        (p(Right), Action::Enter),
        (p(Esc), Action::Back),
        (p(Left), Action::Back),
        (p(Tab), Action::NextPane),
        (p(BackTab), Action::PrevPane),
        (c('/'), Action::Filter),
        (c(':'), Action::Command),
        (c('?'), Action::Help),
        (c('s'), Action::Sort),
        (c('l'), Action::Logs),
        (c('v'), Action::Events),
        (c('L'), Action::ConsoleLog),
        (c('O'), Action::Operation),
        (c('r'), Action::Redeploy),
        (c('D'), Action::ForceDelete),
        (c('F'), Action::StripFinalizers),
        (c('e'), Action::EditSpec),
        (c('f'), Action::Follow),
        (c('p'), Action::Pause),
        (c('w'), Action::Wrap),
        (c('t'), Action::Timestamps),
        (c('o'), Action::LogSource),
        (c('y'), Action::CopyName),
    ]
}

impl KeyMap {
    /// The defaults with overrides applied: an overridden action loses its default keys, and a
    /// key given to a new action leaves its old one.
    pub fn new(overrides: &KeyOverrides) -> Result<KeyMap, String> {
        overrides.validate().map_err(|(_, m)| m)?;
        let mut bindings = defaults();
        for (name, keys) in &overrides.0 {
            let Some(action) = Action::ALL.iter().copied().find(|a| a.name() == name) else {
                continue;
            };
            let specs: Vec<KeySpec> = keys.keys().iter().filter_map(|k| k.parse().ok()).collect();
            bindings.retain(|(k, a)| *a != action && !specs.contains(k));
            bindings.extend(specs.into_iter().map(|k| (k, action)));
        }
        Ok(KeyMap { bindings })
    }

    pub fn action(&self, key: &KeySpec) -> Option<Action> {
        self.bindings
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, a)| *a)
    }

    /// Keys bound to `action`, for hints and help.
    pub fn keys_for(&self, action: Action) -> Vec<KeySpec> {
        self.bindings
            .iter()
            .filter(|(_, a)| *a == action)
            .map(|(k, _)| *k)
            .collect()
    }
}

impl Default for KeyMap {
    fn default() -> Self {
        KeyMap {
            bindings: defaults(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_specs_round_trip() {
        for s in [
            "q", "R", "/", "ctrl-c", "alt-x", "enter", "esc", "f5", "pgdn",
        ] {
            let k: KeySpec = s.parse().unwrap();
            let again: KeySpec = k.to_string().replace('↑', "up").parse().unwrap();
            assert_eq!(k, again, "{s}");
        }
        assert_eq!("ctrl--".parse::<KeySpec>().unwrap(), KeySpec::ctrl('-'));
        assert!("bogus".parse::<KeySpec>().is_err());
        assert!("f13".parse::<KeySpec>().is_err());
    }

    #[test]
    fn overrides_replace_defaults() {
        let o: KeyOverrides =
            toml::from_str("redeploy = \"ctrl-r\"\nquit = [\"x\", \"Q\"]\n").unwrap();
        let m = KeyMap::new(&o).unwrap();
        assert_eq!(m.action(&KeySpec::ctrl('r')), Some(Action::Redeploy));
        assert_eq!(m.action(&KeySpec::plain(Key::Char('r'))), None);
        assert_eq!(
            m.action(&KeySpec::plain(Key::Char('Q'))),
            Some(Action::Quit)
        );
        assert_eq!(m.action(&KeySpec::plain(Key::Char('q'))), None);
    }

    #[test]
    fn bad_overrides_are_named() {
        let o: KeyOverrides = toml::from_str("explode = \"x\"\n").unwrap();
        assert!(
            KeyMap::new(&o)
                .unwrap_err()
                .contains("keys.explode: unknown action")
        );
        let o: KeyOverrides = toml::from_str("quit = \"hyper-q\"\n").unwrap();
        assert!(
            KeyMap::new(&o)
                .unwrap_err()
                .contains("keys.quit: invalid key")
        );
    }

    fn refused(toml_text: &str) -> String {
        let o: KeyOverrides = toml::from_str(toml_text).unwrap();
        KeyMap::new(&o).unwrap_err()
    }

    fn accepted(toml_text: &str) -> KeyMap {
        let o: KeyOverrides = toml::from_str(toml_text).unwrap();
        KeyMap::new(&o).unwrap()
    }

    #[test]
    fn a_key_taken_from_an_action_left_without_keys_is_a_clash() {
        assert_eq!(
            refused("quit = \"r\"\n"),
            "keys.quit: \"r\" is already redeploy's key; bind redeploy elsewhere too"
        );
        // Navigation keys too, even where the action keeps another key (an arrow).
        assert_eq!(
            refused("filter = \"j\"\n"),
            "keys.filter: \"j\" is already down's key; bind down elsewhere too"
        );
        assert_eq!(
            refused("logs = \"ctrl-c\"\n"),
            "keys.logs: \"ctrl-c\" is already quit's key; bind quit elsewhere too"
        );
        assert_eq!(
            refused("quit = []\n"),
            "keys.quit: no key given; every action needs one"
        );
    }

    #[test]
    fn one_key_for_two_user_bindings_is_a_clash() {
        assert_eq!(
            refused("quit = \"x\"\nredeploy = [\"ctrl-r\", \"x\"]\n"),
            "keys.redeploy: \"x\" is also keys.quit's key; give each action its own key"
        );
    }

    #[test]
    fn console_log_keys_are_refused_for_actions_that_work_there() {
        assert_eq!(
            refused("help = \"h\"\n"),
            "keys.help: \"h\" is the console log's \"hide targets\" key there; choose another"
        );
        // Redeploy does not act in the console log, so `h` is free for it.
        let m = accepted("redeploy = \"h\"\n");
        assert_eq!(
            m.action(&KeySpec::plain(Key::Char('h'))),
            Some(Action::Redeploy)
        );
    }

    #[test]
    fn moving_both_actions_is_accepted() {
        // Swap: each action's old key goes to the other, both rebound.
        let m = accepted("quit = \"r\"\nredeploy = \"q\"\n");
        assert_eq!(
            m.action(&KeySpec::plain(Key::Char('r'))),
            Some(Action::Quit)
        );
        assert_eq!(
            m.action(&KeySpec::plain(Key::Char('q'))),
            Some(Action::Redeploy)
        );
        let m = accepted("filter = \"j\"\ndown = [\"n\", \"down\"]\n");
        assert_eq!(
            m.action(&KeySpec::plain(Key::Char('j'))),
            Some(Action::Filter)
        );
        assert_eq!(
            m.action(&KeySpec::plain(Key::Char('n'))),
            Some(Action::Down)
        );
        // Listing an action's own default key again is no clash.
        accepted("quit = [\"q\", \"ctrl-c\", \"Q\"]\n");
    }

    #[test]
    fn every_action_has_a_default_key() {
        let m = KeyMap::default();
        for a in Action::ALL {
            assert!(!m.keys_for(*a).is_empty(), "{a:?}");
        }
    }
}
