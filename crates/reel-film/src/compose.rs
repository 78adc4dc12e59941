//! Drawing the film's frames: the shot's picture conformed to the film's size and rate, with its
//! layers faded in while their style is playing. Pictures are read as the shots come, one frame
//! at a time.

use std::path::Path;

use reel_image::Image;
use reel_video::{Conform, ConformedReader, PictureKind, Timestamp};

use crate::FilmError;
use crate::story::{Layer, Node, Picture, Story, sequence_files};
use crate::timeline::{FrameState, Shot};

/// Seconds a layer takes to fade in or out.
const FADE_SECONDS: f32 = 0.5;

pub fn path_of(p: &Picture) -> (&Path, PictureKind) {
    match p {
        Picture::Video(p) => (p, PictureKind::Video),
        Picture::Sequence(p) => (p, PictureKind::Sequence),
        Picture::Still(p) => (p, PictureKind::Still),
    }
}

/// A picture's own length in seconds at the film's rate (None for a still).
pub fn seconds_of(p: &Picture, fps: u32) -> Result<Option<f64>, String> {
    match p {
        Picture::Still(_) => Ok(None),
        Picture::Sequence(pattern) => Ok(Some(sequence_files(pattern).len() as f64 / fps as f64)),
        Picture::Video(path) => {
            let info = reel_video::probe(path).map_err(|e| e.to_string())?;
            info.duration
                .filter(|d| *d > 0.0)
                .map(Some)
                .ok_or_else(|| format!("{}: its length is unknown", path.display()))
        }
    }
}

pub fn parse_size(s: &str) -> Option<(usize, usize)> {
    let (w, h) = s.split_once('x')?;
    let (w, h) = (w.trim().parse().ok()?, h.trim().parse().ok()?);
    (w >= 16 && h >= 16 && w <= 7680 && h <= 4320).then_some((w, h))
}

/// The film's frame size: asked for (`WIDTHxHEIGHT`), or that of the first scene the story
/// declares, made even for the encoder (the same whatever path the music takes).
pub fn frame_size(size: Option<&str>, story: &Story) -> Result<(usize, usize), FilmError> {
    if let Some(s) = size {
        return parse_size(s).ok_or_else(|| {
            FilmError::Settings(format!(
                "--size {s}: give WIDTHxHEIGHT, between 16x16 and 7680x4320"
            ))
        });
    }
    let first = story.order.iter().find_map(|id| match &story.nodes[id] {
        Node::Scene(s) => Some(&s.picture),
        Node::Decision(_) => None,
    });
    let Some(first) = first else {
        return Ok((1280, 720));
    };
    let (path, kind) = path_of(first);
    let info = if kind == PictureKind::Sequence {
        // The first frame stands for the sequence.
        let files = sequence_files(path);
        let file = files
            .first()
            .ok_or_else(|| reel_video::VideoError::Unreadable {
                path: path.to_path_buf(),
                detail: "no frames".into(),
            })?;
        reel_video::probe(file)?
    } else {
        reel_video::probe(path)?
    };
    Ok((info.width & !1, info.height & !1))
}

/// Every picture the story names (scenes and layers), in file order.
pub fn pictures(story: &Story) -> Vec<&Picture> {
    let mut out = Vec::new();
    for id in &story.order {
        if let Node::Scene(s) = &story.nodes[id] {
            out.push(&s.picture);
            out.extend(s.layers.iter().map(|l| &l.picture));
        }
    }
    out
}

/// Opens every picture of the story and decodes its first frame, so that a picture ffmpeg
/// cannot read is reported before anything is rendered.
pub fn check_pictures(story: &Story) -> Result<(), FilmError> {
    let mut problems = Vec::new();
    for picture in pictures(story) {
        let (path, kind) = path_of(picture);
        let mut frame = Vec::new();
        let read = ConformedReader::open(path, kind, &Conform::new(16, 16, story.fps))
            .and_then(|mut r| r.next_frame(&mut frame));
        match read {
            Ok(true) => {}
            Ok(false) => problems.push(format!("{}: no frames", path.display())),
            Err(e) => problems.push(e.to_string()),
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(FilmError::Picture(problems.join("\n")))
    }
}

/// Frame `frame`'s presentation time at `fps`.
pub fn frame_time(frame: u64, fps: u32) -> Timestamp {
    Timestamp {
        pts: frame as i64,
        num: 1,
        den: fps as i64,
    }
}

/// Blends an RGBA layer over an RGB frame at `opacity`.
fn blend(frame: &mut [u8], layer: &[u8], opacity: f32) {
    let o = (opacity.clamp(0.0, 1.0) * 256.0) as u32;
    for (px, lp) in frame.chunks_exact_mut(3).zip(layer.chunks_exact(4)) {
        let a = lp[3] as u32 * o / 255;
        if a == 0 {
            continue;
        }
        for c in 0..3 {
            px[c] = ((px[c] as u32 * (256 - a) + lp[c] as u32 * a) >> 8) as u8;
        }
    }
}

/// Draws the film's frames.
pub struct Compositor {
    width: usize,
    height: usize,
    fps: u32,
    image: Image,
    /// The picture's own frame, kept apart so that layers over a held frame do not compound.
    base: Vec<u8>,
    layer_frame: Vec<u8>,
    /// The shot being drawn (its first frame), its picture, whether the picture has ended, and
    /// its layers with how much each shows.
    shot: Option<u64>,
    picture: Option<ConformedReader>,
    ended: bool,
    layers: Vec<(Layer, ConformedReader, f32)>,
}

impl Compositor {
    pub fn new(width: usize, height: usize, fps: u32) -> Compositor {
        Compositor {
            width,
            height,
            fps,
            image: Image::new(width, height),
            base: vec![0; width * height * 3],
            layer_frame: Vec::new(),
            shot: None,
            picture: None,
            ended: false,
            layers: Vec::new(),
        }
    }

    pub fn draw(&mut self, shot: &Shot, state: &FrameState) -> Result<&Image, FilmError> {
        let (w, h, fps) = (self.width, self.height, self.fps);
        if self.shot != Some(shot.first_frame) {
            let (path, kind) = path_of(&shot.picture);
            self.picture = Some(ConformedReader::open(path, kind, &Conform::new(w, h, fps))?);
            self.ended = false;
            self.layers.clear();
            for l in &shot.layers {
                let (p, k) = path_of(&l.picture);
                let reader = ConformedReader::open(
                    p,
                    k,
                    &Conform {
                        alpha: true,
                        looped: true,
                        ..Conform::new(w, h, fps)
                    },
                )?;
                self.layers.push((l.clone(), reader, 0.0));
            }
            self.shot = Some(shot.first_frame);
        }
        let picture = self.picture.as_mut().expect("opened above");
        // A video shorter than its scene holds its last frame.
        if !self.ended && !picture.next_frame(&mut self.base)? {
            self.ended = true;
        }
        self.image.data.copy_from_slice(&self.base);
        for (layer, reader, shown) in &mut self.layers {
            let target = if state.style == Some(layer.style) {
                layer.opacity
            } else {
                0.0
            };
            let step = layer.opacity / (FADE_SECONDS * fps as f32);
            *shown = if *shown < target {
                (*shown + step).min(target)
            } else {
                (*shown - step).max(target)
            };
            // Layers keep their own time whether shown or not.
            reader.next_frame(&mut self.layer_frame)?;
            if *shown > 0.0 {
                blend(&mut self.image.data, &self.layer_frame, *shown);
            }
        }
        Ok(&self.image)
    }
}
