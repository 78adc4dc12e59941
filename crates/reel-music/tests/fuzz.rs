//! MIDI files and MusicXML scores of any content are read or refused, never a panic or a hang.
//! Needs `reel setup` (a sample MIDI file to damage).

use proptest::prelude::*;
use reel_music::midi::read_midi_bytes;
use reel_music::musicxml::read_musicxml;

const SCORE: &str = r#"<?xml version="1.0"?>
<score-partwise version="3.1"><part-list><score-part id="P1"><part-name>Piano</part-name></score-part></part-list>
<part id="P1"><measure number="1"><attributes><divisions>2</divisions><time><beats>4</beats><beat-type>4</beat-type></time></attributes>
<direction><sound tempo="90"/></direction>
<note><pitch><step>C</step><octave>4</octave></pitch><duration>2</duration></note>
<note><chord/><pitch><step>E</step><alter>-1</alter><octave>4</octave></pitch><duration>2</duration></note>
<note><rest/><duration>2</duration></note>
<backup><duration>4</duration></backup>
<note><pitch><step>G</step><octave>2</octave></pitch><duration>4</duration><tie type="start"/></note>
</measure></part></score-partwise>"#;

fn sample_midi() -> Vec<u8> {
    std::fs::read(reel_assets::samples_dir().join("maple_leaf_rag.mid"))
        .expect("the sample MIDI: run `reel setup` first")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_are_read_or_refused_as_midi(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = read_midi_bytes(&bytes);
        let mut with_header = b"MThd\0\0\0\x06\0\x01\0\x02\x01\xe0MTrk".to_vec();
        with_header.extend_from_slice(&bytes);
        let _ = read_midi_bytes(&with_header);
    }

    #[test]
    fn a_damaged_midi_file_is_read_or_refused(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..40),
        cut in any::<usize>(),
    ) {
        let mut bytes = sample_midi();
        for (at, b) in edits {
            let i = at % bytes.len();
            bytes[i] = b;
        }
        bytes.truncate(cut % (bytes.len() + 1));
        let _ = read_midi_bytes(&bytes);
    }

    #[test]
    fn a_damaged_score_is_read_or_refused(
        edits in proptest::collection::vec((any::<usize>(), "[0-9<>/a-z\" -]"), 1..10),
    ) {
        let mut text = SCORE.to_string();
        for (at, s) in edits {
            let mut i = at % text.len();
            while !text.is_char_boundary(i) {
                i -= 1;
            }
            text.replace_range(i..(i + 1).min(text.len()), &s);
        }
        let _ = read_musicxml("fuzz.musicxml", text.as_bytes());
    }
}
