//! The AI-directed film in a job, on the story the front end was started with. `film` renders
//! it from a recorded performance (a sound, a clip or a MIDI file) as `reel film render` does;
//! `film_live` plays it as `reel film live` does, listening to a performance played in real
//! time, the microphone or a MIDI keyboard, shows it on its own local page as it goes, and
//! records it. Both are labelled as the command line labels them.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use reel_credentials::SourceType;
use reel_film::Story;
use reel_film::compose::{path_of, pictures};
use reel_film::live::LiveJob;
use reel_film::render::{RenderJob, default_log};
use reel_film::timeline::{DecisionLog, decision_line};
use serde_json::{Map, Value, json};

use crate::JobError;
use crate::command::{Input, Outcome, only, settings, text, whole};
use crate::provenance::{Provenance, Signing};
use crate::store::MediaKind;

/// The film's commands, with what each does.
pub const FILM: [(&str, &str); 2] = [
    (
        "film",
        "the film played by a recorded performance (a sound, a clip or a MIDI file): the music it hears steers it",
    ),
    (
        "film_live",
        "the film live: it listens as the performance plays (in real time, or the microphone, or a MIDI keyboard), shown as it goes and recorded",
    ),
];

/// The options of each, with their help and defaults, for the page's panel.
pub fn described(command: &str) -> Value {
    let size = json!({"name": "size", "help": "WIDTHxHEIGHT (empty: the story's first picture's)", "default": ""});
    match command {
        "film" => {
            json!([size, {"name": "crf", "help": "quality, 0 to 51 (lower is better)", "default": 18}])
        }
        _ => json!([
            {"name": "listen", "help": "file (the chosen performance, played in real time), live (a MIDI keyboard if one is connected, else the microphone) or keyboard", "default": "file"},
            {"name": "device", "help": "the microphone as ffmpeg names it (pulse:default, alsa:hw:1,0) or the keyboard's device (/dev/snd/midiC1D0); empty: the default", "default": ""},
            size,
        ]),
    }
}

/// Whether `command` is one of the film's.
pub fn is_film(command: &str) -> bool {
    FILM.iter().any(|(n, _)| *n == command)
}

/// What the live film listens to.
#[derive(Debug)]
enum Listen {
    /// The job's input, played in real time.
    File,
    /// As `reel film live` without a file: a MIDI keyboard if one is connected, else the
    /// default microphone; or the microphone named.
    Live(Option<String>),
    /// A raw MIDI keyboard device (none: the first connected).
    Keyboard(Option<PathBuf>),
}

/// A film job, checked.
#[derive(Debug)]
pub struct Film {
    story: PathBuf,
    live: Option<Listen>,
    size: Option<String>,
    crf: u8,
}

pub(crate) fn plan(
    command: &str,
    inputs: &[Input],
    options: &Map<String, Value>,
    story: Option<&Path>,
) -> Result<Film, JobError> {
    let Some(story) = story else {
        return Err(settings(format!(
            "{command} needs a story: start the studio with --film STORY.toml"
        )));
    };
    let own: &[&str] = match command {
        "film" => &["size", "crf"],
        _ => &["listen", "device", "size"],
    };
    only(command, options, own)?;
    // The story as it is now: its problems, with their lines, before anything is queued.
    let loaded = Story::load(story).map_err(|e| settings(problems(story, &e).join("; ")))?;
    reel_film::compose::check_pictures(&loaded)
        .map_err(|e| settings(problems(story, &e).join("; ")))?;
    let performance = |inputs: &[Input]| -> Result<(), JobError> {
        match inputs {
            [one] if matches!(one.kind, MediaKind::Audio | MediaKind::Video) => Ok(()),
            [one] => Err(settings(format!(
                "{} is not a performance: give a sound, a clip or a MIDI file",
                one.name()
            ))),
            _ => Err(settings(format!(
                "{command} takes one performance (a sound, a clip or a MIDI file), not {} inputs",
                inputs.len()
            ))),
        }
    };
    let size = text(options, "size")?.filter(|s| !s.is_empty());
    if let Some(s) = &size {
        reel_film::compose::frame_size(Some(s), &loaded).map_err(|e| settings(e.to_string()))?;
    }
    if command == "film" {
        performance(inputs)?;
        return Ok(Film {
            story: story.to_path_buf(),
            live: None,
            size,
            crf: whole(options, "crf", 0..=51)?.unwrap_or(18) as u8,
        });
    }
    let device = text(options, "device")?.filter(|d| !d.is_empty());
    let listen = match text(options, "listen")?.as_deref() {
        None | Some("file") if !inputs.is_empty() => Listen::File,
        None => Listen::Live(device),
        Some("file") => {
            return Err(settings(
                "film_live listens to a file: choose the performance to play",
            ));
        }
        Some("live") => Listen::Live(device),
        Some("keyboard") => match device.map(PathBuf::from) {
            Some(named) => Listen::Keyboard(Some(named)),
            None => Listen::Keyboard(Some(reel_music::keyboard::first_device().ok_or_else(
                || {
                    settings(
                        "no MIDI keyboard is connected (or name its device: /dev/snd/midiC1D0)",
                    )
                },
            )?)),
        },
        Some(other) => {
            return Err(settings(format!(
                "listen {other}: use file, live or keyboard"
            )));
        }
    };
    match listen {
        Listen::File => {
            performance(inputs)?;
            // Played in real time through ffmpeg, which plays sounds, not scores.
            if reel_music::is_midi(inputs[0].path) {
                return Err(settings(
                    "film_live plays a sound or a clip in real time, not a MIDI file: render it with film, or play it on a keyboard",
                ));
            }
        }
        _ if !inputs.is_empty() => {
            return Err(settings(
                "film_live listens live (a keyboard or the microphone) with no input chosen; to play a file, listen to file",
            ));
        }
        _ => {}
    }
    Ok(Film {
        story: story.to_path_buf(),
        live: Some(listen),
        size,
        crf: 18,
    })
}

/// What a performance for the film is: a MIDI file, or a file with sound.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Performance {
    /// A standard MIDI file lasting this many seconds (to its last note's end).
    Midi(f64),
    /// A sound (or a clip's sound), its length where the container says.
    Sound(Option<f64>),
}

/// Whether `path` is a performance the film can hear, and how long it is (None: it is not).
pub fn performance(path: &Path) -> Option<Performance> {
    let mut head = [0u8; 4];
    let midi = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .is_ok()
        && &head == b"MThd";
    if midi {
        let notes = reel_music::read_midi(path).ok()?;
        return Some(Performance::Midi(
            notes.iter().map(|n| n.end).fold(0.0, f64::max),
        ));
    }
    let (seconds, _, _) = reel_video::probe_sound(path).ok()??;
    Some(Performance::Sound(seconds))
}

fn story_name(path: &Path) -> String {
    path.file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

/// A story's problems, a line each, naming it by its file name and its pictures from its
/// folder, rather than where they are kept.
fn problems(path: &Path, e: &dyn std::fmt::Display) -> Vec<String> {
    let (full, name) = (path.display().to_string(), story_name(path));
    // Only a folder named from the root is a place of the machine's.
    let folder = path
        .parent()
        .filter(|f| f.is_absolute() && f.parent().is_some())
        .map(|f| format!("{}/", f.display()));
    e.to_string()
        .lines()
        .map(|l| {
            let l = l.replace(&full, &name);
            match &folder {
                Some(f) => l.replace(f, ""),
                None => l,
            }
        })
        .collect()
}

/// The story checked now, as `reel film check` checks it, for a front end: `{"allowed", "name",
/// "ok", "title", "start", "fps", "nodes", "outline", "problems"}`; problems (with their lines)
/// name the story by its file name, not where it is kept.
pub fn checked(path: &Path) -> Value {
    let name = story_name(path);
    let story = Story::load(path)
        .map_err(|e| problems(path, &e))
        .and_then(|story| match reel_film::compose::check_pictures(&story) {
            Ok(()) => Ok(story),
            Err(e) => Err(problems(path, &e)),
        });
    match story {
        Ok(story) => json!({
            "allowed": true,
            "name": name,
            "ok": true,
            "title": story.title,
            "start": story.start,
            "fps": story.fps,
            "nodes": story.order.len(),
            "outline": reel_film::story::outline(&story, path.parent().unwrap_or(Path::new(""))),
            "problems": [],
        }),
        Err(problems) => json!({"allowed": true, "name": name, "ok": false, "problems": problems}),
    }
}

/// The labels of a film: made, not edited, from its story's pictures and what was heard.
pub fn provenance(
    signing: &Signing,
    story: &Path,
    loaded: &Story,
    performance: Option<&Path>,
) -> Result<Provenance, JobError> {
    Ok(Provenance::new(
        signing,
        "c2pa.created",
        SourceType::AlgorithmicMedia,
        json!({ "story": story.file_name().map(|n| n.to_string_lossy().into_owned()) }),
        &inputs(story, loaded, performance),
        None,
    )?)
}

/// What a film reads: its story, the performance and the story's pictures (its ingredients,
/// and what no output may replace).
pub fn inputs<'a>(
    story: &'a Path,
    loaded: &'a Story,
    performance: Option<&'a Path>,
) -> Vec<&'a Path> {
    let mut inputs = vec![story];
    inputs.extend(performance);
    inputs.extend(pictures(loaded).into_iter().map(|p| path_of(p).0));
    inputs
}

/// The decisions and the path, as a front end shows them.
fn told(decisions: &[DecisionLog], path: Vec<&str>) -> Value {
    json!({
        "path": path,
        "decisions": decisions.iter().map(decision_line).collect::<Vec<_>>(),
    })
}

impl Film {
    /// Plays the film into `output` (its decision log beside it); a live film is stopped by
    /// cancelling, and what was played is kept.
    pub fn run(
        &self,
        inputs: &[&Path],
        output: &Path,
        signing: &Signing,
        progress: &mut dyn FnMut(f64) -> bool,
        detail: &mut dyn FnMut(Value),
    ) -> Result<Outcome, JobError> {
        let performance = inputs.first().copied();
        let loaded = Story::load(&self.story).map_err(|e| settings(e.to_string()))?;
        let provenance = provenance(signing, &self.story, &loaded, performance)?;
        let log = default_log(output);
        let Some(listen) = &self.live else {
            let performance = performance.expect("planned with one input");
            let job = RenderJob {
                story: &self.story,
                performance,
                output,
                log: Some(&log),
                size: self.size.as_deref(),
                crf: self.crf,
                recogniser: None,
                seal: provenance.seal(),
                watermark: Some(provenance.payload),
                label: provenance.label,
            };
            let rendered = reel_film::render::render(&job, |done, total| {
                progress(done as f64 / total.max(1) as f64)
            })?;
            let timeline = &rendered.timeline;
            let path: Vec<&str> = timeline.shots.iter().map(|s| s.node.as_str()).collect();
            let mut notes = vec![format!("the story's path: {}", path.join(" -> "))];
            detail(told(&timeline.decisions, path));
            notes.extend(provenance.notices());
            return Ok(Outcome {
                frames: timeline.frames,
                notes,
            });
        };
        let (input, device, midi) = match listen {
            Listen::File => (performance, None, None),
            Listen::Live(d) => (None, d.as_deref(), None),
            Listen::Keyboard(k) => (None, None, k.as_deref()),
        };
        let job = LiveJob {
            story: &self.story,
            input,
            device,
            midi,
            port: 0,
            record: Some(output),
            log: Some(&log),
            size: self.size.as_deref(),
            recogniser: None,
            seal: provenance.seal(),
            watermark: Some(provenance.payload),
            label: provenance.label,
        };
        // Where the film is shown and what it hears, told when it starts and twice a second.
        let shown = RefCell::new((Value::Null, String::new(), Instant::now()));
        let detail = RefCell::new(detail);
        let report = reel_film::live::live(
            &job,
            |heard, address| {
                let mut s = shown.borrow_mut();
                // A file is named as the library names it, not where the store keeps it.
                let heard = match input {
                    Some(file) => heard.replace(
                        &file.display().to_string(),
                        &file.file_name().unwrap_or_default().to_string_lossy(),
                    ),
                    None => heard.to_string(),
                };
                *s = (json!(format!("http://{address}/")), heard, Instant::now());
                (detail.borrow_mut())(
                    json!({"page": s.0, "listening": s.1, "frame": 0, "status": "listening"}),
                );
            },
            |frame, status| {
                let mut s = shown.borrow_mut();
                if s.2.elapsed() >= Duration::from_millis(500) {
                    s.2 = Instant::now();
                    (detail.borrow_mut())(
                        json!({"page": s.0, "listening": s.1, "frame": frame, "status": status}),
                    );
                }
                progress(0.0)
            },
        )?;
        let source = shown.into_inner().1;
        let detail = detail.into_inner();
        let mut notes = vec![format!(
            "the film {} after {} frames, listening to {source}",
            if report.interrupted {
                "was stopped"
            } else {
                "ended"
            },
            report.frames
        )];
        let mut ended = told(&report.decisions, Vec::new());
        ended["listening"] = json!(source);
        detail(ended);
        notes.extend(provenance.notices());
        Ok(Outcome {
            frames: report.frames,
            notes,
        })
    }
}
