//! A bound on the flow nesting of a YAML body, checked before the YAML parser sees it.
//!
//! The YAML scanner (libyaml, under serde_yaml_ng) does work proportional to the current flow
//! depth for every token, and it scans the whole document before serde's own recursion limit
//! (128) refuses it: 100 KB of `[` took 2.4 s. So a body whose flow collections (`[...]`,
//! `{...}`) nest deeper than [`MAX_DEPTH`] is refused up front, with serde's own message.
//!
//! Exact when it can be cheap: a body with at most [`MAX_DEPTH`] `[` and `{` bytes cannot nest
//! deeper, whatever they mean. Otherwise a scan follows YAML's tokens far enough to tell
//! brackets that open collections from brackets inside quoted, plain and block scalars and
//! comments; where it cannot be sure, it counts the bracket (refusing a body the parser would
//! have refused anyway is the safe way to be wrong).

/// The JSON and YAML decoders' recursion limit.
pub const MAX_DEPTH: usize = 128;

/// The 1-based line and column of the collection that nests deeper than [`MAX_DEPTH`], if any.
pub fn too_deep(text: &[u8]) -> Option<(usize, usize)> {
    let brackets = text.iter().filter(|b| matches!(b, b'[' | b'{')).count();
    if brackets <= MAX_DEPTH {
        return None;
    }
    Scanner::new(text).run()
}

struct Scanner<'a> {
    s: &'a [u8],
    i: usize,
    line: usize,
    line_start: usize,
    depth: usize,
    /// Inside a plain (unquoted) scalar: brackets there are text in block context.
    plain: bool,
}

fn blank(b: Option<&u8>) -> bool {
    matches!(b, None | Some(b' ' | b'\t' | b'\n' | b'\r'))
}

fn flow_indicator(b: Option<&u8>) -> bool {
    matches!(b, Some(b',' | b'[' | b']' | b'{' | b'}'))
}

impl<'a> Scanner<'a> {
    fn new(s: &'a [u8]) -> Self {
        Scanner {
            s,
            i: 0,
            line: 1,
            line_start: 0,
            depth: 0,
            plain: false,
        }
    }

    fn at(&self, k: usize) -> Option<&u8> {
        self.s.get(self.i + k)
    }

    fn newline(&mut self) {
        self.line += 1;
        self.line_start = self.i + 1;
    }

    /// Leading spaces of the line starting at `start`, or `None` for a blank line.
    fn indent_at(&self, start: usize) -> Option<usize> {
        let rest = self.s.get(start..)?;
        let n = rest.iter().take_while(|b| **b == b' ').count();
        match rest.get(n) {
            None | Some(b'\n' | b'\r') => None,
            _ => Some(n),
        }
    }

    fn run(mut self) -> Option<(usize, usize)> {
        while let Some(&c) = self.at(0) {
            let flow = self.depth > 0;
            let after_blank = self.i == 0 || blank(self.s.get(self.i - 1));
            match c {
                b'\n' => {
                    if !flow {
                        self.plain = false;
                    }
                    self.newline();
                }
                b' ' | b'\t' | b'\r' => {}
                b'#' if after_blank => {
                    self.plain = false;
                    self.skip_line();
                    continue;
                }
                b'[' | b'{' if flow || !self.plain => {
                    self.plain = false;
                    self.depth += 1;
                    if self.depth > MAX_DEPTH {
                        return Some((self.line, self.i - self.line_start + 1));
                    }
                }
                b']' | b'}' if flow || !self.plain => {
                    self.plain = false;
                    self.depth = self.depth.saturating_sub(1);
                }
                b',' if flow => self.plain = false,
                b':' if blank(self.at(1))
                    || (flow
                        && (!self.plain
                            || flow_indicator(self.at(1))
                            || self.at(1) == Some(&b'?'))) =>
                {
                    self.plain = false;
                }
                _ if self.plain => {}
                b'\'' | b'"' => {
                    self.skip_quoted(c, !flow);
                    continue;
                }
                b'|' | b'>' if !flow => {
                    self.skip_block_scalar();
                    continue;
                }
                b'-' | b'?' if blank(self.at(1)) => {}
                b'-' | b'.'
                    if self.i == self.line_start
                        && self.s.get(self.i..self.i + 3).is_some_and(|m| m == [c; 3])
                        && blank(self.at(3)) =>
                {
                    self.i += 3;
                    continue;
                }
                b'&' | b'*' | b'!' => {
                    // Anchor, alias or tag: up to a blank or (in flow) a flow indicator.
                    self.i += 1;
                    while !blank(self.at(0)) && !flow_indicator(self.at(0)) {
                        self.i += 1;
                    }
                    continue;
                }
                _ => self.plain = true,
            }
            self.i += 1;
        }
        None
    }

    fn skip_line(&mut self) {
        while let Some(&c) = self.at(0) {
            if c == b'\n' {
                return;
            }
            self.i += 1;
        }
    }

    /// Skips a quoted scalar. In block context it is cut at the end of its line: a multi-line
    /// one then has its later lines scanned as tokens, which can only count brackets too many.
    fn skip_quoted(&mut self, quote: u8, line_bounded: bool) {
        self.i += 1;
        while let Some(&c) = self.at(0) {
            match c {
                b'\\' if quote == b'"' => {
                    if self.at(1) == Some(&b'\n') {
                        self.i += 1;
                        self.newline();
                    }
                    self.i += 2;
                    continue;
                }
                b'\'' if quote == b'\'' && self.at(1) == Some(&b'\'') => self.i += 1,
                _ if c == quote => {
                    self.i += 1;
                    return;
                }
                b'\n' if line_bounded => return,
                b'\n' => self.newline(),
                _ => {}
            }
            self.i += 1;
        }
    }

    /// Skips a block scalar's header and its content lines, when they can be told for sure:
    /// the content is what is indented at least as deep as its first line, if that is deeper
    /// than any block collection the indicator's line can open (its first column past `- `).
    /// With an explicit indentation digit, or content indented less, nothing is skipped.
    fn skip_block_scalar(&mut self) {
        let line_start = self.line_start;
        let mut k = line_start;
        while self.s.get(k) == Some(&b' ') {
            k += 1;
        }
        while self.s.get(k) == Some(&b'-') && blank(self.s.get(k + 1)) {
            k += 1;
            while self.s.get(k) == Some(&b' ') {
                k += 1;
            }
        }
        let key_column = k - line_start;
        let explicit = self
            .s
            .get(self.i + 1..)
            .unwrap_or(&[])
            .iter()
            .take_while(|b| !blank(Some(b)) && **b != b'#')
            .any(u8::is_ascii_digit);
        self.skip_line();
        if explicit {
            return;
        }
        // Positioned on the header's newline; find the first content line's indentation.
        let mut next = self.i + 1;
        let content = loop {
            if next >= self.s.len() {
                return;
            }
            match self.indent_at(next) {
                Some(n) => break n,
                None => next = self.line_end(next) + 1,
            }
        };
        if content <= key_column {
            return;
        }
        // Skip every following line that is blank or indented at least `content`.
        while self.at(0) == Some(&b'\n') {
            let start = self.i + 1;
            match self.indent_at(start) {
                Some(n) if n < content => return,
                _ if start >= self.s.len() => return,
                _ => {
                    self.newline();
                    self.i = self.line_end(start);
                }
            }
        }
    }

    fn line_end(&self, from: usize) -> usize {
        self.s
            .get(from..)
            .and_then(|r| r.iter().position(|b| *b == b'\n'))
            .map_or(self.s.len(), |p| from + p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deep(n: usize) -> String {
        format!("{}1{}", "[".repeat(n), "]".repeat(n))
    }

    #[test]
    fn flow_nesting_past_the_limit_is_found_where_it_crosses() {
        assert_eq!(too_deep(deep(128).as_bytes()), None);
        assert_eq!(too_deep(deep(129).as_bytes()), Some((1, 129)));
        let maps = format!("k:\n  v: {}", "{a: ".repeat(200));
        assert_eq!(too_deep(maps.as_bytes()), Some((2, 6 + 128 * 4)));
        let listed = format!("- {}", "[".repeat(200));
        assert!(too_deep(listed.as_bytes()).is_some());
        let doc = format!("--- {}", "[".repeat(200));
        assert!(too_deep(doc.as_bytes()).is_some());
        let anchored = format!("k: &a {}", "[".repeat(200));
        assert!(too_deep(anchored.as_bytes()).is_some());
    }

    #[test]
    fn brackets_in_scalars_and_comments_do_not_nest() {
        let many = "[{".repeat(500);
        for text in [
            format!("a: '{many}'\nb: \"{many}\\\"\"\n"),
            format!("# {many}\nk: v # {many}\n"),
            format!("cmd: echo {many}\n"),
            format!("script: |\n  {many}\n  {many}\n\nnext: 1\n"),
            format!("- k: >-\n    {many}\n- j\n"),
            format!("{{a: '{many}', b: [x, \"{many}\"], c: it's}}"),
            format!("[a 'b, c]\nk: v '{many}"),
        ] {
            assert_eq!(too_deep(text.as_bytes()), None, "{text}");
        }
    }

    #[test]
    fn brackets_the_parser_would_read_as_nesting_are_counted() {
        let deep = "[".repeat(200);
        // A plain scalar in flow ends at a comma: what follows nests.
        assert!(too_deep(format!("[a 'b, {deep}").as_bytes()).is_some());
        // A multi-line quoted scalar in flow context is followed to its end.
        assert!(too_deep(format!("[\"abc\n 'x\", {deep}").as_bytes()).is_some());
        // Content indented no deeper than the key is not a block scalar's.
        assert!(too_deep(format!("- k: |\n  {deep}").as_bytes()).is_some());
        // An explicit indentation indicator: nothing is skipped.
        assert!(too_deep(format!("k: |4\n  {deep}").as_bytes()).is_some());
        // A block scalar ends at the first line indented less than its content.
        assert!(too_deep(format!("k: |\n    text\n  j: {deep}").as_bytes()).is_some());
    }
}
