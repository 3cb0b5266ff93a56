//! Neutralising terminal control sequences: the TUI uses the crate's one implementation
//! (`crate::text`), so the status command and every pane render hostile text identically.

pub use crate::text::{has_controls, sanitize, sanitize_lines};

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    #[test]
    fn plain_text_is_borrowed() {
        for s in ["", "llama-3-8b", "tab\there", "ünïcödé ✓ 模型"] {
            assert!(matches!(sanitize(s), Cow::Borrowed(_)), "{s:?}");
        }
    }

    #[test]
    fn escape_sequences_become_visible() {
        assert_eq!(sanitize("\x1b[31mred"), "^[[31mred");
        assert_eq!(sanitize("\x1b]0;pwned\x07"), "^[]0;pwned^G");
        assert_eq!(sanitize("\u{9b}2J"), "<U+009B>2J");
        assert_eq!(sanitize("a\rb\nc\0d\x7f"), "a^Mb^Jc^@d^?");
        assert_eq!(sanitize("\u{a0}~"), "\u{a0}~");
        assert!(!has_controls(&sanitize("\x1b\u{85}\u{9f}\x01")));
    }

    #[test]
    fn lines_are_split_then_neutralised() {
        assert_eq!(
            sanitize_lines("a: 1\r\nb: \x1b[2J\n"),
            vec!["a: 1", "b: ^[[2J", ""]
        );
    }
}
