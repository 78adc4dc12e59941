//! Drawing for previews and captions: dots, lines, boxes, a small bitmap font for labels and a
//! larger one for captions.

use crate::{Image, Point};

/// Height in pixels of a label glyph at scale 1.
pub const GLYPH_HEIGHT: usize = 5;

/// 3x5 glyphs, one row per 3 bits, for the characters labels use.
fn glyph(c: char) -> Option<[u8; 5]> {
    Some(match c {
        '0' => [7, 5, 5, 5, 7],
        '1' => [2, 6, 2, 2, 7],
        '2' => [7, 1, 7, 4, 7],
        '3' => [7, 1, 3, 1, 7],
        '4' => [5, 5, 7, 1, 1],
        '5' => [7, 4, 7, 1, 7],
        '6' => [7, 4, 7, 5, 7],
        '7' => [7, 1, 1, 2, 2],
        '8' => [7, 5, 7, 5, 7],
        '9' => [7, 5, 7, 1, 7],
        '#' => [5, 7, 5, 7, 5],
        '.' => [0, 0, 0, 0, 2],
        '-' => [0, 0, 7, 0, 0],
        ' ' => [0, 0, 0, 0, 0],
        _ => return None,
    })
}

/// Size in pixels of a caption glyph at scale 1 (and the gap after each).
pub const CAPTION_GLYPH: (usize, usize) = (5, 7);

/// 5x7 capitals, digits and a little punctuation for captions that must read at a glance (the
/// visible disclosure), one row per 5 bits, left pixel in the high bit.
fn caption_glyph(c: char) -> Option<[u8; 7]> {
    Some(match c.to_ascii_uppercase() {
        'A' => [
            0b01110, 0b10001, 0b10001, 0b11111, 0b10001, 0b10001, 0b10001,
        ],
        'B' => [
            0b11110, 0b10001, 0b10001, 0b11110, 0b10001, 0b10001, 0b11110,
        ],
        'C' => [
            0b01110, 0b10001, 0b10000, 0b10000, 0b10000, 0b10001, 0b01110,
        ],
        'D' => [
            0b11110, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b11110,
        ],
        'E' => [
            0b11111, 0b10000, 0b10000, 0b11110, 0b10000, 0b10000, 0b11111,
        ],
        'F' => [
            0b11111, 0b10000, 0b10000, 0b11110, 0b10000, 0b10000, 0b10000,
        ],
        'G' => [
            0b01110, 0b10001, 0b10000, 0b10111, 0b10001, 0b10001, 0b01111,
        ],
        'H' => [
            0b10001, 0b10001, 0b10001, 0b11111, 0b10001, 0b10001, 0b10001,
        ],
        'I' => [
            0b01110, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110,
        ],
        'J' => [
            0b00111, 0b00010, 0b00010, 0b00010, 0b00010, 0b10010, 0b01100,
        ],
        'K' => [
            0b10001, 0b10010, 0b10100, 0b11000, 0b10100, 0b10010, 0b10001,
        ],
        'L' => [
            0b10000, 0b10000, 0b10000, 0b10000, 0b10000, 0b10000, 0b11111,
        ],
        'M' => [
            0b10001, 0b11011, 0b10101, 0b10101, 0b10001, 0b10001, 0b10001,
        ],
        'N' => [
            0b10001, 0b10001, 0b11001, 0b10101, 0b10011, 0b10001, 0b10001,
        ],
        'O' => [
            0b01110, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01110,
        ],
        'P' => [
            0b11110, 0b10001, 0b10001, 0b11110, 0b10000, 0b10000, 0b10000,
        ],
        'Q' => [
            0b01110, 0b10001, 0b10001, 0b10001, 0b10101, 0b10010, 0b01101,
        ],
        'R' => [
            0b11110, 0b10001, 0b10001, 0b11110, 0b10100, 0b10010, 0b10001,
        ],
        'S' => [
            0b01111, 0b10000, 0b10000, 0b01110, 0b00001, 0b00001, 0b11110,
        ],
        'T' => [
            0b11111, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100,
        ],
        'U' => [
            0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01110,
        ],
        'V' => [
            0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01010, 0b00100,
        ],
        'W' => [
            0b10001, 0b10001, 0b10001, 0b10101, 0b10101, 0b10101, 0b01010,
        ],
        'X' => [
            0b10001, 0b10001, 0b01010, 0b00100, 0b01010, 0b10001, 0b10001,
        ],
        'Y' => [
            0b10001, 0b10001, 0b01010, 0b00100, 0b00100, 0b00100, 0b00100,
        ],
        'Z' => [
            0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b10000, 0b11111,
        ],
        '0' => [
            0b01110, 0b10001, 0b10011, 0b10101, 0b11001, 0b10001, 0b01110,
        ],
        '1' => [
            0b00100, 0b01100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110,
        ],
        '2' => [
            0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b01000, 0b11111,
        ],
        '3' => [
            0b11111, 0b00010, 0b00100, 0b00010, 0b00001, 0b10001, 0b01110,
        ],
        '4' => [
            0b00010, 0b00110, 0b01010, 0b10010, 0b11111, 0b00010, 0b00010,
        ],
        '5' => [
            0b11111, 0b10000, 0b11110, 0b00001, 0b00001, 0b10001, 0b01110,
        ],
        '6' => [
            0b00110, 0b01000, 0b10000, 0b11110, 0b10001, 0b10001, 0b01110,
        ],
        '7' => [
            0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b01000, 0b01000,
        ],
        '8' => [
            0b01110, 0b10001, 0b10001, 0b01110, 0b10001, 0b10001, 0b01110,
        ],
        '9' => [
            0b01110, 0b10001, 0b10001, 0b01111, 0b00001, 0b00010, 0b01100,
        ],
        '-' => [
            0b00000, 0b00000, 0b00000, 0b11111, 0b00000, 0b00000, 0b00000,
        ],
        '.' => [
            0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b01100, 0b01100,
        ],
        ' ' => [
            0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000,
        ],
        _ => return None,
    })
}

/// Width in pixels of `text` as [`Canvas::caption`] draws it.
pub fn caption_width(text: &str, scale: usize) -> usize {
    let n = text.chars().count();
    (n * (CAPTION_GLYPH.0 + 1)).saturating_sub(1) * scale
}

/// Drawing operations on an image.
pub struct Canvas<'a> {
    pub image: &'a mut Image,
}

impl Canvas<'_> {
    #[inline]
    pub fn put(&mut self, x: isize, y: isize, color: [u8; 3]) {
        if x >= 0 && y >= 0 && (x as usize) < self.image.width && (y as usize) < self.image.height {
            let i = (y as usize * self.image.width + x as usize) * 3;
            self.image.data[i..i + 3].copy_from_slice(&color);
        }
    }

    pub fn dot(&mut self, p: Point, radius: isize, color: [u8; 3]) {
        let (cx, cy) = (p.x.round() as isize, p.y.round() as isize);
        for dy in -radius..=radius {
            for dx in -radius..=radius {
                if dx * dx + dy * dy <= radius * radius {
                    self.put(cx + dx, cy + dy, color);
                }
            }
        }
    }

    pub fn line(&mut self, a: Point, b: Point, color: [u8; 3]) {
        let steps = (a.distance(b).ceil() as usize).max(1);
        for i in 0..=steps {
            let t = i as f32 / steps as f32;
            self.put(
                (a.x + (b.x - a.x) * t).round() as isize,
                (a.y + (b.y - a.y) * t).round() as isize,
                color,
            );
        }
    }

    pub fn polygon(&mut self, corners: &[Point], color: [u8; 3]) {
        for i in 0..corners.len() {
            self.line(corners[i], corners[(i + 1) % corners.len()], color);
        }
    }

    /// Writes `text` in the 5x7 caption font with its top-left corner at (x, y), each glyph
    /// pixel a `scale` square; characters it has no glyph for are left blank.
    pub fn caption(&mut self, x: isize, y: isize, text: &str, scale: isize, color: [u8; 3]) {
        self.glyphs(x, y, text, scale, color, CAPTION_GLYPH.0, caption_glyph);
    }

    /// Draws `text` from a bitmap font `width` pixels wide (rows of bits, left pixel highest),
    /// a blank column between glyphs.
    #[allow(clippy::too_many_arguments)]
    fn glyphs<const ROWS: usize>(
        &mut self,
        x: isize,
        y: isize,
        text: &str,
        scale: isize,
        color: [u8; 3],
        width: usize,
        font: fn(char) -> Option<[u8; ROWS]>,
    ) {
        let advance = (width as isize + 1) * scale;
        for (k, c) in text.chars().enumerate() {
            let Some(rows) = font(c) else {
                continue;
            };
            let gx = x + k as isize * advance;
            for (r, bits) in rows.iter().enumerate() {
                for col in 0..width {
                    if bits & (1 << (width - 1 - col)) != 0 {
                        let (px, py) = (gx + col as isize * scale, y + r as isize * scale);
                        self.fill(px, py, scale, scale, color);
                    }
                }
            }
        }
    }

    /// Fills a rectangle (clipped to the image).
    pub fn fill(&mut self, x: isize, y: isize, w: isize, h: isize, color: [u8; 3]) {
        for yy in y.max(0)..(y + h).min(self.image.height as isize) {
            for xx in x.max(0)..(x + w).min(self.image.width as isize) {
                let i = (yy as usize * self.image.width + xx as usize) * 3;
                self.image.data[i..i + 3].copy_from_slice(&color);
            }
        }
    }

    /// Scales a rectangle's values by `factor` (clipped to the image): a backing that keeps
    /// a caption legible on any picture while the picture still shows through.
    pub fn shade(&mut self, x: isize, y: isize, w: isize, h: isize, factor: f32) {
        for yy in y.max(0)..(y + h).min(self.image.height as isize) {
            let row = yy as usize * self.image.width * 3;
            let (x0, x1) = (
                x.max(0) as usize,
                (x + w).min(self.image.width as isize).max(0) as usize,
            );
            for v in &mut self.image.data[row + x0 * 3..row + x1.max(x0) * 3] {
                *v = (f32::from(*v) * factor).round() as u8;
            }
        }
    }

    /// Writes `text` with its top-left corner at (x, y), each glyph pixel a `scale` square.
    pub fn text(&mut self, x: isize, y: isize, text: &str, scale: isize, color: [u8; 3]) {
        self.glyphs(x, y, text, scale, color, 3, glyph);
    }
}
