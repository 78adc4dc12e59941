//! MIDI files to the notes they play, in seconds (tempo changes followed), so that a recording
//! and a MIDI file reach the style recogniser in the same form.

use std::path::Path;

use midly::{MetaMessage, MidiMessage, Smf, Timing, TrackEventKind};

use crate::MusicError;
use crate::notes::Played;

/// The General MIDI percussion channel (10, counted from 1): drums are not notes.
const DRUMS: u8 = 9;

/// Every note of a standard MIDI file, sorted by start.
pub fn read_midi(path: &Path) -> Result<Vec<Played>, MusicError> {
    let bytes = std::fs::read(path).map_err(|e| MusicError::Midi {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })?;
    let smf = Smf::parse(&bytes).map_err(|e| MusicError::Midi {
        path: path.to_path_buf(),
        detail: format!("not a standard MIDI file ({e})"),
    })?;
    // All tracks' events at absolute ticks, in time order (a stable sort keeps each track's
    // own order at equal ticks).
    let mut events = Vec::new();
    for track in &smf.tracks {
        let mut tick = 0u64;
        for e in track {
            tick += e.delta.as_int() as u64;
            events.push((tick, e.kind));
        }
    }
    events.sort_by_key(|&(tick, _)| tick);
    let seconds_per_tick = |tempo: f64| match smf.header.timing {
        Timing::Metrical(per_beat) => tempo / 1e6 / per_beat.as_int().max(1) as f64,
        Timing::Timecode(fps, sub) => 1.0 / (fps.as_f32() as f64 * sub.max(1) as f64),
    };
    let mut tempo = 500_000.0; // microseconds a beat until the file says otherwise
    let (mut last_tick, mut now) = (0u64, 0.0f64);
    // Sounding notes by channel and key: start time and velocity (a key struck again before its
    // release stacks).
    let mut sounding: Vec<Vec<(f64, u8)>> = vec![Vec::new(); 16 * 128];
    let mut notes = Vec::new();
    for (tick, kind) in events {
        now += (tick - last_tick) as f64 * seconds_per_tick(tempo);
        last_tick = tick;
        match kind {
            TrackEventKind::Meta(MetaMessage::Tempo(t)) => tempo = t.as_int().max(1) as f64,
            TrackEventKind::Midi { channel, message } if channel.as_int() != DRUMS => {
                let slot =
                    |key: midly::num::u7| channel.as_int() as usize * 128 + key.as_int() as usize;
                match message {
                    MidiMessage::NoteOn { key, vel } if vel.as_int() > 0 => {
                        sounding[slot(key)].push((now, vel.as_int()));
                    }
                    MidiMessage::NoteOn { key, .. } | MidiMessage::NoteOff { key, .. } => {
                        let open = &mut sounding[slot(key)];
                        if !open.is_empty() {
                            let (start, vel) = open.remove(0);
                            notes.push(Played {
                                start,
                                end: now,
                                pitch: key.as_int(),
                                velocity: vel as f32 / 127.0,
                            });
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    // Notes never released end with the file.
    for (i, open) in sounding.iter().enumerate() {
        for &(start, vel) in open {
            notes.push(Played {
                start,
                end: now,
                pitch: (i % 128) as u8,
                velocity: vel as f32 / 127.0,
            });
        }
    }
    notes.sort_by(|a, b| a.start.total_cmp(&b.start).then(a.pitch.cmp(&b.pitch)));
    Ok(notes)
}
