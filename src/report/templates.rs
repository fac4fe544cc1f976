//! The templates, compiled into the binary and registered once; outputs render through
//! [`render`].
//!
//! tera autoescapes only templates whose *name* ends in `.html`, so every template that emits
//! HTML is registered under such a name (`report.html`, not `report.html.tera`).

use std::sync::OnceLock;

use anyhow::Context as _;
use serde::Serialize;

use super::text::{
    cell_with_aside_html, code_block, code_span, escape_inline, message_html, message_md,
    status_cell_html,
};

/// Name and source of every template.
const TEMPLATES: [(&str, &str); 12] = [
    ("style.html", include_str!("../../templates/style.css.tera")),
    (
        "table.html",
        include_str!("../../templates/table.html.tera"),
    ),
    (
        "environment.html",
        include_str!("../../templates/environment.html.tera"),
    ),
    (
        "report.html",
        include_str!("../../templates/report.html.tera"),
    ),
    (
        "index.html",
        include_str!("../../templates/index.html.tera"),
    ),
    ("report.md", include_str!("../../templates/report.md.tera")),
    (
        "summary.md",
        include_str!("../../templates/summary.md.tera"),
    ),
    ("index.md", include_str!("../../templates/index.md.tera")),
    (
        "md_environment.md",
        include_str!("../../templates/md_environment.md.tera"),
    ),
    (
        "md_checks.md",
        include_str!("../../templates/md_checks.md.tera"),
    ),
    (
        "md_repro.md",
        include_str!("../../templates/md_repro.md.tera"),
    ),
    (
        "compare.html",
        include_str!("../../templates/compare.html.tera"),
    ),
];

/// The templates, parsed on first use and shared by every rendering after it.
fn tera() -> &'static tera::Tera {
    static TERA: OnceLock<tera::Tera> = OnceLock::new();
    TERA.get_or_init(|| {
        let mut tera = tera::Tera::new();
        // User text placed in Markdown: inert (no HTML, no emphasis, no table breaks).
        tera.register_filter("md", |s: &str, _: tera::Kwargs, _: &tera::State| {
            escape_inline(s)
        });
        // sortmark's messages, whose `code spans` show as code rather than as backticks.
        tera.register_filter("msg_md", |s: &str, _: tera::Kwargs, _: &tera::State| {
            message_md(s)
        });
        tera.register_filter("msg_html", |s: &str, _: tera::Kwargs, _: &tera::State| {
            tera::Value::safe_string(&message_html(s))
        });
        // User text shown as Markdown code: a span, or a block with `info` as its language;
        // nothing inside either can end it.
        tera.register_filter("code", |s: &str, _: tera::Kwargs, _: &tera::State| {
            code_span(s)
        });
        tera.register_filter(
            "fenced",
            |s: &str, kwargs: tera::Kwargs, _: &tera::State| -> tera::TeraResult<String> {
                Ok(code_block(kwargs.get::<&str>("info")?.unwrap_or(""), s))
            },
        );
        // A number in an HTML table with its interval beside it: a narrow column puts the
        // interval on a line of its own rather than cutting it. Escapes what it is given.
        tera.register_filter("num_cell", |s: &str, _: tera::Kwargs, _: &tera::State| {
            tera::Value::safe_string(&cell_with_aside_html(s))
        });
        tera.register_filter(
            "status_cell",
            |s: &str, _: tera::Kwargs, _: &tera::State| {
                tera::Value::safe_string(&status_cell_html(s))
            },
        );
        // The templates are part of the binary and covered by tests: a broken one is a bug.
        tera.add_raw_templates(TEMPLATES)
            .expect("the built-in templates parse");
        tera
    })
}

/// Renders the template `name` with `view`'s fields as the context.
pub fn render(name: &str, view: &impl Serialize) -> anyhow::Result<String> {
    let context = tera::Context::from_serialize(view)
        .with_context(|| format!("could not prepare the context of {name}"))?;
    tera()
        .render(name, &context)
        .with_context(|| format!("could not render {name}"))
}
