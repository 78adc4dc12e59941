//! Decoding in spatial tiles, as diffusers' `tiled_decode` does, for frames too large to decode
//! whole: the latent is cut into overlapping tiles, each decoded through all its frames with
//! its own causal caches (one tile's caches and activations in memory at a time, whatever the
//! frame size), and each tile blended linearly into the ones above and to its left over the
//! overlap.

use candle_core::{DType, Tensor};

use super::WanVaeDecoder;
use crate::error::{DiffusionError, Result};

/// Tile size and stride in output pixels (diffusers' defaults: 256 and 192).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tiling {
    pub tile: usize,
    pub stride: usize,
}

impl Default for Tiling {
    fn default() -> Self {
        Tiling {
            tile: 256,
            stride: 192,
        }
    }
}

/// What a tiled decoding reports, in order: each tile decoded, then the frames.
pub enum Decoded<'a> {
    Tile {
        done: usize,
        total: usize,
    },
    /// The next latent frame's frames, as [`WanVaeDecoder::decode_frame`] returns them.
    Frames(&'a Tensor),
}

/// A decoder for latents of one size, in tiles.
pub struct TiledDecoder {
    decoder: WanVaeDecoder,
    /// The tiles' latent windows (top, left, height, width), row by row.
    windows: Vec<Vec<[usize; 4]>>,
    /// In the decoder's own output (pixel patches for Wan2.2): the stride kept of each tile,
    /// the overlap blended, and the whole frame's size.
    stride: usize,
    blend: usize,
    size: (usize, usize),
}

impl Tiling {
    /// Checks the tiles against a VAE's spatial factor.
    pub fn check(&self, spatial_factor: usize) -> Result<()> {
        let s = spatial_factor;
        if self.stride == 0
            || self.tile < self.stride
            || !self.tile.is_multiple_of(s)
            || !self.stride.is_multiple_of(s)
        {
            return Err(DiffusionError::Usage(format!(
                "tiles of {} pixels every {}: both must be multiples of {s}, the stride no larger",
                self.tile, self.stride
            )));
        }
        Ok(())
    }
}

impl WanVaeDecoder {
    /// This decoder, for latents of `height`×`width`, in tiles. Latents no larger than a tile
    /// are decoded whole, as diffusers does.
    pub fn tiled(&self, height: usize, width: usize, tiling: Tiling) -> Result<TiledDecoder> {
        let s = self.config().spatial_factor();
        let p = self.config().patch();
        tiling.check(s)?;
        let (tile, stride) = (tiling.tile / s, tiling.stride / s);
        let windows = if height <= tile && width <= tile {
            vec![vec![[0, 0, height, width]]]
        } else {
            (0..height)
                .step_by(stride)
                .map(|top| {
                    (0..width)
                        .step_by(stride)
                        .map(|left| [top, left, tile.min(height - top), tile.min(width - left)])
                        .collect()
                })
                .collect()
        };
        let mut decoder = self.clone();
        decoder.reset();
        Ok(TiledDecoder {
            decoder,
            windows,
            stride: tiling.stride / p,
            blend: tiling.tile / p - tiling.stride / p,
            size: (height * s / p, width * s / p),
        })
    }
}

impl TiledDecoder {
    /// How many tiles a frame is cut into.
    pub fn tiles(&self) -> usize {
        self.windows.iter().map(Vec::len).sum()
    }

    /// Decodes the latent video `z` (channels, frames, height, width), denormalised, a tile at a
    /// time through all its frames (so that one tile's caches and activations are held at
    /// once, as in diffusers), then the video one latent frame's chunk at a time, the tiles
    /// blended; `on` hears of both. Between the two, the decoded tiles are held: about 1.8
    /// times the video's own size in f32.
    pub fn decode(&mut self, z: &Tensor, mut on: impl FnMut(Decoded) -> Result<()>) -> Result<()> {
        let total = self.tiles();
        let latent_frames = z.dim(1)?;
        let mut chunks: Vec<usize> = Vec::with_capacity(latent_frames);
        let mut decoded: Vec<Vec<Tensor>> = Vec::with_capacity(self.windows.len());
        let mut done = 0;
        for row in &self.windows {
            let mut tiles = Vec::with_capacity(row.len());
            for &[top, left, h, w] in row {
                self.decoder.reset();
                let window = z.narrow(2, top, h)?.narrow(3, left, w)?;
                let mut parts = Vec::with_capacity(latent_frames);
                for k in 0..latent_frames {
                    let part = self
                        .decoder
                        .decode_raw(&window.narrow(1, k, 1)?.squeeze(1)?)?;
                    if done == 0 {
                        chunks.push(part.dim(0)?);
                    }
                    parts.push(part);
                }
                tiles.push(Tensor::cat(&parts, 0)?);
                done += 1;
                on(Decoded::Tile { done, total })?;
            }
            decoded.push(tiles);
        }
        self.decoder.reset();
        let mut start = 0;
        for n in chunks {
            let chunk = self.stitch(&decoded, start, n)?;
            on(Decoded::Frames(&self.decoder.finish(&chunk)?))?;
            start += n;
        }
        Ok(())
    }

    /// Frames `start..start + n` of the decoded tiles, blended into whole frames.
    fn stitch(&self, decoded: &[Vec<Tensor>], start: usize, n: usize) -> Result<Tensor> {
        let mut above: Vec<Tensor> = Vec::new();
        let mut rows = Vec::with_capacity(decoded.len());
        for row in decoded {
            let mut done: Vec<Tensor> = Vec::with_capacity(row.len());
            for (j, tile) in row.iter().enumerate() {
                let mut tile = tile.narrow(0, start, n)?;
                // Blended with the tiles above and to the left as they were blended themselves.
                if let Some(up) = above.get(j) {
                    tile = blend(up, &tile, self.blend, 2)?;
                }
                if let Some(previous) = done.last() {
                    tile = blend(previous, &tile, self.blend, 3)?;
                }
                done.push(tile);
            }
            let kept = done
                .iter()
                .map(|t| {
                    let h = t.dim(2)?.min(self.stride);
                    let w = t.dim(3)?.min(self.stride);
                    t.narrow(2, 0, h)?.narrow(3, 0, w)
                })
                .collect::<candle_core::Result<Vec<_>>>()?;
            rows.push(Tensor::cat(&kept, 3)?);
            above = done;
        }
        let frame = Tensor::cat(&rows, 2)?;
        Ok(frame.narrow(2, 0, self.size.0.min(frame.dim(2)?))?.narrow(
            3,
            0,
            self.size.1.min(frame.dim(3)?),
        )?)
    }
}

/// `b` with its first `extent` rows (`axis` 2) or columns (3) faded in from the last ones of
/// `a`: diffusers' `blend_v` and `blend_h`.
fn blend(a: &Tensor, b: &Tensor, extent: usize, axis: usize) -> Result<Tensor> {
    let extent = extent.min(a.dim(axis)?).min(b.dim(axis)?);
    if extent == 0 {
        return Ok(b.clone());
    }
    let ramp: Vec<f32> = (0..extent).map(|y| y as f32 / extent as f32).collect();
    let mut shape = [1usize; 4];
    shape[axis] = extent;
    let ramp = Tensor::from_vec(ramp, &shape, b.device())?.to_dtype(DType::F32)?;
    let tail = a.narrow(axis, a.dim(axis)? - extent, extent)?;
    let head = b.narrow(axis, 0, extent)?;
    let mixed = (tail.broadcast_mul(&(1.0 - &ramp)?)? + head.broadcast_mul(&ramp)?)?;
    let rest = b.dim(axis)? - extent;
    Ok(if rest == 0 {
        mixed
    } else {
        Tensor::cat(&[&mixed, &b.narrow(axis, extent, rest)?], axis)?
    })
}
