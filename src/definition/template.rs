//! A sweep's `command`: split into words the way a POSIX shell would (quotes, backslashes),
//! without running a shell, then filled in per case.
//!
//! Splitting happens before substitution, so a substituted value is always exactly one word,
//! whatever it contains. `{{` and `}}` stand for literal braces.

use std::fmt::Write as _;

/// Every placeholder a command may use.
pub const PLACEHOLDERS: [&str; 14] = [
    "n",
    "key_type",
    "distribution",
    "seed",
    "repetitions",
    "max_repetitions",
    "warmup",
    "min_time",
    "timeout",
    "device",
    "algorithm",
    "input",
    "checksum",
    "output",
];

/// A piece of one word of the command.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Placeholder(&'static str),
}

/// A parsed command line: words made of text and placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    words: Vec<Vec<Piece>>,
}

/// Why a command line cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("the command is empty")]
    Empty,
    #[error("the command has an unclosed quote or a trailing backslash")]
    Quoting,
    #[error("unknown placeholder `{{{name}}}` in the command; the placeholders are {known}")]
    Unknown { name: String, known: String },
    #[error(
        "an unmatched `{0}` in the command: write `{0}{0}` for a literal brace, or `{{name}}` for a placeholder"
    )]
    Brace(char),
}

impl Template {
    /// Splits and checks a command line.
    pub fn parse(command: &str) -> Result<Template, TemplateError> {
        let words = shlex::split(command).ok_or(TemplateError::Quoting)?;
        if words.is_empty() {
            return Err(TemplateError::Empty);
        }
        let words = words
            .iter()
            .map(|w| parse_word(w))
            .collect::<Result<_, _>>()?;
        Ok(Template { words })
    }

    /// Whether the command uses `{name}` anywhere.
    pub fn uses(&self, name: &str) -> bool {
        self.words
            .iter()
            .flatten()
            .any(|p| matches!(p, Piece::Placeholder(p) if *p == name))
    }

    /// The first word with its placeholders left as written (the program, for display).
    pub fn program(&self) -> String {
        let mut out = String::new();
        for piece in &self.words[0] {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Placeholder(p) => {
                    let _ = write!(out, "{{{p}}}");
                }
            }
        }
        out
    }

    /// The words that hold no placeholder, as written (program and file names among them).
    pub fn literal_words(&self) -> impl Iterator<Item = &str> {
        self.words.iter().filter_map(|word| match word.as_slice() {
            [Piece::Text(t)] => Some(t.as_str()),
            _ => None,
        })
    }

    /// The words with every placeholder replaced by `value(name)`.
    pub fn fill(&self, value: impl Fn(&str) -> String) -> Vec<String> {
        self.words
            .iter()
            .map(|word| {
                word.iter()
                    .map(|piece| match piece {
                        Piece::Text(t) => t.clone(),
                        Piece::Placeholder(p) => value(p),
                    })
                    .collect()
            })
            .collect()
    }
}

/// Words joined into one line a POSIX shell splits back into the same words, quoting those
/// that need it (a word with a NUL byte, which no shell can pass, is shown unquoted).
pub fn shell_line(words: &[String]) -> String {
    shlex::try_join(words.iter().map(String::as_str)).unwrap_or_else(|_| words.join(" "))
}

fn parse_word(word: &str) -> Result<Vec<Piece>, TemplateError> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut chars = word.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                text.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                text.push('}');
            }
            '{' => {
                let mut name = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(c) => name.push(c),
                        None => return Err(TemplateError::Brace('{')),
                    }
                }
                let known = PLACEHOLDERS.iter().find(|&&p| p == name).ok_or_else(|| {
                    TemplateError::Unknown {
                        name: name.clone(),
                        known: PLACEHOLDERS
                            .iter()
                            .map(|p| format!("{{{p}}}"))
                            .collect::<Vec<_>>()
                            .join(", "),
                    }
                })?;
                if !text.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                }
                pieces.push(Piece::Placeholder(known));
            }
            '}' => return Err(TemplateError::Brace('}')),
            c => text.push(c),
        }
    }
    if !text.is_empty() || pieces.is_empty() {
        pieces.push(Piece::Text(text));
    }
    Ok(pieces)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill(command: &str) -> Vec<String> {
        Template::parse(command).unwrap().fill(|p| format!("<{p}>"))
    }

    #[test]
    fn splits_like_a_shell_then_substitutes() {
        assert_eq!(
            fill("python3 'my peers/sort.py' --n={n} --key {key_type} \"a b\""),
            [
                "python3",
                "my peers/sort.py",
                "--n=<n>",
                "--key",
                "<key_type>",
                "a b"
            ]
        );
    }

    #[test]
    fn a_value_with_spaces_stays_one_word() {
        let t = Template::parse("peer {input}").unwrap();
        assert_eq!(t.fill(|_| "/tmp/a b".to_string()), ["peer", "/tmp/a b"]);
    }

    #[test]
    fn doubled_braces_are_literal() {
        assert_eq!(fill("peer {{n}} {{{n}}}"), ["peer", "{n}", "{<n>}"]);
    }

    #[test]
    fn reports_unknown_placeholders_and_bad_quoting() {
        let unknown = Template::parse("peer {size}").unwrap_err();
        assert!(unknown.to_string().contains("`{size}`"), "{unknown}");
        assert!(unknown.to_string().contains("{key_type}"), "{unknown}");
        assert_eq!(Template::parse("peer 'open"), Err(TemplateError::Quoting));
        assert_eq!(Template::parse("   "), Err(TemplateError::Empty));
        assert_eq!(Template::parse("peer }"), Err(TemplateError::Brace('}')));
        assert_eq!(Template::parse("peer {n"), Err(TemplateError::Brace('{')));
    }

    #[test]
    fn knows_which_placeholders_are_used() {
        let t = Template::parse("peer --input={input}").unwrap();
        assert!(t.uses("input"));
        assert!(!t.uses("checksum"));
        assert_eq!(t.program(), "peer");
    }
}
