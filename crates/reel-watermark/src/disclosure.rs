//! The visible disclosure (`--label`): "AI-MODIFIED" or "AI-GENERATED" in the top-left corner of
//! a video's first seconds and of every still, as labelling rules for synthetic media ask (a
//! notice a viewer sees at the start, beside the hidden marks). It is drawn before the
//! watermark, so the mark covers the label too.

use reel_image::{CAPTION_GLYPH, Canvas, Image, caption_width};

use crate::pattern::TILE;
use crate::{DEFAULT_STRENGTH, Embedder, detect_image};

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

/// How much stronger than [`DEFAULT_STRENGTH`] the mark may be made where a picture's own
/// texture drowns it, and the step between tries.
const MAX_BOOST: f32 = 2.0;
const BOOST_STEP: f32 = 1.25;
/// Pixels black or white beyond this share make a frame that says nothing of texture (a black
/// frame, a white title): the mark is not strengthened for it.
const CLIPPED_SHARE: f64 = 0.2;

/// Everything reel puts on the frames it writes: the label, when asked for, on the first
/// [`LABELLED_SECONDS`], then the watermark on every frame.
///
/// The first frame marked is read back. Where that fails, the picture's own fine texture
/// (grass, gravel) drowns the mark, and that texture also hides a stronger one from the eye: the
/// mark is strengthened, up to [`MAX_BOOST`] times, until it reads, and stays so for the frames
/// after (a video's frames are summed when read, so the first frame is the hardest case).
pub struct Marker {
    payload: u64,
    embedder: Embedder,
    strength: f32,
    label: Option<Disclosure>,
    start: Option<f64>,
    checked: bool,
}

impl Marker {
    pub fn new(payload: u64, label: Option<Disclosure>) -> Marker {
        Marker {
            payload,
            embedder: Embedder::new(payload),
            strength: DEFAULT_STRENGTH,
            label,
            start: None,
            checked: false,
        }
    }

    /// The mark's RMS strength in luma levels now (above the default once a first frame needed it).
    pub fn strength(&self) -> f32 {
        self.strength
    }

    /// Marks a frame shown `seconds` into its video (a still: 0); the label's seconds count
    /// from the first frame marked, so a stream that starts late is labelled all the same.
    pub fn mark(&mut self, image: &mut Image, seconds: f64) {
        // Only the first frame is read back; frames too small to hold two tiles (nor found by
        // a reader) and frames mostly black or white are not.
        let check = !self.checked
            && image.width.min(image.height) >= 2 * 4 * TILE
            && clipped(image) <= CLIPPED_SHARE;
        self.checked = true;
        let original = check.then(|| image.clone());
        self.put_on(image, seconds);
        let Some(original) = original else {
            return;
        };
        while read_back(image) != Some(self.payload)
            && self.strength * BOOST_STEP <= DEFAULT_STRENGTH * MAX_BOOST + 1e-3
        {
            self.strength *= BOOST_STEP;
            self.embedder = Embedder::with_strength(self.payload, self.strength);
            image.data.copy_from_slice(&original.data);
            self.put_on(image, seconds);
        }
    }

    fn put_on(&mut self, image: &mut Image, seconds: f64) {
        if let Some(label) = self.label {
            let start = *self.start.get_or_insert(seconds);
            if seconds - start < LABELLED_SECONDS {
                label.draw(image);
            }
        }
        self.embedder.mark(image);
    }
}

/// The payload a reader finds in `image`, searching as `reel verify` does (a read at the marked
/// period alone would miss a mark whose scale the search would not find).
fn read_back(image: &Image) -> Option<u64> {
    detect_image(image).payload
}

/// The share of pixels whose luma is within two levels of black or white.
fn clipped(image: &Image) -> f64 {
    let n = image
        .data
        .chunks_exact(3)
        .filter(|p| {
            let luma = (77 * u32::from(p[0]) + 150 * u32::from(p[1]) + 29 * u32::from(p[2])) >> 8;
            !(3..=252).contains(&luma)
        })
        .count();
    n as f64 / (image.data.len() / 3).max(1) as f64
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

    /// A frame of fine texture: every pixel an independent grey level around the middle.
    fn gravel(width: usize, height: usize, spread: f32) -> Image {
        let mut image = Image::new(width, height);
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        for px in image.data.chunks_exact_mut(3) {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let u = (seed >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
            px.fill((128.0 + 2.0 * spread * u).round() as u8);
        }
        image
    }

    #[test]
    fn a_texture_that_drowns_the_mark_gets_a_stronger_one_that_reads() {
        let payload = 0x0123_4567_89AB_CDEF;
        let texture = gravel(512, 512, 110.0);
        // At the default strength this texture hides the mark from the reader...
        let mut plain = texture.clone();
        Embedder::new(payload).mark(&mut plain);
        assert_eq!(detect_image(&plain).payload, None);
        // ...so the marker strengthens it until it reads, within its bound.
        let mut marker = Marker::new(payload, None);
        let mut marked = texture.clone();
        marker.mark(&mut marked, 0.0);
        assert_eq!(detect_image(&marked).payload, Some(payload));
        assert!(marker.strength() > DEFAULT_STRENGTH);
        assert!(marker.strength() <= DEFAULT_STRENGTH * MAX_BOOST + 1e-3);
        // The frames after keep that strength without another read.
        let mut next = texture.clone();
        marker.mark(&mut next, 0.04);
        assert_eq!(next.data, marked.data);

        // A flat frame reads at once, and a black one (nothing to learn from) is left be.
        for fill in [128u8, 0] {
            let mut marker = Marker::new(payload, None);
            let mut frame = grey(512, 512);
            frame.data.fill(fill);
            marker.mark(&mut frame, 0.0);
            assert_eq!(marker.strength(), DEFAULT_STRENGTH, "fill {fill}");
        }
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
