//! Tables of pre-formatted strings, and their Markdown and plain-text forms.
//!
//! Every table a report shows (cases, GPUs, the GPU comparison, the archive index) is a
//! [`Table`]; the HTML templates place its cells, and [`Table::to_markdown`] and
//! [`Table::to_plain`] write it where there is no template.

use serde::Serialize;

use super::text::escape_inline;

/// A table of strings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    /// The column headings.
    pub headers: Vec<Header>,
    /// The rows, in display order.
    pub rows: Vec<Row>,
}

/// A column heading; numeric columns are right-aligned.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Header {
    /// The heading, with the column's unit in brackets.
    pub text: String,
    /// Whether the column holds numbers (right-aligned).
    pub numeric: bool,
}

/// A table row; `status` (`ok`, `skipped`, `failed`, …) styles it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// One string per column.
    pub cells: Vec<String>,
    /// How the row is styled: `ok`, `skipped`, `failed`, or `unstable` for an ok case with a
    /// flag in its Status cell.
    pub status: String,
}

impl Header {
    /// A heading; `numeric` right-aligns its column.
    pub fn new(text: &str, numeric: bool) -> Header {
        Header {
            text: text.to_string(),
            numeric,
        }
    }
}

impl Table {
    /// The table in GitHub-flavoured Markdown, hyperfine's style: one unit per column (in the
    /// header), numeric columns right-aligned, `|` escaped in cells.
    pub fn to_markdown(&self) -> String {
        let row = |cells: Vec<String>| format!("| {} |\n", cells.join(" | "));
        // Headings are sortmark's own words; only a `|` would break them.
        let mut out = row(self
            .headers
            .iter()
            .map(|h| h.text.replace('|', r"\|"))
            .collect());
        out.push_str(&row(self
            .headers
            .iter()
            .map(|h| if h.numeric { "---:" } else { ":---" }.to_string())
            .collect()));
        for r in &self.rows {
            out.push_str(&row(r.cells.iter().map(|c| escape_inline(c)).collect()));
        }
        out
    }

    /// The table as aligned plain text (the notebook's `text/plain` output, `sortmark list`),
    /// one line per row: a line break or tab inside a cell is shown as a space.
    pub fn to_plain(&self) -> String {
        let widths = self.column_widths();
        let line = |cells: Vec<&str>| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .zip(&self.headers)
                .map(|((c, w), h)| {
                    if h.numeric {
                        format!("{c:>w$}")
                    } else {
                        format!("{c:<w$}")
                    }
                })
                .collect();
            format!("{}\n", padded.join("  ").trim_end())
        };
        let mut out = line(self.headers.iter().map(|h| h.text.as_str()).collect());
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        out.push_str(&format!("{}\n", rule.join("  ")));
        let rows: Vec<Vec<String>> = self.rows.iter().map(Row::plain_cells).collect();
        for cells in &rows {
            out.push_str(&line(cells.iter().map(String::as_str).collect()));
        }
        out
    }

    /// The width in characters of each column: its widest cell or heading.
    fn column_widths(&self) -> Vec<usize> {
        let mut widths: Vec<usize> = self
            .headers
            .iter()
            .map(|h| h.text.chars().count())
            .collect();
        for r in &self.rows {
            for (w, c) in widths.iter_mut().zip(r.plain_cells()) {
                *w = (*w).max(c.chars().count());
            }
        }
        widths
    }
}

impl Row {
    /// The cells as plain text shows them: each on one line.
    fn plain_cells(&self) -> Vec<String> {
        self.cells
            .iter()
            .map(|c| c.replace("\r\n", " ").replace(['\n', '\r', '\t'], " "))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        Table {
            headers: vec![Header::new("Name", false), Header::new("Keys", true)],
            rows: vec![Row {
                cells: vec!["a|b".to_string(), "2^10".to_string()],
                status: "ok".to_string(),
            }],
        }
    }

    #[test]
    fn markdown_aligns_numbers_right_and_escapes_bars() {
        assert_eq!(
            table().to_markdown(),
            "| Name | Keys |\n| :--- | ---: |\n| a\\|b | 2^10 |\n"
        );
    }

    #[test]
    fn plain_text_pads_columns() {
        assert_eq!(table().to_plain(), "Name  Keys\n----  ----\na|b   2^10\n");
    }

    #[test]
    fn plain_text_keeps_each_row_on_one_line() {
        let mut t = table();
        t.rows[0].cells[0] = "two\nlines".to_string();
        assert_eq!(
            t.to_plain(),
            "Name       Keys\n---------  ----\ntwo lines  2^10\n"
        );
    }
}
