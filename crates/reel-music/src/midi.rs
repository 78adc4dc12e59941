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
    read_midi_bytes(&bytes).map_err(|detail| MusicError::Midi {
        path: path.to_path_buf(),
        detail,
    })
}

/// Every note of a standard MIDI file held in memory, sorted by start.
pub fn read_midi_bytes(bytes: &[u8]) -> Result<Vec<Played>, String> {
    let smf = Smf::parse(bytes).map_err(|e| format!("not a standard MIDI file ({e})"))?;
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

/// Ticks a beat in the MIDI files reel writes; at their fixed 120 beats a minute a tick is
/// about a millisecond.
const TICKS_PER_BEAT: u16 = 480;
const TICKS_PER_SECOND: f64 = TICKS_PER_BEAT as f64 * 2.0;

/// The notes as a standard MIDI file (one track, piano, 120 beats a minute, so that seconds
/// map straight to ticks).
pub fn midi_bytes(notes: &[Played]) -> Vec<u8> {
    use midly::num::{u4, u7, u15, u24, u28};
    use midly::{Format, Header, TrackEvent};
    let tick = |s: f64| (s.max(0.0) * TICKS_PER_SECOND).round() as u64;
    // (tick, release before strike at the same tick, key, velocity)
    let mut events: Vec<(u64, bool, u8, u8)> = Vec::with_capacity(notes.len() * 2);
    for n in notes {
        let (on, off) = (tick(n.start), tick(n.end).max(tick(n.start) + 1));
        let vel = (n.velocity * 127.0).round().clamp(1.0, 127.0) as u8;
        events.push((on, true, n.pitch.min(127), vel));
        events.push((off, false, n.pitch.min(127), 0));
    }
    // At the same tick, releases come first so a struck-again key is not cut short.
    events.sort_by_key(|&(t, on, key, _)| (t, on, key));
    let channel = u4::new(0);
    let mut track = vec![
        TrackEvent {
            delta: u28::new(0),
            kind: TrackEventKind::Meta(MetaMessage::Tempo(u24::new(500_000))),
        },
        TrackEvent {
            delta: u28::new(0),
            kind: TrackEventKind::Midi {
                channel,
                message: MidiMessage::ProgramChange {
                    program: u7::new(0),
                },
            },
        },
    ];
    let mut last = 0u64;
    for (t, on, key, vel) in events {
        let message = if on {
            MidiMessage::NoteOn {
                key: u7::new(key),
                vel: u7::new(vel),
            }
        } else {
            MidiMessage::NoteOff {
                key: u7::new(key),
                vel: u7::new(0),
            }
        };
        track.push(TrackEvent {
            delta: u28::new((t - last).min(0x0fff_ffff) as u32),
            kind: TrackEventKind::Midi { channel, message },
        });
        last = t;
    }
    track.push(TrackEvent {
        delta: u28::new(0),
        kind: TrackEventKind::Meta(MetaMessage::EndOfTrack),
    });
    let header = Header::new(
        Format::SingleTrack,
        Timing::Metrical(u15::new(TICKS_PER_BEAT)),
    );
    let mut bytes = Vec::new();
    midly::write_std(&header, [&track].iter().map(|t| t.iter()), &mut bytes)
        .expect("writing to memory cannot fail");
    bytes
}
