//! A folder (a trained model) sent as one download: an uncompressed POSIX tar of its files,
//! streamed, its length known before the first byte so that the browser shows the progress.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;

use crate::http::{Request, reason};

const BLOCK: u64 = 512;

/// Sends the plain files of `folder` as `NAME.tar`, each under `NAME/`.
pub fn send_folder(request: &mut Request, folder: &Path, name: &str) -> std::io::Result<()> {
    let top = safe(name, 155);
    // Each file by its own name, and the name its header gives it.
    let mut files: Vec<(String, std::ffi::OsString, u64, u64)> = std::fs::read_dir(folder)?
        .flatten()
        .filter_map(|e| {
            let meta = e.metadata().ok().filter(|m| m.is_file())?;
            let file = e.file_name().to_str().map(|n| safe(n, 100))?;
            let mtime = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_secs());
            Some((file, e.file_name(), meta.len(), mtime))
        })
        .collect();
    files.sort();
    let length: u64 = files
        .iter()
        .map(|(_, _, size, _)| BLOCK + size.div_ceil(BLOCK) * BLOCK)
        .sum::<u64>()
        + 2 * BLOCK;
    let head = format!(
        "HTTP/1.1 200 {}\r\nContent-Type: application/x-tar\r\nContent-Length: {length}\r\nConnection: close\r\nX-Content-Type-Options: nosniff\r\nContent-Disposition: attachment; filename=\"{top}.tar\"\r\n\r\n",
        reason(200)
    );
    let head_only = request.method == "HEAD";
    let out = request.stream();
    out.write_all(head.as_bytes())?;
    if head_only {
        return out.flush();
    }
    // Once the head is sent, a failure can only close the connection (the browser sees a
    // download cut short): no second answer is written into this one.
    let _ = (|| -> std::io::Result<()> {
        for (file, real, size, mtime) in &files {
            out.write_all(&header(&top, file, *size, *mtime))?;
            // The length was promised: a file that shrank (or went) since is padded, one that
            // grew is cut.
            let sent = match File::open(folder.join(real)) {
                Ok(f) => std::io::copy(&mut f.take(*size), out)?,
                Err(_) => 0,
            };
            let padded = size.div_ceil(BLOCK) * BLOCK;
            std::io::copy(&mut std::io::repeat(0).take(padded - sent), out)?;
        }
        out.write_all(&[0; 2 * BLOCK as usize])?;
        out.flush()
    })();
    Ok(())
}

/// A name kept to letters, digits and `.-_`, at most `most` bytes.
fn safe(name: &str, most: usize) -> String {
    let clean: String = name
        .chars()
        .map(|c| match c.is_ascii_alphanumeric() || ".-_".contains(c) {
            true => c,
            false => '_',
        })
        .take(most)
        .collect();
    match clean.trim_matches('.').is_empty() {
        true => "model".into(),
        false => clean,
    }
}

/// A ustar header: `prefix/name`, a regular file of `size` bytes, mode 0644.
fn header(prefix: &str, name: &str, size: u64, mtime: u64) -> [u8; BLOCK as usize] {
    let mut h = [0u8; BLOCK as usize];
    let mut put = |at: usize, text: &[u8]| h[at..at + text.len()].copy_from_slice(text);
    put(0, name.as_bytes());
    put(100, b"0000644\0");
    put(108, b"0000000\0");
    put(116, b"0000000\0");
    put(124, format!("{size:011o}\0").as_bytes());
    put(
        136,
        format!("{:011o}\0", mtime.min(0o77777777777)).as_bytes(),
    );
    put(148, b"        ");
    put(156, b"0");
    put(257, b"ustar\0");
    put(263, b"00");
    put(345, prefix.as_bytes());
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_is_read_back_by_tar() {
        // The header and its data, as a tar file, listed by the system's tar.
        let dir = std::env::temp_dir().join(format!("reel-studio-tar-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let data = b"weights";
        let mut tar = header("a_b.model", "model.json", data.len() as u64, 1_700_000_000).to_vec();
        tar.extend_from_slice(data);
        tar.resize(
            tar.len() + (BLOCK as usize - data.len()) + 2 * BLOCK as usize,
            0,
        );
        let path = dir.join("t.tar");
        std::fs::write(&path, &tar).unwrap();
        let listed = std::process::Command::new("tar")
            .arg("-tvf")
            .arg(&path)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&listed.stdout);
        assert!(
            listed.status.success(),
            "{}",
            String::from_utf8_lossy(&listed.stderr)
        );
        assert!(
            text.contains("a_b.model/model.json") && text.contains(" 7 "),
            "{text}"
        );
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(
            safe("Jon on Grace?.train.model", 155),
            "Jon_on_Grace_.train.model"
        );
        assert_eq!(safe("..", 100), "model");
    }
}
