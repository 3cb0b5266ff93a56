//! Themes: TOML files with semantic colour slots. Four are built in (embedded from `themes/`);
//! users add their own in `themes/NAME.toml` of the config directory. A bad theme is an error naming the
//! file, line and field, never a silent fallback. Colours are plain data here; only `src/tui`
//! turns them into terminal styles.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::error::{ConfigError, located};

/// A colour as written in a theme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Color {
    /// The terminal's own default.
    Reset,
    Named(Named),
    Indexed(u8),
    Rgb(u8, u8, u8),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Named {
    Black,
    Red,
    Green,
    Yellow,
    Blue,
    Magenta,
    Cyan,
    Gray,
    DarkGray,
    LightRed,
    LightGreen,
    LightYellow,
    LightBlue,
    LightMagenta,
    LightCyan,
    White,
}

const NAMES: &[(&str, Named)] = &[
    ("black", Named::Black),
    ("red", Named::Red),
    ("green", Named::Green),
    ("yellow", Named::Yellow),
    ("blue", Named::Blue),
    ("magenta", Named::Magenta),
    ("cyan", Named::Cyan),
    ("gray", Named::Gray),
    ("darkgray", Named::DarkGray),
    ("lightred", Named::LightRed),
    ("lightgreen", Named::LightGreen),
    ("lightyellow", Named::LightYellow),
    ("lightblue", Named::LightBlue),
    ("lightmagenta", Named::LightMagenta),
    ("lightcyan", Named::LightCyan),
    ("white", Named::White),
];

impl std::str::FromStr for Color {
    type Err = String;

    fn from_str(s: &str) -> Result<Color, String> {
        let lower = s.trim().to_ascii_lowercase();
        if lower == "reset" || lower == "default" {
            return Ok(Color::Reset);
        }
        if let Some((_, n)) = NAMES.iter().find(|(name, _)| *name == lower) {
            return Ok(Color::Named(*n));
        }
        if let Some(hex) = lower.strip_prefix('#')
            && hex.len() == 6
            && hex.chars().all(|c| c.is_ascii_hexdigit())
        {
            let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0);
            return Ok(Color::Rgb(byte(0), byte(2), byte(4)));
        }
        if let Ok(i) = lower.parse::<u8>() {
            return Ok(Color::Indexed(i));
        }
        Err(format!(
            "invalid colour {s:?}: expected a name (e.g. cyan, lightred), \"reset\", an index 0-255 or \"#rrggbb\""
        ))
    }
}

impl<'de> Deserialize<'de> for Color {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Color, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            S(String),
            N(i64),
        }
        match Raw::deserialize(d)? {
            Raw::S(s) => s.parse().map_err(serde::de::Error::custom),
            Raw::N(n) => u8::try_from(n).map(Color::Indexed).map_err(|_| {
                serde::de::Error::custom(format!("colour index {n} is not within 0-255"))
            }),
        }
    }
}

/// Every semantic slot a theme must fill.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Colors {
    pub fg: Color,
    pub bg: Color,
    pub accent: Color,
    pub muted: Color,
    pub ok: Color,
    pub warn: Color,
    pub error: Color,
    pub terminating: Color,
    pub selection_fg: Color,
    pub selection_bg: Color,
    pub border: Color,
    pub title: Color,
    pub header: Color,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Theme {
    pub name: String,
    pub colors: Colors,
}

/// The built-in themes, embedded so the binary works without its source tree.
pub const BUILTIN: &[(&str, &str)] = &[
    ("default", include_str!("../../themes/default.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
    ("light", include_str!("../../themes/light.toml")),
    ("mono", include_str!("../../themes/mono.toml")),
];

impl Theme {
    /// Parses a theme file's text; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Theme, ConfigError> {
        toml::from_str(text).map_err(|e| located(file, text, &e))
    }

    pub fn builtin(name: &str) -> Option<Theme> {
        BUILTIN
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(n, text)| Theme::parse(&format!("<built-in theme {n}>"), text).ok())
    }

    /// A theme by name: a user theme `<themes_dir>/NAME.toml` wins over a built-in of the same
    /// name; a value with a `/` or ending in `.toml` is a path.
    pub fn load(name: &str, themes_dir: Option<&Path>) -> Result<Theme, ConfigError> {
        let path: Option<PathBuf> = if name.contains('/') || name.ends_with(".toml") {
            Some(PathBuf::from(name))
        } else {
            themes_dir
                .map(|d| d.join(format!("{name}.toml")))
                .filter(|p| p.is_file())
        };
        if let Some(path) = path {
            let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
                file: path.display().to_string(),
                source,
            })?;
            return Theme::parse(&path.display().to_string(), &text);
        }
        Theme::builtin(name).ok_or_else(|| ConfigError::UnknownTheme {
            name: name.to_string(),
            available: BUILTIN.iter().map(|(n, _)| n.to_string()).collect(),
            themes_dir: match themes_dir {
                Some(d) => d.join("NAME.toml").display().to_string(),
                None => format!(
                    "themes/NAME.toml in the config directory (none found: set {})",
                    super::paths::CONFIG_DIR_ENV
                ),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_parse_and_carry_their_names() {
        for (name, text) in BUILTIN {
            let t = Theme::parse(name, text).unwrap();
            assert_eq!(&t.name, name);
        }
        assert_eq!(Theme::builtin("mono").unwrap().colors.ok, Color::Reset);
    }

    #[test]
    fn colours_parse() {
        assert_eq!("#FF0080".parse::<Color>(), Ok(Color::Rgb(255, 0, 128)));
        assert_eq!(
            "LightRed".parse::<Color>(),
            Ok(Color::Named(Named::LightRed))
        );
        assert_eq!("214".parse::<Color>(), Ok(Color::Indexed(214)));
        assert!("#12345".parse::<Color>().is_err());
        assert!("chartreuse".parse::<Color>().is_err());
    }

    #[test]
    fn bad_theme_names_file_line_and_field() {
        let text = "name = \"x\"\n[colors]\nfg = \"reset\"\nbg = \"chartreuse\"\n";
        let err = Theme::parse("mine.toml", text).unwrap_err().to_string();
        assert!(err.starts_with("mine.toml:4:"), "{err}");
        assert!(err.contains("chartreuse"), "{err}");
        let text = "name = \"x\"\n[colors]\nfg = \"reset\"\nsparkle = \"red\"\n";
        let err = Theme::parse("mine.toml", text).unwrap_err().to_string();
        assert!(err.starts_with("mine.toml:4:"), "{err}");
        assert!(err.contains("sparkle"), "{err}");
        let err = Theme::parse("mine.toml", "name = \"x\"\n[colors]\nfg = \"red\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing field"), "{err}");
    }

    #[test]
    fn unknown_theme_lists_the_builtins() {
        let err = Theme::load("nope", None).unwrap_err().to_string();
        assert!(err.contains("high-contrast"), "{err}");
    }
}
