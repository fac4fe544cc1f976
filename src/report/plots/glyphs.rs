//! A bitmap backend whose text keeps each glyph's side bearings.
//!
//! plotters 0.3.7's `ab_glyph` text drawing places every glyph's outline at the pen position,
//! dropping the glyph's left side bearing, while a space (no outline) still moves the pen its
//! full width: letters huddle together and every space looks doubled ("Threads [log2  scale]"
//! in the PNGs). [`Glyphs`] wraps a backend and draws text itself, with the outline at the pen
//! position plus its bearing, as a text renderer does. Everything else is passed through.

use ab_glyph::{Font, FontRef, ScaleFont};
use plotters::prelude::DrawingBackend;
use plotters::style::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind, FontStyle,
};

/// A backend that draws text with the bundled DejaVu Sans, glyphs spaced as the font says.
pub struct Glyphs<DB> {
    inner: DB,
}

impl<DB: DrawingBackend> Glyphs<DB> {
    /// Wraps `inner`.
    pub fn new(inner: DB) -> Glyphs<DB> {
        Glyphs { inner }
    }
}

/// The bundled font of a style: bold, or regular for every other style.
fn font(style: FontStyle) -> Option<FontRef<'static>> {
    let bytes = match style {
        FontStyle::Bold => dejavu::sans::bold(),
        _ => dejavu::sans::regular(),
    };
    FontRef::try_from_slice(bytes).ok()
}

/// Each covered pixel of `text` at `size` pixels, as (x, y, coverage) from the text's top left:
/// the pen advances by each glyph's advance and kerning, and each outline sits at the pen plus
/// its own bounds (which hold the side bearing). Vertically as plotters places text, so that
/// its layout estimates still fit.
pub(super) fn coverage(font: &FontRef<'_>, size: f64, text: &str) -> Vec<(i32, i32, f32)> {
    let scaled = font.as_scaled(size as f32);
    let mut pixels = Vec::new();
    let mut pen = 0f32;
    let mut previous = None;
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = previous {
            pen += scaled.kern(p, id);
        }
        previous = Some(id);
        let glyph = id.with_scale_and_position(size as f32, ab_glyph::point(pen, 0.0));
        if let Some(outline) = scaled.outline_glyph(glyph) {
            let bounds = outline.px_bounds();
            let x0 = bounds.min.x.round() as i32;
            let y0 = (size as f32 / 2.0 + bounds.min.y) as i32;
            outline.draw(|x, y, a| pixels.push((x0 + x as i32, y0 + y as i32, a)));
        }
        pen += scaled.h_advance(id);
    }
    pixels
}

impl<DB: DrawingBackend> DrawingBackend for Glyphs<DB> {
    type ErrorType = DB::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        self.inner.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        self.inner.present()
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        self.inner.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        self.inner.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        self.inner.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        self.inner.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        self.inner.fill_polygon(vert, style)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        self.inner.blit_bitmap(pos, size, src)
    }

    /// plotters' own placement (the layout box, the anchor, the rotation), with the glyphs
    /// drawn by [`coverage`].
    fn draw_text<TStyle: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &TStyle,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        let color = style.color();
        let Some(font) = font(style.style()).filter(|_| color.alpha > 0.0) else {
            return Ok(());
        };
        let ((min_x, min_y), (max_x, max_y)) = style
            .layout_box(text)
            .map_err(|e| DrawingErrorKind::FontError(Box::new(e)))?;
        let (width, height) = (max_x - min_x, max_y - min_y);
        let dx = match style.anchor().h_pos {
            HPos::Left => 0,
            HPos::Right => -width,
            HPos::Center => -width / 2,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0,
            VPos::Center => -height / 2,
            VPos::Bottom => -height,
        };
        let transform = style.transform();
        let (w, h) = self.get_size();
        for (x, y, a) in coverage(&font, style.size(), text) {
            let (x, y) = transform.transform(x + dx - min_x, y + dy - min_y);
            let (x, y) = (pos.0 + x, pos.1 + y);
            if x >= 0 && x < w as i32 && y >= 0 && y < h as i32 {
                let alpha = color.alpha * f64::from(a.clamp(0.0, 1.0));
                self.inner
                    .draw_pixel((x, y), BackendColor { alpha, ..color })?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The leftmost covered column of the text's last glyph, drawn after `prefix`.
    fn last_glyph_left(prefix: &str, glyph: char) -> i32 {
        let font = font(FontStyle::Normal).unwrap();
        let before = coverage(&font, 16.0, prefix).len();
        let all = coverage(&font, 16.0, &format!("{prefix}{glyph}"));
        all[before..].iter().map(|p| p.0).min().unwrap()
    }

    #[test]
    fn a_space_is_one_space_wide_and_glyphs_keep_their_bearings() {
        let font = font(FontStyle::Normal).unwrap();
        let scaled = font.as_scaled(16.0);
        let space = scaled.h_advance(scaled.glyph_id(' '));
        // "log2 scale": the gap between "2" and "s" is the space's advance plus the glyphs'
        // bearings, well under two spaces.
        let gap = last_glyph_left("log2 ", 's') - {
            let c = coverage(&font, 16.0, "log2");
            c.iter().map(|p| p.0).max().unwrap()
        };
        assert!(
            f64::from(gap) < 1.6 * f64::from(space),
            "gap {gap} px, space {space} px"
        );
        // The "l" of "log" starts at its bearing, not at 0.
        assert!(coverage(&font, 16.0, "l").iter().all(|p| p.0 >= 1));
    }
}
