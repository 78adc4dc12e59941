//! Audio to note activations with basic-pitch. The network takes 2 s windows (43844 samples at
//! 22050 Hz) and gives 172 frames for each; windows overlap by 30 frames, of which 15 are
//! dropped at each side so that every kept frame saw enough context, and the signal is shifted by
//! half the overlap so that the first kept frame is the start of the audio.

use reel_assets::ModelId;
use reel_assets::catalogue::PIANO_WINDOW_SAMPLES;
use reel_runtime::{Net, Output};

use crate::MusicError;

/// The sample rate the network takes.
pub const SAMPLE_RATE: u32 = 22050;
/// Samples between frames.
pub const HOP: usize = 256;
/// Frames a second (22050 / 256, rounded down as basic-pitch does).
pub const FRAMES_PER_SECOND: f64 = 86.0;
/// Piano keys, A0 (MIDI 21) to C8.
pub const KEYS: usize = 88;
/// The lowest key's MIDI number.
pub const LOWEST_KEY: u8 = 21;
/// Pitch-contour bins: three a semitone.
pub const CONTOUR_BINS: usize = 264;

const WINDOW_FRAMES: usize = 172;
const OVERLAP_FRAMES: usize = 30;
const OVERLAP: usize = OVERLAP_FRAMES * HOP;
const STEP: usize = PIANO_WINDOW_SAMPLES - OVERLAP;

/// The network's reading of a stretch of audio, frame by frame (86 a second).
#[derive(Clone, Debug, Default)]
pub struct Activations {
    pub frames: usize,
    /// (frames, 88): how strongly each key sounds.
    pub note: Vec<f32>,
    /// (frames, 88): how likely each key starts sounding.
    pub onset: Vec<f32>,
    /// (frames, 264): pitch salience at a third of a semitone.
    pub contour: Vec<f32>,
}

pub struct Transcriber {
    net: Net,
    window: Vec<f32>,
    outputs: Vec<Output>,
}

impl Transcriber {
    /// Loads the network (installed by `reel setup`).
    pub fn new(threads: usize) -> Result<Transcriber, MusicError> {
        Ok(Transcriber {
            net: Net::load(ModelId::PianoTranscription, threads)?,
            window: vec![0.0; PIANO_WINDOW_SAMPLES],
            outputs: Vec::new(),
        })
    }

    /// Activations for mono audio at 22050 Hz: one frame per 256 samples.
    pub fn activations(&mut self, audio: &[f32]) -> Result<Activations, MusicError> {
        let frames = audio.len() * FRAMES_PER_SECOND as usize / SAMPLE_RATE as usize;
        let mut out = Activations {
            frames,
            note: Vec::with_capacity(frames * KEYS),
            onset: Vec::with_capacity(frames * KEYS),
            contour: Vec::with_capacity(frames * CONTOUR_BINS),
        };
        let keep = WINDOW_FRAMES - OVERLAP_FRAMES;
        // The padded signal starts with half an overlap of silence.
        let padded_len = audio.len() + OVERLAP / 2;
        let mut start = 0;
        while start < padded_len && out.frames_done() < frames {
            // A window takes some milliseconds: a stop request is heard at once.
            reel_core::stop::check()?;
            for (i, w) in self.window.iter_mut().enumerate() {
                let p = start + i;
                *w = if p >= OVERLAP / 2 && p - OVERLAP / 2 < audio.len() {
                    audio[p - OVERLAP / 2]
                } else {
                    0.0
                };
            }
            self.net.run(&self.window, &mut self.outputs)?;
            let take = keep.min(frames - out.frames_done());
            let first = OVERLAP_FRAMES / 2;
            // The graph's outputs, in order: onsets, notes, contours.
            let [onset, note, contour] = &self.outputs[..] else {
                return Err(unexpected());
            };
            if onset.shape != [1, WINDOW_FRAMES, KEYS]
                || note.shape != [1, WINDOW_FRAMES, KEYS]
                || contour.shape != [1, WINDOW_FRAMES, CONTOUR_BINS]
            {
                return Err(unexpected());
            }
            let rows = first * KEYS..(first + take) * KEYS;
            out.onset.extend_from_slice(&onset.values[rows.clone()]);
            out.note.extend_from_slice(&note.values[rows]);
            out.contour.extend_from_slice(
                &contour.values[first * CONTOUR_BINS..(first + take) * CONTOUR_BINS],
            );
            start += STEP;
        }
        Ok(out)
    }
}

fn unexpected() -> MusicError {
    reel_runtime::ModelError::Runtime(
        "the transcriber should give onsets and notes (1, 172, 88) and contours (1, 172, 264)"
            .into(),
    )
    .into()
}

/// The time in seconds of a frame: each window's kept frames are 256 samples apart, and
/// windows start 36164 samples apart, so frames are not quite evenly spaced across joins.
pub fn frame_time(frame: usize) -> f64 {
    let keep = WINDOW_FRAMES - OVERLAP_FRAMES;
    let (window, within) = (frame / keep, frame % keep);
    (window * STEP + within * HOP) as f64 / SAMPLE_RATE as f64
}

impl Activations {
    fn frames_done(&self) -> usize {
        self.note.len() / KEYS
    }
}
