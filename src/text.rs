//! Neutralising terminal control sequences in text that came from a cluster.
//!
//! Names, messages, annotations and log lines are written by whoever can create objects in the
//! cluster. Printed raw, `ESC ] 52 ; c ; ... BEL` sets the operator's clipboard, `ESC [ 2 J` clears
//! the screen and a C1 `CSI` (U+009B) does the same on terminals that honour 8-bit controls. Every
//! such character is replaced with a visible escape, so the text stays readable and inert.
//! Bidirectional controls (U+202E RIGHT-TO-LEFT OVERRIDE and kin) do not move the cursor but
//! reorder what the operator reads (`gpj.exe` shown as `exe.jpg`), so they are escaped as well.
//!
//! JSON output has its own edge: serde_json escapes C0 controls but leaves DEL, C1 and the
//! bidi controls raw in strings; [`to_json`] and [`to_json_pretty`] escape them as `\uXXXX`.

mod json;

pub use json::{to_json, to_json_pretty};

use std::borrow::Cow;

/// Replaces ESC, the other C0 controls except TAB, DEL, the C1 controls (U+0080–U+009F) and the
/// bidi controls ([`is_bidi_control`]) with visible escapes: `\x1b` becomes `^[`, C0 `\x01`
/// becomes `^A`, DEL `^?`, C1 `\u{9b}` becomes `<U+009B>`, U+202E `<U+202E>`. Newlines are
/// escaped too (`^J`): one cluster string is one line of output. Borrows when there is nothing
/// to replace.
///
/// ```
/// use llmops_console::text::sanitize;
/// assert_eq!(sanitize("ok\tfine"), "ok\tfine");
/// assert_eq!(sanitize("\x1b]52;c;aGk=\x07"), "^[]52;c;aGk=^G");
/// ```
pub fn sanitize(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !needs_escape(c) {
            out.push(c);
            continue;
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
    Cow::Owned(out)
}

/// Like [`sanitize`] for multi-line text (manifests): splits on `\n` (dropping a `\r` before it)
/// and neutralises each line.
pub fn sanitize_lines(s: &str) -> Vec<String> {
    s.split('\n')
        .map(|l| sanitize(l.strip_suffix('\r').unwrap_or(l)).into_owned())
        .collect()
}

/// Whether `s` still holds a character a terminal would interpret (for tests and debug checks).
pub fn has_controls(s: &str) -> bool {
    s.chars().any(needs_escape)
}

fn needs_escape(c: char) -> bool {
    let n = c as u32;
    (n < 0x20 && c != '\t') || n == 0x7f || (0x80..=0x9f).contains(&n) || is_bidi_control(c)
}

/// The characters that change the display order of text: the embeddings and overrides
/// (U+202A–U+202E), the isolates (U+2066–U+2069), and the marks (U+200E LRM, U+200F RLM,
/// U+061C ALM), which are invisible and serve to fake an order as well.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c as u32, 0x202a..=0x202e | 0x2066..=0x2069 | 0x200e | 0x200f | 0x061c)
}

#[cfg(test)]
mod tests {
    use super::sanitize;
    use std::borrow::Cow;

    #[test]
    fn plain_text_is_borrowed() {
        for s in ["", "llama-3-8b", "tab\there", "ünïcödé ✓ 模型"] {
            assert!(matches!(sanitize(s), Cow::Borrowed(_)), "{s:?}");
        }
    }

    #[test]
    fn osc_clipboard_write_is_inert() {
        let evil = "pod\x1b]52;c;cm0gLXJmIH4=\x07name";
        let clean = sanitize(evil);
        assert_eq!(clean, "pod^[]52;c;cm0gLXJmIH4=^Gname");
        assert!(!clean.contains('\x1b') && !clean.contains('\x07'));
    }

    #[test]
    fn csi_sequences_are_inert() {
        assert_eq!(sanitize("\x1b[2J\x1b[31mred"), "^[[2J^[[31mred");
        // OSC 8 hyperlink with ST terminator.
        assert_eq!(
            sanitize("\x1b]8;;http://evil\x1b\\x\x1b]8;;\x1b\\"),
            "^[]8;;http://evil^[\\x^[]8;;^[\\"
        );
    }

    #[test]
    fn c1_controls_are_inert() {
        // U+009B is an 8-bit CSI, U+009D an 8-bit OSC, U+0085 NEL.
        assert_eq!(sanitize("a\u{9b}2Jb"), "a<U+009B>2Jb");
        assert_eq!(sanitize("\u{9d}0;title\u{9c}"), "<U+009D>0;title<U+009C>");
        assert_eq!(sanitize("\u{80}\u{85}\u{9f}"), "<U+0080><U+0085><U+009F>");
        // Just outside the C1 range stays.
        assert_eq!(sanitize("\u{a0}\u{7e}"), "\u{a0}\u{7e}");
    }

    #[test]
    fn bidi_controls_are_visible() {
        // "invoice\u{202e}gpj.exe" displays as "invoiceexe.jpg".
        assert_eq!(sanitize("invoice\u{202e}gpj.exe"), "invoice<U+202E>gpj.exe");
        assert_eq!(
            sanitize("\u{202a}\u{202b}\u{202c}\u{202d}"),
            "<U+202A><U+202B><U+202C><U+202D>"
        );
        assert_eq!(
            sanitize("\u{2066}a\u{2067}b\u{2068}c\u{2069}"),
            "<U+2066>a<U+2067>b<U+2068>c<U+2069>"
        );
        assert_eq!(
            sanitize("\u{200e}\u{200f}\u{61c}"),
            "<U+200E><U+200F><U+061C>"
        );
        // Neighbours stay: zero-width joiner, Arabic text, the line separator's neighbour.
        assert_eq!(
            sanitize("\u{200d}\u{2065}\u{2029}مرحبا"),
            "\u{200d}\u{2065}\u{2029}مرحبا"
        );
        assert!(!super::has_controls(&sanitize("x\u{202e}y")));
    }

    #[test]
    fn other_c0_and_del() {
        assert_eq!(sanitize("a\rb\nc\0d\x7f"), "a^Mb^Jc^@d^?");
        assert_eq!(sanitize("\x08\x1f"), "^H^_");
    }

    #[test]
    fn lines_are_split_then_neutralised() {
        assert_eq!(
            super::sanitize_lines("a: 1\r\nb: \x1b[2J\n"),
            vec!["a: 1", "b: ^[[2J", ""]
        );
        assert!(!super::has_controls(&sanitize("\x1b\u{85}\u{9f}\x01")));
    }
}
