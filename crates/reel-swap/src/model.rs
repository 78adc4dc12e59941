//! The network: a shared encoder and bottleneck ("inter"), and one decoder per person, each
//! giving a face and its mask.

use candle_core::{Module, Result, Tensor};
use candle_nn::{Conv2d, Conv2dConfig, Linear, VarBuilder, conv2d, linear};
use serde::{Deserialize, Serialize};

/// The shape of a model; a checkpoint only loads into the same shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// Face resolution in pixels (a multiple of 16).
    pub resolution: usize,
    /// Encoder width: channels of its first layer (later layers double it).
    pub encoder_dims: usize,
    /// Bottleneck size.
    pub latent_dims: usize,
    /// Decoder width.
    pub decoder_dims: usize,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            resolution: 64,
            encoder_dims: 32,
            latent_dims: 256,
            decoder_dims: 32,
        }
    }
}

fn lrelu(x: &Tensor) -> Result<Tensor> {
    candle_nn::ops::leaky_relu(x, 0.1)
}

struct Down(Conv2d);

impl Down {
    fn new(c_in: usize, c_out: usize, vb: VarBuilder) -> Result<Down> {
        let cfg = Conv2dConfig {
            padding: 2,
            stride: 2,
            ..Default::default()
        };
        Ok(Down(conv2d(c_in, c_out, 5, cfg, vb)?))
    }
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        lrelu(&self.0.forward(x)?)
    }
}

/// Twice the size: nearest-neighbour upsampling, then a 3x3 convolution.
struct Up(Conv2d);

impl Up {
    fn new(c_in: usize, c_out: usize, vb: VarBuilder) -> Result<Up> {
        let cfg = Conv2dConfig {
            padding: 1,
            ..Default::default()
        };
        Ok(Up(conv2d(c_in, c_out, 3, cfg, vb)?))
    }
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (_, _, h, w) = x.dims4()?;
        lrelu(&self.0.forward(&x.upsample_nearest2d(h * 2, w * 2)?)?)
    }
}

struct Encoder {
    downs: Vec<Down>,
    to_latent: Linear,
    from_latent: Linear,
    lowest: usize,
    channels: usize,
    up: Up,
}

struct Decoder {
    ups: Vec<Up>,
    rgb: Conv2d,
    mask: Conv2d,
}

/// Encoder and inter shared by both people, a decoder each.
pub struct SwapModel {
    pub config: ModelConfig,
    encoder: Encoder,
    decoders: [Decoder; 2],
}

/// Which person a decoder draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Person {
    /// The source: the face to put on.
    A = 0,
    /// The target: the face in the footage.
    B = 1,
}

impl SwapModel {
    pub fn new(config: ModelConfig, vb: VarBuilder) -> Result<SwapModel> {
        let e = config.encoder_dims;
        let chans = [3, e, e * 2, e * 4, e * 8];
        let downs = (0..4)
            .map(|i| Down::new(chans[i], chans[i + 1], vb.pp(format!("encoder.down{i}"))))
            .collect::<Result<Vec<_>>>()?;
        let lowest = config.resolution / 16;
        let flat = chans[4] * lowest * lowest;
        let inter_channels = config.decoder_dims * 4;
        let encoder = Encoder {
            downs,
            to_latent: linear(flat, config.latent_dims, vb.pp("inter.to_latent"))?,
            from_latent: linear(
                config.latent_dims,
                inter_channels * lowest * lowest,
                vb.pp("inter.from_latent"),
            )?,
            lowest,
            channels: inter_channels,
            up: Up::new(inter_channels, inter_channels, vb.pp("inter.up"))?,
        };
        let d = config.decoder_dims;
        let decoder = |name: &str| -> Result<Decoder> {
            let vb = vb.pp(name);
            let chans = [d * 4, d * 4, d * 2, d];
            let ups = (0..3)
                .map(|i| Up::new(chans[i], chans[i + 1], vb.pp(format!("up{i}"))))
                .collect::<Result<Vec<_>>>()?;
            let cfg = Conv2dConfig {
                padding: 2,
                ..Default::default()
            };
            Ok(Decoder {
                ups,
                rgb: conv2d(d, 3, 5, cfg, vb.pp("rgb"))?,
                mask: conv2d(d, 1, 5, cfg, vb.pp("mask"))?,
            })
        };
        Ok(SwapModel {
            config,
            encoder,
            decoders: [decoder("decoder_a")?, decoder("decoder_b")?],
        })
    }

    /// Faces (N, 3, R, R) in [0, 1] to the shared code (N, C, R/8, R/8).
    pub fn encode(&self, x: &Tensor) -> Result<Tensor> {
        let mut h = x.clone();
        for d in &self.encoder.downs {
            h = d.forward(&h)?;
        }
        let n = h.dim(0)?;
        let z = self.encoder.to_latent.forward(&h.flatten_from(1)?)?;
        let l = self.encoder.lowest;
        let h = self
            .encoder
            .from_latent
            .forward(&z)?
            .reshape((n, self.encoder.channels, l, l))?;
        self.encoder.up.forward(&h)
    }

    /// The shared code drawn as `person`: a face (N, 3, R, R) and its mask (N, 1, R, R), in [0, 1].
    pub fn decode(&self, code: &Tensor, person: Person) -> Result<(Tensor, Tensor)> {
        let dec = &self.decoders[person as usize];
        let mut h = code.clone();
        for u in &dec.ups {
            h = u.forward(&h)?;
        }
        Ok((
            candle_nn::ops::sigmoid(&dec.rgb.forward(&h)?)?,
            candle_nn::ops::sigmoid(&dec.mask.forward(&h)?)?,
        ))
    }
}
