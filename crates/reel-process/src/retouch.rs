//! Skin retouching by frequency separation, the way retouchers work: the skin is split into a
//! tone layer (colour and shading), a detail layer (wrinkles, blemishes, fine lines) and a texture
//! layer (pores, fine hair). Tone is evened, detail reduced, texture kept untouched, and the result
//! blended back through a feathered mask, so nothing outside the mask changes at all.
//!
//! Bands, with S the face size in pixels (the longer side of its landmark box):
//! - texture: the image minus a Gaussian of sigma `fine` = max(0.6, 0.0025 S) (pores, fine hair)
//! - detail: Gaussian(`fine`) minus Gaussian(`detail` = 0.03 S) (wrinkles, blemishes)
//! - tone: Gaussian(`detail`); evened towards a further Gaussian of sigma 0.1 S.
//!
//! Only skin is retouched: a beard, stubble or hair inside the face outline differs from the
//! face's own skin colour in the tone layer, and the retouch fades out there.
//!
//! A wrinkle is a dark valley in the detail band; its sharp edge also leaves a trace in the
//! texture band, so where the detail band is clearly dark the texture is eased as well (pores,
//! which barely show in the detail band, are kept).

use reel_image::Image;

use reel_image::blur::gaussian;

/// Band limits for a face of size `s` pixels: (texture/detail sigma, detail/tone sigma).
pub fn band_sigmas(s: f32) -> (f32, f32) {
    ((0.0025 * s).max(0.6), 0.03 * s)
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

        let skin = SkinColour::measure(&self.detail, c.mask);
        for y in 0..h {
            let row = ((c.y0 + y) * frame.width + c.x0) * 3;
            for x in 0..w {
                let i = y * w + x;
                if c.mask[i] <= 0.0 {
                    continue;
                }
                let k = i * 3;
                let m = c.mask[i]
                    * skin.likelihood(self.detail[k], self.detail[k + 1], self.detail[k + 2]);
                if m <= 0.0 {
                    continue;
                }
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
                // Strong edges (the nose's side, a jaw line) are structure, not wrinkles: the
                // reduction fades out between 12 and 30 grey levels of detail-band contrast.
                let edge = ((mid_luma.abs() - 12.0) / 18.0).clamp(0.0, 1.0);
                let smooth = c.smooth[i] * (1.0 - edge);
                let keep = (1.0 - smooth) * (1.0 - c.blemish * spot * (1.0 - edge));
                for v in &mut mid {
                    *v *= keep;
                }
                let valley = if mid_luma < 0.0 {
                    (-mid_luma / 12.0).min(1.0)
                } else {
                    0.0
                };
                let texture_keep = 1.0 - 0.7 * smooth * valley;
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

/// The face's skin colour, measured in the tone layer where the mask is solid.
struct SkinColour {
    luma: f32,
    cb: f32,
    cr: f32,
    luma_spread: f32,
    chroma_spread: f32,
}

fn chroma(r: f32, g: f32, b: f32) -> (f32, f32, f32) {
    let y = luma(r, g, b);
    (y, 0.564 * (b - y), 0.713 * (r - y))
}

impl SkinColour {
    fn measure(tone: &[f32], mask: &[f32]) -> SkinColour {
        let (mut n, mut sy, mut sb, mut sr) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
        let (mut syy, mut scc) = (0.0f64, 0.0f64);
        for (px, &m) in tone.chunks_exact(3).zip(mask) {
            if m > 0.9 {
                let (y, cb, cr) = chroma(px[0], px[1], px[2]);
                n += 1.0;
                sy += y as f64;
                sb += cb as f64;
                sr += cr as f64;
                syy += (y * y) as f64;
                scc += (cb * cb + cr * cr) as f64;
            }
        }
        if n < 16.0 {
            return SkinColour {
                luma: 0.0,
                cb: 0.0,
                cr: 0.0,
                luma_spread: f32::INFINITY,
                chroma_spread: f32::INFINITY,
            };
        }
        let (my, mb, mr) = (sy / n, sb / n, sr / n);
        let var_y = (syy / n - my * my).max(0.0);
        let var_c = (scc / n - mb * mb - mr * mr).max(0.0);
        SkinColour {
            luma: my as f32,
            cb: mb as f32,
            cr: mr as f32,
            luma_spread: (var_y.sqrt() as f32).max(6.0),
            chroma_spread: (var_c.sqrt() as f32).max(3.0),
        }
    }

    /// 1 for the face's typical skin, falling towards 0 for much darker or differently coloured
    /// pixels (hair, beard, shadowed background).
    fn likelihood(&self, r: f32, g: f32, b: f32) -> f32 {
        let (y, cb, cr) = chroma(r, g, b);
        let dc =
            ((cb - self.cb).powi(2) + (cr - self.cr).powi(2)).sqrt() / (2.5 * self.chroma_spread);
        let dy = (y - self.luma).min(0.0) / (2.5 * self.luma_spread);
        (-0.5 * (dc * dc + dy * dy)).exp()
    }
}
