//! Neutralising terminal control sequences: the TUI uses the crate's one implementation
//! (`crate::text`), so the status command and every pane render hostile text identically.

pub use crate::text::{has_controls, sanitize, sanitize_lines};
