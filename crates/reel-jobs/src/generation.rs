//! The jobs that generate, with the model folder the front end was started with: text or a
//! still to video, and clips restyled, extended or bridged, and part of a still animated,
//! through `reel-generate` as the command line runs them, with the command line's option names
//! and defaults.

use std::path::{Path, PathBuf};

use reel_clips::Output;
use reel_credentials::SourceType;
use reel_generate::{
    AnimateSettings, BridgeSettings, Direction, Engine, EngineSettings, ExtendSettings, Fraction,
    RestyleSettings, VideoSettings,
};
use reel_video::{Codec, Fit};
use serde_json::{Map, Value, json};

use crate::JobError;
use crate::command::{Input, Library, Outcome, flag, named, number, only, settings, text, whole};
use crate::provenance::{Provenance, Signing};
use crate::store::MediaKind;

/// The commands that generate, with what each does, offered where a model folder is set.
pub const GENERATING: [(&str, &str); 5] = [
    (
        "generate",
        "text to video, or a still to video (or a seamless loop), with the model",
    ),
    (
        "restyle",
        "the clip redrawn as the prompt says, its layout and motion kept",
    ),
    (
        "extend",
        "more of the clip, generated after its last frame (or before its first)",
    ),
    ("bridge", "a generated passage from the clip into the next"),
    (
        "animate",
        "part of a still brought to life (click it on the still), the rest held",
    ),
];

/// The model's and the sampler's options, taken by every generating command.
const ENGINE: [&str; 9] = [
    "prompt",
    "negative",
    "size",
    "steps",
    "guidance",
    "guidance_low",
    "shift",
    "scheduler",
    "seed",
];

/// Each command's own options, after the engine's.
fn own(command: &str) -> &'static [&'static str] {
    match command {
        "generate" => &["image", "frames", "fps", "loop"],
        "restyle" => &["strength", "window", "overlap"],
        "extend" => &["seconds", "backward", "pass_frames"],
        "bridge" => &["then", "seconds", "fit", "max_frames"],
        _ => &[
            "click",
            "mask",
            "tolerance",
            "by_colour",
            "feather",
            "frames",
            "fps",
        ],
    }
}

/// The settings of a generating command as the page shows them: name, help, default, and for
/// those that name other media, which kind.
pub fn described(command: &str) -> Value {
    let prompt = match command {
        "extend" => "the scene continues naturally",
        "bridge" => "a smooth, continuous transition between the two shots",
        _ => "",
    };
    let mut all = vec![
        json!({"name": "prompt", "help": "what the model should make", "default": prompt}),
        json!({"name": "negative", "help": "what to steer away from", "default": ""}),
    ];
    let mine: Vec<Value> = match command {
        "generate" => vec![
            json!({"name": "image", "help": "the first frame (image to video); none: text to video", "default": null, "media": "image", "optional": true}),
            json!({"name": "frames", "help": "frames, 4k+1 (1 makes a still)", "default": 81}),
            json!({"name": "fps", "help": "frames a second", "default": 16}),
            json!({"name": "loop", "help": "end where it began, on the image", "default": false}),
        ],
        "restyle" => vec![
            json!({"name": "strength", "help": "near 0 keeps the clip, 1 generates afresh", "default": 0.6}),
            json!({"name": "window", "help": "frames restyled together (4k+1)", "default": 81}),
            json!({"name": "overlap", "help": "frames each window shares with the one before", "default": 8}),
        ],
        "extend" => vec![
            json!({"name": "seconds", "help": "how much to add", "default": 2}),
            json!({"name": "backward", "help": "add before the first frame instead (a Wan2.1 image-to-video folder)", "default": false}),
            json!({"name": "pass_frames", "help": "frames one generation makes at most (4k+1)", "default": 81}),
        ],
        "bridge" => vec![
            json!({"name": "then", "help": "the clip after the passage", "default": null, "media": "video"}),
            json!({"name": "seconds", "help": "the passage's length", "default": 2}),
            json!({"name": "fit", "help": "a second clip of another shape: crop or pad", "default": "crop"}),
            json!({"name": "max_frames", "help": "frames one generation makes at most (4k+1)", "default": 81}),
        ],
        _ => vec![
            json!({"name": "click", "help": "points of the region that moves, X,Y in the still's pixels (click the still)", "default": ""}),
            json!({"name": "mask", "help": "or the region as a mask image (white moves)", "default": null, "media": "image", "optional": true}),
            json!({"name": "tolerance", "help": "how different a colour may be and join the region (CIELAB ΔE)", "default": 12}),
            json!({"name": "by_colour", "help": "grow every click by its colour, even on a face or a person", "default": false}),
            json!({"name": "feather", "help": "how far inside the edge the motion fades in, in pixels", "default": 8}),
            json!({"name": "frames", "help": "frames, 4k+1", "default": 81}),
            json!({"name": "fps", "help": "frames a second", "default": 16}),
        ],
    };
    all.extend(mine);
    all.extend([
        json!({"name": "steps", "help": "denoising steps", "default": 50}),
        json!({"name": "guidance", "help": "classifier-free guidance scale (1 turns it off)", "default": 5}),
        json!({"name": "seed", "help": "the noise's seed (empty: a fresh one)", "default": null}),
        json!({"name": "size", "help": "WIDTHxHEIGHT generated at (empty: the picture's shape)", "default": ""}),
        json!({"name": "scheduler", "help": "unipc or euler (empty: the folder's)", "default": ""}),
    ]);
    Value::from(all)
}

/// Held by the generating job that runs (the others wait their turn).
static GENERATING_NOW: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// What a generating job does, checked.
#[derive(Debug)]
enum Task {
    Video {
        image: Option<(PathBuf, String)>,
        frames: usize,
        settings: VideoSettings,
    },
    Restyle(RestyleSettings),
    Extend(ExtendSettings),
    Bridge(BridgeSettings),
    Animate {
        settings: AnimateSettings,
        clicks: Vec<(usize, usize)>,
        mask: Option<(PathBuf, String)>,
        tolerance: f32,
        by_colour: bool,
    },
}

/// A generating job checked and ready to run.
#[derive(Debug)]
pub struct Generation {
    prompt: String,
    engine: EngineSettings,
    task: Task,
}

/// A frame count the model makes (4k+1, at least `least`); others are refused, not rounded.
fn four_k_plus_one(name: &str, frames: u64, least: u64) -> Result<usize, JobError> {
    if frames < least || frames % 4 != 1 {
        return Err(settings(format!(
            "{name} {frames}: the model makes 4k+1 frames (for example 33 or 81)"
        )));
    }
    Ok(frames as usize)
}

/// Checks a generating `command` with `options` for `inputs`, to run with the folder `model`.
pub fn plan(
    command: &str,
    inputs: &[Input],
    options: &Map<String, Value>,
    library: Library,
    model: Option<&Path>,
) -> Result<Generation, JobError> {
    let Some(model) = model else {
        return Err(settings(format!(
            "{command} needs a generation model: start the studio with --model DIR (a Wan \
             model in the diffusers layout)"
        )));
    };
    let known: Vec<&str> = ENGINE.iter().chain(own(command)).copied().collect();
    only(command, options, &known)?;
    let clips = |count: usize, what: &str| -> Result<(), JobError> {
        if inputs.len() != count {
            return Err(settings(format!(
                "{command} takes {what}, not {} input{}",
                inputs.len(),
                if inputs.len() == 1 { "" } else { "s" }
            )));
        }
        if let Some(still) = inputs.iter().find(|i| i.is_still()) {
            return Err(settings(format!(
                "{} is a still image; {command} takes a video clip",
                still.path.display()
            )));
        }
        Ok(())
    };
    let image = |name: &str| -> Result<Option<(PathBuf, String)>, JobError> {
        match options.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => named(library, name, v, MediaKind::Image).map(|f| Some((f.path, f.name))),
        }
    };
    let prompt = text(options, "prompt")?.unwrap_or_else(|| match command {
        "extend" => "the scene continues naturally".into(),
        "bridge" => "a smooth, continuous transition between the two shots".into(),
        _ => String::new(),
    });
    if prompt.trim().is_empty() {
        return Err(settings(format!(
            "{command} needs a prompt: what the model should make"
        )));
    }
    let mut engine = EngineSettings::new(model.to_path_buf());
    engine.negative = text(options, "negative")?.unwrap_or_default();
    engine.size = text(options, "size")?
        .filter(|s| !s.is_empty())
        .map(|s| reel_generate::engine::parse_size(&s))
        .transpose()
        .map_err(|e| settings(e.to_string()))?;
    engine.steps = whole(options, "steps", 1..=1000)?.unwrap_or(50) as usize;
    engine.guidance = number(options, "guidance")?.unwrap_or(5.0);
    engine.guidance_low = number(options, "guidance_low")?;
    engine.shift = number(options, "shift")?;
    if !(1.0..=30.0).contains(&engine.guidance)
        || engine
            .guidance_low
            .is_some_and(|g| !(1.0..=30.0).contains(&g))
    {
        return Err(settings("guidance must be from 1 to 30"));
    }
    engine.scheduler = text(options, "scheduler")?
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(settings))
        .transpose()?;
    engine.seed = whole(options, "seed", 0..=u64::MAX)?;
    let seconds = |default: f64| -> Result<f64, JobError> {
        let s = number(options, "seconds")?.unwrap_or(default);
        if !(s > 0.0 && s <= 600.0) {
            return Err(settings(format!(
                "seconds {s}: give a length above 0 (at most 600)"
            )));
        }
        Ok(s)
    };
    let fps =
        || -> Result<u32, JobError> { Ok(whole(options, "fps", 1..=240)?.unwrap_or(16) as u32) };
    let task = match command {
        "generate" => {
            if !inputs.is_empty() {
                return Err(settings(
                    "generate takes no input clip; give a still as image (a media id) for image to video",
                ));
            }
            let image = image("image")?;
            let looped = flag(options, "loop")?;
            if looped && image.is_none() {
                return Err(settings(
                    "a loop needs image: the still it begins and ends on",
                ));
            }
            let frames = four_k_plus_one(
                "frames",
                whole(options, "frames", 1..=1001)?.unwrap_or(81),
                if looped { 5 } else { 1 },
            )?;
            Task::Video {
                image,
                frames,
                settings: VideoSettings {
                    fps: fps()?,
                    looped,
                },
            }
        }
        "restyle" => {
            clips(1, "one clip")?;
            let strength = number(options, "strength")?.unwrap_or(0.6);
            if !(strength > 0.0 && strength <= 1.0) {
                return Err(settings(format!(
                    "strength {strength}: give a strength above 0, at most 1"
                )));
            }
            let window = four_k_plus_one(
                "window",
                whole(options, "window", 1..=1001)?.unwrap_or(81),
                5,
            )?;
            let overlap = whole(options, "overlap", 0..=500)?.unwrap_or(8) as usize;
            if overlap > window / 2 {
                return Err(settings(format!(
                    "overlap {overlap} is more than half of window {window}"
                )));
            }
            Task::Restyle(RestyleSettings {
                strength,
                window,
                overlap,
            })
        }
        "extend" => {
            clips(1, "one clip")?;
            Task::Extend(ExtendSettings {
                seconds: seconds(2.0)?,
                direction: if flag(options, "backward")? {
                    Direction::Backward
                } else {
                    Direction::Forward
                },
                pass_frames: four_k_plus_one(
                    "pass_frames",
                    whole(options, "pass_frames", 1..=1001)?.unwrap_or(81),
                    5,
                )?,
            })
        }
        "bridge" => {
            clips(2, "two clips (the input and then)")?;
            Task::Bridge(BridgeSettings {
                seconds: seconds(2.0)?,
                fit: match text(options, "fit")?.as_deref() {
                    None | Some("crop") => Fit::Crop,
                    Some("pad") => Fit::Pad,
                    Some(other) => {
                        return Err(settings(format!("fit {other}: use crop or pad")));
                    }
                },
                max_frames: four_k_plus_one(
                    "max_frames",
                    whole(options, "max_frames", 1..=1001)?.unwrap_or(81),
                    5,
                )?,
            })
        }
        _ => {
            if inputs.len() != 1 || !inputs[0].is_still() {
                return Err(settings("animate takes one still image"));
            }
            let clicks = clicks(options)?;
            let mask = image("mask")?;
            match (clicks.is_empty(), mask.is_some()) {
                (true, false) => {
                    return Err(settings(
                        "animate needs click (X,Y points of the region that moves) or mask",
                    ));
                }
                (false, true) => return Err(settings("give click or mask, not both")),
                _ => {}
            }
            let tolerance = number(options, "tolerance")?.unwrap_or(12.0) as f32;
            let feather = number(options, "feather")?.unwrap_or(8.0) as f32;
            if !(0.0..=100.0).contains(&tolerance) || !(0.0..=500.0).contains(&feather) {
                return Err(settings(
                    "tolerance must be from 0 to 100 and feather from 0 to 500 pixels",
                ));
            }
            Task::Animate {
                settings: AnimateSettings {
                    frames: four_k_plus_one(
                        "frames",
                        whole(options, "frames", 1..=1001)?.unwrap_or(81),
                        5,
                    )?,
                    fps: fps()?,
                    feather,
                },
                clicks,
                mask,
                tolerance,
                by_colour: flag(options, "by_colour")?,
            }
        }
    };
    Ok(Generation {
        prompt,
        engine,
        task,
    })
}

/// `click` as "X,Y", "X,Y; X,Y" or a list of them.
fn clicks(options: &Map<String, Value>) -> Result<Vec<(usize, usize)>, JobError> {
    let texts: Vec<String> = match options.get("click") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => s.split(';').map(str::to_string).collect(),
        Some(Value::Array(list)) => list
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<_>>()
            .ok_or_else(|| settings("click must be points written X,Y"))?,
        Some(v) => {
            return Err(settings(format!(
                "click must be points written X,Y, not {v}"
            )));
        }
    };
    texts
        .iter()
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
        .map(|t| {
            t.split_once(',')
                .and_then(|(x, y)| Some((x.trim().parse().ok()?, y.trim().parse().ok()?)))
                .ok_or_else(|| {
                    settings(format!(
                        "click {t}: give the point as X,Y in pixels, for example 320,180"
                    ))
                })
        })
        .collect()
}

fn name(path: &Path) -> Option<String> {
    path.file_name().map(|n| n.to_string_lossy().into_owned())
}

impl Generation {
    /// Whether it makes one picture (a generation of one frame), not a video.
    pub fn makes_still(&self) -> bool {
        matches!(self.task, Task::Video { frames: 1, .. })
    }

    /// Runs the job from `inputs` into `output` (a video), signed by `signing`; `progress`
    /// hears the fraction done and returns false to cancel.
    pub fn run(
        &self,
        inputs: &[&Path],
        output: &Path,
        signing: &Signing,
        progress: &mut dyn FnMut(f64) -> bool,
    ) -> Result<Outcome, JobError> {
        // What the job reads: its clips, and a still or mask named in its options.
        let mut read: Vec<&Path> = inputs.to_vec();
        let (image, mask) = match &self.task {
            Task::Video { image, .. } => (image.as_ref(), None),
            Task::Animate { mask, .. } => (None, mask.as_ref()),
            _ => (None, None),
        };
        read.extend(image.iter().chain(mask.iter()).map(|(p, _)| p.as_path()));
        let still = match (&self.task, image) {
            (Task::Animate { .. }, _) => Some(reel_generate::frames::first_frame(inputs[0])?),
            (_, Some((path, _))) => Some(reel_generate::frames::first_frame(path)?),
            _ => None,
        };
        let shape = match &still {
            Some(s) => Some((s.width, s.height)),
            None if !inputs.is_empty() => {
                let first = reel_generate::frames::first_frame(inputs[0])?;
                Some((first.width, first.height))
            }
            None => None,
        };
        // The region is found (and a bad click refused) before the model loads.
        let region = match &self.task {
            Task::Animate {
                clicks,
                mask,
                tolerance,
                by_colour,
                ..
            } => {
                let still = still.as_ref().expect("animate reads its still");
                Some(match mask {
                    Some((path, _)) => (
                        reel_generate::region::from_image(
                            &reel_generate::frames::first_frame(path)?,
                            still.width,
                            still.height,
                        )?,
                        Vec::new(),
                    ),
                    None => {
                        let (m, found) =
                            reel_generate::region::select(still, clicks, *tolerance, *by_colour)?;
                        (m, found.iter().map(|f| f.name()).collect::<Vec<_>>())
                    }
                })
            }
            _ => None,
        };
        // One generation at a time, whatever the workers: each holds a whole model in memory.
        let _turn = loop {
            match GENERATING_NOW.try_lock() {
                Ok(turn) => break turn,
                Err(std::sync::TryLockError::Poisoned(p)) => break p.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => {
                    if !progress(0.0) {
                        return Err(JobError::Cancelled);
                    }
                    std::thread::sleep(std::time::Duration::from_millis(200));
                }
            }
        };
        let engine = Engine::open(self.engine.clone(), crate::provenance::new_payload())?;
        let size = engine.size(shape).0;
        let mut base = engine.request(&self.prompt, size);
        let mut parameters = engine.parameters(size);
        let (action, source_type, operation) = match &self.task {
            Task::Video {
                frames, settings, ..
            } => (
                "c2pa.created",
                SourceType::TrainedAlgorithmicMedia,
                json!({
                    "task": reel_generate::video_task(image.is_some(), settings.looped),
                    "image": image.map(|(_, n)| n.clone()),
                    "frames": frames - usize::from(settings.looped),
                    "fps": settings.fps,
                }),
            ),
            Task::Restyle(s) => (
                "c2pa.edited",
                SourceType::CompositeWithTrainedAlgorithmicMedia,
                json!({
                    "operation": "restyle",
                    "task": "video to video",
                    "strength": s.strength,
                    "window": s.window,
                    "overlap": s.overlap,
                }),
            ),
            Task::Extend(s) => (
                "c2pa.edited",
                SourceType::CompositeWithTrainedAlgorithmicMedia,
                json!({
                    "operation": "extend",
                    "task": match s.direction {
                        Direction::Backward => "video extended backward",
                        Direction::Forward => "video extended forward",
                    },
                    "seconds": s.seconds,
                    "clip": name(inputs[0]),
                }),
            ),
            Task::Bridge(s) => (
                "c2pa.edited",
                SourceType::CompositeWithTrainedAlgorithmicMedia,
                json!({
                    "operation": "bridge",
                    "task": "first and last frame to video",
                    "seconds": s.seconds,
                    "fit": match s.fit { Fit::Pad => "pad", Fit::Crop => "crop" },
                }),
            ),
            Task::Animate {
                settings,
                clicks,
                mask,
                tolerance,
                ..
            } => {
                let (region, selected) = region.as_ref().expect("found above");
                (
                    "c2pa.edited",
                    SourceType::CompositeWithTrainedAlgorithmicMedia,
                    json!({
                        "operation": "animate",
                        "task": "a region of an image to video",
                        "frames": settings.frames,
                        "fps": settings.fps,
                        "clicks": clicks.iter().map(|(x, y)| format!("{x},{y}")).collect::<Vec<_>>(),
                        "mask": mask.as_ref().map(|(_, n)| n.clone()),
                        "selected": selected,
                        "tolerance": tolerance,
                        "feather": settings.feather,
                        "coverage": region.coverage(),
                    }),
                )
            }
        };
        parameters.insert("prompt".into(), json!(self.prompt));
        if let Value::Object(more) = operation {
            parameters.extend(more);
        }
        let provenance = Provenance::new(
            signing,
            action,
            source_type,
            Value::Object(parameters),
            &read,
            None,
        )?;
        let out = Output {
            path: output.to_path_buf(),
            codec: Codec::for_path(output)?,
            crf: 18,
            seal: provenance.seal(),
        };
        let mut marker = provenance.marker();
        let mut mark = |image: &mut reel_image::Image, seconds: f64| marker.mark(image, seconds);
        let mut fraction = Fraction::default();
        let mut events = |event: reel_generate::Event| progress(fraction.on(&event));
        let pipeline = &engine.pipeline;
        let (frames, mut notes) = match &self.task {
            Task::Video {
                frames, settings, ..
            } => {
                base.frames = *frames;
                if settings.looped {
                    base.last_image = still.clone();
                }
                base.image = still;
                let r =
                    reel_generate::video(pipeline, &base, settings, &out, &mut mark, &mut events)?;
                (r.frames, Vec::new())
            }
            Task::Restyle(s) => {
                let r = reel_generate::restyle(
                    pipeline,
                    &base,
                    inputs[0],
                    s,
                    &out,
                    &mut mark,
                    &mut events,
                )?;
                (r.frames, Vec::new())
            }
            Task::Extend(s) => {
                let r = reel_generate::extend(
                    pipeline,
                    &base,
                    inputs[0],
                    s,
                    &out,
                    &mut mark,
                    &mut events,
                )?;
                (r.join.frames, join_notes(&r.join))
            }
            Task::Bridge(s) => {
                let r = reel_generate::bridge(
                    pipeline,
                    &base,
                    [inputs[0], inputs[1]],
                    s,
                    &out,
                    &mut mark,
                    &mut events,
                )?;
                (r.join.frames, join_notes(&r.join))
            }
            Task::Animate { settings, .. } => {
                let (region, _) = region.as_ref().expect("found above");
                let still = still.as_ref().expect("animate reads its still");
                let r = reel_generate::animate(
                    pipeline,
                    &base,
                    (still, region),
                    settings,
                    &out,
                    &mut mark,
                    &mut events,
                )?;
                (r.frames, Vec::new())
            }
        };
        let mut all = provenance.notices();
        all.append(&mut notes);
        Ok(Outcome { frames, notes: all })
    }
}

fn join_notes(join: &reel_clips::JoinReport) -> Vec<String> {
    join.clips
        .iter()
        .flat_map(|c| c.notes.iter().cloned())
        .collect()
}
