//! Where the console keeps its files: config (settings, user themes), state (operation journal,
//! audit log) and cache, by the XDG rules through `directories`, each overridable by environment
//! (tests, and users who want everything in one place).

use std::path::PathBuf;

/// Overrides the config directory (config.toml, themes/).
pub const CONFIG_DIR_ENV: &str = "LLMOPS_CONSOLE_CONFIG_DIR";
/// Overrides the state directory (journal/, audit.log).
pub const STATE_DIR_ENV: &str = "LLMOPS_CONSOLE_STATE_DIR";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    pub config_dir: PathBuf,
    pub state_dir: PathBuf,
    pub cache_dir: PathBuf,
}

impl Paths {
    /// The directories for this user. Fails only when there is no home directory and no
    /// override, which is said plainly.
    pub fn discover() -> Result<Paths, String> {
        let env_dir = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let dirs = directories::ProjectDirs::from("io", "llm-ops", "llmops-console");
        let config_dir =
            env_dir(CONFIG_DIR_ENV).or_else(|| dirs.as_ref().map(|d| d.config_dir().to_path_buf()));
        let state_dir = env_dir(STATE_DIR_ENV).or_else(|| {
            dirs.as_ref().map(|d| {
                d.state_dir()
                    .unwrap_or_else(|| d.data_local_dir())
                    .to_path_buf()
            })
        });
        let cache_dir = dirs
            .as_ref()
            .map(|d| d.cache_dir().to_path_buf())
            .or_else(|| state_dir.as_ref().map(|s| s.join("cache")));
        match (config_dir, state_dir, cache_dir) {
            (Some(config_dir), Some(state_dir), Some(cache_dir)) => Ok(Paths {
                config_dir,
                state_dir,
                cache_dir,
            }),
            _ => Err(format!(
                "no home directory to keep configuration and state in: set {CONFIG_DIR_ENV} and {STATE_DIR_ENV}"
            )),
        }
    }

    pub fn config_file(&self) -> PathBuf {
        self.config_dir.join("config.toml")
    }

    pub fn themes_dir(&self) -> PathBuf {
        self.config_dir.join("themes")
    }

    /// One file per operation, fsynced before anything is deleted.
    pub fn journal_dir(&self) -> PathBuf {
        self.state_dir.join("journal")
    }

    /// Append-only record of operations (who, what, when, result).
    pub fn audit_log(&self) -> PathBuf {
        self.state_dir.join("audit.log")
    }
}
