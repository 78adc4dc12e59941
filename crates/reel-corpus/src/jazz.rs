//! Jazz tunes made with MMA (Musical MIDI Accompaniment, Debian's `mma`): standard jazz chord
//! progressions played in its swing, bebop, jazz-combo, ballad, waltz and bossa grooves, some with
//! an improvised-style line over the chords (MMA's Aria track). No corpus on the package
//! registries has jazz piano, so the recogniser's jazz is made this way: honest augmentation, and
//! said so wherever its figures are given.

use std::path::Path;
use std::process::Command;

use reel_music::MusicError;
use reel_music::classifier::Rng;
use reel_music::notes::Played;

/// Progressions in C, a bar a string (two chords in a bar split the bar).
const PROGRESSIONS: [(&str, &[&str]); 12] = [
    (
        "blues",
        &[
            "C7", "F7", "C7", "C7", "F7", "F7", "C7", "A7", "Dm7", "G7", "C7 A7", "Dm7 G7",
        ],
    ),
    (
        "minor blues",
        &[
            "Cm7", "Cm7", "Cm7", "Cm7", "Fm7", "Fm7", "Cm7", "Cm7", "Abmaj7", "G7", "Cm7",
            "Dm7b5 G7",
        ],
    ),
    (
        "ii-V-I cycle",
        &[
            "Dm7", "G7", "Cmaj7", "Cmaj7", "Cm7", "F7", "Bbmaj7", "Bbmaj7", "Bbm7", "Eb7",
            "Abmaj7", "Abmaj7", "Dm7b5", "G7", "Cmaj7", "Cmaj7",
        ],
    ),
    (
        "rhythm changes",
        &[
            "C6 Am7", "Dm7 G7", "Em7 A7", "Dm7 G7", "Gm7 C7", "F6 Fm6", "Em7 A7", "Dm7 G7",
        ],
    ),
    (
        "falling fifths",
        &["Am7", "D7", "Gmaj7", "Cmaj7", "F#m7b5", "B7", "Em7", "Em7"],
    ),
    (
        "turnarounds",
        &[
            "Cmaj7 Am7",
            "Dm7 G7",
            "Em7 A7",
            "Dm7 G7",
            "Cmaj7 C7",
            "Fmaj7 Fm7",
            "Em7 A7",
            "Dm7 G7",
        ],
    ),
    (
        "modal",
        &[
            "Dm7", "Dm7", "Dm7", "Dm7", "Dm7", "Dm7", "Dm7", "Dm7", "Ebm7", "Ebm7", "Ebm7", "Ebm7",
            "Dm7", "Dm7", "Dm7", "Dm7",
        ],
    ),
    (
        "minor ii-V-i",
        &[
            "Dm7b5", "G7b9", "Cm6", "Cm6", "Fm7", "Bb7", "Ebmaj7", "Abmaj7", "Dm7b5", "G7b9",
            "Cm6", "Cm6",
        ],
    ),
    (
        "tritone substitutes",
        &["Dm7", "Db7", "Cmaj7", "A7", "Dm7", "Db7", "Cmaj7", "Cmaj7"],
    ),
    (
        "bird blues",
        &[
            "Cmaj7", "Bm7b5 E7", "Am7 D7", "Gm7 C7", "Fmaj7", "Fm7 Bb7", "Em7 A7", "Ebm7 Ab7",
            "Dm7", "G7", "Cmaj7 A7", "Dm7 G7",
        ],
    ),
    (
        "major thirds",
        &[
            "Cmaj7 Eb7",
            "Abmaj7 B7",
            "Emaj7",
            "Gm7 C7",
            "Fmaj7",
            "Abm7 Db7",
            "Gbmaj7",
            "Dm7 G7",
        ],
    ),
    (
        "ballad",
        &["Cmaj7", "C7", "Fmaj7", "Fm7 Bb7", "Em7", "A7", "Dm7", "G7"],
    ),
];

/// Grooves: (family, MMA groove, beats in a bar, tempo range).
const GROOVES: [(&str, &str, u32, (f64, f64)); 18] = [
    ("swing", "Swing", 4, (120.0, 180.0)),
    ("swing", "SwingWalkPlus", 4, (120.0, 180.0)),
    ("swing", "Swing1Walk", 4, (120.0, 180.0)),
    ("jazzcombo", "JazzCombo", 4, (110.0, 170.0)),
    ("jazzcombo", "JazzComboPlus", 4, (110.0, 170.0)),
    ("bebop", "Bebop", 4, (190.0, 250.0)),
    ("bebop", "BebopPlus", 4, (190.0, 250.0)),
    ("evansish", "Evansish", 4, (90.0, 140.0)),
    ("evansish", "EvansishPlus", 4, (90.0, 140.0)),
    ("slowjazz", "SlowJazz", 4, (60.0, 90.0)),
    ("slowjazz", "SlowJazz1Walk", 4, (60.0, 90.0)),
    ("fastswing", "FastSwingWalk", 4, (220.0, 280.0)),
    ("easyswing", "EasySwingWalk", 4, (100.0, 130.0)),
    ("easyswing", "EasySwing1", 4, (100.0, 130.0)),
    ("jazzwaltz", "JazzWaltz", 3, (120.0, 170.0)),
    ("jazzwaltz", "JazzWaltz1", 3, (120.0, 170.0)),
    ("bossanova", "BossaNovaPlus", 4, (120.0, 145.0)),
    ("jazzrock", "JazzRockWalk", 4, (100.0, 130.0)),
];

/// One generated tune.
#[derive(Clone, Debug)]
pub struct Tune {
    pub name: String,
    /// The groove's family: tunes of one family are held out together in evaluation.
    pub family: &'static str,
    groove: &'static str,
    beats: u32,
    tempo: f64,
    transpose: i32,
    progression: &'static [&'static str],
    /// An improvised-style line over the chords (MMA's Aria track).
    line: bool,
    seconds: f64,
}

/// `count` tunes, the same ones for the same seed: grooves, progressions, keys and tempos in
/// turn and drawn.
pub fn tunes(count: usize, seconds: f64, seed: u64) -> Vec<Tune> {
    let mut rng = Rng::new(seed);
    (0..count)
        .map(|i| {
            let (family, groove, beats, (lo, hi)) = GROOVES[i % GROOVES.len()];
            let (pname, progression) =
                PROGRESSIONS[(i * 5 + i / GROOVES.len()) % PROGRESSIONS.len()];
            let tempo = (lo + (hi - lo) * rng.uniform()).round();
            let transpose = rng.below(12) as i32 - 5;
            Tune {
                name: format!("{groove} {pname} {tempo} bpm, transposed {transpose:+}"),
                family,
                groove,
                beats,
                tempo,
                transpose,
                progression,
                line: i % 2 == 0,
                seconds,
            }
        })
        .collect()
}

impl Tune {
    /// The tune as an MMA file.
    pub fn mma(&self) -> String {
        let mut s = format!(
            "Tempo {}\nTime {}\nGroove {}\nTranspose {}\n",
            self.tempo, self.beats, self.groove, self.transpose
        );
        if self.line {
            // A line of eighths from the chord's scale, moving mostly by step.
            let eighths: Vec<String> = (0..self.beats * 2)
                .map(|i| {
                    format!(
                        "{} 8 {}",
                        1.0 + i as f64 / 2.0,
                        if i % 2 == 0 { 90 } else { 72 }
                    )
                })
                .collect();
            s.push_str(&format!(
                "Begin Aria\n Voice Piano1\n Sequence {{ {} }}\n ScaleType Auto\n Octave 5\n Range 2\n Direction 1 1 -1 2 -1 -1 1 -2\n Volume f\nEnd\n",
                eighths.join("; ")
            ));
        }
        let bars = (self.seconds * self.tempo / 60.0 / self.beats as f64).ceil() as usize;
        for bar in 0..bars {
            s.push_str(&format!(
                "{} {}\n",
                bar + 1,
                self.progression[bar % self.progression.len()]
            ));
        }
        s
    }

    /// The tune's notes (drums left out), rendered by `mma` in `work`.
    pub fn notes(&self, work: &Path) -> Result<Vec<Played>, MusicError> {
        std::fs::create_dir_all(work).map_err(|e| MusicError::Corpus(e.to_string()))?;
        // Workers render tunes side by side: each file its own name.
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let stem = format!("tune-{}-{n}", std::process::id());
        let source = work.join(format!("{stem}.mma"));
        let midi = work.join(format!("{stem}.mid"));
        std::fs::write(&source, self.mma()).map_err(|e| MusicError::Corpus(e.to_string()))?;
        let out = Command::new("mma")
            .arg("-f")
            .arg(&midi)
            .arg(&source)
            .output()
            .map_err(|e| {
                MusicError::Corpus(format!(
                    "could not run `mma` ({e}); install it (Debian: apt-get install mma)"
                ))
            })?;
        if !out.status.success() || !midi.exists() {
            return Err(MusicError::Corpus(format!(
                "mma failed on {}: {}",
                self.name,
                String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .chain(String::from_utf8_lossy(&out.stderr).lines())
                    .filter(|l| l.contains("Error"))
                    .collect::<Vec<_>>()
                    .join("; ")
            )));
        }
        let notes = reel_music::midi::read_midi(&midi);
        let _ = std::fs::remove_file(&source);
        let _ = std::fs::remove_file(&midi);
        notes
    }
}
