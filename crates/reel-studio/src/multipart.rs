//! An upload's `file` field out of a multipart/form-data body, streamed to a file as it comes
//! (a clip is never held in memory whole).

use std::io::{Read, Write};

/// The boundary a multipart Content-Type names.
pub fn boundary(content_type: &str) -> Option<String> {
    let (kind, params) = content_type.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.eq_ignore_ascii_case("boundary")
            .then(|| v.trim_matches('"').to_string())
            .filter(|b| !b.is_empty() && b.len() <= 200)
    })
}

#[derive(Debug, PartialEq)]
pub enum UploadError {
    /// The body is not the multipart form it says it is.
    Malformed(&'static str),
    /// The body has no `file` field.
    NoFile,
    /// Reading the body or writing the file failed.
    Io(String),
}

/// A body read through a buffer of its own, so that what is read past a boundary is kept.
struct Body<R> {
    inner: R,
    buf: Vec<u8>,
    start: usize,
}

const CHUNK: usize = 1 << 16;

impl<R: Read> Body<R> {
    /// Reads more; false at the end of the body.
    fn more(&mut self) -> Result<bool, UploadError> {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        let len = self.buf.len();
        self.buf.resize(len + CHUNK, 0);
        let n = self
            .inner
            .read(&mut self.buf[len..])
            .map_err(|e| UploadError::Io(e.to_string()))?;
        self.buf.truncate(len + n);
        Ok(n > 0)
    }

    fn pending(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    /// One line (without its CRLF), of at most 8 KiB.
    fn line(&mut self) -> Result<String, UploadError> {
        loop {
            if let Some(at) = find(self.pending(), b"\r\n") {
                let line = String::from_utf8_lossy(&self.pending()[..at]).into_owned();
                self.start += at + 2;
                return Ok(line);
            }
            if self.pending().len() > 8192 {
                return Err(UploadError::Malformed("a header line is too long"));
            }
            if !self.more()? {
                return Err(UploadError::Malformed("the body ends inside a header"));
            }
        }
    }

    /// Copies bytes to `out` up to `delimiter`, which is consumed and not copied.
    fn copy_until(&mut self, delimiter: &[u8], out: &mut dyn Write) -> Result<u64, UploadError> {
        let mut copied = 0u64;
        loop {
            if let Some(at) = find(self.pending(), delimiter) {
                out.write_all(&self.pending()[..at])
                    .map_err(|e| UploadError::Io(e.to_string()))?;
                self.start += at + delimiter.len();
                return Ok(copied + at as u64);
            }
            // All but what could be the delimiter's beginning is surely content.
            let safe = self.pending().len().saturating_sub(delimiter.len() - 1);
            out.write_all(&self.pending()[..safe])
                .map_err(|e| UploadError::Io(e.to_string()))?;
            copied += safe as u64;
            self.start += safe;
            if !self.more()? {
                return Err(UploadError::Malformed(
                    "the body ends before its closing boundary",
                ));
            }
        }
    }

    /// The next `n` bytes (n small).
    fn take(&mut self, n: usize) -> Result<Vec<u8>, UploadError> {
        while self.pending().len() < n {
            if !self.more()? {
                return Err(UploadError::Malformed("the body ends early"));
            }
        }
        let out = self.pending()[..n].to_vec();
        self.start += n;
        Ok(out)
    }
}

/// Streams the first part named `file` into `out`; returns the file name it was sent under
/// and its size.
pub fn copy_file_field(
    body: impl Read,
    boundary: &str,
    out: &mut dyn Write,
) -> Result<(String, u64), UploadError> {
    let mut body = Body {
        inner: body,
        buf: Vec::with_capacity(2 * CHUNK),
        start: 0,
    };
    let opening = format!("--{boundary}");
    let delimiter = format!("\r\n--{boundary}");
    // The preamble, up to the first boundary.
    let mut lines = 0;
    while body.line()? != opening {
        lines += 1;
        if lines > 16 {
            return Err(UploadError::Malformed("no opening boundary"));
        }
    }
    loop {
        let mut name = None;
        let mut filename = None;
        for n in 0.. {
            let line = body.line()?;
            if line.is_empty() {
                break;
            }
            if n > 32 {
                return Err(UploadError::Malformed("a part has too many headers"));
            }
            if let Some((k, v)) = line.split_once(':')
                && k.trim().eq_ignore_ascii_case("content-disposition")
            {
                name = parameter(v, "name");
                filename = parameter(v, "filename");
            }
        }
        if name.as_deref() == Some("file") {
            let size = body.copy_until(delimiter.as_bytes(), out)?;
            return Ok((filename.unwrap_or_else(|| "upload".into()), size));
        }
        body.copy_until(delimiter.as_bytes(), &mut std::io::sink())?;
        // After a delimiter: "--" ends the body, a line break starts the next part.
        match body.take(2)?.as_slice() {
            b"--" => return Err(UploadError::NoFile),
            b"\r\n" => {}
            _ => {
                return Err(UploadError::Malformed(
                    "a boundary is followed by neither a part nor the end",
                ));
            }
        }
    }
}

/// A Content-Disposition parameter (`name="file"`).
fn parameter(value: &str, key: &str) -> Option<String> {
    value.split(';').find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        (k.trim() == key).then(|| v.trim().trim_matches('"').to_string())
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that gives its bytes a few at a time, as a socket may.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = self.1.min(self.0.len()).min(out.len());
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn the_file_field_is_found_after_other_fields_whatever_the_reads() {
        let content: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut body = b"--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"clip.mp4\"\r\nContent-Type: video/mp4\r\n\r\n".to_vec();
        body.extend_from_slice(&content);
        body.extend_from_slice(b"\r\n--XyZ--\r\n");
        for step in [1, 3, 17, 4096, 1 << 20] {
            let mut out = Vec::new();
            let (name, size) = copy_file_field(Trickle(&body, step), "XyZ", &mut out).unwrap();
            assert_eq!(name, "clip.mp4");
            assert_eq!(size as usize, content.len());
            assert!(out == content, "bytes differ at read size {step}");
        }
    }

    #[test]
    fn bodies_without_a_file_or_cut_short_are_refused() {
        let none = b"--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n--b--\r\n";
        assert_eq!(
            copy_file_field(&none[..], "b", &mut Vec::new()),
            Err(UploadError::NoFile)
        );
        let cut = b"--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nabcdef";
        assert!(matches!(
            copy_file_field(&cut[..], "b", &mut Vec::new()),
            Err(UploadError::Malformed(_))
        ));
        assert_eq!(
            boundary("multipart/form-data; boundary=----abc").as_deref(),
            Some("----abc")
        );
        assert_eq!(boundary("application/json"), None);
    }
}
