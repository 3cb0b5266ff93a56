//! `config.toml`: every setting has a default, so the file is optional and may be partial.
//! Unknown keys and bad values are errors naming file, line and field.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use super::error::{ConfigError, located};
use super::keymap::KeyOverrides;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Theme name or path; `--theme` wins, NO_COLOR forces `mono`.
    pub theme: String,
    /// Mouse support (off by default: it breaks terminal text selection over SSH).
    pub mouse: bool,
    /// Frames per second at most, while something changes.
    pub max_fps: u32,
    /// Namespaces to watch one by one when the user may not list across all namespaces
    /// (`namespaces = ["prod", "staging"]`); each is checked with a SelfSubjectRulesReview.
    pub namespaces: Vec<String>,
    pub logs: LogSettings,
    pub endpoints: EndpointSettings,
    pub kiosk: KioskSettings,
    /// Key remapping: `action = "key"` or `action = ["key", "key"]`.
    pub keys: KeyOverrides,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    /// Lines kept per log view; older lines are dropped and counted.
    pub buffer_lines: usize,
    /// Lines asked from each pod when a log view opens.
    pub tail_lines: i64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EndpointSettings {
    /// A Deployment with this label is an endpoint of its own ("raw" mode).
    pub raw_endpoint_label: String,
    /// Terminating objects older than this are highlighted as stuck.
    #[serde(deserialize_with = "duration")]
    pub terminating_warn_after: Duration,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KioskSettings {
    /// The selected endpoint changes every this often.
    #[serde(deserialize_with = "duration")]
    pub cycle_every: Duration,
    pub theme: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            theme: "default".into(),
            mouse: false,
            max_fps: 30,
            namespaces: Vec::new(),
            logs: LogSettings::default(),
            endpoints: EndpointSettings::default(),
            kiosk: KioskSettings::default(),
            keys: KeyOverrides::default(),
        }
    }
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings {
            buffer_lines: 10_000,
            tail_lines: 200,
        }
    }
}

impl Default for EndpointSettings {
    fn default() -> Self {
        EndpointSettings {
            raw_endpoint_label: "llm-ops.io/endpoint".into(),
            terminating_warn_after: Duration::from_secs(120),
        }
    }
}

impl Default for KioskSettings {
    fn default() -> Self {
        KioskSettings {
            cycle_every: Duration::from_secs(8),
            theme: "high-contrast".into(),
        }
    }
}

fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let s = String::deserialize(d)?;
    crate::util::duration::parse_duration(&s).map_err(serde::de::Error::custom)
}

impl Settings {
    pub fn parse(file: &str, text: &str) -> Result<Settings, ConfigError> {
        let s: Settings = toml::from_str(text).map_err(|e| located(file, text, &e))?;
        s.validate(file, text)?;
        Ok(s)
    }

    /// The settings in `path`, or the defaults when the file does not exist.
    pub fn load(path: &Path) -> Result<Settings, ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Settings::parse(&path.display().to_string(), &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Settings::default()),
            Err(source) => Err(ConfigError::Read {
                file: path.display().to_string(),
                source,
            }),
        }
    }

    fn validate(&self, file: &str, text: &str) -> Result<(), ConfigError> {
        let bad = |key: &str, message: String| {
            let line = text
                .lines()
                .position(|l| l.trim_start().starts_with(key))
                .map_or(1, |i| i + 1);
            ConfigError::Invalid {
                file: file.to_string(),
                line,
                column: 1,
                message,
            }
        };
        if self.logs.buffer_lines == 0 || self.logs.buffer_lines > 1_000_000 {
            return Err(bad(
                "buffer_lines",
                format!(
                    "logs.buffer_lines: {} is not within 1..=1000000",
                    self.logs.buffer_lines
                ),
            ));
        }
        if self.max_fps == 0 || self.max_fps > 120 {
            return Err(bad(
                "max_fps",
                format!("max_fps: {} is not within 1..=120", self.max_fps),
            ));
        }
        if let Some(e) = self
            .namespaces
            .iter()
            .find_map(|n| crate::cluster::access::namespace_error(n))
        {
            return Err(bad("namespaces", format!("namespaces: {e}")));
        }
        self.keys.validate().map_err(|(action, message)| {
            let mut e = bad(action.as_str(), message);
            if let (Some(n), ConfigError::Invalid { line, .. }) = (keys_line(text, &action), &mut e)
            {
                *line = n;
            }
            e
        })?;
        Ok(())
    }
}

/// The line (from 1) that binds `action` in the `[keys]` table, so that a keymap error points at
/// the binding and not at a same-named key elsewhere.
fn keys_line(text: &str, action: &str) -> Option<usize> {
    let mut in_keys = false;
    for (i, l) in text.lines().enumerate() {
        let l = l.trim();
        if l.starts_with('[') {
            in_keys = l.trim_matches(|c| c == '[' || c == ']').trim() == "keys";
            continue;
        }
        let Some((key, _)) = l.split_once('=') else {
            continue;
        };
        let key = key.trim().trim_matches('"');
        if (in_keys && key == action) || key == format!("keys.{action}") {
            return Some(i + 1);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_defaults() {
        assert_eq!(Settings::parse("c.toml", "").unwrap(), Settings::default());
    }

    #[test]
    fn partial_file_overrides() {
        let s = Settings::parse(
            "c.toml",
            "[logs]\nbuffer_lines = 500\n[endpoints]\nterminating_warn_after = \"5m\"\n",
        )
        .unwrap();
        assert_eq!(s.logs.buffer_lines, 500);
        assert_eq!(s.endpoints.terminating_warn_after, Duration::from_secs(300));
        assert_eq!(s.logs.tail_lines, 200);
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let err = Settings::parse("c.toml", "theme = \"x\"\n[logs]\nbufer_lines = 5\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("c.toml:3:"), "{err}");
        assert!(err.contains("bufer_lines"), "{err}");
        let err = Settings::parse("c.toml", "[kiosk]\ncycle_every = \"soon\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("c.toml:2:"), "{err}");
        assert!(err.contains("kiosk.cycle_every"), "{err}");
        let err = Settings::parse("c.toml", "[logs]\nbuffer_lines = 0\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("c.toml:2:1: logs.buffer_lines"), "{err}");
    }

    #[test]
    fn namespaces_are_checked_names() {
        let s = Settings::parse("c.toml", "namespaces = [\"prod\", \"staging\"]\n").unwrap();
        assert_eq!(s.namespaces, ["prod", "staging"]);
        let err = Settings::parse("c.toml", "max_fps = 30\nnamespaces = [\"Prod_1\"]\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("c.toml:2:1: namespaces: \"Prod_1\" is not a valid namespace name"),
            "{err}"
        );
    }

    #[test]
    fn keymap_clashes_name_file_line_and_clash() {
        let text = "# quit is not a setting outside [keys]\ntheme = \"default\"\n[logs]\n\
                    tail_lines = 10\n[keys]\nfilter = \"ctrl-r\"\nquit = \"r\"\n";
        let err = Settings::parse("config.toml", text)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "config.toml:7:1: keys.quit: \"r\" is already redeploy's key; bind redeploy elsewhere too"
        );
        let ok = "[keys]\nquit = \"r\"\nredeploy = \"ctrl-r\"\n";
        assert!(Settings::parse("config.toml", ok).is_ok());
    }

    #[test]
    fn loading_a_clashing_config_fails_with_the_clash() {
        let dir = std::env::temp_dir().join(format!("llmops-keys-clash-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("config.toml");
        let text = "max_fps = 30\n\n[keys]\nquit = \"x\"\nlogs = \"x\"\n";
        if let Err(e) = std::fs::write(&path, text) {
            panic!("write {}: {e}", path.display());
        }
        let err = Settings::load(&path).unwrap_err().to_string();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(
            err,
            format!(
                "{}:4:1: keys.quit: \"x\" is also keys.logs's key; give each action its own key",
                path.display()
            )
        );
    }
}
