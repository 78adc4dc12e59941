//! The jobs a front end can ask for, by name, with options named as on the command line
//! (`{"strength": 0.7}`, `even-tone` or `even_tone`). An unknown command, an unknown option or
//! a value out of range is refused when the job is asked for, with the message the command
//! line gives; then the job runs through the same library calls as the command line.

use std::path::{Path, PathBuf};

use reel_clips::{JoinSettings, Method, Output, Point, RetimeSettings, Transition};
use reel_credentials::SourceType;
use reel_process::analyze::AnalyzeJob;
use reel_process::{Chain, FaceSelection, Options, Watermark, pipeline};
use reel_video::{Codec, Fit};
use serde_json::{Value, json};

use crate::JobError;
use crate::film::{self, Film};
use crate::generation::{self, Generation};
use crate::provenance::{Provenance, Signing};
use crate::store::MediaKind;
use crate::training::{self, Training};

/// The commands there are, with what each does, for the page and for error messages.
pub const COMMANDS: [(&str, &str); 8] = [
    (
        "analyze",
        "find and follow the faces (the player draws them)",
    ),
    (
        "beauty",
        "beauty fix: clearer, even skin with its texture kept",
    ),
    ("deage", "retouch de-aging by years"),
    (
        "swap",
        "face replacement from photos or a trained model, with the face's owner's consent",
    ),
    (
        "train",
        "a face-swap model learned from clips of two people: whose face goes on, and the performer",
    ),
    (
        "trim",
        "a range of a clip's frames, with the sound under them",
    ),
    (
        "retime",
        "another frame rate or speed, the frames between made by optical flow",
    ),
    (
        "join",
        "clips one after another, with a transition at each join",
    ),
];

/// A job's inputs as the store knows them.
pub struct Input<'a> {
    pub path: &'a Path,
    pub kind: MediaKind,
}

impl Input<'_> {
    pub fn is_still(&self) -> bool {
        self.kind == MediaKind::Image
    }

    /// Its file's name, as messages call it.
    pub fn name(&self) -> String {
        self.path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
    }
}

/// Media of the library named in a job's options (a swap's photos or model, a first frame).
pub struct Found {
    pub path: PathBuf,
    pub name: String,
    pub kind: MediaKind,
}

/// A job checked and ready to run.
#[derive(Debug)]
pub enum Plan {
    Analyze {
        max_faces: usize,
    },
    Edit(Edit),
    Trim {
        from: Option<Point>,
        to: Option<Point>,
    },
    Retime(RetimeSettings),
    Join(JoinSettings),
    Generate(Box<Generation>),
    Train(Box<Training>),
    Film(Box<Film>),
}

/// What a front end was started with that some commands need.
#[derive(Clone, Debug, Default)]
pub struct Resources {
    /// The generation model folder (a Wan model in the diffusers layout).
    pub model: Option<PathBuf>,
    /// The film's story.
    pub story: Option<PathBuf>,
}

/// A processor over the faces of a clip.
#[derive(Debug)]
pub struct Edit {
    pub(crate) processor: &'static str,
    pub(crate) settings: Options,
    /// Files read besides the input (a swap's photos), ingredients of the output.
    also_read: Vec<PathBuf>,
    /// What a swap's consent rests on, for the credentials.
    consent: Option<Value>,
    pub(crate) faces: Vec<u32>,
    pub(crate) max_faces: usize,
    pub(crate) occlusion: bool,
    crf: u8,
}

/// What a finished job leaves.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Frames written (0 for an analysis).
    pub frames: u64,
    /// What the job could not do as asked, or did differently.
    pub notes: Vec<String>,
}

/// The options a command takes besides a processor's own settings.
const EDIT_OPTIONS: [&str; 4] = ["face", "max_faces", "no_occlusion", "crf"];

fn object(options: &Value) -> Result<Options, JobError> {
    match options {
        Value::Null => Ok(Options::new()),
        Value::Object(map) => Ok(map
            .iter()
            .map(|(k, v)| (k.replace('-', "_"), v.clone()))
            .collect()),
        other => Err(settings(format!(
            "options must be an object of settings by name, not {other}"
        ))),
    }
}

pub(crate) fn settings(message: impl Into<String>) -> JobError {
    JobError::Settings(message.into())
}

/// Refuses options a command does not take, naming those it does.
pub(crate) fn only(command: &str, options: &Options, known: &[&str]) -> Result<(), JobError> {
    for key in options.keys() {
        if !known.contains(&key.as_str()) {
            return Err(settings(if known.is_empty() {
                format!("{command} takes no options (not {key})")
            } else {
                format!(
                    "{command} has no option {key}; it takes {}",
                    known.join(", ")
                )
            }));
        }
    }
    Ok(())
}

pub(crate) fn number(options: &Options, name: &str) -> Result<Option<f64>, JobError> {
    match options.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_f64()
            .filter(|n| n.is_finite())
            .map(Some)
            .ok_or_else(|| settings(format!("{name} must be a number, not {v}"))),
    }
}

pub(crate) fn whole(
    options: &Options,
    name: &str,
    range: std::ops::RangeInclusive<u64>,
) -> Result<Option<u64>, JobError> {
    match options.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .filter(|n| range.contains(n))
            .map(Some)
            .ok_or_else(|| {
                settings(format!(
                    "{name} must be a whole number from {} to {}, not {v}",
                    range.start(),
                    range.end()
                ))
            }),
    }
}

/// A text option; numbers are taken as their text (seconds, a rate written without quotes).
pub(crate) fn text(options: &Options, name: &str) -> Result<Option<String>, JobError> {
    match options.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(v) => Err(settings(format!("{name} must be text, not {v}"))),
    }
}

pub(crate) fn flag(options: &Options, name: &str) -> Result<bool, JobError> {
    match options.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(v) => Err(settings(format!("{name} must be true or false, not {v}"))),
    }
}

/// Finds a media file by its id (for options that name other media, such as a swap's photos).
pub type Library<'a> = &'a dyn Fn(u64) -> Result<Found, JobError>;

/// The media an option names by id, refused unless it is of `kind`.
pub(crate) fn named(
    library: Library,
    name: &str,
    value: &Value,
    kind: MediaKind,
) -> Result<Found, JobError> {
    let what = match kind {
        MediaKind::Image => "a still",
        MediaKind::Video => "a clip",
        MediaKind::Audio => "a sound file",
        MediaKind::Model => "a model trained by a train job",
    };
    let id = value
        .as_u64()
        .ok_or_else(|| settings(format!("{name} must be a media id ({what}), not {value}")))?;
    let found = library(id)?;
    if found.kind != kind {
        return Err(settings(format!("{name}: {} is not {what}", found.name)));
    }
    Ok(found)
}

/// Whether `command` is one of those that generate (and need a model folder).
pub fn generates(command: &str) -> bool {
    generation::GENERATING.iter().any(|(n, _)| *n == command)
}

/// Checks `command` with `options` for `inputs` (generating commands with the model folder,
/// the film's with the story of `resources`); nothing is run.
pub fn plan(
    command: &str,
    inputs: &[Input],
    options: &Value,
    library: Library,
    resources: &Resources,
) -> Result<Plan, JobError> {
    let options = object(options)?;
    // A trained model is used by a swap (its option model), never edited as media.
    if let Some(model) = inputs.iter().find(|i| i.kind == MediaKind::Model) {
        return Err(settings(format!(
            "{} is a trained swap model, not a clip or a still; give it to swap as its model",
            model.name()
        )));
    }
    if film::is_film(command) {
        return film::plan(command, inputs, &options, resources.story.as_deref())
            .map(|f| Plan::Film(Box::new(f)));
    }
    // A sound (or a MIDI file) is a performance for the film, not a picture to edit.
    if let Some(sound) = inputs.iter().find(|i| i.kind == MediaKind::Audio) {
        return Err(settings(format!(
            "{} is a sound, not a clip or a still; {command} edits pictures (the film takes sounds as its performance)",
            sound.name()
        )));
    }
    if generates(command) {
        return generation::plan(
            command,
            inputs,
            &options,
            library,
            resources.model.as_deref(),
        )
        .map(|g| Plan::Generate(Box::new(g)));
    }
    let one = |what: &str| -> Result<(), JobError> {
        if inputs.len() != 1 {
            return Err(settings(format!(
                "{command} takes one input ({what}), not {}",
                inputs.len()
            )));
        }
        Ok(())
    };
    let video = |what: &str| -> Result<(), JobError> {
        one(what)?;
        if inputs[0].is_still() {
            return Err(settings(format!(
                "{} is a still image; {command} takes a video clip",
                inputs[0].path.display()
            )));
        }
        Ok(())
    };
    match command {
        "analyze" => {
            one("a clip or a still")?;
            only(command, &options, &["max_faces"])?;
            Ok(Plan::Analyze {
                max_faces: whole(&options, "max_faces", 1..=100)?.unwrap_or(8) as usize,
            })
        }
        "beauty" | "deage" | "swap" => {
            one("a clip or a still")?;
            let mut processor = match command {
                "beauty" => "beauty",
                "deage" => "deage",
                _ => "photo-swap",
            };
            let mut own = Options::new();
            let mut rest = Options::new();
            for (k, v) in options {
                if EDIT_OPTIONS.contains(&k.as_str())
                    || (command == "swap" && k == "no_consent_check")
                {
                    own.insert(k, v);
                } else {
                    rest.insert(k, v);
                }
            }
            // A swap's photos, or its model, are media of the library named by id; their face
            // goes on only with its owner's consent (or a reason why none is needed).
            let mut also_read = Vec::new();
            let mut consent = None;
            if command == "swap" {
                let reason = text(&own, "no_consent_check")?;
                let overridden = reason
                    .as_deref()
                    .map(crate::consent::overridden)
                    .transpose()?;
                match rest.get("model").filter(|m| !m.is_null()).cloned() {
                    Some(model) => {
                        if rest.get("photo").is_some_and(|p| !p.is_null()) {
                            return Err(settings(
                                "swap takes photos or a model, not both: the model knows its face",
                            ));
                        }
                        rest.remove("photo");
                        let found = named(library, "model", &model, MediaKind::Model)?;
                        processor = "model-swap";
                        consent = Some(match overridden {
                            Some(record) => record,
                            None => crate::consent::record(&[crate::consent::of_model(
                                &found.path,
                                &found.name,
                            )?]),
                        });
                        rest.insert(
                            "model".into(),
                            Value::from(found.path.to_string_lossy().into_owned()),
                        );
                        // Its weights and description are ingredients, as on the command line.
                        also_read.extend(reel_swap::train::FILES.map(|f| found.path.join(f)));
                        also_read.push(found.path);
                    }
                    None => {
                        rest.remove("model");
                        if rest.contains_key("steady") || rest.contains_key("grain") {
                            return Err(settings(
                                "steady and grain act on a trained model's drawing: give them with model",
                            ));
                        }
                        let ids: Vec<Value> = match rest.get("photo") {
                            Some(Value::Array(ids)) => ids.clone(),
                            None | Some(Value::Null) => Vec::new(),
                            Some(id) => vec![id.clone()],
                        };
                        if ids.is_empty() {
                            return Err(settings(
                                "swap needs photo (the media ids of photos of the face that goes on) or model (a model trained by a train job)",
                            ));
                        }
                        let found = ids
                            .iter()
                            .map(|id| named(library, "photo", id, MediaKind::Image))
                            .collect::<Result<Vec<_>, _>>()?;
                        rest.insert(
                            "photo".into(),
                            Value::from(
                                found
                                    .iter()
                                    .map(|f| f.path.to_string_lossy().into_owned())
                                    .collect::<Vec<_>>(),
                            ),
                        );
                        consent = Some(match overridden {
                            Some(record) => record,
                            None => {
                                let paths: Vec<&Path> =
                                    found.iter().map(|f| f.path.as_path()).collect();
                                let names: Vec<String> =
                                    found.iter().map(|f| f.name.clone()).collect();
                                crate::consent::record(&crate::consent::check_photos(
                                    &paths, &names,
                                )?)
                            }
                        });
                        also_read = found.into_iter().map(|f| f.path).collect();
                    }
                }
            }
            // Built once here so that its settings are checked as the command line checks
            // them; the job builds its own.
            reel_swap::register::registry().build(processor, &rest)?;
            let faces = match own.get("face") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(ids)) => ids
                    .iter()
                    .map(|id| id.as_u64().and_then(|i| u32::try_from(i).ok()))
                    .collect::<Option<Vec<u32>>>()
                    .ok_or_else(|| settings("face must be track ids (whole numbers)"))?,
                Some(id) => vec![
                    id.as_u64()
                        .and_then(|i| u32::try_from(i).ok())
                        .ok_or_else(|| settings(format!("face must be a track id, not {id}")))?,
                ],
            };
            Ok(Plan::Edit(Edit {
                processor,
                settings: rest,
                also_read,
                consent,
                faces,
                max_faces: whole(&own, "max_faces", 1..=100)?.unwrap_or(8) as usize,
                occlusion: !flag(&own, "no_occlusion")?,
                crf: whole(&own, "crf", 0..=51)?.unwrap_or(18) as u8,
            }))
        }
        "trim" => {
            video("a clip")?;
            only(command, &options, &["from", "to"])?;
            let point = |name: &str| -> Result<Option<Point>, JobError> {
                text(&options, name)?
                    .map(|t| {
                        t.parse::<Point>()
                            .map_err(|e| settings(format!("{name} {t}: {e}")))
                    })
                    .transpose()
            };
            Ok(Plan::Trim {
                from: point("from")?,
                to: point("to")?,
            })
        }
        "retime" => {
            video("a clip")?;
            only(command, &options, &["fps", "speed", "method"])?;
            let own = reel_video::probe(inputs[0].path)?.rate();
            let rate = text(&options, "fps")?
                .map(|t| {
                    reel_clips::settings::rate_or_multiple(&t, own)
                        .map_err(|e| settings(format!("fps {t}: {e}")))
                })
                .transpose()?;
            let speed = number(&options, "speed")?.unwrap_or(1.0);
            if !(0.01..=100.0).contains(&speed) {
                return Err(settings(format!(
                    "speed {speed}: give a speed from 0.01 to 100 (0.5 is half speed)"
                )));
            }
            let method = text(&options, "method")?
                .map(|m| m.parse::<Method>().map_err(settings))
                .transpose()?
                .unwrap_or(Method::Flow);
            if rate.is_none() && speed == 1.0 {
                return Err(settings(
                    "nothing to do: give fps (such as 60 or 2x) and/or speed (0.5 is half speed)",
                ));
            }
            Ok(Plan::Retime(RetimeSettings {
                rate,
                speed,
                method,
                threads: 2,
                ..RetimeSettings::default()
            }))
        }
        "join" => {
            if inputs.len() < 2 {
                return Err(settings("a join needs two clips or more"));
            }
            only(
                command,
                &options,
                &["transition", "seconds", "size", "fps", "fit"],
            )?;
            let transition = text(&options, "transition")?
                .map(|t| t.parse::<Transition>().map_err(settings))
                .transpose()?
                .unwrap_or(Transition::Crossfade);
            let seconds = number(&options, "seconds")?.unwrap_or(1.0);
            let size = text(&options, "size")?
                .map(|s| {
                    reel_clips::settings::size(&s).map_err(|e| settings(format!("size {s}: {e}")))
                })
                .transpose()?;
            let rate = text(&options, "fps")?
                .map(|t| {
                    reel_clips::settings::rate(&t).map_err(|e| settings(format!("fps {t}: {e}")))
                })
                .transpose()?;
            let fit = match text(&options, "fit")?.as_deref() {
                None | Some("pad") => Fit::Pad,
                Some("crop") => Fit::Crop,
                Some(other) => return Err(settings(format!("fit {other}: use pad or crop"))),
            };
            Ok(Plan::Join(JoinSettings {
                transition,
                seconds,
                size,
                rate,
                fit,
            }))
        }
        "train" => {
            video("a clip of the performer")?;
            training::plan(&options, library).map(|t| Plan::Train(Box::new(t)))
        }
        other => Err(settings(format!(
            "no command is called {other}; there are {}",
            COMMANDS
                .iter()
                .chain(&generation::GENERATING)
                .chain(&film::FILM)
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

impl Plan {
    /// The extension of the file this job writes for an input of this kind (None: it writes
    /// no media).
    pub fn extension(&self, still: bool) -> Option<&'static str> {
        match self {
            Plan::Analyze { .. } => None,
            Plan::Train(_) => Some("model"),
            Plan::Edit(_) if still => Some("png"),
            Plan::Generate(g) if g.makes_still() => Some("png"),
            _ => Some("mp4"),
        }
    }

    /// Runs the job from `inputs` into `output` (for an analysis: the faces JSON; for a
    /// training: the model's folder), signed by `signing`; `progress` hears the fraction done
    /// and returns false to cancel, `detail` hears what else the job tells (a training's loss
    /// curve).
    pub fn run(
        &self,
        command: &str,
        inputs: &[&Path],
        output: &Path,
        signing: &Signing,
        progress: &mut dyn FnMut(f64) -> bool,
        detail: &mut dyn FnMut(Value),
    ) -> Result<Outcome, JobError> {
        let mut fraction = |done: u64, total: Option<u64>| {
            progress(total.map_or(0.0, |t| done as f64 / t.max(1) as f64))
        };
        match self {
            Plan::Analyze { max_faces } => {
                let mut settings = pipeline::editing_analysis(*max_faces, 1);
                settings.occlusion = false;
                let summary = reel_process::analyze::run(
                    AnalyzeJob {
                        input: inputs[0],
                        json: Some(output),
                        preview: None,
                        codec: Codec::H264,
                        crf: 18,
                        settings,
                        preview_mask: None,
                        seal: None,
                        marker: None,
                    },
                    &mut fraction,
                )?;
                Ok(Outcome {
                    frames: summary.frames,
                    notes: Vec::new(),
                })
            }
            Plan::Edit(edit) => {
                let provenance = Provenance::new(
                    signing,
                    "c2pa.edited",
                    SourceType::CompositeWithTrainedAlgorithmicMedia,
                    json!({ "processors": [{ "name": edit.processor, "settings": recorded(&edit.settings) }] }),
                    &inputs
                        .iter()
                        .copied()
                        .chain(edit.also_read.iter().map(PathBuf::as_path))
                        .collect::<Vec<_>>(),
                    edit.consent.clone(),
                )?;
                let processor = reel_swap::register::registry().build(edit.processor, &edit.settings)?;
                let mut chain = Chain::new()
                    .then_boxed(processor)
                    .then(Watermark::new(provenance.marker()));
                let mut selection = if edit.faces.is_empty() {
                    FaceSelection::All
                } else {
                    FaceSelection::Ids(edit.faces.clone())
                };
                let mut analysis = pipeline::editing_analysis(edit.max_faces, 1);
                analysis.occlusion = edit.occlusion;
                let report = pipeline::run(
                    inputs[0],
                    output,
                    Codec::for_path(output)?,
                    edit.crf,
                    provenance.seal(),
                    analysis,
                    &mut selection,
                    &mut chain,
                    &mut fraction,
                )?;
                let mut notes = provenance.notices();
                if report.frames_edited == 0 {
                    notes.push(
                        "no face was edited (no faces found, or none matched the chosen face)".into(),
                    );
                }
                Ok(Outcome {
                    frames: report.frames,
                    notes,
                })
            }
            Plan::Trim { from, to } => clip_job(
                signing,
                SourceType::Composite,
                json!({
                    "operation": "trim",
                    "from": from.map(|p| p.to_string()),
                    "to": to.map(|p| p.to_string()),
                }),
                inputs,
                output,
                |out, mark| {
                    let r = reel_clips::trim(inputs[0], *from, *to, out, mark, &mut fraction)?;
                    Ok((r.frames, Vec::new()))
                },
            ),
            Plan::Retime(settings) => clip_job(
                signing,
                match settings.method {
                    Method::Nearest => SourceType::Composite,
                    _ => SourceType::AlgorithmicMedia,
                },
                json!({
                    "operation": "retime",
                    "fps": settings.rate.map(reel_clips::rate_text),
                    "speed": settings.speed,
                    "method": settings.method.name(),
                }),
                inputs,
                output,
                |out, mark| {
                    let r = reel_clips::retime(inputs[0], settings, out, mark, &mut fraction)?;
                    Ok((r.frames, Vec::new()))
                },
            ),
            Plan::Generate(generation) => generation.run(inputs, output, signing, progress),
            Plan::Train(training) => training.run(inputs[0], output, progress, detail),
            Plan::Film(film) => film.run(inputs, output, signing, progress, detail),
            Plan::Join(settings) => clip_job(
                signing,
                match settings.transition {
                    Transition::Flow | Transition::Morph => SourceType::AlgorithmicMedia,
                    _ => SourceType::Composite,
                },
                json!({
                    "operation": "join",
                    "transition": settings.transition.name(),
                    "seconds": settings.seconds,
                }),
                inputs,
                output,
                |out, mark| {
                    let clips: Vec<PathBuf> = inputs.iter().map(|p| p.to_path_buf()).collect();
                    let r = reel_clips::join(&clips, settings, out, mark, &mut fraction)?;
                    let notes = r.clips.iter().flat_map(|c| c.notes.iter().cloned());
                    Ok((r.frames, notes.collect()))
                },
            ),
        }
        .map_err(|e: JobError| {
            if let JobError::Settings(m) = &e {
                JobError::Settings(format!("{command}: {m}"))
            } else {
                e
            }
        })
    }
}

/// Settings as the credentials record them: a swap's photos and model by name, not by where
/// the store keeps them.
fn recorded(settings: &Options) -> Value {
    let by_name = |p: &mut Value| {
        if let Some(name) = p.as_str().and_then(|p| Path::new(p).file_name()) {
            *p = Value::from(name.to_string_lossy().into_owned());
        }
    };
    let mut out = settings.clone();
    if let Some(Value::Array(photos)) = out.get_mut("photo") {
        photos.iter_mut().for_each(by_name);
    }
    if let Some(model) = out.get_mut("model") {
        by_name(model);
    }
    Value::Object(out)
}

/// A clip job into `path`: labelled as `source_type` with `parameters`, every frame marked
/// with its watermark; `run` writes it and says how many frames and what it noted.
fn clip_job(
    signing: &Signing,
    source_type: SourceType,
    parameters: Value,
    inputs: &[&Path],
    path: &Path,
    run: impl FnOnce(
        &Output,
        &mut dyn FnMut(&mut reel_image::Image, f64),
    ) -> Result<(u64, Vec<String>), reel_clips::ClipError>,
) -> Result<Outcome, JobError> {
    let provenance = Provenance::new(
        signing,
        "c2pa.edited",
        source_type,
        parameters,
        inputs,
        None,
    )?;
    let output = Output {
        path: path.to_path_buf(),
        codec: Codec::for_path(path)?,
        crf: 18,
        seal: provenance.seal(),
    };
    let mut marker = provenance.marker();
    let (frames, noted) = run(&output, &mut |image, seconds| marker.mark(image, seconds))?;
    let mut notes = provenance.notices();
    notes.extend(noted);
    Ok(Outcome { frames, notes })
}
