//! The piano-style recogniser: what style a stretch of notes is in (baroque, classical, ragtime,
//! jazz) or whether it is music at all. It reads the notes of the last few seconds (transcribed
//! from audio, or from MIDI) as key- and tempo-free features, and a small trained classifier
//! gives each style its probability. The weights come from `reel style train`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::MusicError;
use crate::classifier::Classifier;
use crate::features::{self, COUNT, Features};
use crate::notes::Played;

/// The piano styles reel tells apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Style {
    Baroque,
    Classical,
    Ragtime,
    Jazz,
}

impl Style {
    pub const ALL: [Style; 4] = [
        Style::Baroque,
        Style::Classical,
        Style::Ragtime,
        Style::Jazz,
    ];
    pub const NAMES: [&'static str; 4] = ["baroque", "classical", "ragtime", "jazz"];

    pub fn parse(name: &str) -> Option<Style> {
        Style::NAMES
            .iter()
            .position(|n| *n == name)
            .map(|i| Style::ALL[i])
    }

    pub fn name(self) -> &'static str {
        Style::NAMES[self as usize]
    }
}

/// The recogniser's classes: the four styles, then no music.
pub const CLASSES: usize = 5;
/// The class of silence, speech and noise.
pub const NO_MUSIC: usize = 4;
/// Seconds of notes each reading looks back over.
pub const WINDOW: f64 = 3.0;
/// Seconds between readings.
pub const HOP: f64 = 0.5;
/// What a model file must say it is, so an old layout is retrained rather than misread.
const FORMAT: u32 = 1;

/// What the recogniser heard at one moment.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Reading {
    /// Seconds from the start of the performance (the end of the window read).
    pub time: f64,
    /// Probability of each style, in `Style::ALL` order.
    pub styles: [f32; 4],
    /// Probability that no music is playing (silence, speech, noise).
    pub no_music: f32,
}

impl Reading {
    /// The most likely style, and its probability.
    pub fn best(&self) -> (Style, f32) {
        Style::ALL
            .iter()
            .map(|&s| (s, self.styles[s as usize]))
            .fold(
                (Style::Baroque, f32::MIN),
                |b, x| if x.1 > b.1 { x } else { b },
            )
    }
}

/// How a recogniser was trained, kept with its weights.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Provenance {
    /// Pieces, and windows, per class, in `Style::ALL` order then no music.
    pub pieces: Vec<usize>,
    pub windows: Vec<usize>,
    /// Where the training data came from.
    pub sources: Vec<String>,
}

/// A trained recogniser.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Recogniser {
    pub format: u32,
    pub window: f64,
    pub features: Vec<String>,
    pub classifier: Classifier,
    pub provenance: Provenance,
}

impl Recogniser {
    pub fn new(classifier: Classifier, provenance: Provenance) -> Recogniser {
        Recogniser {
            format: FORMAT,
            window: WINDOW,
            features: features::NAMES.iter().map(|s| s.to_string()).collect(),
            classifier,
            provenance,
        }
    }

    /// Where `reel style train` (and `reel setup`) put the trained recogniser.
    pub fn default_path() -> PathBuf {
        reel_assets::models_dir().join("piano_style.json")
    }

    /// The recogniser at `path`, else the one `reel style train` made, and where it was read.
    pub fn load_or_default(path: Option<&Path>) -> Result<(Recogniser, PathBuf), MusicError> {
        if let Some(p) = path.filter(|p| !p.exists()) {
            return Err(reel_video::VideoError::NotFound(p.to_path_buf()).into());
        }
        let path = path.map_or_else(Recogniser::default_path, Path::to_path_buf);
        let recogniser = Recogniser::load(&path)?;
        Ok((recogniser, path))
    }

    pub fn load(path: &Path) -> Result<Recogniser, MusicError> {
        let bytes = std::fs::read(path).map_err(|e| MusicError::Recogniser {
            path: path.to_path_buf(),
            detail: match e.kind() {
                std::io::ErrorKind::NotFound => {
                    "not trained yet; train it with `reel style train` (`reel setup` does)".into()
                }
                _ => e.to_string(),
            },
        })?;
        let bad = |detail: String| MusicError::Recogniser {
            path: path.to_path_buf(),
            detail,
        };
        let r: Recogniser = serde_json::from_slice(&bytes)
            .map_err(|e| bad(format!("not a style recogniser ({e})")))?;
        let c = &r.classifier;
        if r.format != FORMAT || r.features.len() != COUNT || c.inputs() != COUNT {
            return Err(bad(
                "made by another version of reel; train it again with `reel style train`".into(),
            ));
        }
        if c.classes() != CLASSES
            || c.w1.len() != c.hidden * COUNT
            || c.w2.len() != CLASSES * c.hidden
            || c.b1.len() != c.hidden
            || c.scale.len() != COUNT
        {
            return Err(bad("its weights do not have the right shapes".into()));
        }
        Ok(r)
    }

    pub fn save(&self, path: &Path) -> Result<(), MusicError> {
        let json = serde_json::to_vec(self).map_err(|e| MusicError::Recogniser {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })?;
        Ok(reel_core::output::write_atomic(path, &json)?)
    }

    /// Class probabilities of one window's features.
    /// A window with too few notes to read is no music, whatever the network would say.
    pub fn classify(&self, f: &Features) -> [f32; CLASSES] {
        if features::too_few_notes(f) {
            let mut p = [0.0; CLASSES];
            p[NO_MUSIC] = 1.0;
            return p;
        }
        let p = self.classifier.probabilities(f);
        std::array::from_fn(|i| p[i])
    }

    /// What is heard in the notes of the window ending at `time`.
    pub fn read(&self, notes: &[Played], time: f64) -> Reading {
        let from = time - self.window;
        let p = self.classify(&features::features(notes, from, time));
        Reading {
            time,
            styles: [p[0], p[1], p[2], p[3]],
            no_music: p[NO_MUSIC],
        }
    }

    /// Readings every `HOP` seconds over a performance `duration` seconds long. The first
    /// comes once a whole window has been heard (or at the end, for a shorter piece).
    pub fn over_time(&self, notes: &[Played], duration: f64) -> Vec<Reading> {
        let mut sorted = notes.to_vec();
        sorted.sort_by(|a, b| a.start.total_cmp(&b.start));
        let first = self.window.min(duration).max(HOP);
        let steps = ((duration - first) / HOP).floor().max(0.0) as usize;
        (0..=steps)
            .map(|i| self.read(&sorted, first + i as f64 * HOP))
            .collect()
    }
}
