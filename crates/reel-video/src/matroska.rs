//! Just enough of a Matroska writer to hand raw RGB frames with exact timestamps to ffmpeg:
//! one uncompressed video track, one cluster per frame.

use std::io::{self, Write};

fn id(out: &mut Vec<u8>, id: u32) {
    let bytes = id.to_be_bytes();
    let skip = bytes.iter().position(|&b| b != 0).unwrap_or(3);
    out.extend_from_slice(&bytes[skip..]);
}

/// An element size as an 8-byte EBML variable-length integer.
fn size(out: &mut Vec<u8>, n: u64) {
    out.push(0x01);
    out.extend_from_slice(&n.to_be_bytes()[1..]);
}

fn element(out: &mut Vec<u8>, element_id: u32, body: &[u8]) {
    id(out, element_id);
    size(out, body.len() as u64);
    out.extend_from_slice(body);
}

fn uint(out: &mut Vec<u8>, element_id: u32, v: u64) {
    element(out, element_id, &v.to_be_bytes());
}

/// The stream header: EBML header, an open-ended segment, timing info and the track, whose
/// frames last `frame_micros` unless the next frame's time says otherwise (so that the last
/// frame keeps its duration).
pub fn header(width: usize, height: usize, frame_micros: i64) -> Vec<u8> {
    let mut ebml = Vec::new();
    uint(&mut ebml, 0x4286, 1);
    uint(&mut ebml, 0x42F7, 1);
    uint(&mut ebml, 0x42F2, 4);
    uint(&mut ebml, 0x42F3, 8);
    element(&mut ebml, 0x4282, b"matroska");
    uint(&mut ebml, 0x4287, 4);
    uint(&mut ebml, 0x4285, 2);
    let mut out = Vec::new();
    element(&mut out, 0x1A45_DFA3, &ebml);
    // Segment of unknown size: the stream ends when the pipe closes.
    id(&mut out, 0x1853_8067);
    out.extend_from_slice(&[0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
    let mut info = Vec::new();
    uint(&mut info, 0x2AD7B1, 1000); // timestamps in microseconds
    element(&mut info, 0x4D80, b"reel");
    element(&mut info, 0x5741, b"reel");
    element(&mut out, 0x1549_A966, &info);
    let mut video = Vec::new();
    uint(&mut video, 0xB0, width as u64);
    uint(&mut video, 0xBA, height as u64);
    element(&mut video, 0x2EB524, b"RGB\x18");
    let mut track = Vec::new();
    uint(&mut track, 0xD7, 1);
    uint(&mut track, 0x73C5, 1);
    uint(&mut track, 0x83, 1);
    uint(&mut track, 0x9C, 0);
    uint(&mut track, 0x23E383, frame_micros.max(1) as u64 * 1000); // DefaultDuration, ns
    element(&mut track, 0x86, b"V_UNCOMPRESSED");
    element(&mut track, 0xE0, &video);
    let mut tracks = Vec::new();
    element(&mut tracks, 0xAE, &track);
    element(&mut out, 0x1654_AE6B, &tracks);
    out
}

/// Writes one frame as a cluster at `micros` microseconds, without copying the pixels.
pub fn write_frame(
    w: &mut impl Write,
    micros: i64,
    rgb: &[u8],
    scratch: &mut Vec<u8>,
) -> io::Result<()> {
    let micros = micros.max(0) as u64;
    scratch.clear();
    uint(scratch, 0xE7, micros);
    // SimpleBlock: track 1, relative time 0, keyframe flag, then the pixels.
    id(scratch, 0xA3);
    size(scratch, rgb.len() as u64 + 4);
    scratch.extend_from_slice(&[0x81, 0x00, 0x00, 0x80]);
    let mut head = Vec::with_capacity(16);
    id(&mut head, 0x1F43_B675);
    size(&mut head, (scratch.len() + rgb.len()) as u64);
    w.write_all(&head)?;
    w.write_all(scratch)?;
    w.write_all(rgb)
}
