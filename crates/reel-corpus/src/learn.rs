//! Training the style recogniser on the corpus, and measuring it on pieces it never saw: the
//! corpus's groups (composers; for Bach, Joplin and the generated jazz, sets of pieces or
//! grooves) are dealt into folds, and each fold is judged by a recogniser trained on the others.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::corpus::{Packages, Piece, PieceExamples, flatten};
use reel_music::classifier::{Classifier, Training};
use reel_music::features::Features;
use reel_music::style::{CLASSES, NO_MUSIC, Provenance, Recogniser};

/// Folds of the held-out evaluation.
pub const FOLDS: usize = 5;

/// A recogniser trained on every piece given.
pub fn train(pieces: &[Piece], examples: &[PieceExamples]) -> Recogniser {
    let (x, y) = flatten(pieces, examples, |_| true);
    let classifier = Classifier::train(&x, &y, CLASSES, &Training::default());
    let mut provenance = Provenance {
        pieces: vec![0; CLASSES],
        windows: vec![0; CLASSES],
        sources: Packages::sources(),
    };
    for (p, e) in pieces.iter().zip(examples) {
        provenance.pieces[p.class] += 1;
        provenance.windows[p.class] += e.written.len() + e.heard.len();
    }
    Recogniser::new(classifier, provenance)
}

/// What one held-out piece was heard as.
#[derive(Clone, Debug, Serialize)]
pub struct Judged {
    pub name: String,
    pub class: usize,
    pub fold: usize,
    /// From its performance, transcribed.
    pub heard_as: usize,
    /// From its written notes (no-music pieces have none: `NO_MUSIC`).
    pub read_as: usize,
    /// From another performance on the recorded piano, transcribed (when evaluated).
    pub other_piano_as: Option<usize>,
    /// Share of its audio windows whose most likely class was right.
    pub windows_right: f64,
}

/// The held-out evaluation.
#[derive(Clone, Debug, Serialize)]
pub struct Evaluation {
    pub pieces: Vec<Judged>,
    /// confusion[true][predicted], by piece, from audio and from notes as written.
    pub heard: [[usize; CLASSES]; CLASSES],
    pub read: [[usize; CLASSES]; CLASSES],
    /// The same by window, from audio.
    pub heard_windows: [[usize; CLASSES]; CLASSES],
    /// By piece, from performances on the recorded piano it never trained on.
    pub other_piano: [[usize; CLASSES]; CLASSES],
}

impl Evaluation {
    /// Share of pieces of the four styles heard right from audio (or read right from notes).
    pub fn style_accuracy(&self, m: &[[usize; CLASSES]; CLASSES]) -> f64 {
        let right: usize = (0..NO_MUSIC).map(|i| m[i][i]).sum();
        let all: usize = (0..NO_MUSIC).map(|i| m[i].iter().sum::<usize>()).sum();
        right as f64 / all.max(1) as f64
    }
}

/// Each group's fold: groups of a class dealt in turn, so every fold holds some of each class.
pub fn folds(pieces: &[Piece]) -> Vec<usize> {
    let mut groups: BTreeMap<(usize, &str), usize> = BTreeMap::new();
    for p in pieces {
        groups.entry((p.class, p.group.as_str())).or_insert(0);
    }
    let mut dealt = [0usize; CLASSES];
    for ((class, _), fold) in groups.iter_mut() {
        *fold = (dealt[*class] + *class) % FOLDS;
        dealt[*class] += 1;
    }
    pieces
        .iter()
        .map(|p| groups[&(p.class, p.group.as_str())])
        .collect()
}

/// The class a stretch of windows is heard as: no music when most windows say so, else the
/// style with the highest summed log-probability over the musical windows.
pub fn verdict(recogniser: &Recogniser, windows: &[Features]) -> (usize, Vec<usize>) {
    let mut sums = [0f64; NO_MUSIC];
    let mut none = 0;
    let mut each = Vec::with_capacity(windows.len());
    for f in windows {
        let p = recogniser.classify(f);
        let best = (0..CLASSES).fold(0, |b, i| if p[i] > p[b] { i } else { b });
        each.push(best);
        if best == NO_MUSIC {
            none += 1;
            continue;
        }
        for (s, v) in sums.iter_mut().zip(&p) {
            *s += (*v as f64).max(1e-6).ln();
        }
    }
    if none * 2 >= windows.len() {
        return (NO_MUSIC, each);
    }
    let best = (0..NO_MUSIC).fold(0, |b, i| if sums[i] > sums[b] { i } else { b });
    (best, each)
}

/// Trains on all folds but one and judges that one, for every fold; `other_piano`, when given,
/// holds each piece's performance on another piano, judged by the same recogniser.
pub fn evaluate(
    pieces: &[Piece],
    examples: &[PieceExamples],
    other_piano: Option<&[PieceExamples]>,
) -> Evaluation {
    let fold_of = folds(pieces);
    let mut e = Evaluation {
        pieces: Vec::new(),
        heard: [[0; CLASSES]; CLASSES],
        read: [[0; CLASSES]; CLASSES],
        heard_windows: [[0; CLASSES]; CLASSES],
        other_piano: [[0; CLASSES]; CLASSES],
    };
    for fold in 0..FOLDS {
        let (x, y) = flatten(pieces, examples, |i| fold_of[i] != fold);
        let classifier = Classifier::train(&x, &y, CLASSES, &Training::default());
        let r = Recogniser::new(classifier, Provenance::default());
        for (i, (p, ex)) in pieces.iter().zip(examples).enumerate() {
            if fold_of[i] != fold {
                continue;
            }
            let (heard_as, each) = verdict(&r, &ex.heard);
            let read_as = if ex.written.is_empty() {
                NO_MUSIC
            } else {
                verdict(&r, &ex.written).0
            };
            for &w in &each {
                e.heard_windows[p.class][w] += 1;
            }
            e.heard[p.class][heard_as] += 1;
            let other_piano_as = other_piano.map(|o| verdict(&r, &o[i].heard).0);
            if let Some(o) = other_piano_as {
                e.other_piano[p.class][o] += 1;
            }
            e.read[p.class][read_as] += 1;
            e.pieces.push(Judged {
                name: p.name.clone(),
                class: p.class,
                fold,
                heard_as,
                read_as,
                other_piano_as,
                windows_right: each.iter().filter(|&&w| w == p.class).count() as f64
                    / each.len().max(1) as f64,
            });
        }
    }
    e
}
