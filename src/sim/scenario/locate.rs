//! Positions for error messages.
//!
//! Parse errors: serde_yaml_ng puts the line, column and field path into its errors.
//!
//! Semantic errors (found after parsing, on the structs): the validator names the field by path
//! (`endpoints[2].namespace`), and [`locate`] finds that path's line by deserializing the source a
//! second time with a seed that walks down the path and fails on purpose at the target node.
//! serde_yaml_ng stamps every error raised by a visitor with the position of the node being read,
//! so the failure carries the exact line and column of the value: no hand-written YAML scanner, and
//! flow style, comments, anchors and multi-line strings all work. When the path stops existing
//! part way (a field left to its default), the nearest existing ancestor is reported.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// A field path like `endpoints[2].replicas`; empty is the document root.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldPath(pub Vec<Seg>);

impl FieldPath {
    pub fn root() -> Self {
        FieldPath(Vec::new())
    }

    pub fn key(&self, k: &str) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Key(k.to_string()));
        p
    }

    pub fn index(&self, i: usize) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Index(i));
        p
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => f.write_str(k)?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// 1-based line and column of the node at `path` in `src` (or of its nearest existing ancestor).
pub fn locate(src: &str, path: &FieldPath) -> Option<(usize, usize)> {
    let de = serde_yaml_ng::Deserializer::from_str(src);
    match (Seek { rest: &path.0 }).deserialize(de) {
        Ok(()) => None,
        Err(e) => e.location().map(|l| (l.line(), l.column())),
    }
}

/// Walks `rest`; always ends in an error raised while the target (or the last node reached) is
/// being read, which is what gives the error its position.
struct Seek<'p> {
    rest: &'p [Seg],
}

const FOUND: &str = "located";

impl<'de> DeserializeSeed<'de> for Seek<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        match self.rest.first() {
            None => d.deserialize_any(Target),
            Some(Seg::Key(_)) => d.deserialize_map(self),
            Some(Seg::Index(_)) => d.deserialize_seq(self),
        }
    }
}

impl<'de> Visitor<'de> for Seek<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(FOUND)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some((Seg::Key(want), rest)) = self.rest.split_first() else {
            return Err(de::Error::custom(FOUND));
        };
        while let Some(key) = map.next_key::<serde_yaml_ng::Value>()? {
            if key.as_str() == Some(want.as_str()) {
                return map.next_value_seed(Seek { rest });
            }
            map.next_value::<IgnoredAny>()?;
        }
        // Absent: report the mapping itself.
        Err(de::Error::custom(FOUND))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Some((Seg::Index(want), rest)) = self.rest.split_first() else {
            return Err(de::Error::custom(FOUND));
        };
        for _ in 0..*want {
            if seq.next_element::<IgnoredAny>()?.is_none() {
                return Err(de::Error::custom(FOUND));
            }
        }
        match seq.next_element_seed(Seek { rest })? {
            Some(()) | None => Err(de::Error::custom(FOUND)),
        }
    }
}

/// Refuses whatever it is given; every refusal carries the node's position.
struct Target;

impl Visitor<'_> for Target {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(FOUND)
    }
}

/// A parse error split into position, field path and message.
pub(crate) struct ParseFailure {
    pub line: usize,
    pub column: usize,
    pub path: String,
    pub message: String,
}

/// Take serde_yaml_ng's `"<path>: <message> at line L column C"` apart.
pub(crate) fn split_yaml_error(err: &serde_yaml_ng::Error) -> ParseFailure {
    let (line, column) = err.location().map_or((1, 1), |l| (l.line(), l.column()));
    let mut text = err.to_string();
    let suffix = format!(" at line {line} column {column}");
    if let Some(stripped) = text.strip_suffix(&suffix) {
        text = stripped.to_string();
    }
    // The path prefix (only present below the root) has no spaces; messages always do.
    let (mut path, message) = match text.split_once(": ") {
        Some((p, m)) if !p.is_empty() && p.chars().all(is_path_char) => {
            (p.to_string(), m.to_string())
        }
        _ => (String::new(), text),
    };
    // `unknown field `replica`, expected ...`: name the field itself in the path.
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some((field, _)) = rest.split_once('`')
    {
        path = if path.is_empty() {
            field.to_string()
        } else {
            format!("{path}.{field}")
        };
    }
    ParseFailure {
        line,
        column,
        path,
        message,
    }
}

fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '[' | ']' | '-' | '_' | '/' | '?' | '*' | '$')
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "\
name: x
list:
  - a: 1
    b: [10, 20, {c: deep}]
  - a: 2
    # a comment
    b:
      - 30
text: |
  line one
  line two
last: end
";

    fn at(path: FieldPath) -> (usize, usize) {
        locate(DOC, &path).unwrap()
    }

    #[test]
    fn finds_values_in_block_and_flow_style() {
        let root = FieldPath::root();
        assert_eq!(at(root.key("name")), (1, 7));
        assert_eq!(at(root.key("list").index(0).key("a")), (3, 8));
        assert_eq!(at(root.key("list").index(0).key("b").index(1)), (4, 13));
        let deep = root.key("list").index(0).key("b").index(2).key("c");
        assert_eq!(at(deep), (4, 21));
        assert_eq!(at(root.key("list").index(1).key("b").index(0)), (8, 9));
        assert_eq!(at(root.key("last")), (12, 7));
    }

    #[test]
    fn absent_fields_fall_back_to_the_nearest_ancestor() {
        let root = FieldPath::root();
        // list[1] starts at its first key, line 5.
        assert_eq!(at(root.key("list").index(1).key("missing")), (5, 5));
        assert_eq!(at(root.key("list").index(7)).0, 3);
    }

    #[test]
    fn paths_display_like_serde_yaml() {
        let p = FieldPath::root().key("endpoints").index(2).key("replicas");
        assert_eq!(p.to_string(), "endpoints[2].replicas");
        assert_eq!(FieldPath::root().to_string(), "");
    }
}
