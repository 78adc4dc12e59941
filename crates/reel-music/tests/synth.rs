//! The audio path, measured: each sample piece's MIDI rendered with the SoundFont piano, then
//! transcribed, and the notes heard matched against the notes written (onset within 50 ms, the
//! same key, each written note matched at most once). Needs `reel setup`.

use reel_music::transcribe::SAMPLE_RATE;
use reel_music::{NoteSettings, Piano, Played, Transcriber, notes, read_midi};

/// Precision, recall and F1 of `heard` against `written`: greedy matching in time order.
fn score(written: &[Played], heard: &[Played]) -> (f64, f64, f64) {
    let mut used = vec![false; written.len()];
    let mut matched = 0;
    for h in heard {
        let best = written
            .iter()
            .enumerate()
            .filter(|(i, w)| !used[*i] && w.pitch == h.pitch && (w.start - h.start).abs() <= 0.05)
            .min_by(|a, b| {
                (a.1.start - h.start)
                    .abs()
                    .total_cmp(&(b.1.start - h.start).abs())
            });
        if let Some((i, _)) = best {
            used[i] = true;
            matched += 1;
        }
    }
    let p = matched as f64 / heard.len().max(1) as f64;
    let r = matched as f64 / written.len().max(1) as f64;
    (
        p,
        r,
        if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        },
    )
}

#[test]
fn rendered_pieces_are_transcribed_back_to_their_notes() {
    let piano = Piano::load().expect("run `reel setup` first");
    let mut transcriber = Transcriber::new(2).unwrap();
    let mut stride = Vec::new();
    for (name, bar) in [
        ("maple_leaf_rag.mid", 0.75),
        ("bach_prelude_bwv846.mid", 0.75),
        ("mozart_k545_1.mid", 0.75),
    ] {
        let path = reel_assets::samples_dir().join(name);
        let written = read_midi(&path).unwrap();
        let audio = piano.render(&path, SAMPLE_RATE).unwrap();
        let last = written.iter().map(|n| n.end).fold(0.0, f64::max);
        // The render lasts at least the piece plus its release.
        let seconds = audio.len() as f64 / SAMPLE_RATE as f64;
        assert!(
            seconds >= last + 0.99,
            "{name}: {seconds} s rendered, notes end at {last}"
        );
        let a = transcriber.activations(&audio).unwrap();
        let heard: Vec<Played> = notes(&a, &NoteSettings::default())
            .into_iter()
            .map(Played::from)
            .collect();
        let (p, r, f) = score(&written, &heard);
        println!(
            "{name}: {} notes written, {} heard; precision {p:.3}, recall {r:.3}, F1 {f:.3}",
            written.len(),
            heard.len()
        );
        assert!(f >= bar, "{name}: F1 {f:.3}");
        let heard_features = reel_music::features::features(&heard, 0.0, last + 1.0);
        stride.push(heard_features[15]);
    }
    // The rag's stride left hand is still plain after synthesis and transcription.
    println!(
        "bass and chord alternation heard: rag {:.3}, Bach {:.3}, Mozart {:.3}",
        stride[0], stride[1], stride[2]
    );
    assert!(stride[0] > 2.0 * stride[1].max(stride[2]));
}
