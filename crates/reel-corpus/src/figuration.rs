//! Baroque keyboard textures from Bach's chorale harmonisations: the registries carry almost no
//! baroque keyboard music (one prelude), but hundreds of Bach's four-part chorales. Keyboard
//! players of the time realised such harmony in a few standard ways, and these are applied to
//! the chorales' own chords and voices: a broken-chord prelude (as in the C major prelude
//! BWV 846), a continuo (the bass in running eighths under chords, the tune above), and
//! two-part diminution (the tune and bass broken into running notes by step, as in the
//! inventions). The results are honest augmentation, not Bach's keyboard music, and are named so.

use reel_music::notes::Played;

/// The keyboard textures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Texture {
    BrokenChords,
    Continuo,
    Diminution,
}

impl Texture {
    pub const ALL: [Texture; 3] = [
        Texture::BrokenChords,
        Texture::Continuo,
        Texture::Diminution,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Texture::BrokenChords => "broken chords",
            Texture::Continuo => "continuo",
            Texture::Diminution => "diminution",
        }
    }
}

/// The chords of a piece: at each onset, the keys sounding (low to high), and how long until the
/// next onset.
fn chords(notes: &[Played]) -> Vec<(f64, f64, Vec<u8>)> {
    let mut onsets: Vec<f64> = notes.iter().map(|n| n.start).collect();
    onsets.sort_by(f64::total_cmp);
    onsets.dedup_by(|b, a| (*b - *a).abs() < 1e-3);
    let mut out = Vec::new();
    for (i, &t) in onsets.iter().enumerate() {
        let next = onsets
            .get(i + 1)
            .copied()
            .unwrap_or_else(|| notes.iter().map(|n| n.end).fold(t, f64::max));
        let mut keys: Vec<u8> = notes
            .iter()
            .filter(|n| n.start <= t + 1e-3 && n.end > t + 1e-3)
            .map(|n| n.pitch)
            .collect();
        keys.sort();
        keys.dedup();
        if !keys.is_empty() && next > t {
            out.push((t, next - t, keys));
        }
    }
    out
}

/// The nearest key to `target` among the piece's pitch classes, moving from `from` by step.
fn step_toward(from: u8, target: u8, classes: &[bool; 12]) -> u8 {
    let dir: i32 = if target > from { 1 } else { -1 };
    let mut k = from as i32 + dir;
    while !classes[k.rem_euclid(12) as usize] && (k - from as i32).abs() < 3 {
        k += dir;
    }
    k.clamp(21, 108) as u8
}

/// A piece's chords realised in a keyboard texture.
pub fn figure(notes: &[Played], texture: Texture) -> Vec<Played> {
    let chords = chords(notes);
    let mut classes = [false; 12];
    for n in notes {
        classes[n.pitch as usize % 12] = true;
    }
    let note = |start: f64, length: f64, pitch: u8, velocity: f32| Played {
        start,
        end: start + length * 0.95,
        pitch,
        velocity,
    };
    let mut out = Vec::new();
    for (i, (t, d, keys)) in chords.iter().enumerate() {
        let (t, d) = (*t, *d);
        let bass = keys[0];
        let top = *keys.last().expect("chords are not empty");
        let next = chords
            .get(i + 1)
            .map(|c| (c.2[0], *c.2.last().expect("not empty")));
        match texture {
            Texture::BrokenChords => {
                // The bass held, then the chord's other keys rising in four even notes, twice
                // when the chord lasts.
                out.push(note(t, d, bass, 0.6));
                let upper = &keys[1..];
                if upper.is_empty() {
                    continue;
                }
                let per = d / 4.0;
                for j in 0..4 {
                    out.push(note(t + j as f64 * per, per, upper[j % upper.len()], 0.55));
                }
            }
            Texture::Continuo => {
                // The bass in two eighths (the second an octave up, or a step toward the next
                // bass), the inner voices as a chord, the tune held above.
                let half = d / 2.0;
                out.push(note(t, half, bass, 0.65));
                let second = match next {
                    Some((nb, _)) if nb != bass => step_toward(bass, nb, &classes),
                    _ => (bass + 12).min(108),
                };
                out.push(note(t + half, half, second, 0.55));
                for &k in &keys[1..keys.len().saturating_sub(1)] {
                    out.push(note(t, half, k, 0.45));
                }
                if keys.len() > 1 {
                    out.push(note(t, d, top, 0.7));
                }
            }
            Texture::Diminution => {
                // The tune in four running notes walking by step toward the next tune note, the
                // bass in two.
                let per = d / 4.0;
                let mut k = top;
                for j in 0..4 {
                    out.push(note(t + j as f64 * per, per, k, 0.65));
                    k = match next {
                        Some((_, nt)) if nt != k => step_toward(k, nt, &classes),
                        _ => {
                            if j % 2 == 0 {
                                step_toward(k, k + 2, &classes)
                            } else {
                                step_toward(k, k.saturating_sub(2), &classes)
                            }
                        }
                    };
                }
                let half = d / 2.0;
                out.push(note(t, half, bass, 0.6));
                let second = match next {
                    Some((nb, _)) if nb != bass => step_toward(bass, nb, &classes),
                    _ => step_toward(bass, bass + 2, &classes),
                };
                out.push(note(t + half, half, second, 0.55));
            }
        }
    }
    out.sort_by(|a, b| a.start.total_cmp(&b.start).then(a.pitch.cmp(&b.pitch)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chorale() -> Vec<Played> {
        // Two chords a second long each: C major (C3 E4 G4 C5), then G major (B2 D4 G4 D5).
        let mut v = Vec::new();
        for (t, keys) in [(0.0, [48, 64, 67, 72]), (1.0, [47, 62, 67, 74])] {
            for k in keys {
                v.push(Played {
                    start: t,
                    end: t + 1.0,
                    pitch: k,
                    velocity: 0.7,
                });
            }
        }
        v
    }

    #[test]
    fn broken_chords_hold_the_bass_and_arpeggiate_the_rest() {
        let f = figure(&chorale(), Texture::BrokenChords);
        let first: Vec<(f64, u8)> = f
            .iter()
            .filter(|n| n.start < 1.0)
            .map(|n| ((n.start * 100.0).round() / 100.0, n.pitch))
            .collect();
        assert_eq!(
            first,
            vec![(0.0, 48), (0.0, 64), (0.25, 67), (0.5, 72), (0.75, 64)]
        );
    }

    #[test]
    fn diminution_walks_the_tune_by_step_to_the_next_note() {
        let f = figure(&chorale(), Texture::Diminution);
        let tune: Vec<u8> = f
            .iter()
            .filter(|n| n.start < 1.0 && n.pitch > 60)
            .map(|n| n.pitch)
            .collect();
        // From C5 up toward D5 within the piece's pitch classes (C D E G B).
        assert_eq!(tune[0], 72);
        assert!(
            tune.windows(2)
                .all(|w| (w[1] as i32 - w[0] as i32).abs() <= 2),
            "{tune:?}"
        );
    }
}
