//! Configuration: where files live, settings, themes and the keymap. Plain data and parsing; no
//! terminal code.

pub mod error;
pub mod keymap;
pub mod paths;
pub mod settings;
pub mod theme;

pub use error::ConfigError;
