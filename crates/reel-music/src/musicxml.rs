//! MusicXML scores (plain `.xml`/`.musicxml`, or compressed `.mxl`) read to played notes: the
//! music21 corpus's Bach, Corelli, Handel, Haydn, Mozart and Beethoven become training pieces
//! for the style recogniser. Timing follows the score's divisions, chords, voices (backup and
//! forward), ties and tempo marks; grace and cue notes, dynamics and repeats are left out.

use std::io::{Cursor, Read};

use crate::notes::Played;

/// Quarter notes a minute where a score marks no tempo.
const DEFAULT_TEMPO: f64 = 100.0;
/// Loudness of every note: scores' dynamics are not read.
const VELOCITY: f32 = 0.7;

/// Why a score could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ScoreError(String);

/// The notes of a MusicXML score; `name` tells a compressed (.mxl) file from a plain one.
pub fn read_musicxml(name: &str, bytes: &[u8]) -> Result<Vec<Played>, ScoreError> {
    let text = if name.ends_with(".mxl") {
        unpack_mxl(bytes)?
    } else {
        decode(bytes)
    };
    // Scores carry a DOCTYPE; roxmltree refuses them unless asked.
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    let doc = roxmltree::Document::parse_with_options(&text, options)
        .map_err(|e| ScoreError(format!("not MusicXML: {e}")))?;
    let root = doc.root_element();
    if root.tag_name().name() != "score-partwise" {
        return Err(ScoreError(format!(
            "only score-partwise MusicXML is read, not {}",
            root.tag_name().name()
        )));
    }
    let mut notes: Vec<(f64, f64, u8)> = Vec::new();
    let mut tempos: Vec<(f64, f64)> = Vec::new();
    for part in root.children().filter(|n| n.has_tag_name("part")) {
        read_part(part, &mut notes, &mut tempos);
    }
    let clock = Clock::new(tempos);
    let mut played: Vec<Played> = notes
        .into_iter()
        .map(|(start, end, pitch)| Played {
            start: clock.seconds(start),
            end: clock.seconds(end),
            pitch,
            velocity: VELOCITY,
        })
        .collect();
    played.sort_by(|a, b| a.start.total_cmp(&b.start).then(a.pitch.cmp(&b.pitch)));
    Ok(played)
}

/// The score inside a compressed MusicXML file: the root file its container names.
fn unpack_mxl(bytes: &[u8]) -> Result<String, ScoreError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| ScoreError(format!("not a compressed MusicXML file: {e}")))?;
    fn read(archive: &mut zip::ZipArchive<Cursor<&[u8]>>, name: &str) -> Option<String> {
        let mut bytes = Vec::new();
        archive.by_name(name).ok()?.read_to_end(&mut bytes).ok()?;
        Some(decode(&bytes))
    }
    let root = read(&mut archive, "META-INF/container.xml").and_then(|c| {
        let doc = roxmltree::Document::parse(&c).ok()?;
        doc.descendants()
            .find(|n| n.has_tag_name("rootfile"))
            .and_then(|n| n.attribute("full-path"))
            .map(str::to_owned)
    });
    let root = match root {
        Some(r) => r,
        None => archive
            .file_names()
            .find(|n| n.ends_with(".xml") && !n.starts_with("META-INF"))
            .map(str::to_owned)
            .ok_or_else(|| ScoreError("compressed MusicXML with no score in it".into()))?,
    };
    read(&mut archive, &root)
        .ok_or_else(|| ScoreError(format!("compressed MusicXML: cannot read {root}")))
}

/// Text in UTF-8, or in UTF-16 with a byte-order mark (some scores are saved so).
fn decode(bytes: &[u8]) -> String {
    let utf16 = |big: bool| {
        let units: Vec<u16> = bytes[2..]
            .chunks_exact(2)
            .map(|c| {
                if big {
                    u16::from_be_bytes([c[0], c[1]])
                } else {
                    u16::from_le_bytes([c[0], c[1]])
                }
            })
            .collect();
        String::from_utf16_lossy(&units)
    };
    match bytes {
        [0xff, 0xfe, ..] => utf16(false),
        [0xfe, 0xff, ..] => utf16(true),
        [0xef, 0xbb, 0xbf, rest @ ..] => String::from_utf8_lossy(rest).into_owned(),
        _ => String::from_utf8_lossy(bytes).into_owned(),
    }
}

fn child<'a>(n: roxmltree::Node<'a, 'a>, tag: &str) -> Option<roxmltree::Node<'a, 'a>> {
    n.children().find(|c| c.has_tag_name(tag))
}

fn number(n: roxmltree::Node, tag: &str) -> Option<f64> {
    child(n, tag)?.text()?.trim().parse().ok()
}

/// One part's notes as (start, end, key) in quarter notes, and its tempo marks.
fn read_part(part: roxmltree::Node, notes: &mut Vec<(f64, f64, u8)>, tempos: &mut Vec<(f64, f64)>) {
    // Ties join notes of this part only.
    let part_start = notes.len();
    let mut divisions = 1.0;
    let mut transpose = 0i32;
    // Where the next note starts, and where the last one (a chord's first) started.
    let mut position;
    let mut last_start = 0.0f64;
    // Where the measure started and its furthest point (voices rewind with backup).
    let mut measure_start = 0.0f64;
    for measure in part.children().filter(|n| n.has_tag_name("measure")) {
        let mut measure_end = measure_start;
        position = measure_start;
        for item in measure.children().filter(|n| n.is_element()) {
            match item.tag_name().name() {
                "attributes" => {
                    if let Some(d) = number(item, "divisions").filter(|d| *d > 0.0) {
                        divisions = d;
                    }
                    if let Some(t) = child(item, "transpose") {
                        transpose = number(t, "chromatic").unwrap_or(0.0) as i32
                            + 12 * number(t, "octave-change").unwrap_or(0.0) as i32;
                    }
                }
                "backup" => position -= number(item, "duration").unwrap_or(0.0) / divisions,
                "forward" => position += number(item, "duration").unwrap_or(0.0) / divisions,
                "sound" | "direction" => {
                    let sound = if item.has_tag_name("sound") {
                        Some(item)
                    } else {
                        child(item, "sound")
                    };
                    if let Some(t) = sound
                        .and_then(|s| s.attribute("tempo"))
                        .and_then(|t| t.parse::<f64>().ok())
                        .filter(|t| *t > 0.0)
                    {
                        tempos.push((position, t));
                    }
                }
                "note" => {
                    if child(item, "grace").is_some() {
                        continue;
                    }
                    // A cue note takes its time in the voice but is not played.
                    let cue = child(item, "cue").is_some();
                    let length = number(item, "duration").unwrap_or(0.0) / divisions;
                    let start = if child(item, "chord").is_some() {
                        last_start
                    } else {
                        last_start = position;
                        position += length;
                        last_start
                    };
                    measure_end = measure_end.max(start + length);
                    let Some(key) = child(item, "pitch")
                        .filter(|_| !cue)
                        .and_then(|p| pitch(p, transpose))
                    else {
                        continue;
                    };
                    let tied_on = item
                        .children()
                        .any(|c| c.has_tag_name("tie") && c.attribute("type") == Some("stop"));
                    let open = tied_on
                        .then(|| {
                            notes[part_start..]
                                .iter_mut()
                                .rev()
                                .take(64)
                                .find(|(_, end, k)| *k == key && (*end - start).abs() < 1e-6)
                        })
                        .flatten();
                    match open {
                        Some(note) => note.1 = start + length,
                        None if length > 0.0 => notes.push((start, start + length, key)),
                        None => {}
                    }
                }
                _ => {}
            }
            measure_end = measure_end.max(position);
        }
        measure_start = measure_end;
    }
}

/// MIDI key of a `<pitch>`: step, alteration and octave.
fn pitch(p: roxmltree::Node, transpose: i32) -> Option<u8> {
    let step = match child(p, "step")?.text()?.trim() {
        "C" => 0,
        "D" => 2,
        "E" => 4,
        "F" => 5,
        "G" => 7,
        "A" => 9,
        "B" => 11,
        _ => return None,
    };
    let alter = number(p, "alter").unwrap_or(0.0).round() as i32;
    let octave = number(p, "octave")? as i32;
    let key = (octave + 1) * 12 + step + alter + transpose;
    u8::try_from(key).ok().filter(|k| *k < 128)
}

/// Quarter notes to seconds through the score's tempo marks.
struct Clock {
    /// (quarter note, seconds at it, quarter notes a minute from it), in time order.
    marks: Vec<(f64, f64, f64)>,
}

impl Clock {
    fn new(mut tempos: Vec<(f64, f64)>) -> Clock {
        tempos.sort_by(|a, b| a.0.total_cmp(&b.0));
        // Parts repeat the same marks; one per position.
        tempos.dedup_by(|b, a| (a.0 - b.0).abs() < 1e-9);
        let mut marks = vec![(0.0, 0.0, DEFAULT_TEMPO)];
        for (at, tempo) in tempos {
            let &(q, s, t) = marks.last().expect("marks start with one");
            let at = at.max(q);
            marks.push((at, s + (at - q) * 60.0 / t, tempo));
        }
        Clock { marks }
    }

    fn seconds(&self, quarter: f64) -> f64 {
        let i = self.marks.partition_point(|m| m.0 <= quarter).max(1) - 1;
        let (q, s, t) = self.marks[i];
        s + (quarter - q) * 60.0 / t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCORE: &str = r#"<?xml version="1.0"?>
<!DOCTYPE score-partwise PUBLIC "-//Recordare//DTD MusicXML 3.0 Partwise//EN" "http://www.musicxml.org/dtds/partwise.dtd">
<score-partwise><part id="P1">
 <measure number="1">
  <attributes><divisions>2</divisions></attributes>
  <sound tempo="120"/>
  <note><pitch><step>C</step><octave>4</octave></pitch><duration>2</duration></note>
  <note><chord/><pitch><step>E</step><octave>4</octave></pitch><duration>2</duration></note>
  <note><rest/><duration>2</duration></note>
  <note><pitch><step>B</step><alter>-1</alter><octave>3</octave></pitch><duration>4</duration><tie type="start"/></note>
  <backup><duration>8</duration></backup>
  <note><pitch><step>C</step><octave>3</octave></pitch><duration>8</duration></note>
 </measure>
 <measure number="2">
  <note><pitch><step>B</step><alter>-1</alter><octave>3</octave></pitch><duration>2</duration><tie type="stop"/></note>
  <note><pitch><step>C</step><octave>4</octave></pitch><duration>2</duration></note>
  <note><grace/><pitch><step>D</step><octave>4</octave></pitch><duration>0</duration></note>
 </measure>
</part></score-partwise>"#;

    #[test]
    fn chords_voices_ties_and_tempo() {
        let notes = read_musicxml("t.xml", SCORE.as_bytes()).unwrap();
        let got: Vec<(f64, f64, u8)> = notes.iter().map(|n| (n.start, n.end, n.pitch)).collect();
        // 120 quarter notes a minute: a quarter is half a second.
        assert_eq!(
            got,
            vec![
                (0.0, 2.0, 48), // the second voice, a whole note
                (0.0, 0.5, 60), // C4 and E4, a chord
                (0.0, 0.5, 64),
                (1.0, 2.5, 58), // B-flat 3 after the rest, tied into measure 2
                (2.5, 3.0, 60), // the grace note after it is left out
            ]
        );
    }
}
