//! One frame of an editing command, before and after, at once (no job, nothing written): what
//! the studio shows while settings are tried. The face analysis is kept between previews, so
//! that only the frame's decode, its analysis and the processor are paid for each.

use std::path::Path;

use reel_face::{AnalyzerSettings, FaceAnalyzer};
use reel_image::Image;
use reel_process::Chain;
use reel_video::{Decoder, Frame};
use reel_watermark::Embedder;
use serde_json::Value;

use crate::JobError;
use crate::command::{self, Input, Plan};

pub struct Previewer {
    analyzer: FaceAnalyzer,
}

/// Where a face was in the clip's own analysis: its track id and box.
pub type KnownFace = (u32, [f32; 4]);

/// How much two boxes overlap: their intersection over their union.
fn overlap(a: [f32; 4], b: [f32; 4]) -> f32 {
    let w = (a[0] + a[2]).min(b[0] + b[2]) - a[0].max(b[0]);
    let h = (a[1] + a[3]).min(b[1] + b[3]) - a[1].max(b[1]);
    let inter = w.max(0.0) * h.max(0.0);
    let union = a[2] * a[3] + b[2] * b[3] - inter;
    if union > 0.0 { inter / union } else { 0.0 }
}

impl Previewer {
    pub fn new() -> Result<Previewer, JobError> {
        let mut settings = AnalyzerSettings::default();
        settings.tracker.detect_every_frame = true;
        settings.tracker.reidentify = false;
        settings.tracker.max_faces = 100;
        settings.occlusion = true;
        settings.threads = 2;
        Ok(Previewer {
            analyzer: FaceAnalyzer::new(settings).map_err(reel_process::ProcessError::from)?,
        })
    }

    /// Frame `index` of `input` before and after `command` with `options` (an editing command:
    /// beauty or deage), the after marked with the watermark. A chosen face (`face` in the
    /// options, a track id of the clip's analysis) is found in the frame by where `known` says
    /// it was.
    pub fn frame(
        &mut self,
        command: &str,
        input: &Input,
        options: &Value,
        index: u64,
        known: &[KnownFace],
        library: command::Library,
    ) -> Result<(Image, Image), JobError> {
        let plan = command::plan(
            command,
            std::slice::from_ref(input),
            options,
            library,
            &command::Resources::default(),
        )?;
        let Plan::Edit(edit) = plan else {
            return Err(JobError::Settings(format!(
                "{command} has no preview: a preview is of an editing command (beauty, deage, swap)"
            )));
        };
        let before = decode(input.path, index)?;
        let faces = self
            .analyzer
            .analyze(&before, 0.0)
            .map_err(reel_process::ProcessError::from)?;
        let chosen: Vec<&reel_face::Face> = if edit.faces.is_empty() {
            faces.iter().take(edit.max_faces).collect()
        } else {
            let boxes: Vec<[f32; 4]> = known
                .iter()
                .filter(|(id, _)| edit.faces.contains(id))
                .map(|&(_, b)| b)
                .collect();
            faces
                .iter()
                .filter(|f| boxes.iter().any(|&b| overlap(f.bbox, b) > 0.3))
                .collect()
        };
        let processor = reel_swap::register::registry().build(edit.processor, &edit.settings)?;
        let mut chain = Chain::new().then_boxed(processor);
        let mut after = before.clone();
        if edit.occlusion {
            chain.process(&mut after, &chosen)?;
        } else {
            let bare: Vec<reel_face::Face> = chosen
                .iter()
                .map(|f| reel_face::Face {
                    occlusion: None,
                    ..(*f).clone()
                })
                .collect();
            chain.process(&mut after, &bare.iter().collect::<Vec<_>>())?;
        }
        // Marked at the default strength, without the read-back a written file gets (it would
        // cost a preview most of its time).
        Embedder::new(crate::provenance::new_payload()).mark(&mut after);
        Ok((before, after))
    }
}

/// Frame `index` of a clip (a still's only frame).
pub fn decode(path: &Path, index: u64) -> Result<Image, JobError> {
    let mut decoder = Decoder::open_frame(path, index)?;
    let mut frame = Frame::default();
    if !decoder.next_frame(&mut frame)? {
        return Err(JobError::Settings(format!(
            "{} has no frame {index}",
            path.display()
        )));
    }
    Ok(frame.image)
}

#[cfg(test)]
mod tests {
    use super::overlap;

    #[test]
    fn boxes_overlap_by_their_shared_area() {
        assert_eq!(overlap([0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, 10.0]), 1.0);
        assert_eq!(
            overlap([0.0, 0.0, 10.0, 10.0], [20.0, 0.0, 10.0, 10.0]),
            0.0
        );
        let half = overlap([0.0, 0.0, 10.0, 10.0], [5.0, 0.0, 10.0, 10.0]);
        assert!((half - 50.0 / 150.0).abs() < 1e-6);
    }
}
