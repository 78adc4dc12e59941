//! Drawing for previews: dots, lines, boxes and a small bitmap font for labels.

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

    /// Writes `text` with its top-left corner at (x, y), each glyph pixel a `scale` square.
    pub fn text(&mut self, x: isize, y: isize, text: &str, scale: isize, color: [u8; 3]) {
        for (k, c) in text.chars().enumerate() {
            let Some(rows) = glyph(c) else { continue };
            let gx = x + k as isize * 4 * scale;
            for (r, bits) in rows.iter().enumerate() {
                for col in 0..3 {
                    if bits & (4 >> col) != 0 {
                        for sy in 0..scale {
                            for sx in 0..scale {
                                self.put(gx + col * scale + sx, y + r as isize * scale + sy, color);
                            }
                        }
                    }
                }
            }
        }
    }
}
