//! The visible disclosure (`--label`): "AI-MODIFIED" or "AI-GENERATED" in the top-left corner of
//! a video's first seconds and of every still, as labelling rules for synthetic media ask (a
//! notice a viewer sees at the start, beside the hidden marks). It is drawn before the
//! watermark, so the mark covers the label too.

use reel_image::{CAPTION_GLYPH, Canvas, Image, caption_width};

use crate::Embedder;

/// Seconds at the start of a video that carry the label.
pub const LABELLED_SECONDS: f64 = 2.0;

/// What the label says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disclosure {
    /// Real footage edited with learned models (a swap, de-aging, retouching).
    Modified,
    /// Media a model made.
    Generated,
}

impl Disclosure {
    pub fn text(self) -> &'static str {
        match self {
            Disclosure::Modified => "AI-MODIFIED",
            Disclosure::Generated => "AI-GENERATED",
        }
    }

    /// Draws the label: white capitals about 4.5 % of the short side tall on a darkened box,
    /// inset from the top-left corner by 2.5 % of the short side.
    pub fn draw(self, image: &mut Image) {
        let short = image.width.min(image.height);
        let scale = ((short as f32 * 0.045 / CAPTION_GLYPH.1 as f32).round() as usize).max(1);
        let pad = 2 * scale;
        let margin = (short / 40).max(2) as isize;
        let text = self.text();
        let w = (caption_width(text, scale) + 2 * pad) as isize;
        let h = (CAPTION_GLYPH.1 * scale + 2 * pad) as isize;
        let mut canvas = Canvas { image };
        canvas.shade(margin, margin, w, h, 0.35);
        let inset = margin + pad as isize;
        canvas.caption(inset, inset, text, scale as isize, [255, 255, 255]);
    }
}

/// Everything reel puts on the frames it writes: the label, when asked for, on the first
/// [`LABELLED_SECONDS`], then the watermark on every frame.
pub struct Marker {
    embedder: Embedder,
    label: Option<Disclosure>,
    start: Option<f64>,
}

impl Marker {
    pub fn new(payload: u64, label: Option<Disclosure>) -> Marker {
        Marker {
            embedder: Embedder::new(payload),
            label,
            start: None,
        }
    }

    /// Marks a frame shown `seconds` into its video (a still: 0); the label's seconds count
    /// from the first frame marked, so a stream that starts late is labelled all the same.
    pub fn mark(&mut self, image: &mut Image, seconds: f64) {
        if let Some(label) = self.label {
            let start = *self.start.get_or_insert(seconds);
            if seconds - start < LABELLED_SECONDS {
                label.draw(image);
            }
        }
        self.embedder.mark(image);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grey(width: usize, height: usize) -> Image {
        let mut image = Image::new(width, height);
        image.data.fill(128);
        image
    }

    /// Pixels of the label's corner box that are dark (the backing) and white (the text).
    fn corner(image: &Image) -> (usize, usize) {
        let (mut dark, mut white) = (0, 0);
        for y in 0..image.height / 6 {
            for x in 0..image.width / 3 {
                let v = image.data[(y * image.width + x) * 3];
                dark += usize::from(v < 64);
                white += usize::from(v > 230);
            }
        }
        (dark, white)
    }

    #[test]
    fn the_label_is_on_the_first_two_seconds_from_the_first_frame() {
        let mut marker = Marker::new(7, Some(Disclosure::Modified));
        // A stream whose first frame is at 5 s: 5.0 and 6.96 are within its first two seconds.
        for (seconds, labelled) in [(5.0, true), (6.96, true), (7.0, false), (9.0, false)] {
            let mut frame = grey(640, 360);
            marker.mark(&mut frame, seconds);
            let (dark, white) = corner(&frame);
            assert_eq!(
                dark > 2000 && white > 500,
                labelled,
                "{seconds} s: {dark} dark, {white} white"
            );
        }
        let mut plain = Marker::new(7, None);
        let mut frame = grey(640, 360);
        plain.mark(&mut frame, 0.0);
        assert_eq!(corner(&frame), (0, 0));
    }

    #[test]
    fn the_label_fits_small_frames_and_scales_with_large_ones() {
        // Narrower than the text: drawn clipped, without a panic.
        Disclosure::Generated.draw(&mut grey(48, 32));
        for (w, h) in [(160, 120), (1920, 1080), (3840, 2160)] {
            let mut frame = grey(w, h);
            Disclosure::Generated.draw(&mut frame);
            let white = frame.data.chunks_exact(3).filter(|p| p[0] > 230).count();
            // The text's share of the frame stays about the same whatever its size.
            let share = white as f64 / (w * h) as f64;
            assert!(share > 0.002 && share < 0.02, "{w}x{h}: {share}");
        }
    }
}
