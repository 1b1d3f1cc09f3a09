//! A line diff for failed comparisons, written for people: the lines only in the
//! expected side (`-`), only in the actual side (`+`), and a line of context around
//! each change, with line numbers. A longest-common-subsequence diff, quadratic in the
//! number of lines — fine for test files; past [`MAX_DIFF_CELLS`] it compares line by
//! line instead.

use std::fmt::Write as _;

/// Above this many `expected × actual` lines, the diff compares position by position.
pub const MAX_DIFF_CELLS: usize = 16_000_000;

/// One line of a diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiffLine<'a> {
    /// In both (line number in expected, in actual).
    Same(usize, usize, &'a str),
    /// Only in expected (its line number there).
    Missing(usize, &'a str),
    /// Only in actual (its line number there).
    Extra(usize, &'a str),
}

/// The edit script from `expected` to `actual`.
///
/// ```
/// use weir_host::harness::diff::{DiffLine, diff_lines};
/// let diff = diff_lines(&["a", "b", "c"], &["a", "c", "d"]);
/// assert_eq!(
///     diff,
///     [
///         DiffLine::Same(1, 1, "a"),
///         DiffLine::Missing(2, "b"),
///         DiffLine::Same(3, 2, "c"),
///         DiffLine::Extra(3, "d"),
///     ]
/// );
/// ```
pub fn diff_lines<'a>(expected: &[&'a str], actual: &[&'a str]) -> Vec<DiffLine<'a>> {
    let (n, m) = (expected.len(), actual.len());
    if n.saturating_mul(m) > MAX_DIFF_CELLS {
        return positional(expected, actual);
    }
    // lcs[i][j]: length of the longest common subsequence of expected[i..], actual[j..].
    let width = m + 1;
    let mut lcs = vec![0u32; (n + 1) * width];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i * width + j] = if expected[i] == actual[j] {
                lcs[(i + 1) * width + j + 1] + 1
            } else {
                lcs[(i + 1) * width + j].max(lcs[i * width + j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(n.max(m));
    while i < n || j < m {
        if i < n && j < m && expected[i] == actual[j] {
            out.push(DiffLine::Same(i + 1, j + 1, expected[i]));
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[(i + 1) * width + j] >= lcs[i * width + j + 1]) {
            out.push(DiffLine::Missing(i + 1, expected[i]));
            i += 1;
        } else {
            out.push(DiffLine::Extra(j + 1, actual[j]));
            j += 1;
        }
    }
    out
}

fn positional<'a>(expected: &[&'a str], actual: &[&'a str]) -> Vec<DiffLine<'a>> {
    let mut out = Vec::new();
    for index in 0..expected.len().max(actual.len()) {
        match (expected.get(index), actual.get(index)) {
            (Some(e), Some(a)) if e == a => out.push(DiffLine::Same(index + 1, index + 1, e)),
            (e, a) => {
                if let Some(e) = e {
                    out.push(DiffLine::Missing(index + 1, e));
                }
                if let Some(a) = a {
                    out.push(DiffLine::Extra(index + 1, a));
                }
            }
        }
    }
    out
}

/// The diff as text: changed lines with one line of context, `...` between distant
/// changes; empty when the sides are equal.
///
/// ```
/// use weir_host::harness::diff::render_diff;
/// let text = render_diff(&["a", "b"], &["a", "c"]);
/// assert_eq!(text, "    1   1 | a\n-   2     | b\n+       2 | c\n");
/// ```
pub fn render_diff(expected: &[&str], actual: &[&str]) -> String {
    let lines = diff_lines(expected, actual);
    let changed: Vec<bool> = lines
        .iter()
        .map(|line| !matches!(line, DiffLine::Same(..)))
        .collect();
    if !changed.contains(&true) {
        return String::new();
    }
    let near_change = |index: usize| {
        let from = index.saturating_sub(1);
        let to = (index + 1).min(lines.len() - 1);
        changed[from..=to].contains(&true)
    };
    let mut text = String::new();
    let mut skipped = false;
    for (index, line) in lines.iter().enumerate() {
        if !near_change(index) {
            skipped = true;
            continue;
        }
        if skipped {
            text.push_str("...\n");
            skipped = false;
        }
        let _ = match line {
            DiffLine::Same(e, a, line) => writeln!(text, "  {e:>3} {a:>3} | {line}"),
            DiffLine::Missing(e, line) => writeln!(text, "- {e:>3}     | {line}"),
            DiffLine::Extra(a, line) => writeln!(text, "+     {a:>3} | {line}"),
        };
    }
    if skipped {
        text.push_str("...\n");
    }
    text
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Rebuilds both sides from the script.
    fn sides<'a>(lines: &[DiffLine<'a>]) -> (Vec<&'a str>, Vec<&'a str>) {
        let (mut expected, mut actual) = (Vec::new(), Vec::new());
        for line in lines {
            match *line {
                DiffLine::Same(_, _, text) => {
                    expected.push(text);
                    actual.push(text);
                }
                DiffLine::Missing(_, text) => expected.push(text),
                DiffLine::Extra(_, text) => actual.push(text),
            }
        }
        (expected, actual)
    }

    proptest! {
        /// The script rebuilds both sides, and keeps a longest common subsequence
        /// (at least as many common lines as a positional comparison finds).
        #[test]
        fn the_script_rebuilds_both_sides(
            expected in proptest::collection::vec("[abc]", 0..12),
            actual in proptest::collection::vec("[abc]", 0..12),
        ) {
            let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
            let actual: Vec<&str> = actual.iter().map(String::as_str).collect();
            let lines = diff_lines(&expected, &actual);
            prop_assert_eq!(sides(&lines), (expected.clone(), actual.clone()));
            let same = lines.iter().filter(|line| matches!(line, DiffLine::Same(..))).count();
            let positional = expected.iter().zip(&actual).filter(|(e, a)| e == a).count();
            prop_assert!(same >= positional);
            prop_assert_eq!(render_diff(&expected, &actual).is_empty(), expected == actual);
        }
    }

    #[test]
    fn distant_changes_are_separated_by_an_ellipsis() {
        let expected = ["1", "2", "3", "4", "5", "6", "7"];
        let actual = ["0", "2", "3", "4", "5", "6", "8"];
        let text = render_diff(&expected, &actual);
        assert_eq!(
            text,
            "-   1     | 1\n+       1 | 0\n    2   2 | 2\n...\n    6   6 | 6\n-   7     | 7\n+       7 | 8\n"
        );
    }
}
