//! Theme colours to ratatui styles, and the words and symbols that carry state without colour.
//!
//! Colour is never the only carrier of state: every health has a symbol and a word, Terminating
//! and Failed rows are bold, a stuck object says `⚠ stuck`. The mono theme (and NO_COLOR) shows
//! the same screen with attributes only.

use ratatui::style::{Color, Modifier, Style};

use crate::cluster::model::Health;
use crate::config::theme::{self, Named, Theme};

/// Styles for every semantic slot, computed once per theme.
#[derive(Debug, Clone, PartialEq)]
pub struct Palette {
    pub name: String,
    pub base: Style,
    pub muted: Style,
    pub accent: Style,
    pub ok: Style,
    pub warn: Style,
    pub error: Style,
    pub terminating: Style,
    /// A Terminating object past the warn threshold.
    pub stuck: Style,
    pub selection: Style,
    /// The selected row of a pane that does not have the focus.
    pub selection_dim: Style,
    pub border: Style,
    pub border_focus: Style,
    pub title: Style,
    pub header: Style,
}

fn color(c: theme::Color) -> Color {
    match c {
        theme::Color::Reset => Color::Reset,
        theme::Color::Indexed(i) => Color::Indexed(i),
        theme::Color::Rgb(r, g, b) => Color::Rgb(r, g, b),
        theme::Color::Named(n) => match n {
            Named::Black => Color::Black,
            Named::Red => Color::Red,
            Named::Green => Color::Green,
            Named::Yellow => Color::Yellow,
            Named::Blue => Color::Blue,
            Named::Magenta => Color::Magenta,
            Named::Cyan => Color::Cyan,
            Named::Gray => Color::Gray,
            Named::DarkGray => Color::DarkGray,
            Named::LightRed => Color::LightRed,
            Named::LightGreen => Color::LightGreen,
            Named::LightYellow => Color::LightYellow,
            Named::LightBlue => Color::LightBlue,
            Named::LightMagenta => Color::LightMagenta,
            Named::LightCyan => Color::LightCyan,
            Named::White => Color::White,
        },
    }
}

impl Palette {
    pub fn new(theme: &Theme) -> Palette {
        let c = &theme.colors;
        let fg = |x| Style::new().fg(color(x));
        let base = Style::new().fg(color(c.fg)).bg(color(c.bg));
        // Without colours (mono) the selection must still be visible: reverse video.
        let selection = if c.selection_bg == theme::Color::Reset {
            Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        } else {
            Style::new()
                .fg(color(c.selection_fg))
                .bg(color(c.selection_bg))
                .add_modifier(Modifier::BOLD)
        };
        Palette {
            name: theme.name.clone(),
            base,
            muted: fg(c.muted),
            accent: fg(c.accent),
            ok: fg(c.ok),
            warn: fg(c.warn),
            error: fg(c.error).add_modifier(Modifier::BOLD),
            terminating: fg(c.terminating).add_modifier(Modifier::BOLD),
            stuck: fg(c.terminating).add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            selection,
            selection_dim: Style::new().add_modifier(Modifier::REVERSED),
            border: fg(c.border),
            border_focus: fg(c.accent).add_modifier(Modifier::BOLD),
            title: fg(c.title).add_modifier(Modifier::BOLD),
            header: fg(c.header).add_modifier(Modifier::BOLD),
        }
    }

    pub fn health(&self, h: Health) -> Style {
        match h {
            Health::Ready => self.ok,
            Health::Failed => self.error,
            Health::Terminating => self.terminating,
            Health::Degraded => self.warn.add_modifier(Modifier::BOLD),
            Health::Redeploying => self.accent.add_modifier(Modifier::BOLD),
            Health::Progressing => self.accent,
            Health::Unknown => self.muted,
        }
    }
}

/// The symbol before a health word; with the word it carries the state without colour.
pub fn health_symbol(h: Health) -> &'static str {
    match h {
        Health::Ready => "✔",
        Health::Failed => "✖",
        Health::Terminating => "⊘",
        Health::Degraded => "▲",
        Health::Redeploying => "⟳",
        Health::Progressing => "…",
        Health::Unknown => "?",
    }
}

pub fn health_word(h: Health) -> &'static str {
    match h {
        Health::Ready => "Ready",
        Health::Failed => "Failed",
        Health::Terminating => "Terminating",
        Health::Degraded => "Degraded",
        Health::Redeploying => "Redeploying",
        Health::Progressing => "Progressing",
        Health::Unknown => "Unknown",
    }
}

/// Which theme to load: NO_COLOR forces `mono`, then `--theme`, then kiosk's own theme (high
/// contrast by default), then config.toml's `theme`.
pub fn theme_name<'a>(
    cli_theme: Option<&'a str>,
    settings: &'a crate::config::settings::Settings,
    kiosk: bool,
    no_color: bool,
) -> &'a str {
    if no_color {
        return "mono";
    }
    if let Some(t) = cli_theme {
        return t;
    }
    if kiosk {
        return &settings.kiosk.theme;
    }
    &settings.theme
}

/// Whether NO_COLOR asks for no colour (set and not empty, as no-color.org says).
pub fn no_color_from_env() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::settings::Settings;

    #[test]
    fn theme_choice_order() {
        let s = Settings::default();
        assert_eq!(theme_name(Some("light"), &s, true, true), "mono");
        assert_eq!(theme_name(Some("light"), &s, true, false), "light");
        assert_eq!(theme_name(None, &s, true, false), "high-contrast");
        assert_eq!(theme_name(None, &s, false, false), "default");
    }

    #[test]
    fn mono_selection_is_reverse_video() {
        let p = Palette::new(&Theme::builtin("mono").unwrap());
        assert!(p.selection.add_modifier.contains(Modifier::REVERSED));
        assert!(p.terminating.add_modifier.contains(Modifier::BOLD));
    }
}
