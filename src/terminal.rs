//! Text bound for a terminal. Everything sortmark prints (progress lines, `list`, `compare`,
//! messages and errors) goes through [`out`], [`out_line`], [`err_line`] or [`out_data`], which
//! pass it through [`clean`], so that no title, name, path or peer's stderr can move the cursor,
//! rewrite a line, set the window's title or reorder what a reader sees. (clippy.toml
//! disallows `println!` and its kin, so a new printer cannot forget.)

use std::borrow::Cow;
use std::io::{IsTerminal, Write};

/// What a line break inside a one-line message is shown as.
const LINE_BREAK: &str = " ⏎ ";

/// `text` with every character a terminal would act on rather than show replaced by a visible
/// stand-in: the C0 controls (escape, bell, backspace, carriage return …) by their Unicode
/// control pictures (ESC shows as `␛`), DEL by `␡`, and the C1 controls (CSI among them) and
/// the bidirectional overrides by `�`. Line feeds and tabs are kept.
pub fn clean(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_stand_in) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.chars().map(stand_in).collect())
}

/// `text` as one clean line: [`clean`], with each line break shown as `⏎` and tabs as spaces.
pub fn one_line(text: &str) -> String {
    let flat = text
        .trim_end_matches(['\n', '\r'])
        .replace("\r\n", "\n")
        .replace('\n', LINE_BREAK)
        .replace('\t', " ");
    clean(&flat).into_owned()
}

/// Prints `text` on stdout as it is, cleaned. A closed stdout (`sortmark list | head`) is not
/// an error worth a panic.
pub fn out(text: &str) {
    let _ = std::io::stdout().lock().write_all(clean(text).as_bytes());
}

/// Prints data (an export's JSON) on stdout: unchanged where stdout is a file or a pipe, where
/// it is data, and cleaned where it is a terminal, where it is text to read.
pub fn out_data(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = if stdout.is_terminal() {
        stdout.write_all(clean(text).as_bytes())
    } else {
        stdout.write_all(text.as_bytes())
    };
}

/// Prints `text` and a line break on stdout, cleaned.
pub fn out_line(text: &str) {
    out(&format!("{text}\n"));
}

/// Prints `text` and a line break on stderr, cleaned.
pub fn err_line(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{}", clean(text));
}

/// Whether a terminal would act on `c` instead of showing it.
fn needs_stand_in(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || is_bidi_control(c)
}

/// The visible stand-in of `c`, or `c` itself.
fn stand_in(c: char) -> char {
    if !needs_stand_in(c) {
        return c;
    }
    match u32::from(c) {
        code @ 0..=0x1f => char::from_u32(0x2400 + code).unwrap_or('\u{fffd}'),
        0x7f => '\u{2421}',
        _ => '\u{fffd}',
    }
}

/// The characters that reorder the text shown after them (embeddings, overrides, isolates).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{061c}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_show_as_text() {
        let hostile = "\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}31mred\u{8}\r\u{7f}\u{202e}txt";
        let shown = clean(hostile);
        assert!(!shown.chars().any(needs_stand_in), "{shown}");
        assert_eq!(shown, "␛]0;pwned␇␛[2J�31mred␈␍␡�txt");
    }

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        let text = "Sorting 2^24 keys — µs, ü\n\tindented\n";
        assert!(matches!(clean(text), Cow::Borrowed(t) if t == text));
    }

    #[test]
    fn one_line_shows_its_line_breaks() {
        assert_eq!(
            one_line("stderr ends:\nerror: \u{1b}[31mboom\r\n\tat x\n"),
            "stderr ends: ⏎ error: ␛[31mboom ⏎  at x"
        );
    }
}
