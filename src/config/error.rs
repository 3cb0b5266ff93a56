//! Configuration errors, always naming the file and, for content errors, line, column and field.

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{file}:{line}:{column}: {message}")]
    Invalid {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("cannot read {file}: {source}")]
    Read {
        file: String,
        source: std::io::Error,
    },
    #[error("unknown theme {name:?}: built-in themes are {}; user themes go in {themes_dir}", available.join(", "))]
    UnknownTheme {
        name: String,
        available: Vec<String>,
        /// Where user themes are looked for (`/home/u/.config/llmops-console/themes/NAME.toml`),
        /// or how to get such a directory when there is none.
        themes_dir: String,
    },
}

/// A TOML error located as `file:line:column: message` (line and column from 1).
pub fn located(file: &str, text: &str, e: &toml::de::Error) -> ConfigError {
    let (line, column) = match e.span() {
        Some(span) => line_col(text, span.start),
        None => (1, 1),
    };
    // toml's own message repeats the location and quotes the source; keep its last, plain line.
    let mut message = e.message().trim().to_string();
    if let Some(field) = field_at(text, line)
        && !message.contains(&field)
    {
        message = format!("{field}: {message}");
    }
    ConfigError::Invalid {
        file: file.to_string(),
        line,
        column,
        message,
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The dotted name of the key on `line` (`colors.bg`), from the nearest `[table]` header above.
fn field_at(text: &str, line: usize) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let here = lines.get(line.checked_sub(1)?)?.trim();
    let (key, _) = here.split_once('=')?;
    let key = key.trim().trim_matches('"');
    if key.is_empty() || key.starts_with('[') {
        return None;
    }
    let table = lines[..line - 1]
        .iter()
        .rev()
        .map(|l| l.trim())
        .find(|l| l.starts_with('[') && l.ends_with(']'))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_string());
    Some(match table {
        Some(t) if !t.is_empty() => format!("{t}.{key}"),
        _ => key.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_named_with_their_table() {
        let text = "a = 1\n[colors]\n# c\nbg = \"x\"\n";
        assert_eq!(field_at(text, 4).as_deref(), Some("colors.bg"));
        assert_eq!(field_at(text, 1).as_deref(), Some("a"));
        assert_eq!(field_at(text, 2), None);
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
    }
}
