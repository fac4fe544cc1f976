//! Text made safe: the narrative's Markdown rendered to inert HTML, raw HTML neutralized for
//! Markdown outputs, plain user text escaped for inline Markdown, shown as Markdown code (a
//! code span or a fenced block that nothing inside can close) or placed in a link as a URL
//! path. Every Markdown output (report.md, summary.md, the notebook, index.md, compare.md)
//! escapes through these functions, and HTML through tera's autoescaping and [`to_html`].
//!
//! Pure string functions: nothing here depends on the rest of the report, so every other
//! module may use them.

use pulldown_cmark::{CodeBlockKind, CowStr, Event, Options, Parser, Tag, TagEnd, html};

/// Narrative Markdown as HTML, with raw HTML shown as text, images turned into links (a
/// report makes no external requests) and `javascript:` links disarmed.
pub fn to_html(markdown: &str) -> String {
    let events = Parser::new_ext(markdown, options()).map(|event| match event {
        Event::Html(h) | Event::InlineHtml(h) => Event::Text(h),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        })
        | Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        Event::End(TagEnd::Image) => Event::End(TagEnd::Link),
        other => other,
    });
    let mut out = String::new();
    html::push_html(&mut out, events);
    out
}

/// The Markdown extensions the narrative may use: GitHub's tables, strikethrough and task lists.
fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS
}

/// The link target, or `#` for a scheme that would run code or load data when clicked.
fn safe_url(url: CowStr<'_>) -> CowStr<'_> {
    let scheme = url.trim().to_ascii_lowercase();
    if ["javascript:", "vbscript:", "data:"]
        .iter()
        .any(|s| scheme.starts_with(s))
    {
        CowStr::Borrowed("#")
    } else {
        url
    }
}

/// Narrative Markdown for a Markdown output (report.md, notebook cells): unchanged, except
/// that raw HTML is escaped so that it shows as text instead of running, and a fenced code
/// block left open is closed, so that it cannot swallow what the report puts after it.
pub fn neutralize_html(markdown: &str) -> String {
    close_open_fence(escape_raw_html(markdown))
}

/// The narrative with its raw HTML escaped.
fn escape_raw_html(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut copied = 0;
    for (event, range) in Parser::new_ext(markdown, options()).into_offset_iter() {
        if let Event::Html(_) | Event::InlineHtml(_) = event {
            if range.start < copied {
                continue;
            }
            out.push_str(&markdown[copied..range.start]);
            out.push_str(&escape_html_chars(&markdown[range.clone()]));
            copied = range.end;
        }
    }
    out.push_str(&markdown[copied..]);
    out
}

/// `markdown` with a closing fence added when it ends inside a fenced code block.
fn close_open_fence(mut markdown: String) -> String {
    // Whatever follows the narrative in a report: inside an open block, it would be code.
    let probe = format!("{markdown}\n\nafter");
    let open = Parser::new_ext(&probe, options())
        .into_offset_iter()
        .find_map(|(event, range)| match event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(_))) if range.end == probe.len() => {
                Some(range.start)
            }
            _ => None,
        });
    if let Some(start) = open {
        let line = probe[start..]
            .lines()
            .next()
            .unwrap_or_default()
            .trim_start();
        let fence_char = if line.starts_with('~') { '~' } else { '`' };
        let fence: String = line.chars().take_while(|&c| c == fence_char).collect();
        markdown.push('\n');
        markdown.push_str(&fence);
        markdown.push('\n');
    }
    markdown
}

/// User text as an inline Markdown code span, shown exactly as it is (line breaks become
/// spaces: a code span cannot cross a paragraph). Its delimiters are a backtick run longer than
/// any inside the text, so that no backtick in it can end the span. Not for table cells, where
/// GitHub splits at a `|` even inside code: use [`escape_inline`] there.
pub fn code_span(s: &str) -> String {
    let text = s.replace(['\n', '\r'], " ");
    let ticks = "`".repeat(longest_run(&text, '`') + 1);
    // One space each side is stripped by the reader when both are there: pad where the text
    // starts or ends with a backtick (which would join the delimiter) or with a space.
    let pad = text.starts_with(['`', ' ']) || text.ends_with(['`', ' ']);
    let space = if pad { " " } else { "" };
    format!("{ticks}{space}{text}{space}{ticks}")
}

/// Text as a fenced Markdown code block with the info string `info` (a language), ending in a
/// newline. The fence is a backtick run longer than any in the text (and at least three), so
/// that no line of the text can close the block.
pub fn code_block(info: &str, body: &str) -> String {
    let fence = "`".repeat((longest_run(body, '`') + 1).max(3));
    let body = body.trim_end_matches(['\n', '\r']);
    format!("{fence}{info}\n{body}\n{fence}\n")
}

/// The length of the longest run of `c` in `s`.
fn longest_run(s: &str, c: char) -> usize {
    s.split(|x| x != c).map(str::len).max().unwrap_or(0)
}

/// A path segment (a folder name) for a Markdown or HTML link: every byte but the unreserved
/// ASCII letters, digits and `-._~` percent-encoded, so that no `)`, `<`, space or `#` in a
/// name can end the link, add markup or point elsewhere.
pub fn url_segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A table cell as HTML that may break before its parenthesised aside and nowhere else:
/// `1.93× (1.88 – 1.99)` stays whole on one line, or puts the interval whole on a second (and
/// `, 66.7 %)` after it on a third); `100 %` never breaks.
pub fn cell_with_aside_html(cell: &str) -> String {
    let escaped = escape_html_chars(cell);
    let whole = |s: &str| {
        if s.contains(' ') {
            format!(r#"<span class="nowrap">{s}</span>"#)
        } else {
            s.to_string()
        }
    };
    match escaped.split_once(" (") {
        // An aside with a level, `(0.99 – 1.69, 66.7 %)`, may break once more after its comma.
        Some((main, aside)) => {
            let aside: Vec<String> = format!("({aside}").split(", ").map(whole).collect();
            format!("{} {}", whole(main), aside.join(", "))
        }
        None => whole(&escaped),
    }
}

/// How many characters of a status cell show before the rest folds into `<details>`.
const STATUS_SHOWN: usize = 48;

/// A table's Status cell as HTML: short ones whole; of a long one (a peer's command line and
/// notes, a failure's reason), the leading `; `-separated parts that fit (the status and its
/// flags) show, and the rest folds into `<details>`, one part a line, so that no row grows ten
/// lines tall and no column wide.
pub fn status_cell_html(cell: &str) -> String {
    if cell.chars().count() <= STATUS_SHOWN {
        return escape_html_chars(cell);
    }
    let parts: Vec<&str> = cell.split("; ").collect();
    let mut shown = 0;
    let mut width = 0;
    for part in &parts {
        width += part.chars().count() + 2;
        if width > STATUS_SHOWN + 2 {
            break;
        }
        shown += 1;
    }
    let (summary, folded): (String, Vec<&str>) = if shown == 0 {
        // Even the first part is long (a failure's reason): its beginning, then all of it.
        let cut: String = parts[0].chars().take(STATUS_SHOWN - 1).collect();
        (format!("{}…", cut.trim_end()), parts.clone())
    } else {
        (parts[..shown].join("; "), parts[shown..].to_vec())
    };
    let folded: Vec<String> = folded.into_iter().map(escape_html_chars).collect();
    format!(
        "<details><summary>{}</summary><div class=\"more\">{}</div></details>",
        escape_html_chars(&summary),
        folded.join("<br>")
    )
}

/// sortmark's own messages (checks' summaries, details and remedies) mark commands and names
/// as Markdown code spans, `` `steal` ``: the text split into (is code, text) pieces, the code
/// without its backticks. An unmatched backtick is plain text.
fn code_spans(s: &str) -> Vec<(bool, &str)> {
    let mut pieces = Vec::new();
    let mut rest = s;
    while let Some(open) = rest.find('`') {
        let Some(len) = rest[open + 1..].find('`') else {
            break;
        };
        if open > 0 {
            pieces.push((false, &rest[..open]));
        }
        pieces.push((true, &rest[open + 1..open + 1 + len]));
        rest = &rest[open + len + 2..];
    }
    if !rest.is_empty() {
        pieces.push((false, rest));
    }
    pieces
}

/// A message with code spans as inline Markdown safe in a table cell: its code spans kept as
/// code, everything else made inert by [`escape_inline`] (a span holding a `|`, which GitHub
/// would split a cell at, is escaped as text too).
pub fn message_md(s: &str) -> String {
    code_spans(s)
        .into_iter()
        .map(|(code, text)| {
            if code && !text.contains('|') && !text.is_empty() {
                code_span(text)
            } else if code {
                escape_inline(&format!("`{text}`"))
            } else {
                escape_inline(text)
            }
        })
        .collect()
}

/// A message with code spans as HTML: the spans as `<code>`, everything escaped.
pub fn message_html(s: &str) -> String {
    code_spans(s)
        .into_iter()
        .map(|(code, text)| {
            if code {
                format!("<code>{}</code>", escape_html_chars(text))
            } else {
                escape_html_chars(text)
            }
        })
        .collect()
}

/// Text made safe for HTML element content and attribute values alike (quotes escaped too), for
/// pages written without the template engine.
pub fn escape_html(s: &str) -> String {
    escape_html_chars(s)
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The three characters that start markup or an entity, escaped.
fn escape_html_chars(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Plain user text (a title, a name) made inert inline in Markdown: no HTML, no emphasis,
/// no table breaks.
pub fn escape_inline(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    for (i, &c) in chars.iter().enumerate() {
        // An underscore inside a word (x86_64) emphasises nothing in GitHub's Markdown.
        let in_word = |j: Option<usize>| {
            j.and_then(|j| chars.get(j))
                .is_some_and(|c| c.is_alphanumeric())
        };
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '_' if in_word(i.checked_sub(1)) && in_word(Some(i + 1)) => out.push(c),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checks_code_spans_show_as_code_without_stray_backslashes() {
        let remedy = "watch `steal` in top; run `a|b` <now>";
        assert_eq!(
            message_html(remedy),
            "watch <code>steal</code> in top; run <code>a|b</code> &lt;now&gt;"
        );
        assert_eq!(
            message_md(remedy),
            "watch `steal` in top; run \\`a\\|b\\` &lt;now&gt;"
        );
        assert_eq!(message_md("a lone ` tick *x*"), "a lone \\` tick \\*x\\*");
    }

    #[test]
    fn a_cell_breaks_only_before_its_aside() {
        assert_eq!(
            cell_with_aside_html("1.93× (1.88 – 1.99)"),
            r#"1.93× <span class="nowrap">(1.88 – 1.99)</span>"#
        );
        assert_eq!(
            cell_with_aside_html("<b> 2"),
            r#"<span class="nowrap">&lt;b&gt; 2</span>"#
        );
        assert_eq!(cell_with_aside_html("2^10"), "2^10");
    }

    #[test]
    fn narrative_html_is_inert() {
        let html = to_html("Hi <script>alert(1)</script> *there*\n\n<div onclick=x>raw</div>\n");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<div"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(html.contains("<em>there</em>"), "{html}");
    }

    #[test]
    fn images_become_links_and_scripts_links_are_disarmed() {
        let html = to_html("![cat](https://example.com/cat.png) [x](javascript:alert(1))");
        assert!(!html.contains("<img"), "{html}");
        assert!(
            html.contains(r#"<a href="https://example.com/cat.png">cat</a>"#),
            "{html}"
        );
        assert!(html.contains(r##"<a href="#">x</a>"##), "{html}");
    }

    #[test]
    fn neutralized_markdown_keeps_code_and_escapes_html() {
        let md = neutralize_html("a <b>bold</b> `<code>`\n\n<script>x()</script>\n");
        assert_eq!(
            md,
            "a &lt;b&gt;bold&lt;/b&gt; `<code>`\n\n&lt;script&gt;x()&lt;/script&gt;\n"
        );
    }

    /// The raw HTML a Markdown reader would pass through from `md`.
    fn raw_html(md: &str) -> Vec<String> {
        Parser::new_ext(md, options())
            .filter_map(|e| match e {
                Event::Html(h) | Event::InlineHtml(h) => Some(h.to_string()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn no_backtick_run_ends_a_code_span_early() {
        for name in [
            "plain",
            "a`b",
            "``<img src=x>``",
            "`<b>x</b>`",
            "x\n\n<script>y</script>",
            " a ",
        ] {
            let md = format!("**Sweep {}** ran", code_span(name));
            assert!(raw_html(&md).is_empty(), "{name:?}: {md}");
            let code: Vec<String> = Parser::new_ext(&md, options())
                .filter_map(|e| match e {
                    Event::Code(c) => Some(c.to_string()),
                    _ => None,
                })
                .collect();
            assert_eq!(code, [name.replace('\n', " ")], "{md}");
        }
        assert_eq!(code_span("size"), "`size`");
    }

    #[test]
    fn no_line_of_the_text_closes_a_code_block() {
        let body = "name = \"x\"\n````\n<script>alert(1)</script>\n```\n";
        let md = format!("{}\n<i>after</i>\n", code_block("toml", body));
        assert!(md.starts_with("`````toml\n"), "{md}");
        assert_eq!(
            raw_html(&md),
            ["<i>", "</i>"],
            "only the line after the block is HTML"
        );
        assert_eq!(code_block("sh", "a b\n"), "```sh\na b\n```\n");
    }

    #[test]
    fn a_fence_the_narrative_leaves_open_is_closed() {
        let md = neutralize_html("Intro\n\n~~~~python\nx = 1\n");
        let report = format!("{md}\n<script>after()</script>\n");
        assert!(md.ends_with("x = 1\n\n~~~~\n"), "{md}");
        assert_eq!(raw_html(&report), ["<script>after()</script>\n"]);
        let closed = "```\ncode\n```\n";
        assert_eq!(neutralize_html(closed), closed);
    }

    #[test]
    fn url_segments_cannot_end_a_link() {
        assert_eq!(url_segment("quick"), "quick");
        assert_eq!(url_segment("a)b <c>#"), "a%29b%20%3Cc%3E%23");
        assert_eq!(url_segment("ü"), "%C3%BC");
    }

    #[test]
    fn inline_escape_breaks_no_table() {
        assert_eq!(escape_inline("a|b <i>"), r"a\|b &lt;i&gt;");
        assert_eq!(escape_inline("x86_64 _em_"), r"x86_64 \_em\_");
    }

    #[test]
    fn a_long_status_cell_shows_its_status_and_flags_and_folds_the_rest() {
        assert_eq!(status_cell_html("ok; unstable: ±9 %"), "ok; unstable: ±9 %");
        let cell = "ok; unstable: ±9.1 %; command: python3 peers/numpy_sort.py --n 1000 <x>";
        assert_eq!(
            status_cell_html(cell),
            "<details><summary>ok; unstable: ±9.1 %</summary><div class=\"more\">\
             command: python3 peers/numpy_sort.py --n 1000 &lt;x&gt;</div></details>"
        );
        let failed = format!("FAILED: {}", "x".repeat(80));
        let html = status_cell_html(&failed);
        assert!(html.starts_with("<details><summary>FAILED: xxx"), "{html}");
        assert!(html.contains(&failed), "{html}");
    }
}
