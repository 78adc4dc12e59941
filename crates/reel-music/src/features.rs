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
pub const NAMES: [&str; COUNT] = [
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
    "rhythm: swing (long-short pairs in a beat)",
    "bass and chord alternation",
    "gap / median gap: under 0.4",
    "gap / median gap: 0.4 to 0.75",
    "gap / median gap: 0.75 to 1.25",
    "gap / median gap: 1.25 to 1.75",
    "gap / median gap: 1.75 to 2.5",
    "gap / median gap: 2.5 or more",
    "pitch classes used",
    "fit to the best major scale",
    "pitch-class entropy",
    "notes per onset",
    "single-note onsets",
    "rhythm: short-long pairs",
    "rhythm: long-short pairs",
    "dissonant chords (semitone or tritone inside)",
    "melody: semitone steps",
];

/// How many features there are.
pub const COUNT: usize = 31;

pub type Features = [f32; COUNT];

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

/// How much pairs of short gaps that make up one beat are played long-short: 0 for straight
/// pairs, about 0.17 for the triplet swing of jazz (2:1). The pulse is the commonest gap
/// (within 10%); a pair counts when its two gaps add up to twice the pulse.
fn swing(gaps: &[f64]) -> f64 {
    if gaps.iter().filter(|g| (0.06..1.0).contains(*g)).count() < 4 {
        return 0.0;
    }
    // The pulse: the gap with the most others within 10% of it (a pair of swung gaps has one
    // long and one short, so their mean is the pulse; use the mean of each pair as candidates).
    let pairs: Vec<(f64, f64)> = gaps.windows(2).map(|w| (w[0], w[1])).collect();
    let means: Vec<f64> = pairs.iter().map(|(a, b)| (a + b) / 2.0).collect();
    let support = |p: f64| means.iter().filter(|&&m| (m / p - 1.0).abs() < 0.1).count();
    let Some(pulse) = means
        .iter()
        .copied()
        .filter(|m| (0.06..1.0).contains(m))
        .max_by_key(|&m| support(m))
    else {
        return 0.0;
    };
    // Long-short pairs that fill two pulses, alternating: take every other pair so that one
    // swung pair is not also read as its short-long neighbour.
    let mut shares = Vec::new();
    let mut i = 0;
    while i < pairs.len() {
        let (a, b) = pairs[i];
        if ((a + b) / (2.0 * pulse) - 1.0).abs() < 0.1 && a.min(b) > 0.25 * pulse {
            shares.push(a / (a + b));
            i += 2;
        } else {
            i += 1;
        }
    }
    if shares.len() < 4 {
        return 0.0;
    }
    shares.sort_by(f64::total_cmp);
    (shares[shares.len() / 2] - 0.5).max(0.0)
}

/// Fewer notes than this in a window tell nothing of its style.
const MIN_NOTES: usize = 4;

/// Whether a window had too few notes to read (its features are all zero).
pub fn too_few_notes(f: &Features) -> bool {
    f.iter().all(|&v| v == 0.0)
}

/// The features of the notes starting in [from, to). All zero when there are fewer than
/// `MIN_NOTES`.
pub fn features(notes: &[Played], from: f64, to: f64) -> Features {
    let mut f = [0f32; COUNT];
    let mut inside: Vec<&Played> = notes
        .iter()
        .filter(|n| n.start >= from && n.start < to)
        .collect();
    let span = to - from;
    if inside.len() < MIN_NOTES || span <= 0.0 {
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
        f[14] = swing(&gaps) as f32;
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

    // Gaps against the median gap, and how pairs of them fall (short-long is syncopation's,
    // long-short dotted rhythm's and swing's).
    if !gaps.is_empty() {
        let mut sorted = gaps.clone();
        sorted.sort_by(f64::total_cmp);
        let median = sorted[sorted.len() / 2].max(1e-3);
        for g in &gaps {
            let slot = match g / median {
                r if r < 0.4 => 16,
                r if r < 0.75 => 17,
                r if r < 1.25 => 18,
                r if r < 1.75 => 19,
                r if r < 2.5 => 20,
                _ => 21,
            };
            f[slot] += 1.0 / gaps.len() as f32;
        }
        let pairs = gaps.len().saturating_sub(1).max(1) as f32;
        for w in gaps.windows(2) {
            if w[1] >= 1.8 * w[0] {
                f[27] += 1.0 / pairs;
            } else if w[0] >= 1.8 * w[1] {
                f[28] += 1.0 / pairs;
            }
        }
    }

    // Harmony without a key: how many pitch classes, how evenly used, and how well the best
    // of the twelve major scales holds them.
    let mut classes = [0f32; 12];
    for x in &inside {
        classes[x.pitch as usize % 12] += 1.0;
    }
    f[22] = classes.iter().filter(|&&c| c > 0.0).count() as f32 / 12.0;
    const MAJOR: [usize; 7] = [0, 2, 4, 5, 7, 9, 11];
    let best = (0..12)
        .map(|key| MAJOR.iter().map(|d| classes[(key + d) % 12]).sum::<f32>())
        .fold(0.0, f32::max);
    f[23] = best / n;
    f[24] = -classes
        .iter()
        .filter(|&&c| c > 0.0)
        .map(|&c| (c / n) * (c / n).ln())
        .sum::<f32>()
        / 12f32.ln();

    // Texture: notes per onset, lone notes, and chords with a clash in them.
    f[25] = n / groups.len() as f32;
    f[26] = groups.iter().filter(|k| k.len() == 1).count() as f32 / groups.len() as f32;
    let big: Vec<&Vec<u8>> = groups.iter().filter(|k| k.len() >= 3).collect();
    if !big.is_empty() {
        let clashes = big
            .iter()
            .filter(|k| {
                k.iter().enumerate().any(|(i, a)| {
                    k[i + 1..].iter().any(|b| {
                        let d = (*a as i32 - *b as i32).rem_euclid(12);
                        matches!(d, 1 | 6 | 11)
                    })
                })
            })
            .count();
        f[29] = clashes as f32 / big.len() as f32;
    }
    let semitones = tops
        .windows(2)
        .filter(|w| (w[1] as i32 - w[0] as i32).abs() == 1)
        .count();
    f[30] = semitones as f32 / moves;
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
        for i in 0..COUNT {
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
    }

    #[test]
    fn swung_eighths_read_as_swing_and_straight_ones_do_not() {
        let eighths = |long: f64| -> Vec<Played> {
            (0..64)
                .map(|i| {
                    let beat = (i / 2) as f64 * 0.5;
                    let start = if i % 2 == 0 { beat } else { beat + 0.5 * long };
                    Played {
                        start,
                        end: start + 0.1,
                        pitch: 60 + (i % 5) as u8,
                        velocity: 0.7,
                    }
                })
                .collect()
        };
        let straight = features(&eighths(0.5), 0.0, 16.0)[14];
        let swung = features(&eighths(2.0 / 3.0), 0.0, 16.0)[14];
        assert!(straight < 0.02, "straight: {straight}");
        assert!((swung - 1.0 / 6.0).abs() < 0.02, "swung: {swung}");
    }

    #[test]
    fn too_few_notes_give_zeros() {
        let notes = &piece()[..3];
        assert_eq!(features(notes, 0.0, 10.0), [0.0; COUNT]);
        assert_eq!(features(&piece(), 5.0, 5.0), [0.0; COUNT]);
    }
}
