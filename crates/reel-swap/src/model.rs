//! The networks, in DeepFaceLab's two designs.
//!
//! - DF: an encoder and a bottleneck ("inter") shared by both people, and a decoder for each.
//!   Swapping decodes person B's code with A's decoder.
//! - LIAE: a shared encoder, two bottlenecks (AB, trained on both people, and B, on B only) and
//!   one decoder. A's faces are drawn from AB's code twice over, B's from B's code beside AB's;
//!   swapping draws B's face from AB's code alone, which the decoder has only ever seen as A.
//!   It keeps more of the target's lighting and expression, at more cost per step.
//!
//! Every decoder gives a face and its mask.

use candle_core::{Module, Result, Tensor};
use candle_nn::{Linear, VarBuilder, linear};
use serde::{Deserialize, Serialize};

use crate::conv::Conv;

/// Which design.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Architecture {
    #[default]
    Df,
    Liae,
}

/// The shape of a model; a checkpoint only loads into the same shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelConfig {
    #[serde(default)]
    pub architecture: Architecture,
    /// Face resolution in pixels (a multiple of 16).
    pub resolution: usize,
    /// Encoder width: channels of its first layer (later layers double it).
    pub encoder_dims: usize,
    /// Bottleneck size.
    pub latent_dims: usize,
    /// Decoder width.
    pub decoder_dims: usize,
}

impl std::fmt::Display for ModelConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let design = match self.architecture {
            Architecture::Df => "df",
            Architecture::Liae => "liae",
        };
        write!(
            f,
            "{design}, {} px, encoder {}, bottleneck {}, decoder {}",
            self.resolution, self.encoder_dims, self.latent_dims, self.decoder_dims
        )
    }
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            architecture: Architecture::Df,
            resolution: 64,
            encoder_dims: 32,
            latent_dims: 256,
            decoder_dims: 32,
        }
    }
}

/// The slope of every hidden layer's leaky ReLU.
const SLOPE: Option<f32> = Some(0.1);

/// Half the size: a 5x5 convolution with stride 2.
fn down(c_in: usize, c_out: usize, vb: VarBuilder) -> Result<Conv> {
    Conv::new(c_in, c_out, 5, (2, 2, 1), SLOPE, vb)
}

/// Twice the size: nearest-neighbour upsampling, then a 3x3 convolution.
fn up(c_in: usize, c_out: usize, vb: VarBuilder) -> Result<Conv> {
    Conv::new(c_in, c_out, 3, (1, 1, 2), SLOPE, vb)
}

/// Faces to features: four halvings.
struct Encoder(Vec<Conv>);

impl Encoder {
    fn new(config: &ModelConfig, vb: VarBuilder) -> Result<Encoder> {
        let e = config.encoder_dims;
        let chans = [3, e, e * 2, e * 4, e * 8];
        let downs = (0..4)
            .map(|i| down(chans[i], chans[i + 1], vb.pp(format!("down{i}"))))
            .collect::<Result<Vec<_>>>()?;
        Ok(Encoder(downs))
    }

    /// Faces (N, 3, R, R) to flat features (N, 8e * (R/16)^2).
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut h = x.clone();
        for d in &self.0 {
            h = d.forward(&h)?;
        }
        h.flatten_from(1)
    }
}

/// The bottleneck: features to a small code and back out to a map of (R/8)^2.
struct Inter {
    to_latent: Linear,
    from_latent: Linear,
    up: Conv,
    lowest: usize,
    channels: usize,
}

impl Inter {
    fn new(config: &ModelConfig, channels: usize, vb: VarBuilder) -> Result<Inter> {
        let lowest = config.resolution / 16;
        let flat = config.encoder_dims * 8 * lowest * lowest;
        Ok(Inter {
            to_latent: linear(flat, config.latent_dims, vb.pp("to_latent"))?,
            from_latent: linear(
                config.latent_dims,
                channels * lowest * lowest,
                vb.pp("from_latent"),
            )?,
            up: up(channels, channels, vb.pp("up"))?,
            lowest,
            channels,
        })
    }

    fn forward(&self, features: &Tensor) -> Result<Tensor> {
        let n = features.dim(0)?;
        let z = self.to_latent.forward(features)?;
        let l = self.lowest;
        let h = self
            .from_latent
            .forward(&z)?
            .reshape((n, self.channels, l, l))?;
        self.up.forward(&h)
    }
}

/// A code map to a face and its mask: three doublings, then one 5x5 convolution giving the
/// three colour channels and the mask together.
struct Decoder {
    ups: Vec<Conv>,
    out: Conv,
}

impl Decoder {
    fn new(c_in: usize, d: usize, vb: VarBuilder) -> Result<Decoder> {
        let chans = [c_in, d * 4, d * 2, d];
        let ups = (0..3)
            .map(|i| up(chans[i], chans[i + 1], vb.pp(format!("up{i}"))))
            .collect::<Result<Vec<_>>>()?;
        Ok(Decoder {
            ups,
            out: Conv::new(d, 4, 5, (1, 2, 1), None, vb.pp("out"))?,
        })
    }

    fn forward(&self, code: &Tensor) -> Result<(Tensor, Tensor)> {
        let mut h = code.clone();
        for u in &self.ups {
            h = u.forward(&h)?;
        }
        let out = candle_nn::ops::sigmoid(&self.out.forward(&h)?)?;
        Ok((out.narrow(1, 0, 3)?, out.narrow(1, 3, 1)?))
    }
}

enum Body {
    Df {
        inter: Inter,
        decoders: [Decoder; 2],
    },
    Liae {
        inter_ab: Inter,
        inter_b: Inter,
        decoder: Decoder,
    },
}

/// A swap model of either design.
pub struct SwapModel {
    pub config: ModelConfig,
    encoder: Encoder,
    body: Body,
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
        let encoder = Encoder::new(&config, vb.pp("encoder"))?;
        let channels = config.decoder_dims * 4;
        let d = config.decoder_dims;
        let body = match config.architecture {
            Architecture::Df => Body::Df {
                inter: Inter::new(&config, channels, vb.pp("inter"))?,
                decoders: [
                    Decoder::new(channels, d, vb.pp("decoder_a"))?,
                    Decoder::new(channels, d, vb.pp("decoder_b"))?,
                ],
            },
            Architecture::Liae => Body::Liae {
                inter_ab: Inter::new(&config, channels, vb.pp("inter_ab"))?,
                inter_b: Inter::new(&config, channels, vb.pp("inter_b"))?,
                decoder: Decoder::new(channels * 2, d, vb.pp("decoder"))?,
            },
        };
        Ok(SwapModel {
            config,
            encoder,
            body,
        })
    }

    /// Faces (N, 3, R, R) in [0, 1] of `person` drawn back as themselves: a face (N, 3, R, R)
    /// and its mask (N, 1, R, R), in [0, 1]. This is what training learns.
    pub fn reconstruct(&self, x: &Tensor, person: Person) -> Result<(Tensor, Tensor)> {
        let features = self.encoder.forward(x)?;
        match &self.body {
            Body::Df { inter, decoders } => {
                decoders[person as usize].forward(&inter.forward(&features)?)
            }
            Body::Liae {
                inter_ab,
                inter_b,
                decoder,
            } => {
                let ab = inter_ab.forward(&features)?;
                let own = match person {
                    Person::A => ab.clone(),
                    Person::B => inter_b.forward(&features)?,
                };
                decoder.forward(&Tensor::cat(&[&own, &ab], 1)?)
            }
        }
    }

    /// Faces of B drawn as A, keeping B's pose, expression and lighting.
    pub fn swap(&self, x: &Tensor) -> Result<(Tensor, Tensor)> {
        let features = self.encoder.forward(x)?;
        match &self.body {
            Body::Df { inter, decoders } => {
                decoders[Person::A as usize].forward(&inter.forward(&features)?)
            }
            Body::Liae {
                inter_ab, decoder, ..
            } => {
                let ab = inter_ab.forward(&features)?;
                decoder.forward(&Tensor::cat(&[&ab, &ab], 1)?)
            }
        }
    }
}
