//! `reel film`: the AI-directed film. `check` reads a story file and reports every problem in
//! it, with its line and column, or the story's shape when it is sound. `render` plays a
//! recorded performance through the story: the recogniser's readings steer it, and the film has
//! the performance as its soundtrack and a log of each decision beside it.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use reel_film::story::{Layer, Node, Picture};
use reel_film::timeline::{DecisionLog, FrameState, Shot, Timeline};
use reel_film::{Story, plan};
use reel_image::Image;
use reel_music::NoteSettings;
use reel_video::{Codec, ConformedReader, Encoder, EncoderSettings, PictureKind, Timestamp};

use crate::music::{is_midi, music_error, played_notes};
use crate::style::load_recogniser;

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The story file (TOML).
    pub story: PathBuf,
}

fn picture(p: &Picture) -> String {
    match p {
        Picture::Video(p) => format!("video {}", p.display()),
        Picture::Sequence(p) => format!("frames {}", p.display()),
        Picture::Still(p) => format!("still {}", p.display()),
    }
}

pub fn check(args: &CheckArgs, quiet: bool) -> Result<()> {
    let story = Story::load(&args.story)?;
    if quiet {
        return Ok(());
    }
    println!(
        "{}: {} ({} nodes), starts at \"{}\"",
        args.story.display(),
        story.title.as_deref().unwrap_or("untitled"),
        story.order.len(),
        story.start
    );
    for id in &story.order {
        match &story.nodes[id] {
            Node::Scene(s) => {
                let kind = if s.next.is_some() { "scene " } else { "ending" };
                let seconds = s.seconds.map(|v| format!(", {v} s")).unwrap_or_default();
                let next = s
                    .next
                    .as_ref()
                    .map(|n| format!(" -> {n}"))
                    .unwrap_or_default();
                println!("  {kind}   {id}: {}{seconds}{next}", picture(&s.picture));
                for l in &s.layers {
                    println!(
                        "             while {} is heard: {} at {:.0}%",
                        l.style.name(),
                        picture(&l.picture),
                        l.opacity * 100.0
                    );
                }
            }
            Node::Decision(d) => {
                let branches: Vec<String> = d
                    .branches
                    .iter()
                    .map(|(s, n)| format!("{} -> {n}", s.name()))
                    .collect();
                println!(
                    "  decision {id}: listens {} s; {}; otherwise -> {} (confidence {}, hysteresis {}, dwell {} s)",
                    d.listen,
                    branches.join(", "),
                    d.default,
                    d.listening.confidence,
                    d.listening.hysteresis,
                    d.listening.min_dwell
                );
            }
        }
    }
    Ok(())
}

#[derive(Args, Debug)]
pub struct RenderArgs {
    /// The story file (TOML).
    pub story: PathBuf,
    /// The performance: a recording (audio or video) or a MIDI file (played on the SoundFont
    /// piano for the soundtrack).
    #[arg(long)]
    pub audio: PathBuf,
    /// The film to write.
    #[arg(long, short)]
    pub output: PathBuf,
    /// Where to write the decision log (JSON); by default beside the film, as
    /// NAME.decisions.json.
    #[arg(long)]
    pub log: Option<PathBuf>,
    /// Frame size WIDTHxHEIGHT; by default the size of the story's first picture.
    #[arg(long)]
    pub size: Option<String>,
    /// H.264/H.265 quality (constant rate factor; lower is better).
    #[arg(long, default_value_t = 18)]
    pub crf: u8,
    /// A recogniser other than the one `reel style train` made.
    #[arg(long)]
    pub recogniser: Option<PathBuf>,
}

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
        Picture::Sequence(pattern) => Ok(Some(
            reel_film::story::sequence_files(pattern).len() as f64 / fps as f64,
        )),
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

/// The film's frame size: asked for, or that of the first scene the story declares, made even
/// for the encoder (the same whatever path the music takes).
pub fn frame_size(size: Option<&str>, story: &Story) -> Result<(usize, usize)> {
    if let Some(s) = size {
        return parse_size(s).ok_or_else(|| {
            crate::failure::UsageError(format!(
                "--size {s}: give WIDTHxHEIGHT, between 16x16 and 7680x4320"
            ))
            .into()
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
        let files = reel_film::story::sequence_files(path);
        let file = files
            .first()
            .with_context(|| format!("{}: no frames", path.display()))?;
        reel_video::probe(file)?
    } else {
        reel_video::probe(path)?
    };
    Ok((info.width & !1, info.height & !1))
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

/// Seconds a layer takes to fade in or out.
const FADE_SECONDS: f32 = 0.5;

pub fn render(args: &RenderArgs, quiet: bool) -> Result<()> {
    let story = Story::load(&args.story)?;
    let (recogniser, recogniser_path) = load_recogniser(args.recogniser.as_ref())?;
    if !args.audio.exists() {
        return Err(reel_video::VideoError::NotFound(args.audio.clone()).into());
    }
    // What the recogniser hears, every half second of the performance.
    let (notes, seconds) = played_notes(&args.audio, &NoteSettings::default())?;
    let readings = recogniser.over_time(&notes, seconds);
    // The music may keep a story looping: ten minutes past the performance is the limit.
    let timeline = plan(&story, &readings, seconds + 600.0, &mut |p| {
        seconds_of(p, story.fps)
    })?;
    let (width, height) = frame_size(args.size.as_deref(), &story)?;

    // A MIDI performance is played on the piano for the soundtrack.
    let midi = is_midi(&args.audio);
    // Beside the output, named apart from the encoder's partial files (which it clears).
    let name = args
        .output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let rendered = args
        .output
        .with_file_name(format!(".{name}.soundtrack-{}.wav", std::process::id()));
    let soundtrack = if midi {
        let piano = reel_music::Piano::load().map_err(music_error)?;
        let audio = piano
            .render_notes(&notes, reel_music::transcribe::SAMPLE_RATE)
            .map_err(music_error)?;
        std::fs::write(
            &rendered,
            reel_music::wav_bytes(&audio, reel_music::transcribe::SAMPLE_RATE),
        )
        .with_context(|| format!("writing {}", rendered.display()))?;
        rendered.clone()
    } else {
        args.audio.clone()
    };
    let result = encode(args, &timeline, width, height, &soundtrack, quiet);
    if midi {
        let _ = std::fs::remove_file(&rendered);
    }
    result?;

    let log = args.log.clone().unwrap_or_else(|| {
        let stem = args
            .output
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "film".into());
        args.output.with_file_name(format!("{stem}.decisions.json"))
    });
    let json = serde_json::to_vec_pretty(&serde_json::json!({
        "story": args.story,
        "performance": args.audio,
        "performance_seconds": seconds,
        "recogniser": recogniser_path,
        "fps": timeline.fps,
        "frames": timeline.frames,
        "seconds": timeline.frames as f64 / timeline.fps as f64,
        "size": [width, height],
        "path": timeline.shots,
        "decisions": timeline.decisions,
        "style_changes": timeline.changes,
        "readings": readings,
    }))?;
    reel_models::install::write_atomic(&log, &json)?;
    if !quiet {
        print_decisions(&timeline.decisions);
        let path: Vec<&str> = timeline.shots.iter().map(|s| s.node.as_str()).collect();
        eprintln!(
            "{}: {} frames ({:.2} s at {} fps, {}x{}), {}; log {}",
            args.output.display(),
            timeline.frames,
            timeline.frames as f64 / timeline.fps as f64,
            timeline.fps,
            width,
            height,
            path.join(" -> "),
            log.display()
        );
    }
    Ok(())
}

/// One decision as a line: when, which, why, and where it led.
pub fn decision_line(d: &DecisionLog) -> String {
    format!("{:7.2} s  {}: {} -> {}", d.at, d.decision, d.reason, d.next)
}

/// The decisions, a line each, on stderr.
pub fn print_decisions(decisions: &[DecisionLog]) {
    for d in decisions {
        eprintln!("{}", decision_line(d));
    }
}

/// Draws every frame of the film and encodes it with the soundtrack.
fn encode(
    args: &RenderArgs,
    timeline: &Timeline,
    width: usize,
    height: usize,
    soundtrack: &Path,
    quiet: bool,
) -> Result<()> {
    let fps = timeline.fps;
    let settings = EncoderSettings {
        codec: Codec::for_path(&args.output),
        crf: args.crf,
        audio_from: Some(soundtrack.to_path_buf()),
        source: None,
        length: Some(timeline.frames as f64 / fps as f64),
    };
    let mut encoder = Encoder::create(&args.output, width, height, &settings)?;
    let bar = crate::progress::frames(Some(timeline.frames), "film", quiet);
    let mut compositor = Compositor::new(width, height, fps);
    for (index, shot) in timeline.shots.iter().enumerate() {
        for k in 0..shot.frames {
            let frame = shot.first_frame + k;
            let state = FrameState {
                frame,
                shot: index,
                frame_in_shot: k,
                style: timeline.styles[frame as usize],
            };
            let image = compositor.draw(shot, &state)?;
            encoder.write(image, Some(frame_time(frame, fps)))?;
            if !crate::progress::advance(&bar, frame + 1, Some(timeline.frames)) {
                anyhow::bail!(crate::interrupt::Interrupted);
            }
        }
    }
    bar.finish_and_clear();
    encoder.finish()?;
    Ok(())
}

/// Frame `frame`'s presentation time at `fps`.
pub fn frame_time(frame: u64, fps: u32) -> Timestamp {
    Timestamp {
        pts: frame as i64,
        num: 1,
        den: fps as i64,
    }
}

/// Draws the film's frames: the shot's picture, with its layers faded in while their style is
/// playing. Pictures are read as the shots come, one frame at a time.
pub struct Compositor {
    width: usize,
    height: usize,
    fps: u32,
    image: Image,
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
            layer_frame: Vec::new(),
            shot: None,
            picture: None,
            ended: false,
            layers: Vec::new(),
        }
    }

    pub fn draw(&mut self, shot: &Shot, state: &FrameState) -> Result<&Image> {
        let (w, h, fps) = (self.width, self.height, self.fps);
        if self.shot != Some(shot.first_frame) {
            let (path, kind) = path_of(&shot.picture);
            self.picture = Some(ConformedReader::open(path, kind, w, h, fps, false, false)?);
            self.ended = false;
            self.layers.clear();
            for l in &shot.layers {
                let (p, k) = path_of(&l.picture);
                let reader = ConformedReader::open(p, k, w, h, fps, true, true)?;
                self.layers.push((l.clone(), reader, 0.0));
            }
            self.shot = Some(shot.first_frame);
        }
        let picture = self.picture.as_mut().expect("opened above");
        // A video shorter than its scene holds its last frame.
        if !self.ended && !picture.next_frame(&mut self.image.data)? {
            self.ended = true;
        }
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
