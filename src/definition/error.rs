//! Located definition errors: every message names `file:line:column` and shows the line.

use std::fmt;
use std::ops::Range;

/// One problem in a report definition, located in its source text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefinitionError {
    /// The definition's path as the user gave it (or `<built-in quick.toml>`).
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// What is wrong, as a lowercase fragment.
    pub message: String,
    /// The offending source line and a caret line under the span.
    snippet: String,
    /// Whether the source is a command-line argument (`path` then names it whole, and the
    /// message needs no line and column before it).
    in_argument: bool,
}

impl DefinitionError {
    /// Locates `message` at byte range `span` of `source`.
    pub fn at(path: &str, source: &str, span: Range<usize>, message: impl Into<String>) -> Self {
        let start = floor_char_boundary(source, span.start);
        let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = source[start..]
            .find('\n')
            .map_or(source.len(), |i| start + i);
        let line_text = source[line_start..line_end].trim_end_matches('\r');
        let line = source[..start].matches('\n').count() + 1;
        let column = source[line_start..start].chars().count() + 1;
        let mut end = span.end.clamp(start, line_end);
        while !source.is_char_boundary(end) {
            end += 1;
        }
        let width = source[start..end].chars().count().max(1);
        let gutter = " ".repeat(line.to_string().len());
        let snippet = format!(
            "{gutter} |\n{line} | {line_text}\n{gutter} | {}{}",
            " ".repeat(column - 1),
            "^".repeat(width)
        );
        DefinitionError {
            path: path.to_string(),
            line,
            column,
            message: message.into(),
            snippet,
            in_argument: false,
        }
    }

    /// Locates `message` at byte range `span` of a command-line argument, such as the
    /// `measure.repetitions=0` of `--set measure.repetitions=0`: `path` is then the flag and its
    /// argument, and the column counts in the argument.
    pub fn in_argument(
        flag: &str,
        argument: &str,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> Self {
        let shown = format!("{flag} {argument}");
        let start = floor_char_boundary(argument, span.start);
        let column = argument[..start].chars().count() + 1;
        let width = argument[start..span.end.clamp(start, argument.len())]
            .chars()
            .count()
            .max(1);
        let pad = flag.chars().count() + column;
        DefinitionError {
            snippet: format!(
                "  |\n  | {shown}\n  | {}{}",
                " ".repeat(pad),
                "^".repeat(width)
            ),
            path: shown,
            line: 1,
            column,
            message: message.into(),
            in_argument: true,
        }
    }
}

/// The largest char boundary at or below `i` (spans from outside must never split a character).
fn floor_char_boundary(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl fmt::Display for DefinitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.in_argument {
            return write!(f, "{}: {}\n{}", self.path, self.message, self.snippet);
        }
        write!(
            f,
            "{}:{}:{}: {}\n{}",
            self.path, self.line, self.column, self.message, self.snippet
        )
    }
}

/// Every problem found in one definition; nothing runs while there is one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LoadError {
    /// The problems, in source order.
    pub errors: Vec<DefinitionError>,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// Adds "did you mean `x`?" to serde's unknown-field and unknown-variant messages.
///
/// serde words them as "unknown field `algoritms`, expected one of `a`, `b`"; the closest
/// expected name by edit distance is suggested when it is close enough to be a typo.
pub fn suggest_closest(message: &str) -> String {
    let Some(rest) = message
        .strip_prefix("unknown field `")
        .or_else(|| message.strip_prefix("unknown variant `"))
    else {
        return message.to_string();
    };
    let Some((unknown, expected)) = rest.split_once('`') else {
        return message.to_string();
    };
    let candidates = expected.split('`').skip(1).step_by(2);
    match closest(unknown, candidates) {
        Some(best) => format!("{message}; did you mean `{best}`?"),
        None => message.to_string(),
    }
}

/// The candidate nearest to `word`, if within a typo's distance.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_span_ending_inside_a_character_is_widened_to_it() {
        let e = DefinitionError::at("t.toml", "a = \"é\"\n", 5..6, "bad");
        assert_eq!((e.line, e.column), (1, 6));
    }

    #[test]
    fn locates_line_and_column() {
        let src = "title = \"x\"\nseed = \"nope\"\n";
        let e = DefinitionError::at("r.toml", src, 19..25, "wrong");
        assert_eq!((e.line, e.column), (2, 8));
        let text = e.to_string();
        assert!(text.starts_with("r.toml:2:8: wrong"), "{text}");
        assert!(text.contains("2 | seed = \"nope\""), "{text}");
        assert!(text.contains("  |        ^^^^^^"), "{text}");
    }

    #[test]
    fn an_error_in_an_argument_names_the_argument_and_marks_the_span() {
        let e = DefinitionError::in_argument("--set", "seed=\"x\"", 5..8, "wrong");
        assert_eq!((e.line, e.column), (1, 6));
        assert_eq!(
            e.to_string(),
            "--set seed=\"x\": wrong\n  |\n  | --set seed=\"x\"\n  |            ^^^"
        );
    }

    #[test]
    fn suggests_the_closest_name() {
        let m = suggest_closest(
            "unknown field `algoritms`, expected one of `backend`, `algorithms`, `keys`",
        );
        assert!(m.ends_with("did you mean `algorithms`?"), "{m}");
        let m = suggest_closest("unknown variant `u33`, expected one of `u32`, `u64`");
        assert!(m.ends_with("did you mean `u32`?"), "{m}");
        let far = suggest_closest("unknown field `zzzzzzzz`, expected `title` or `seed`");
        assert!(!far.contains("did you mean"), "{far}");
    }
}
