//! A MIDI keyboard played live: raw MIDI bytes (an ALSA raw MIDI device) to notes as they are
//! pressed and released.

use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::Played;

/// The first raw MIDI device connected (`/dev/snd/midiC*D*`), if any.
pub fn first_device() -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/dev/snd")
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("midiC"))
        })
        .collect();
    found.sort();
    found.into_iter().next()
}

/// Raw MIDI bytes to key presses and releases: running status kept, real-time and other
/// messages skipped.
#[derive(Default)]
pub struct RawMidiParser {
    status: u8,
    data: Vec<u8>,
}

impl RawMidiParser {
    /// Takes one byte; a completed note message gives (pressed, key, velocity).
    pub fn feed(&mut self, b: u8) -> Option<(bool, u8, u8)> {
        if b >= 0xf8 {
            return None; // real-time messages (clock, active sensing) interleave anywhere
        }
        if b & 0x80 != 0 {
            self.status = b;
            self.data.clear();
            return None;
        }
        self.data.push(b);
        let kind = self.status & 0xf0;
        // Program change and channel pressure carry one data byte, the rest of the channel
        // messages two.
        let needed = if matches!(kind, 0xc0 | 0xd0) { 1 } else { 2 };
        if self.data.len() < needed {
            return None;
        }
        let (key, velocity) = (self.data[0], self.data.get(1).copied().unwrap_or(0));
        self.data.clear();
        match kind {
            0x90 => Some((velocity > 0, key, velocity)),
            0x80 => Some((false, key, velocity)),
            _ => None,
        }
    }
}

/// What the keyboard tells as it is played.
pub enum KeyEvent {
    /// A key went down: the note, sounding until released (its end is infinite until then).
    Pressed(Played),
    /// The key pressed at `start` was released at `end`.
    Released { pitch: u8, start: f64, end: f64 },
}

/// Reads a raw MIDI device until it closes, telling `event` each press and release timed from
/// `start`.
pub fn read_device(
    device: &Path,
    start: Instant,
    mut event: impl FnMut(KeyEvent),
) -> std::io::Result<()> {
    let file = std::fs::File::open(device)?;
    let mut parser = RawMidiParser::default();
    let mut down: Vec<Option<f64>> = vec![None; 128];
    for byte in BufReader::new(file).bytes() {
        let Some((pressed, key, velocity)) = parser.feed(byte?) else {
            continue;
        };
        let now = start.elapsed().as_secs_f64();
        if pressed {
            down[key as usize] = Some(now);
            event(KeyEvent::Pressed(Played {
                start: now,
                end: f64::INFINITY,
                pitch: key,
                velocity: velocity as f32 / 127.0,
            }));
        } else if let Some(t) = down[key as usize].take() {
            event(KeyEvent::Released {
                pitch: key,
                start: t,
                end: now,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_midi_gives_presses_and_releases_with_running_status() {
        let mut p = RawMidiParser::default();
        // Note on C4, then (running status) E4, a clock tick in between, E4 off as velocity 0,
        // a program change, C4 off.
        let bytes = [0x90, 60, 100, 64, 0xf8, 90, 64, 0, 0xc0, 5, 0x80, 60, 40];
        let got: Vec<(bool, u8, u8)> = bytes.iter().filter_map(|&b| p.feed(b)).collect();
        assert_eq!(
            got,
            vec![
                (true, 60, 100),
                (true, 64, 90),
                (false, 64, 0),
                (false, 60, 40)
            ]
        );
    }
}
