//! How one clip gives way to the next over the frames they share.

use std::str::FromStr;

use reel_image::Image;

use crate::ClipError;
use crate::flow::Pyramid;
use crate::morph::Morph;
use crate::retime::Between;

/// A transition between two clips.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    /// The next clip starts where the last one ends; no frame shared.
    Cut,
    /// The two pictures dissolve into each other.
    Crossfade,
    /// The next picture slides in over the last from the left, behind a soft edge.
    Wipe,
    /// The last picture moves into the next along the dense optical flow between them (each
    /// pair of frames of the overlap), as frames between two frames of one clip are made.
    Flow,
    /// Where both pictures show a face, the faces morph into each other (their meshes moved
    /// to the one between, the pictures dissolved); the rest dissolves.
    Morph,
}

impl FromStr for Transition {
    type Err = String;

    fn from_str(s: &str) -> Result<Transition, String> {
        Ok(match s {
            "cut" => Transition::Cut,
            "crossfade" | "dissolve" => Transition::Crossfade,
            "wipe" => Transition::Wipe,
            "flow" => Transition::Flow,
            "morph" => Transition::Morph,
            other => {
                return Err(format!(
                    "unknown transition {other}; use cut, crossfade, wipe, flow or morph"
                ));
            }
        })
    }
}

impl Transition {
    pub fn name(self) -> &'static str {
        match self {
            Transition::Cut => "cut",
            Transition::Crossfade => "crossfade",
            Transition::Wipe => "wipe",
            Transition::Flow => "flow",
            Transition::Morph => "morph",
        }
    }

    /// Writes into `out` the frame `progress` (0 to 1, exclusive) of the way from `from` to
    /// `to`; all three are RGB frames of `width` pixels a row. (A flow transition needs the
    /// motion between the two, and a morph their faces, which a [`Mixer`] keeps; here they
    /// dissolve.)
    pub fn blend(self, from: &[u8], to: &[u8], width: usize, progress: f32, out: &mut [u8]) {
        match self {
            Transition::Cut => out.copy_from_slice(if progress < 0.5 { from } else { to }),
            Transition::Crossfade | Transition::Flow | Transition::Morph => {
                mix(from, to, progress, out)
            }
            Transition::Wipe => wipe(from, to, width, progress, out),
        }
    }
}

/// Frames smaller than this on a side are dissolved: too small for their motion to be followed.
pub const MIN_FLOW_SIDE: usize = 32;

/// The width of the flow between two shots' frames: coarse enough to stay smooth.
const SHOT_FLOW_WIDTH: usize = 64;

/// Makes the frames of a transition, with what the flow transition keeps between them.
pub struct Mixer {
    transition: Transition,
    flow: Option<FlowMix>,
    morph: Option<Morph>,
}

struct FlowMix {
    between: Between,
    pyramids: [Pyramid; 2],
}

impl Mixer {
    /// A mixer for `transition` (a morph loads the face models: it fails where they are not
    /// installed).
    pub fn new(transition: Transition, threads: usize) -> Result<Mixer, ClipError> {
        let flow = (transition == Transition::Flow).then(|| FlowMix {
            between: Between::between_shots(SHOT_FLOW_WIDTH, threads),
            pyramids: [Pyramid::default(), Pyramid::default()],
        });
        let morph = match transition {
            Transition::Morph => Some(Morph::new()?),
            _ => None,
        };
        Ok(Mixer {
            transition,
            flow,
            morph,
        })
    }

    /// The frame `progress` of the way from `from` to `to` (RGB frames of one size) into `out`.
    pub fn mix(
        &mut self,
        from: &Image,
        to: &Image,
        progress: f32,
        out: &mut Image,
    ) -> Result<(), ClipError> {
        if let Some(morph) = &mut self.morph {
            return Ok(morph.mix(from, to, progress, out)?);
        }
        let small = from.width.min(from.height) < MIN_FLOW_SIDE;
        let Some(flow) = self.flow.as_mut().filter(|_| !small) else {
            out.reshape(from.width, from.height);
            self.transition
                .blend(&from.data, &to.data, from.width, progress, &mut out.data);
            return Ok(());
        };
        let (w, h) = (from.width, from.height);
        let levels = flow.between.pyramid_levels(w, h);
        let [pa, pb] = &mut flow.pyramids;
        pa.build(&from.data, w, h, levels);
        pb.build(&to.data, w, h, levels);
        flow.between.measure(pa, pb);
        flow.between.make(from, to, progress, out);
        Ok(())
    }
}

/// `from` and `to` mixed at `weight` of `to`, rounded.
pub(crate) fn mix(from: &[u8], to: &[u8], weight: f32, out: &mut [u8]) {
    // In 1/256 steps: exact integer arithmetic the compiler vectorises.
    let w = (weight.clamp(0.0, 1.0) * 256.0).round() as u32;
    for ((o, &a), &b) in out.iter_mut().zip(from).zip(to) {
        *o = ((a as u32 * (256 - w) + b as u32 * w + 128) >> 8) as u8;
    }
}

/// The edge's softness, as a share of the width.
const WIPE_SOFTNESS: f32 = 0.06;

fn wipe(from: &[u8], to: &[u8], width: usize, progress: f32, out: &mut [u8]) {
    let soft = (WIPE_SOFTNESS * width as f32).max(1.0);
    // The edge travels from fully left of the picture to fully right of it.
    let edge = progress * (width as f32 + soft) - soft / 2.0;
    let weights: Vec<f32> = (0..width)
        .map(|x| (0.5 - (x as f32 + 0.5 - edge) / soft).clamp(0.0, 1.0))
        .collect();
    let row = width * 3;
    for ((o, a), b) in out
        .chunks_exact_mut(row)
        .zip(from.chunks_exact(row))
        .zip(to.chunks_exact(row))
    {
        for (x, &w) in weights.iter().enumerate() {
            let p = x * 3;
            mix(&a[p..p + 3], &b[p..p + 3], w, &mut o[p..p + 3]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crossfade_is_the_weighted_mean() {
        let (a, b) = (vec![0u8, 100, 255], vec![255u8, 200, 0]);
        let mut out = vec![0u8; 3];
        Transition::Crossfade.blend(&a, &b, 1, 0.25, &mut out);
        assert_eq!(out, vec![64, 125, 191]);
    }

    #[test]
    fn the_wipe_edge_moves_left_to_right() {
        let width = 100;
        let (a, b) = (vec![0u8; width * 3], vec![200u8; width * 3]);
        let mut out = vec![0u8; width * 3];
        let mut last_edge = 0;
        for step in 1..10 {
            Transition::Wipe.blend(&a, &b, width, step as f32 / 10.0, &mut out);
            // Left of the edge is the new picture, right of it the old.
            let edge = out.chunks(3).position(|p| p[0] < 100).unwrap_or(width);
            assert!(
                edge > last_edge,
                "step {step}: edge {edge} after {last_edge}"
            );
            assert_eq!(out[0], if edge > 3 { 200 } else { out[0] });
            assert_eq!(
                out[(width - 1) * 3],
                if edge < width - 4 {
                    0
                } else {
                    out[(width - 1) * 3]
                }
            );
            last_edge = edge;
        }
    }
}
