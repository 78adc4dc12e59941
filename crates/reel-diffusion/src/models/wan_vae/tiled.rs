//! Decoding in spatial tiles, as diffusers' `tiled_decode` does, for frames too large to decode
//! whole: the latent is cut into overlapping tiles, each decoded by its own streaming decoder
//! (its own causal caches), and each tile blended linearly into the ones above and to its left
//! over the overlap. Memory is then one tile's activations, whatever the frame size. Streaming
//! is kept: every latent frame is decoded in all its tiles and stitched before the next.

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

/// A decoder for latents of one size, in tiles.
pub struct TiledDecoder {
    /// The tiles' decoders, row by row, and each one's latent window (top, left, height, width).
    tiles: Vec<Vec<(WanVaeDecoder, [usize; 4])>>,
    /// In the decoder's own output (pixel patches for Wan2.2): the stride kept of each tile,
    /// the overlap blended, and the whole frame's size.
    stride: usize,
    blend: usize,
    size: (usize, usize),
}

impl WanVaeDecoder {
    /// This decoder, for latents of `height`×`width`, in tiles.
    pub fn tiled(&self, height: usize, width: usize, tiling: Tiling) -> Result<TiledDecoder> {
        let s = self.config().spatial_factor();
        let p = self.config().patch();
        let (tile, stride) = (tiling.tile / s, tiling.stride / s);
        if stride == 0
            || tile < stride
            || !tiling.tile.is_multiple_of(s)
            || !tiling.stride.is_multiple_of(s)
        {
            return Err(DiffusionError::Usage(format!(
                "tiles of {} pixels every {}: both must be multiples of {s}, the stride no larger",
                tiling.tile, tiling.stride
            )));
        }
        let mut fresh = self.clone();
        fresh.reset();
        let tiles = (0..height)
            .step_by(stride)
            .map(|top| {
                (0..width)
                    .step_by(stride)
                    .map(|left| {
                        let window = [top, left, tile.min(height - top), tile.min(width - left)];
                        (fresh.clone(), window)
                    })
                    .collect()
            })
            .collect();
        Ok(TiledDecoder {
            tiles,
            stride: tiling.stride / p,
            blend: tiling.tile / p - tiling.stride / p,
            size: (height * s / p, width * s / p),
        })
    }
}

impl TiledDecoder {
    /// As [`WanVaeDecoder::decode_frame`], tile by tile.
    pub fn decode_frame(&mut self, latent: &Tensor) -> Result<Tensor> {
        let mut above: Vec<Tensor> = Vec::new();
        let mut rows = Vec::with_capacity(self.tiles.len());
        for row in &mut self.tiles {
            let mut done: Vec<Tensor> = Vec::with_capacity(row.len());
            for (j, (decoder, [top, left, h, w])) in row.iter_mut().enumerate() {
                let window = latent.narrow(1, *top, *h)?.narrow(2, *left, *w)?;
                let mut tile = decoder.decode_raw(&window)?;
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
        let frame = frame.narrow(2, 0, self.size.0.min(frame.dim(2)?))?.narrow(
            3,
            0,
            self.size.1.min(frame.dim(3)?),
        )?;
        let first = &self.tiles[0][0].0;
        first.finish(&frame)
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
