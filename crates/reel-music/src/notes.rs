//! Notes from activations, decoded as basic-pitch decodes them: onsets are peaks in time of the
//! onset activation (raised where the note activation jumps), each note lasts while its key keeps
//! sounding (allowing short dips), and sounding keys left without an onset are gathered into
//! notes from their strongest frame outward ("melodia trick").

use serde::Serialize;

use crate::transcribe::{Activations, KEYS, LOWEST_KEY, frame_time};

/// A note: when it sounds, which key, and how strongly.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Note {
    /// Frames (about 86 a second): the first that sounds and the one after the last.
    pub start_frame: usize,
    pub end_frame: usize,
    /// MIDI key number (60 is middle C).
    pub pitch: u8,
    /// Mean note activation while it sounds, 0..1.
    pub amplitude: f32,
}

impl Note {
    /// Seconds from the start of the audio.
    pub fn start(&self) -> f64 {
        frame_time(self.start_frame)
    }
    pub fn end(&self) -> f64 {
        frame_time(self.end_frame)
    }
}

/// A note as played, from a recording or a MIDI file: what the style recogniser reads.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Played {
    /// Seconds from the start.
    pub start: f64,
    pub end: f64,
    /// MIDI key number (60 is middle C).
    pub pitch: u8,
    /// Loudness, 0..1 (MIDI velocity, or the transcriber's note strength).
    pub velocity: f32,
}

impl From<Note> for Played {
    fn from(n: Note) -> Played {
        Played {
            start: n.start(),
            end: n.end(),
            pitch: n.pitch,
            velocity: n.amplitude,
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct NoteSettings {
    /// An onset peak must reach this.
    pub onset_threshold: f32,
    /// A note sounds while its activation stays at or above this.
    pub frame_threshold: f32,
    /// Notes must last longer than this many frames (11: 128 ms).
    pub min_frames: usize,
    /// Frames a note may dip below the threshold and go on.
    pub energy_tolerance: usize,
    /// Raise onsets where the note activation jumps.
    pub infer_onsets: bool,
    /// Gather notes from sounding keys that had no onset.
    pub melodia: bool,
}

impl Default for NoteSettings {
    fn default() -> Self {
        NoteSettings {
            onset_threshold: 0.5,
            frame_threshold: 0.3,
            min_frames: 11,
            energy_tolerance: 11,
            infer_onsets: true,
            melodia: true,
        }
    }
}

/// Onsets raised by jumps in the note activation: the smaller of the rises over one and two
/// frames, scaled so that its largest equals the largest onset.
fn inferred_onsets(a: &Activations) -> Vec<f32> {
    let (n, frame) = (a.frames, |t: usize, k: usize| a.note[t * KEYS + k]);
    let mut rise = vec![0f32; n * KEYS];
    for t in 2..n {
        for k in 0..KEYS {
            let r = (frame(t, k) - frame(t - 1, k)).min(frame(t, k) - frame(t - 2, k));
            rise[t * KEYS + k] = r.max(0.0);
        }
    }
    let top_rise = rise.iter().copied().fold(0.0, f32::max);
    let top_onset = a.onset.iter().copied().fold(0.0, f32::max);
    let scale = if top_rise > 0.0 {
        top_onset / top_rise
    } else {
        0.0
    };
    a.onset
        .iter()
        .zip(&rise)
        .map(|(&o, &r)| o.max(r * scale))
        .collect()
}

/// Decodes notes, ordered as found (onset notes latest first, then melodia notes).
pub fn notes(a: &Activations, s: &NoteSettings) -> Vec<Note> {
    let n = a.frames;
    if n < 3 {
        return Vec::new();
    }
    let onsets = if s.infer_onsets {
        inferred_onsets(a)
    } else {
        a.onset.clone()
    };
    let mut energy = a.note.clone();
    let at = |t: usize, k: usize| t * KEYS + k;
    let mean = |from: usize, to: usize, k: usize| -> f32 {
        (from..to).map(|t| a.note[at(t, k)]).sum::<f32>() / (to - from) as f32
    };
    // Onset peaks (strict maxima in time, not at either end), latest first.
    let mut peaks = Vec::new();
    for t in 1..n - 1 {
        for k in 0..KEYS {
            let o = onsets[at(t, k)];
            if o > onsets[at(t - 1, k)] && o > onsets[at(t + 1, k)] && o >= s.onset_threshold {
                peaks.push((t, k));
            }
        }
    }
    peaks.reverse();
    let clear = |energy: &mut [f32], t: usize, k: usize| {
        for kk in k.saturating_sub(1)..=(k + 1).min(KEYS - 1) {
            energy[at(t, kk)] = 0.0;
        }
    };
    let mut found = Vec::new();
    for (start, k) in peaks {
        if start >= n - 1 {
            continue;
        }
        let (mut i, mut below) = (start + 1, 0);
        while i < n - 1 && below < s.energy_tolerance {
            if energy[at(i, k)] < s.frame_threshold {
                below += 1;
            } else {
                below = 0;
            }
            i += 1;
        }
        let end = i - below;
        if end - start <= s.min_frames {
            continue;
        }
        for t in start..end {
            clear(&mut energy, t, k);
        }
        found.push(Note {
            start_frame: start,
            end_frame: end,
            pitch: LOWEST_KEY + k as u8,
            amplitude: mean(start, end, k),
        });
    }
    if !s.melodia {
        return found;
    }
    // The strongest remaining frame each time, found from one sorted list: energy only ever
    // falls to zero, so an entry still holding its value is the next maximum (ties go to the
    // earliest index, as an argmax's would).
    let mut candidates: Vec<(usize, f32)> = energy
        .iter()
        .enumerate()
        .filter(|&(_, &v)| v > s.frame_threshold)
        .map(|(i, &v)| (i, v))
        .collect();
    candidates.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    for (best, value) in candidates {
        if energy[best] != value {
            continue;
        }
        let (middle, k) = (best / KEYS, best % KEYS);
        energy[best] = 0.0;
        let (mut i, mut below) = (middle + 1, 0);
        while i < n - 1 && below < s.energy_tolerance {
            if energy[at(i, k)] < s.frame_threshold {
                below += 1;
            } else {
                below = 0;
            }
            clear(&mut energy, i, k);
            i += 1;
        }
        let end = i - 1 - below;
        let (mut i, mut below) = (middle as isize - 1, 0);
        while i > 0 && below < s.energy_tolerance {
            let t = i as usize;
            if energy[at(t, k)] < s.frame_threshold {
                below += 1;
            } else {
                below = 0;
            }
            clear(&mut energy, t, k);
            i -= 1;
        }
        let start = (i + 1) as usize + below;
        if end <= start || end - start <= s.min_frames {
            continue;
        }
        found.push(Note {
            start_frame: start,
            end_frame: end,
            pitch: LOWEST_KEY + k as u8,
            amplitude: mean(start, end, k),
        });
    }
    found
}
