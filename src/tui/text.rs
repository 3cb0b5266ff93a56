//! Neutralising terminal control sequences in text that came from a cluster or a log.
//!
//! Object names, event messages and log lines are written by whoever can create objects in the
//! cluster. Printed raw, `ESC ] 0 ; title BEL` retitles the operator's terminal, `ESC [ 2 J` clears
//! it and a C1 `CSI` (U+009B) does the same on terminals that honour 8-bit controls. ratatui drops
//! control characters silently, which hides the attack instead of showing it; here every such
//! character becomes a visible, inert escape.
//!
//! The output format is the one `crate::text::sanitize` (written for the `status` command) uses, so
//! the TUI can switch to that shared function without changing a single snapshot.

use std::borrow::Cow;

/// Replaces ESC, the other C0 controls except TAB, DEL and the C1 controls (U+0080–U+009F) with
/// visible escapes: ESC becomes `^[`, `\x01` `^A`, DEL `^?`, C1 U+009B `<U+009B>`. Newlines are
/// escaped too (`^J`): one cluster string is one line on screen. Borrows when nothing changes.
pub fn sanitize(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        push_escaped(&mut out, c);
    }
    Cow::Owned(out)
}

/// Like [`sanitize`] for multi-line text (manifests): splits on `\n` (dropping a `\r` before it)
/// and neutralises each line.
pub fn sanitize_lines(s: &str) -> Vec<String> {
    s.split('\n')
        .map(|l| sanitize(l.strip_suffix('\r').unwrap_or(l)).into_owned())
        .collect()
}

fn push_escaped(out: &mut String, c: char) {
    if !needs_escape(c) {
        out.push(c);
        return;
    }
    match c as u32 {
        // C0: caret notation, as `cat -v` prints it.
        n @ 0x00..=0x1f => {
            out.push('^');
            out.push(char::from(b'@' + n as u8));
        }
        0x7f => out.push_str("^?"),
        n => out.push_str(&format!("<U+{n:04X}>")),
    }
}

fn needs_escape(c: char) -> bool {
    let n = c as u32;
    (n < 0x20 && c != '\t') || n == 0x7f || (0x80..=0x9f).contains(&n)
}

/// Whether `s` still holds a character a terminal would interpret (for tests and debug checks).
pub fn has_controls(s: &str) -> bool {
    s.chars().any(needs_escape)
}

#[cfg(test)]
mod tests {
    use super::*;

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
