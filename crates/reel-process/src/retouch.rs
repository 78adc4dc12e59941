//! Skin retouching by frequency separation, the way retouchers work: the skin is split into a
//! tone layer (colour and shading), a detail layer (wrinkles, blemishes, fine lines) and a texture
//! layer (pores, fine hair). Tone is evened, detail reduced, texture kept untouched, and the result
//! blended back through a feathered mask, so nothing outside the mask changes at all.
//!
//! Bands, with S the face size in pixels (the longer side of its landmark box):
//! - texture: the image minus a Gaussian of sigma `fine` = max(0.6, 0.0025 S) (pores, fine hair)
//! - detail: Gaussian(`fine`) minus Gaussian(`detail` = 0.04 S) (wrinkles, blemishes)
//! - tone: Gaussian(`detail`); evened towards a further Gaussian of sigma 0.1 S.
//!
//! A wrinkle is a dark valley in the detail band; its sharp edge also leaves a trace in the
//! texture band, so where the detail band is clearly dark the texture is eased as well (pores,
//! which barely show in the detail band, are kept).

use reel_image::Image;

use crate::blur::gaussian;

/// Band limits for a face of size `s` pixels: (texture/detail sigma, detail/tone sigma).
pub fn band_sigmas(s: f32) -> (f32, f32) {
    ((0.0025 * s).max(0.6), 0.04 * s)
}

/// Per-pixel controls over a rectangle of the frame, each in [0, 1].
pub struct Controls<'a> {
    pub x0: usize,
    pub y0: usize,
    pub width: usize,
    pub height: usize,
    /// Where the retouch applies at all (the feathered skin mask).
    pub mask: &'a [f32],
    /// How much of the detail band to remove.
    pub smooth: &'a [f32],
    /// How much to even colour (fully) and shading (partly) towards the surrounding tone.
    pub tone: &'a [f32],
    /// How much to brighten darker patches towards their surroundings (under-eye shadows).
    pub lift: &'a [f32],
    /// Extra removal of dark spots in the detail band.
    pub blemish: f32,
    pub face_size: f32,
}

/// Reusable buffers, so that retouching a frame allocates nothing once warmed up.
#[derive(Default)]
pub struct Retoucher {
    region: Vec<f32>,
    fine: Vec<f32>,
    detail: Vec<f32>,
    tone: Vec<f32>,
    tmp: Vec<f32>,
}

#[inline]
fn luma(r: f32, g: f32, b: f32) -> f32 {
    0.299 * r + 0.587 * g + 0.114 * b
}

impl Retoucher {
    pub fn apply(&mut self, frame: &mut Image, c: &Controls) {
        let (w, h) = (c.width, c.height);
        if w == 0 || h == 0 {
            return;
        }
        let n = w * h * 3;
        self.region.resize(n, 0.0);
        for y in 0..h {
            let src = ((c.y0 + y) * frame.width + c.x0) * 3;
            for (d, s) in self.region[y * w * 3..(y + 1) * w * 3]
                .iter_mut()
                .zip(&frame.data[src..src + w * 3])
            {
                *d = *s as f32;
            }
        }
        let (fine_sigma, detail_sigma) = band_sigmas(c.face_size);
        let tone_sigma = 0.1 * c.face_size;
        self.fine.clear();
        self.fine.extend_from_slice(&self.region);
        gaussian(&mut self.fine, w, h, 3, fine_sigma, &mut self.tmp);
        self.detail.clear();
        self.detail.extend_from_slice(&self.fine);
        let extra = (detail_sigma * detail_sigma - fine_sigma * fine_sigma)
            .max(0.0)
            .sqrt();
        gaussian(&mut self.detail, w, h, 3, extra, &mut self.tmp);
        self.tone.clear();
        self.tone.extend_from_slice(&self.detail);
        let extra = (tone_sigma * tone_sigma - detail_sigma * detail_sigma)
            .max(0.0)
            .sqrt();
        gaussian(&mut self.tone, w, h, 3, extra, &mut self.tmp);

        for y in 0..h {
            let row = ((c.y0 + y) * frame.width + c.x0) * 3;
            for x in 0..w {
                let i = y * w + x;
                let m = c.mask[i];
                if m <= 0.0 {
                    continue;
                }
                let k = i * 3;
                let orig = [self.region[k], self.region[k + 1], self.region[k + 2]];
                let fine = [self.fine[k], self.fine[k + 1], self.fine[k + 2]];
                let low = [self.detail[k], self.detail[k + 1], self.detail[k + 2]];
                let wide = [self.tone[k], self.tone[k + 1], self.tone[k + 2]];
                // Detail band, reduced; dark spots (blemishes) more so.
                let mut mid = [fine[0] - low[0], fine[1] - low[1], fine[2] - low[2]];
                let mid_luma = luma(mid[0], mid[1], mid[2]);
                let spot = if mid_luma < 0.0 {
                    (-mid_luma / 8.0).min(1.0)
                } else {
                    0.0
                };
                let keep = (1.0 - c.smooth[i]) * (1.0 - c.blemish * spot);
                for v in &mut mid {
                    *v *= keep;
                }
                let valley = if mid_luma < 0.0 {
                    (-mid_luma / 12.0).min(1.0)
                } else {
                    0.0
                };
                let texture_keep = 1.0 - 0.7 * c.smooth[i] * valley;
                // Tone: colour evened fully, shading partly, dark patches lifted.
                let d = [wide[0] - low[0], wide[1] - low[1], wide[2] - low[2]];
                let d_luma = luma(d[0], d[1], d[2]);
                let t = c.tone[i];
                let shade = 0.35 * t * d_luma + c.lift[i] * d_luma.max(0.0);
                let out = [
                    low[0]
                        + t * (d[0] - d_luma)
                        + shade
                        + mid[0]
                        + texture_keep * (orig[0] - fine[0]),
                    low[1]
                        + t * (d[1] - d_luma)
                        + shade
                        + mid[1]
                        + texture_keep * (orig[1] - fine[1]),
                    low[2]
                        + t * (d[2] - d_luma)
                        + shade
                        + mid[2]
                        + texture_keep * (orig[2] - fine[2]),
                ];
                let px = &mut frame.data[row + x * 3..row + x * 3 + 3];
                for ch in 0..3 {
                    px[ch] = (orig[ch] + m.min(1.0) * (out[ch] - orig[ch]))
                        .round()
                        .clamp(0.0, 255.0) as u8;
                }
            }
        }
    }
}
