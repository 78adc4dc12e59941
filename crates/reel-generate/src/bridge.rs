//! Two clips joined by a generated passage: from the first clip's last frame to the second's
//! first (first-and-last-frame conditioning), then the three parts joined with cuts.

use std::path::Path;

use reel_clips::{JoinReport, Output};
use reel_diffusion::pipelines::wan::{Request, WanVideo};
use reel_image::Image;
use reel_video::{Conform, ConformedReader, Fit, PictureKind, probe};

use crate::GenerateError;
use crate::extend::{frames_for_seconds, join_pieces};
use crate::frames::{Event, render, scan, to_size};
use crate::scratch::Scratch;
use crate::windows::{covering, spread};

#[derive(Debug, Clone, Copy)]
pub struct BridgeSettings {
    /// The passage's length.
    pub seconds: f64,
    /// How the second clip is fitted where its shape is not the first's.
    pub fit: Fit,
    /// Frames one generation makes at most (4k+1).
    pub max_frames: usize,
}

#[derive(Debug, Clone)]
pub struct BridgeReport {
    pub join: JoinReport,
    /// Frames of the passage.
    pub generated: u64,
}

/// Bridges clip `from` to clip `to` into `output` under `base`'s prompt and settings (its size is the
/// size generated at; the passage takes the first clip's size and rate, and the second clip is
/// conformed to them). Every output frame passes through `mark`.
pub fn bridge(
    pipeline: &WanVideo,
    base: &Request,
    [from, to]: [&Path; 2],
    settings: &BridgeSettings,
    output: &Output,
    mark: &mut dyn FnMut(&mut Image, f64),
    progress: &mut dyn FnMut(Event) -> bool,
) -> Result<BridgeReport, GenerateError> {
    let infos = [probe(from)?, probe(to)?];
    for (path, info) in [from, to].iter().zip(&infos) {
        if info.is_still {
            return Err(GenerateError::Settings(format!(
                "{} is a still image; a bridge joins two video clips",
                path.display()
            )));
        }
    }
    let rate = infos[0].rate();
    let new = frames_for_seconds(settings.seconds, rate)?;
    // The passage's frames lie between the two stills the generation starts and ends on.
    let frames = covering(new + 2);
    if frames > settings.max_frames {
        return Err(GenerateError::Settings(format!(
            "a bridge of {new} frames takes a generation of {frames}, more than {} (one \
             generation's most); shorten --seconds",
            settings.max_frames
        )));
    }
    let mut request = Request {
        frames,
        image: Some(Image::new(1, 1)),
        last_image: Some(Image::new(1, 1)),
        ..base.clone()
    };
    pipeline.check(&request)?;

    let last = scan(from)?.last;
    // The second clip read through too: a damaged one is refused before anything is generated.
    scan(to)?;
    let (width, height) = (last.width, last.height);
    // The second clip's first frame as the join will show it.
    let conform = Conform {
        width,
        height,
        rate,
        fit: settings.fit,
        alpha: false,
        looped: false,
    };
    let mut reader = ConformedReader::open(to, PictureKind::Video, &conform)?;
    let mut data = Vec::new();
    if !reader.next_frame(&mut data)? {
        return Err(GenerateError::Settings(format!(
            "{} holds no frames",
            to.display()
        )));
    }
    drop(reader);
    // At the generation size: the pipeline then crops nothing, and the passage, stretched back
    // to the clip's size, meets both clips exactly.
    let (gw, gh) = (request.width, request.height);
    request.image = Some(to_size(last, gw, gh));
    request.last_image = Some(to_size(
        Image {
            width,
            height,
            data,
        },
        gw,
        gh,
    ));

    let mut scratch = Scratch::new("bridge")?;
    let mut piece = scratch.sequence(width, height, rate)?;
    let kept = spread(new, 1..frames - 1);
    if !progress(Event::Pass { index: 0, of: 1 }) {
        return Err(GenerateError::Cancelled);
    }
    let mut i = 0;
    render(pipeline, &request, progress, |image| {
        if kept.binary_search(&i).is_ok() {
            piece.write(&to_size(image, width, height))?;
        }
        i += 1;
        Ok(())
    })?;
    let generated = piece.written();
    let clips = [from.to_path_buf(), piece.finish()?, to.to_path_buf()];
    let join = join_pieces(
        &clips,
        (width, height),
        rate,
        settings.fit,
        output,
        mark,
        progress,
    )?;
    Ok(BridgeReport { join, generated })
}
