//! Stills decoded in-process as the standard libraries decode them: JPEG with libjpeg's smooth
//! chroma upsampling, PNG, WebP and TIFF (8 or 16 bits a channel), with the EXIF orientation
//! applied. ffmpeg's JPEG path converts chroma its own way, up to 46 levels off at colour
//! edges, so a photo retouched through it would differ from the original everywhere, not only
//! on the face.

use std::io::Cursor;
use std::path::Path;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};
use reel_image::Image;

use crate::VideoError;

/// The still at `path` as RGB, or None when it is not a format decoded here (ffmpeg then
/// decodes it). The file is read once, for both the completeness check and the decoder.
pub(crate) fn decode(path: &Path) -> Option<Result<Image, VideoError>> {
    let bytes = std::fs::read(path).ok()?;
    let reader = ImageReader::new(Cursor::new(bytes.as_slice()))
        .with_guessed_format()
        .ok()?;
    let format = reader.format()?;
    if !matches!(
        format,
        ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP | ImageFormat::Tiff
    ) {
        return None;
    }
    let unreadable = |detail: String| VideoError::Unreadable {
        path: path.to_path_buf(),
        detail,
    };
    // The JPEG decoder fills a cut file's missing rows with grey rather than failing.
    if format == ImageFormat::Jpeg && !jpeg_is_complete(&bytes) {
        return Some(Err(unreadable(
            "the JPEG is cut short (its image data has no end marker)".into(),
        )));
    }
    Some(read(reader).map_err(|e| unreadable(e.to_string())))
}

/// Whether the main image's entropy-coded data reaches its end-of-image marker. The marker
/// segments before the first scan (an EXIF thumbnail among them, with markers of its own) are
/// stepped over by their lengths; inside scan data 0xFF is always escaped, so an FF D9 there is
/// the end.
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let mut at = 2;
    // Segments up to the first start of scan.
    loop {
        let Some(&[0xff, marker]) = bytes.get(at..at + 2) else {
            return false;
        };
        if marker == 0xff {
            at += 1;
            continue;
        }
        let Some(len) = bytes.get(at + 2..at + 4) else {
            return false;
        };
        let len = u16::from_be_bytes([len[0], len[1]]) as usize;
        at += 2 + len;
        if marker == 0xda {
            break;
        }
    }
    bytes
        .get(at..)
        .is_some_and(|scan| scan.windows(2).any(|w| w == [0xff, 0xd9]))
}

fn read(reader: ImageReader<Cursor<&[u8]>>) -> image::ImageResult<Image> {
    let mut decoder = reader.into_decoder()?;
    let orientation = decoder.orientation()?;
    let mut picture = DynamicImage::from_decoder(decoder)?;
    picture.apply_orientation(orientation);
    // 16-bit channels rounded to the nearest 8-bit level; alpha dropped, as ffmpeg's rgb24 does.
    let rgb = picture.into_rgb8();
    let (width, height) = (rgb.width() as usize, rgb.height() as usize);
    Ok(Image {
        width,
        height,
        data: rgb.into_raw(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_jpeg_is_told_from_a_whole_one() {
        // SOI, an APP1 holding a thumbnail's own markers (FF DA ... FF D9), a scan, EOI.
        let mut jpeg = vec![
            0xff, 0xd8, 0xff, 0xe1, 0x00, 0x08, 0xff, 0xda, 0xff, 0xd9, 0x00, 0x00,
        ];
        jpeg.extend_from_slice(&[0xff, 0xda, 0x00, 0x04, 0x01, 0x02, 0x12, 0xff, 0x00, 0x34]);
        let cut = jpeg.clone();
        jpeg.extend_from_slice(&[0xff, 0xd9]);
        assert!(jpeg_is_complete(&jpeg));
        assert!(
            !jpeg_is_complete(&cut),
            "the thumbnail's end marker is not the image's"
        );
        assert!(!jpeg_is_complete(&jpeg[..5]));
    }
}
