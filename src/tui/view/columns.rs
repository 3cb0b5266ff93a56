//! Fitting names and columns into a pane: names are shortened in the middle (`llama-3-8b…-gd27p`)
//! so the suffix that tells pods apart stays, and table columns get room by priority, so the name
//! and the column that tells rows apart (NAMESPACE across namespaces) are never dropped while
//! ages and kinds go first. Widths are terminal cells (wide characters count two).

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// The mark of a shortened name.
pub const ELLIPSIS: char = '…';

/// Cells `s` takes on a terminal.
pub fn cells(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

fn char_cells(c: char) -> usize {
    UnicodeWidthChar::width(c).unwrap_or(0)
}

/// Characters that split a name into parts (`-` in pod names, `.` in domains, `/` in paths).
fn is_separator(c: char) -> bool {
    matches!(c, '-' | '.' | '/' | '_' | ':')
}

/// `s` in at most `width` cells. A name that does not fit keeps its end and its start, with `…`
/// between: the end gets up to half the room, cut at a separator when one fits (the whole
/// `-7c9d8-gd27p` rather than `d8-gd27p`), the start gets the rest. Wide characters are never
/// split, so the result may be one cell narrower than `width`.
pub fn middle(s: &str, width: usize) -> String {
    if cells(s) <= width {
        return s.to_string();
    }
    match width {
        0 => return String::new(),
        1 => return ELLIPSIS.to_string(),
        _ => {}
    }
    let room = width - 1;
    let tail_budget = room.div_ceil(2);
    let tail = tail_of(s, tail_budget);
    let head_budget = room - cells(tail);
    let mut head = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = char_cells(c);
        if used + w > head_budget {
            break;
        }
        used += w;
        head.push(c);
    }
    format!("{head}{ELLIPSIS}{tail}")
}

/// The longest end of `s` in at most `budget` cells that starts at a separator (so a whole
/// `-gd27p` is kept), or, when even the last part is longer, its last `budget` cells.
fn tail_of(s: &str, budget: usize) -> &str {
    let mut start = s.len();
    let mut used = 0;
    let mut best: Option<usize> = None;
    for (i, c) in s.char_indices().rev() {
        let w = char_cells(c);
        if used + w > budget {
            break;
        }
        used += w;
        start = i;
        if is_separator(c) {
            best = Some(i);
        }
    }
    &s[best.unwrap_or(start)..]
}

/// `s` in at most `width` cells, cut at the end with `…` (for text whose start matters most,
/// such as a status).
pub fn end(s: &str, width: usize) -> String {
    if cells(s) <= width {
        return s.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = char_cells(c);
        if used + w > width - 1 {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push(ELLIPSIS);
    out
}

/// One column of a table, for [`fit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Col {
    /// Cells below which the column is not worth showing (a kept column never gets less).
    pub min: usize,
    /// Cells its widest entry (or header) takes.
    pub want: usize,
    /// Never dropped: the name and the column that tells rows apart.
    pub keep: bool,
    /// Share of the room left once every column has what it wants (0: none).
    pub fill: usize,
}

impl Col {
    /// A kept column that shrinks down to `min`.
    pub fn kept(min: usize, want: usize) -> Col {
        Col {
            min: min.min(want),
            want,
            keep: true,
            fill: 0,
        }
    }

    /// A column shown only at its full width, when there is room for it.
    pub fn optional(want: usize) -> Col {
        Col {
            min: want,
            want,
            keep: false,
            fill: 0,
        }
    }

    pub fn filling(self, share: usize) -> Col {
        Col {
            fill: share,
            ..self
        }
    }
}

/// Widths for `cols` in `width` cells with `spacing` between shown columns; `None` is a dropped
/// column. `cols` are in display order, `priority` lists their indices from the most important:
/// every kept column first gets its `min`, then, in priority order, a kept column grows to its
/// `want` and an optional column is shown when its `want` still fits. What is left goes to the
/// filling columns. When even the kept minimums do not fit, the least important kept columns
/// give up cells first (never below one).
pub fn fit(cols: &[Col], priority: &[usize], width: usize, spacing: usize) -> Vec<Option<usize>> {
    let mut out: Vec<Option<usize>> = cols
        .iter()
        .map(|c| c.keep.then_some(c.min.max(1)))
        .collect();
    let shown = |out: &[Option<usize>]| out.iter().flatten().count();
    let used = |out: &[Option<usize>]| {
        out.iter().flatten().sum::<usize>() + spacing * shown(out).saturating_sub(1)
    };
    // Too narrow for the kept minimums: the least important give up cells.
    for &i in priority.iter().rev() {
        while used(&out) > width && out[i].is_some_and(|w| w > 1) {
            out[i] = out[i].map(|w| w - 1);
        }
    }
    for &i in priority {
        let left = width.saturating_sub(used(&out));
        let c = &cols[i];
        match out[i] {
            Some(w) => out[i] = Some(w + c.want.saturating_sub(w).min(left)),
            None => {
                let gap = if shown(&out) > 0 { spacing } else { 0 };
                if c.want + gap <= left {
                    out[i] = Some(c.want);
                }
            }
        }
    }
    let left = width.saturating_sub(used(&out));
    let shares: usize = (0..cols.len())
        .filter(|&i| out[i].is_some())
        .map(|i| cols[i].fill)
        .sum();
    if shares > 0 && left > 0 {
        let mut given = 0;
        let filling: Vec<usize> = (0..cols.len())
            .filter(|&i| out[i].is_some() && cols[i].fill > 0)
            .collect();
        for (n, &i) in filling.iter().enumerate() {
            let extra = if n + 1 == filling.len() {
                left - given
            } else {
                left * cols[i].fill / shares
            };
            given += extra;
            out[i] = out[i].map(|w| w + extra);
        }
    }
    out
}

/// A status in `width` cells: long words shortened first (`⚠ Term 12m3s` keeps how long), then
/// cut at the end.
pub fn status(text: &str, width: usize) -> String {
    if cells(text) <= width {
        return text.to_string();
    }
    let short = text
        .replace("Terminating", "Term")
        .replace("Redeploying", "Redepl")
        .replace("Progressing", "Progr")
        .replace("Unfinished", "Unfin");
    end(&short, width)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_are_untouched() {
        assert_eq!(middle("bge-reranker", 12), "bge-reranker");
        assert_eq!(middle("", 3), "");
    }

    #[test]
    fn pod_names_keep_their_unique_suffix() {
        let pod = "llama-3-8b-instruct-predictor-7c9d8f6b4d-gd27p";
        let short = middle(pod, 30);
        assert_eq!(short, "llama-3-8b-instruct-pre…-gd27p");
        assert!(cells(&short) <= 30 && short.ends_with("-gd27p"), "{short}");
        let wider = middle(pod, 40);
        assert_eq!(wider, "llama-3-8b-instruct-pr…-7c9d8f6b4d-gd27p");
        // Two pods of one ReplicaSet stay apart at any width that shows a suffix.
        for w in 8..pod.len() {
            let a = middle(pod, w);
            let b = middle("llama-3-8b-instruct-predictor-7c9d8f6b4d-gd27q", w);
            assert_ne!(a, b, "width {w}");
            assert!(cells(&a) <= w && a.contains(ELLIPSIS), "width {w}: {a}");
        }
    }

    #[test]
    fn no_separator_splits_in_the_middle() {
        assert_eq!(middle("abcdefghijklmnop", 9), "abcd…mnop");
        assert_eq!(middle("abcdef", 1), "…");
        assert_eq!(middle("abcdef", 0), "");
    }

    #[test]
    fn wide_characters_count_two_cells_and_are_not_split() {
        let s = "模型-服务-推理-abc12";
        assert_eq!(cells(s), 20);
        let short = middle(s, 12);
        assert!(cells(&short) <= 12, "{short}");
        assert!(short.ends_with("-abc12"), "{short}");
        assert_eq!(short, "模型-…-abc12");
        let odd = middle("模型服务推理", 6);
        assert!(cells(&odd) <= 6 && odd.contains(ELLIPSIS), "{odd}");
    }

    #[test]
    fn end_and_status_cut_at_the_end() {
        assert_eq!(end("✔ Running 1/1", 8), "✔ Runni…");
        assert_eq!(status("⚠ Terminating 12m3s", 20), "⚠ Terminating 12m3s");
        assert_eq!(status("⚠ Terminating 12m3s", 13), "⚠ Term 12m3s");
        assert_eq!(status("⚠ Terminating 12m3s", 8), "⚠ Term …");
    }

    fn endpoint_cols(ns: Col) -> Vec<Col> {
        vec![
            Col::kept(1, 1),
            Col::kept(12, 20).filling(3),
            ns,
            Col::optional(6),
            Col::kept(12, 19),
            Col::kept(5, 5),
            Col::optional(5),
        ]
    }
    const ORDER: [usize; 7] = [0, 1, 2, 4, 5, 3, 6];

    #[test]
    fn the_name_and_namespace_stay_while_kind_and_age_go() {
        let cols = endpoint_cols(Col::kept(8, 11).filling(2));
        // Room for all.
        let all = fit(&cols, &ORDER, 80, 1);
        assert_eq!(
            all,
            vec![
                Some(1),
                Some(24),
                Some(14),
                Some(6),
                Some(19),
                Some(5),
                Some(5)
            ]
        );
        // Age goes before kind, both before anything kept shrinks.
        let no_age = fit(&cols, &ORDER, 70, 1);
        assert_eq!(
            no_age,
            vec![
                Some(1),
                Some(21),
                Some(13),
                Some(6),
                Some(19),
                Some(5),
                None
            ]
        );
        let narrow = fit(&cols, &ORDER, 46, 1);
        assert_eq!(
            narrow,
            vec![Some(1), Some(16), Some(8), None, Some(12), Some(5), None]
        );
        // The namespace is never dropped, however narrow.
        let tiny = fit(&cols, &ORDER, 20, 1);
        assert!(tiny[1].is_some() && tiny[2].is_some(), "{tiny:?}");
        let used: usize = tiny.iter().flatten().sum::<usize>() + tiny.iter().flatten().count() - 1;
        assert!(used <= 20, "{tiny:?}");
    }

    #[test]
    fn one_namespace_lets_the_namespace_column_go_first() {
        let cols = endpoint_cols(Col::optional(11));
        let order = [0, 1, 4, 5, 3, 6, 2];
        let narrow = fit(&cols, &order, 46, 1);
        assert_eq!(narrow[2], None);
        assert_eq!(narrow[1], Some(20));
        assert_eq!(narrow[4], Some(17));
    }
}
