//! A clip made longer: new frames generated from its last frame (or, backward, ending on its
//! first), passes chained for lengths beyond one generation, then joined to the clip with a
//! cut; the clip's sound kept under its own frames.

use std::path::{Path, PathBuf};

use reel_clips::{JoinReport, JoinSettings, Output, Transition, join};
use reel_diffusion::pipelines::wan::{Noise, Request, WanVideo};
use reel_image::Image;
use reel_video::{Fit, probe};

use crate::GenerateError;
use crate::frames::{Event, first_frame, render, scan, to_size};
use crate::scratch::Scratch;
use crate::windows::covering;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// After the clip's last frame.
    Forward,
    /// Before its first (a model that conditions on a last frame: Wan2.1 I2V/FLF2V).
    Backward,
}

#[derive(Debug, Clone, Copy)]
pub struct ExtendSettings {
    pub seconds: f64,
    pub direction: Direction,
    /// Frames one generation makes at most (4k+1); longer extensions chain generations, each
    /// from the last frame of the one before.
    pub pass_frames: usize,
}

#[derive(Debug, Clone)]
pub struct ExtendReport {
    pub join: JoinReport,
    /// Frames made by the model.
    pub generated: u64,
    pub passes: usize,
}

/// The new frames a length in seconds comes to at `rate` (at least one), refusing lengths that
/// make none.
pub fn frames_for_seconds(seconds: f64, rate: (i64, i64)) -> Result<usize, GenerateError> {
    let fps = rate.0 as f64 / rate.1.max(1) as f64;
    let frames = (seconds * fps).round();
    if !(seconds.is_finite() && seconds > 0.0 && frames >= 1.0) {
        return Err(GenerateError::Settings(format!(
            "--seconds {seconds}: give a length above 0 (at {fps:.3} fps, one frame is {:.3} s)",
            1.0 / fps
        )));
    }
    if seconds > 3600.0 {
        return Err(GenerateError::Settings(format!(
            "--seconds {seconds}: at most an hour"
        )));
    }
    Ok(frames as usize)
}

/// The frames each pass keeps, in generation order: as many as a pass makes beyond the frame
/// it starts from, the last pass what is left.
fn passes(new: usize, pass_frames: usize) -> Vec<(usize, usize)> {
    let mut left = new;
    let mut plan = Vec::new();
    while left > 0 {
        let frames = pass_frames.min(covering(left + 1));
        let keep = left.min(frames - 1);
        plan.push((frames, keep));
        left -= keep;
    }
    plan
}

/// Extends `clip` into `output` under `base`'s prompt and settings (its size is the size
/// generated at; the new frames take the clip's). Every output frame passes through `mark`.
pub fn extend(
    pipeline: &WanVideo,
    base: &Request,
    clip: &Path,
    settings: &ExtendSettings,
    output: &Output,
    mark: &mut dyn FnMut(&mut Image, f64),
    progress: &mut dyn FnMut(Event) -> bool,
) -> Result<ExtendReport, GenerateError> {
    if settings.pass_frames < 5 || settings.pass_frames % 4 != 1 {
        return Err(GenerateError::Settings(format!(
            "{} frames a generation: give 4k+1, at least 5 (for example 33 or 81)",
            settings.pass_frames
        )));
    }
    let info = probe(clip)?;
    if info.is_still {
        return Err(GenerateError::Settings(format!(
            "{} is a still image; extend takes a video clip (reel gen --image makes one from a still)",
            clip.display()
        )));
    }
    let rate = info.rate();
    let plan = passes(
        frames_for_seconds(settings.seconds, rate)?,
        settings.pass_frames,
    );
    let forward = settings.direction == Direction::Forward;
    let condition = |request: &mut Request, still: Image| {
        if forward {
            request.image = Some(still);
        } else {
            request.last_image = Some(still);
        }
    };
    let mut request = Request {
        frames: plan[0].0,
        ..base.clone()
    };
    condition(&mut request, Image::new(1, 1));
    pipeline.check(&request)?;

    let mut anchor = if forward {
        scan(clip)?.last
    } else {
        first_frame(clip)?
    };
    let (width, height) = (anchor.width, anchor.height);
    let mut scratch = Scratch::new("extend")?;
    let mut pieces: Vec<PathBuf> = Vec::with_capacity(plan.len());
    let mut generated = 0u64;
    for (p, &(frames, keep)) in plan.iter().enumerate() {
        if !progress(Event::Pass {
            index: p,
            of: plan.len(),
        }) {
            return Err(GenerateError::Cancelled);
        }
        request.frames = frames;
        if let Noise::Seed(seed) = base.noise {
            request.noise = Noise::Seed(seed.wrapping_add(p as u64));
        }
        // At the generation size: the pipeline then crops nothing, and the frames made,
        // stretched back to the clip's size, lie exactly over it.
        condition(&mut request, to_size(anchor, base.width, base.height));
        // Forward, frame 0 remakes the anchor; backward, the last frame does.
        let kept = if forward {
            1..1 + keep
        } else {
            frames - 1 - keep..frames - 1
        };
        let mut piece = scratch.sequence(width, height, rate)?;
        let mut next: Option<Image> = None;
        let mut i = 0;
        render(pipeline, &request, progress, |image| {
            if kept.contains(&i) {
                // The next pass starts from the frame the model made, not its resized copy.
                let edge = if forward { kept.end - 1 } else { kept.start };
                if i == edge {
                    next = Some(image.clone());
                }
                piece.write(&to_size(image, width, height))?;
            }
            i += 1;
            Ok(())
        })?;
        generated += piece.written();
        pieces.push(piece.finish()?);
        anchor = next.ok_or_else(|| {
            GenerateError::Settings("the model gave fewer frames than asked for".into())
        })?;
    }
    let clips: Vec<PathBuf> = if forward {
        std::iter::once(clip.to_path_buf()).chain(pieces).collect()
    } else {
        pieces
            .into_iter()
            .rev()
            .chain(std::iter::once(clip.to_path_buf()))
            .collect()
    };
    let report = join_pieces(
        &clips,
        (width, height),
        rate,
        Fit::Crop,
        output,
        mark,
        progress,
    )?;
    Ok(ExtendReport {
        join: report,
        generated,
        passes: plan.len(),
    })
}

/// Joins the user's clips and the generated pieces with cuts, at the user's clip's size and rate.
pub(crate) fn join_pieces(
    clips: &[PathBuf],
    size: (usize, usize),
    rate: (i64, i64),
    fit: Fit,
    output: &Output,
    mark: &mut dyn FnMut(&mut Image, f64),
    progress: &mut dyn FnMut(Event) -> bool,
) -> Result<JoinReport, GenerateError> {
    let settings = JoinSettings {
        transition: Transition::Cut,
        seconds: 0.0,
        size: Some(size),
        rate: Some(rate),
        fit,
    };
    Ok(join(clips, &settings, output, mark, |done, total| {
        progress(Event::Written { done, total })
    })?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_keep_exactly_the_frames_asked_for() {
        assert_eq!(passes(1, 81), [(5, 1)]);
        assert_eq!(passes(4, 81), [(5, 4)]);
        assert_eq!(passes(5, 81), [(9, 5)]);
        assert_eq!(passes(80, 81), [(81, 80)]);
        assert_eq!(passes(100, 81), [(81, 80), (21, 20)]);
        for new in 1..400 {
            let plan = passes(new, 33);
            assert_eq!(plan.iter().map(|p| p.1).sum::<usize>(), new);
            assert!(
                plan.iter()
                    .all(|&(f, k)| f % 4 == 1 && f <= 33 && k < f && k > 0)
            );
        }
    }

    #[test]
    fn seconds_become_frames_at_the_clip_rate() {
        assert_eq!(frames_for_seconds(2.0, (25, 1)).unwrap(), 50);
        assert_eq!(frames_for_seconds(1.0, (30000, 1001)).unwrap(), 30);
        assert!(frames_for_seconds(0.0, (25, 1)).is_err());
        assert!(frames_for_seconds(0.01, (25, 1)).is_err());
        assert!(frames_for_seconds(f64::NAN, (25, 1)).is_err());
    }
}
