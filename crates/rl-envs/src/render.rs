//! [`Frame`]: what [`Env::render`](crate::Env::render) returns, and the drawing the
//! classic-control envs share.
//!
//! The classic-control environments draw what Gymnasium's `render_mode="rgb_array"` draws, with
//! the same geometry, colours and sizes (600×400, or 500×500 for Pendulum and Acrobot). Gymnasium
//! draws with pygame in a y-up frame and flips the surface at the end; [`Canvas`] takes the same
//! coordinates and does the flip as it draws. Edges are anti-aliased by tiny-skia rather than
//! pygame's `gfxdraw`, so frames differ from Gymnasium's only along edges
//! (`tests/render.rs` compares them with frames recorded from Gymnasium).

use tiny_skia::{
    FillRule, FilterQuality, Paint, PathBuilder, Pixmap, PixmapPaint, Rect, Transform,
};

use crate::EnvError;

/// An RGB image: `height` rows of `width` pixels, 3 bytes each (Gymnasium's `rgb_array`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Pixels per row.
    pub width: u32,
    /// Rows.
    pub height: u32,
    /// `height × width × 3` bytes, row after row, red-green-blue.
    pub rgb: Vec<u8>,
}

impl Frame {
    /// A frame of `width × height` pixels of one colour.
    pub fn filled(width: u32, height: u32, color: [u8; 3]) -> Self {
        let rgb = (0..width as usize * height as usize)
            .flat_map(|_| color)
            .collect();
        Self { width, height, rgb }
    }

    /// The pixel at column `x`, row `y` (row 0 at the top).
    pub fn pixel(&self, x: u32, y: u32) -> Option<[u8; 3]> {
        if x >= self.width || y >= self.height {
            return None;
        }
        let i = (y as usize * self.width as usize + x as usize) * 3;
        Some([self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]])
    }
}

/// A white canvas in Gymnasium's drawing coordinates: pygame's pixel coordinates before the
/// final vertical flip (`y` grows upwards in the finished frame).
pub(crate) struct Canvas {
    pixmap: Pixmap,
}

/// An RGB colour.
pub(crate) type Rgb = (u8, u8, u8);

fn paint(color: Rgb) -> Paint<'static> {
    let mut p = Paint::default();
    p.set_color_rgba8(color.0, color.1, color.2, 255);
    p.anti_alias = true;
    p
}

impl Canvas {
    pub(crate) fn new(width: u32, height: u32, env: &str) -> Result<Self, EnvError> {
        let mut pixmap = Pixmap::new(width, height).ok_or_else(|| EnvError::Render {
            env: env.to_owned(),
            reason: format!("cannot make a {width}×{height} canvas"),
        })?;
        pixmap.fill(tiny_skia::Color::WHITE);
        Ok(Self { pixmap })
    }

    fn h(&self) -> f32 {
        self.pixmap.height() as f32
    }

    /// `gfxdraw.filled_polygon` + `aapolygon`: a filled polygon through `points`.
    pub(crate) fn polygon(&mut self, points: &[(f64, f64)], color: Rgb) {
        let h = self.h();
        let mut pb = PathBuilder::new();
        for (i, &(x, y)) in points.iter().enumerate() {
            let (x, y) = (x as f32, h - y as f32);
            if i == 0 {
                pb.move_to(x, y);
            } else {
                pb.line_to(x, y);
            }
        }
        pb.close();
        if let Some(path) = pb.finish() {
            self.pixmap.fill_path(
                &path,
                &paint(color),
                FillRule::Winding,
                Transform::identity(),
                None,
            );
        }
    }

    /// `gfxdraw.filled_circle` + `aacircle` at the integer pixel `(x, y)`, radius `r` pixels.
    pub(crate) fn circle(&mut self, x: i64, y: i64, r: i64, color: Rgb) {
        // pygame's pixel (x, y) is the unit square whose centre is (x + ½, y + ½); flipped, its
        // centre is (x + ½, height − y − ½).
        let (cx, cy) = (x as f32 + 0.5, self.h() - y as f32 - 0.5);
        if let Some(path) = PathBuilder::from_circle(cx, cy, r as f32 + 0.5) {
            self.pixmap.fill_path(
                &path,
                &paint(color),
                FillRule::Winding,
                Transform::identity(),
                None,
            );
        }
    }

    /// A one-pixel horizontal line over row `y`, columns `x0..=x1` (`gfxdraw.hline`).
    pub(crate) fn hline(&mut self, x0: i64, x1: i64, y: i64, color: Rgb) {
        let row = self.h() - y as f32 - 1.0;
        if let Some(rect) = Rect::from_xywh(x0 as f32, row, (x1 - x0 + 1) as f32, 1.0) {
            self.pixmap
                .fill_rect(rect, &paint(color), Transform::identity(), None);
        }
    }

    /// A one-pixel vertical line over column `x`, rows `y0..=y1` (`gfxdraw.vline`).
    pub(crate) fn vline(&mut self, x: i64, y0: i64, y1: i64, color: Rgb) {
        let top = self.h() - y1 as f32 - 1.0;
        if let Some(rect) = Rect::from_xywh(x as f32, top, 1.0, (y1 - y0 + 1) as f32) {
            self.pixmap
                .fill_rect(rect, &paint(color), Transform::identity(), None);
        }
    }

    /// An anti-aliased polyline one pixel wide, as `pygame.draw.aalines` draws it: Xiaolin Wu's
    /// algorithm, each step along the major axis shading the two pixels the line passes between
    /// by how close it passes.
    pub(crate) fn lines(&mut self, points: &[(f64, f64)], color: Rgb) {
        for pair in points.windows(2) {
            self.wu_line(pair[0], pair[1], color);
        }
    }

    fn wu_line(&mut self, (x0, y0): (f64, f64), (x1, y1): (f64, f64), color: Rgb) {
        let steep = (y1 - y0).abs() > (x1 - x0).abs();
        // Work along the major axis `a`, with `b` the minor one.
        let (mut a0, mut b0, mut a1, mut b1) = if steep {
            (y0, x0, y1, x1)
        } else {
            (x0, y0, x1, y1)
        };
        if a0 > a1 {
            std::mem::swap(&mut a0, &mut a1);
            std::mem::swap(&mut b0, &mut b1);
        }
        let gradient = if a1 == a0 { 0.0 } else { (b1 - b0) / (a1 - a0) };
        let (start, end) = (a0.round() as i64, a1.round() as i64);
        for a in start..=end {
            let b = b0 + gradient * (a as f64 - a0);
            let base = b.floor();
            let frac = b - base;
            for (db, coverage) in [(0, 1.0 - frac), (1, frac)] {
                let (px, py) = if steep {
                    (base as i64 + db, a)
                } else {
                    (a, base as i64 + db)
                };
                self.blend(px, py, color, coverage as f32);
            }
        }
    }

    /// Blends `color` over pygame's pixel `(x, y)` with weight `coverage`.
    fn blend(&mut self, x: i64, y: i64, color: Rgb, coverage: f32) {
        let (w, h) = (
            i64::from(self.pixmap.width()),
            i64::from(self.pixmap.height()),
        );
        let row = h - 1 - y;
        if x < 0 || x >= w || row < 0 || row >= h || coverage <= 0.0 {
            return;
        }
        let i = (row * w + x) as usize;
        let old = self.pixmap.pixels()[i].demultiply();
        let mix = |new: u8, old: u8| -> u8 {
            (f32::from(new) * coverage + f32::from(old) * (1.0 - coverage)).round() as u8
        };
        self.pixmap.pixels_mut()[i] = tiny_skia::ColorU8::from_rgba(
            mix(color.0, old.red()),
            mix(color.1, old.green()),
            mix(color.2, old.blue()),
            255,
        )
        .premultiply();
    }

    /// `image` scaled to `size × size` pixels (pygame's `smoothscale`, which truncates the size),
    /// mirrored left-right if `mirror`, with its top-left corner at `(x, y)` in the flipped frame.
    pub(crate) fn image(&mut self, image: &Pixmap, size: u32, mirror: bool, x: i64, y: i64) {
        if size == 0 {
            return;
        }
        let (sx, sy) = (
            size as f32 / image.width() as f32,
            size as f32 / image.height() as f32,
        );
        // Gymnasium flips the image upside down before the blit, and the whole frame after it:
        // the image ends up upright.
        let mut t = Transform::from_scale(if mirror { -sx } else { sx }, sy);
        if mirror {
            t = t.post_translate(size as f32, 0.0);
        }
        t = t.post_translate(x as f32, self.h() - y as f32 - size as f32);
        let paint = PixmapPaint {
            quality: FilterQuality::Bilinear,
            ..PixmapPaint::default()
        };
        self.pixmap
            .draw_pixmap(0, 0, image.as_ref(), &paint, t, None);
    }

    /// The finished frame (alpha dropped: the canvas is opaque).
    pub(crate) fn finish(self) -> Frame {
        let (width, height) = (self.pixmap.width(), self.pixmap.height());
        let rgb = self
            .pixmap
            .pixels()
            .iter()
            .flat_map(|p| {
                let c = p.demultiply();
                [c.red(), c.green(), c.blue()]
            })
            .collect();
        Frame { width, height, rgb }
    }
}

/// Gymnasium's `pygame.math.Vector2(x, y).rotate_rad(angle)`.
pub(crate) fn rotate((x, y): (f64, f64), angle: f64) -> (f64, f64) {
    let (s, c) = angle.sin_cos();
    (x * c - y * s, x * s + y * c)
}
