//! Text made safe: the narrative's Markdown rendered to inert HTML, raw HTML neutralized for
//! Markdown outputs, and plain user text escaped for inline Markdown.
//!
//! Pure string functions: nothing here depends on the rest of the report, so every other
//! module may use them.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd, html};

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
/// that raw HTML is escaped so that it shows as text instead of running.
pub fn neutralize_html(markdown: &str) -> String {
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

/// A table cell as HTML that may break before its parenthesised aside and nowhere else:
/// `1.93× (1.88 – 1.99)` stays whole on one line, or puts the interval whole on a second;
/// `100 %` never breaks.
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
        Some((main, aside)) => format!("{} {}", whole(main), whole(&format!("({aside}"))),
        None => whole(&escaped),
    }
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

    #[test]
    fn inline_escape_breaks_no_table() {
        assert_eq!(escape_inline("a|b <i>"), r"a\|b &lt;i&gt;");
        assert_eq!(escape_inline("x86_64 _em_"), r"x86_64 \_em\_");
    }
}
