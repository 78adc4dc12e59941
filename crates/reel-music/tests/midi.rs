//! MIDI files read as pretty_midi reads them (`tools/reference/midi_reference.py`): the same
//! notes, times within a microsecond's rounding, on three real piano sequences (Joplin, Bach,
//! Mozart). Needs `reel setup`.

use reel_music::read_midi;
use serde_json::Value;

#[test]
fn notes_match_pretty_midi() {
    let reference: Value =
        serde_json::from_str(include_str!("fixtures/midi_reference.json")).unwrap();
    for name in [
        "maple_leaf_rag.mid",
        "bach_prelude_bwv846.mid",
        "mozart_k545_1.mid",
    ] {
        let path = reel_assets::samples_dir().join(name);
        assert!(path.exists(), "run `reel setup` first");
        let expected = &reference[name];
        let notes = read_midi(&path).unwrap();
        assert_eq!(
            notes.len() as u64,
            expected["count"].as_u64().unwrap(),
            "{name}"
        );
        let end = notes.iter().map(|n| n.end).fold(0.0, f64::max);
        assert!(
            (end - expected["end"].as_f64().unwrap()).abs() < 1e-5,
            "{name}: end {end}"
        );
        let every = expected["every"].as_u64().unwrap() as usize;
        for (i, e) in expected["notes"].as_array().unwrap().iter().enumerate() {
            let n = &notes[i * every];
            let e: Vec<f64> = e
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect();
            assert!(
                (n.start - e[0]).abs() < 2e-6 && (n.end - e[1]).abs() < 2e-6,
                "{name} note {}: {n:?} against {e:?}",
                i * every
            );
            assert_eq!(n.pitch as f64, e[2], "{name} note {}", i * every);
            assert!((n.velocity as f64 * 127.0 - e[3]).abs() < 1e-3);
        }
    }
}

#[test]
fn a_file_that_is_not_midi_is_a_clear_error() {
    let path = reel_assets::samples_dir().join("grace_hopper.jpg");
    let e = read_midi(&path).unwrap_err().to_string();
    assert!(e.contains("not a standard MIDI file"), "{e}");
}

/// The style features tell the sample pieces apart the way their styles differ: the rag's left
/// hand alternates bass notes and chords, and its tune is syncopated, unlike Bach's even broken
/// chords and Mozart's Alberti bass.
#[test]
fn features_show_the_rags_stride_and_syncopation() {
    use reel_music::features::{NAMES, features};
    let read = |name: &str| read_midi(&reel_assets::samples_dir().join(name)).unwrap();
    let whole = |notes: &[reel_music::Played]| {
        let end = notes.iter().map(|n| n.end).fold(0.0, f64::max);
        features(notes, 0.0, end + 1.0)
    };
    let rag = whole(&read("maple_leaf_rag.mid"));
    let bach = whole(&read("bach_prelude_bwv846.mid"));
    let mozart = whole(&read("mozart_k545_1.mid"));
    for (i, name) in NAMES.iter().enumerate() {
        println!(
            "{name:40} rag {:6.3}  bach {:6.3}  mozart {:6.3}",
            rag[i], bach[i], mozart[i]
        );
    }
    let stride = 15;
    assert!(rag[stride] > 2.0 * bach[stride].max(mozart[stride]));
}

/// Notes written as MIDI by reel read back the same: every note, its key and velocity, and its
/// times within a tick (about a millisecond).
#[test]
fn written_midi_reads_back_the_same_notes() {
    let notes = read_midi(&reel_assets::samples_dir().join("mozart_k545_1.mid")).unwrap();
    let path = std::env::temp_dir().join(format!("reel-midi-roundtrip-{}.mid", std::process::id()));
    std::fs::write(&path, reel_music::midi_bytes(&notes)).unwrap();
    let back = read_midi(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    assert_eq!(back.len(), notes.len());
    for (a, b) in notes.iter().zip(&back) {
        assert_eq!(a.pitch, b.pitch);
        assert!(
            (a.start - b.start).abs() < 1.1e-3 && (a.end - b.end).abs() < 1.1e-3,
            "{a:?} {b:?}"
        );
        assert!((a.velocity - b.velocity).abs() < 1e-6);
    }
}
