//! Generated frames on their way into a join: PNG sequences in a folder of their own that is
//! removed when the job ends, however it ends.

use std::path::PathBuf;

use reel_image::Image;
use reel_video::{Codec, Encoder, EncoderSettings};

use crate::GenerateError;

pub struct Scratch {
    dir: PathBuf,
    pieces: usize,
}

impl Scratch {
    pub fn new(what: &str) -> Result<Scratch, GenerateError> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!("reel-{what}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir)
            .map_err(reel_core::io(format!("creating {}", dir.display())))?;
        Ok(Scratch { dir, pieces: 0 })
    }

    /// A new sequence of `width`×`height` frames at `rate`, unlabelled (the join that reads
    /// it marks and signs the whole).
    pub fn sequence(
        &mut self,
        width: usize,
        height: usize,
        rate: (i64, i64),
    ) -> Result<Piece, GenerateError> {
        let folder = self.dir.join(format!("piece-{}", self.pieces));
        self.pieces += 1;
        let settings = EncoderSettings {
            codec: Codec::PngSequence,
            crf: 0,
            audio_from: None,
            source: None,
            length: None,
            seal: None,
            frame_rate: Some(rate),
        };
        Ok(Piece {
            encoder: Encoder::create(&folder, width, height, &settings)?,
            pattern: folder.join("frame_%06d.png"),
        })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One generated sequence being written.
pub struct Piece {
    encoder: Encoder,
    pattern: PathBuf,
}

impl Piece {
    pub fn write(&mut self, image: &Image) -> Result<(), GenerateError> {
        Ok(self.encoder.write(image, None)?)
    }

    pub fn written(&self) -> u64 {
        self.encoder.written()
    }

    /// Finishes the sequence, giving the pattern a join reads it by.
    pub fn finish(self) -> Result<PathBuf, GenerateError> {
        self.encoder.finish()?;
        Ok(self.pattern)
    }
}
