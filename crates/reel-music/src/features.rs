//! Style features of a stretch of played notes: what the piano-style recogniser reads. They do
//! not depend on the key (intervals, not pitches) or on the tempo (ratios of durations, not
//! durations), so a piece transposed or played faster reads the same; the same notes come from a
//! MIDI file or from a transcribed recording.

use crate::notes::Played;

/// Onsets closer than this are one chord.
const CHORD_SPREAD: f64 = 0.03;
/// Below this key (C3) a note is bass.
const BASS: u8 = 48;

/// The names of the features, in order.
pub const NAMES: [&str; 16] = [
    "onsets per second",
    "mean notes sounding",
    "pitch spread (octaves)",
    "bass share",
    "chord interval: minor 2nd / major 7th",
    "chord interval: major 2nd / minor 7th",
    "chord interval: minor 3rd / major 6th",
    "chord interval: major 3rd / minor 6th",
    "chord interval: perfect 4th / 5th",
    "chord interval: tritone",
    "melody: repeated notes",
    "melody: steps",
    "melody: leaps",
    "rhythm: irregularity of onsets",
    "rhythm: long-short alternation",
    "bass and chord alternation",
];

pub type Features = [f32; 16];

/// Onset groups: when, and the keys of the notes starting together, in time order.
fn chords(notes: &[&Played]) -> (Vec<f64>, Vec<Vec<u8>>) {
    let mut starts: Vec<f64> = Vec::new();
    let mut groups: Vec<Vec<u8>> = Vec::new();
    for n in notes {
        match (starts.last(), groups.last_mut()) {
            (Some(&t), Some(keys)) if n.start - t <= CHORD_SPREAD => keys.push(n.pitch),
            _ => {
                starts.push(n.start);
                groups.push(vec![n.pitch]);
            }
        }
    }
    (starts, groups)
}

/// The features of the notes starting in [from, to). All zero when there are fewer than four.
pub fn features(notes: &[Played], from: f64, to: f64) -> Features {
    let mut f = [0f32; 16];
    let mut inside: Vec<&Played> = notes
        .iter()
        .filter(|n| n.start >= from && n.start < to)
        .collect();
    let span = to - from;
    if inside.len() < 4 || span <= 0.0 {
        return f;
    }
    inside.sort_by(|a, b| a.start.total_cmp(&b.start).then(a.pitch.cmp(&b.pitch)));
    let (starts, groups) = chords(&inside);
    f[0] = (starts.len() as f64 / span) as f32;
    let sounding: f64 = inside
        .iter()
        .map(|n| (n.end.min(to) - n.start).max(0.0))
        .sum();
    f[1] = (sounding / span) as f32;
    let n = inside.len() as f32;
    let mean = inside.iter().map(|x| x.pitch as f32).sum::<f32>() / n;
    let var = inside
        .iter()
        .map(|x| (x.pitch as f32 - mean).powi(2))
        .sum::<f32>()
        / n;
    f[2] = var.sqrt() / 12.0;
    f[3] = inside.iter().filter(|x| x.pitch < BASS).count() as f32 / n;

    // Intervals within chords, by interval class.
    let mut classes = [0f32; 6];
    for keys in &groups {
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[i + 1..] {
                let d = (*a as i32 - *b as i32).rem_euclid(12) as usize;
                let class = d.min(12 - d);
                if class > 0 {
                    classes[class - 1] += 1.0;
                }
            }
        }
    }
    let total: f32 = classes.iter().sum();
    if total > 0.0 {
        for (slot, c) in f[4..10].iter_mut().zip(classes) {
            *slot = c / total;
        }
    }

    // The melody: the highest note of each onset group.
    let tops: Vec<u8> = groups
        .iter()
        .filter_map(|k| k.iter().max().copied())
        .collect();
    let moves = tops.len().saturating_sub(1).max(1) as f32;
    for w in tops.windows(2) {
        let d = (w[1] as i32 - w[0] as i32).abs();
        let slot = match d {
            0 => 10,
            1 | 2 => 11,
            d if d > 4 => 12,
            _ => continue,
        };
        f[slot] += 1.0 / moves;
    }

    // Rhythm, from the gaps between onsets (as ratios, so tempo does not matter).
    let gaps: Vec<f64> = starts.windows(2).map(|w| w[1] - w[0]).collect();
    if gaps.len() >= 2 {
        let logs: Vec<f64> = gaps.iter().map(|g| g.ln()).collect();
        let m = logs.iter().sum::<f64>() / logs.len() as f64;
        f[13] =
            (logs.iter().map(|l| (l - m).powi(2)).sum::<f64>() / logs.len() as f64).sqrt() as f32;
        // Swing and dotted rhythms: successive gaps alternating long and short.
        let pairs: Vec<f64> = gaps.windows(2).map(|w| (w[0] / w[1]).ln().abs()).collect();
        f[14] = (pairs.iter().sum::<f64>() / pairs.len() as f64) as f32;
    }

    // Stride and oom-pah left hands: in the lower part (below G4), a bass note alone, then a
    // chord above it, in turn.
    let lower: Vec<&Played> = inside.iter().copied().filter(|x| x.pitch < 67).collect();
    let (_, left) = chords(&lower);
    let is_bass = |k: &Vec<u8>| k.iter().all(|&p| p < BASS + 4);
    let is_chord = |k: &Vec<u8>| k.iter().filter(|&&p| p >= BASS + 4).count() >= 2;
    let turns = left
        .windows(2)
        .filter(|w| (is_bass(&w[0]) && is_chord(&w[1])) || (is_chord(&w[0]) && is_bass(&w[1])))
        .count();
    f[15] = turns as f32 / left.len().saturating_sub(1).max(1) as f32;
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn piece() -> Vec<Played> {
        // A little rag-like bar pattern: bass, chord, bass, chord, and a syncopated tune.
        let mut v = Vec::new();
        for bar in 0..8 {
            let t = bar as f64 * 2.0;
            for (i, keys) in [[36, 0, 0], [55, 59, 62], [43, 0, 0], [55, 59, 62]]
                .iter()
                .enumerate()
            {
                for &k in keys.iter().filter(|&&k| k > 0) {
                    v.push(Played {
                        start: t + i as f64 * 0.5,
                        end: t + i as f64 * 0.5 + 0.4,
                        pitch: k,
                        velocity: 0.7,
                    });
                }
            }
            for (dt, k) in [(0.0, 74), (0.375, 76), (0.5, 79), (1.125, 76), (1.5, 74)] {
                v.push(Played {
                    start: t + dt,
                    end: t + dt + 0.2,
                    pitch: k,
                    velocity: 0.8,
                });
            }
        }
        v
    }

    #[test]
    fn features_do_not_depend_on_key_or_tempo() {
        let notes = piece();
        let base = features(&notes, 0.0, 16.0);
        let moved: Vec<Played> = notes
            .iter()
            .map(|n| Played {
                pitch: n.pitch + 5,
                ..*n
            })
            .collect();
        let faster: Vec<Played> = notes
            .iter()
            .map(|n| Played {
                start: n.start / 1.5,
                end: n.end / 1.5,
                ..*n
            })
            .collect();
        let up = features(&moved, 0.0, 16.0);
        let quick = features(&faster, 0.0, 16.0 / 1.5);
        for i in 0..16 {
            // Bass share, and which notes count as bass or chord, move with the key.
            if i != 3 && i != 15 {
                assert!(
                    (base[i] - up[i]).abs() < 1e-5,
                    "{}: {} vs {}",
                    NAMES[i],
                    base[i],
                    up[i]
                );
            }
            // Onsets per second scale with the tempo.
            if i != 0 {
                assert!(
                    (base[i] - quick[i]).abs() < 1e-4,
                    "{}: {} vs {}",
                    NAMES[i],
                    base[i],
                    quick[i]
                );
            }
        }
        assert!(
            base[15] > 0.5,
            "the bass-chord alternation is seen: {}",
            base[15]
        );
        assert!(base[14] > 0.2, "the dotted tune is seen: {}", base[14]);
    }

    #[test]
    fn too_few_notes_give_zeros() {
        let notes = &piece()[..3];
        assert_eq!(features(notes, 0.0, 10.0), [0.0; 16]);
        assert_eq!(features(&piece(), 5.0, 5.0), [0.0; 16]);
    }
}
