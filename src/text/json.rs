//! JSON for a terminal or a pipe read by one: serde_json escapes `"`, `\` and C0 controls in
//! strings, but writes DEL, the C1 controls (U+0080–U+009F; U+009B is an 8-bit CSI) and the bidi
//! controls raw. A `jq`-less `tail -f` of the output would hand them to the terminal. This
//! formatter writes them as `\uXXXX` too; the value read back is the same.

use std::io;

use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter, PrettyFormatter, Serializer};

/// `value` as one line of JSON with DEL, C1 and bidi controls escaped.
pub fn to_json<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    write(value, Escaping(CompactFormatter))
}

/// `value` as indented JSON with DEL, C1 and bidi controls escaped.
pub fn to_json_pretty<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    write(value, Escaping(PrettyFormatter::new()))
}

fn write<T: Serialize + ?Sized, F: Formatter>(value: &T, f: F) -> serde_json::Result<String> {
    let mut out = Vec::with_capacity(128);
    value.serialize(&mut Serializer::with_formatter(&mut out, f))?;
    // The serializer writes UTF-8 only (every escape is ASCII); a failure here is a bug.
    String::from_utf8(out).map_err(|e| serde::ser::Error::custom(e.to_string()))
}

/// Characters serde_json leaves raw that a terminal would act on.
fn must_escape(c: char) -> bool {
    matches!(c as u32, 0x7f..=0x9f) || super::is_bidi_control(c)
}

/// Wraps a formatter (compact or pretty) and escapes [`must_escape`] characters in strings.
struct Escaping<F>(F);

impl<F: Formatter> Formatter for Escaping<F> {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if must_escape(c) {
                w.write_all(&fragment.as_bytes()[start..i])?;
                // Every such character is in the Basic Multilingual Plane: one \u escape.
                write!(w, "\\u{:04x}", c as u32)?;
                start = i + c.len_utf8();
            }
        }
        w.write_all(&fragment.as_bytes()[start..])
    }

    // The layout is the wrapped formatter's: every method PrettyFormatter overrides.
    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn end_object_key<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_key(w)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    const HOSTILE: &str = "a\x1b[2Jb\u{9b}31mc\x7fd\u{202e}gpj.exe\u{85}\u{2066}\u{200f}";

    fn raw_controls(s: &str) -> Vec<char> {
        s.chars()
            .filter(|&c| c.is_control() || crate::text::is_bidi_control(c))
            .filter(|&c| c != '\n' && c != ' ')
            .collect()
    }

    #[test]
    fn plain_serde_json_leaves_them_raw() {
        // Why this module exists; if serde_json ever escapes them, the wrapper is a no-op.
        let plain = serde_json::to_string(&json!({ "m": HOSTILE })).unwrap_or_default();
        assert!(
            plain.contains('\u{9b}') && plain.contains('\u{202e}'),
            "{plain}"
        );
    }

    #[test]
    fn hostile_strings_are_escaped_and_read_back_the_same() {
        let v = json!({ "name": HOSTILE, HOSTILE: [HOSTILE, 1, null], "nested": { "m": HOSTILE } });
        for s in [
            to_json(&v).unwrap_or_default(),
            to_json_pretty(&v).unwrap_or_default(),
        ] {
            assert_eq!(raw_controls(&s), Vec::<char>::new(), "{s}");
            assert!(s.contains("\\u001b") && s.contains("\\u009b"), "{s}");
            assert!(s.contains("\\u007f") && s.contains("\\u202e"), "{s}");
            let back: Value = serde_json::from_str(&s).unwrap_or_default();
            assert_eq!(back, v);
        }
    }

    #[test]
    fn layout_is_the_wrapped_formatters() {
        let v = json!({ "a": [1, 2], "b": { "c": "ünï ✓ 模型" } });
        assert_eq!(
            to_json(&v).unwrap_or_default(),
            serde_json::to_string(&v).unwrap_or_default()
        );
        assert_eq!(
            to_json_pretty(&v).unwrap_or_default(),
            serde_json::to_string_pretty(&v).unwrap_or_default()
        );
    }
}
