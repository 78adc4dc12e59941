//! The output layer: every file reel writes goes through here. A regular file is written to a
//! hidden partial file beside it and renamed into place once complete, so that a failed or
//! killed run never leaves a half-written file under the name asked for; partial files of runs
//! that died are cleared the next time. A symlink is followed (its target is what gets written);
//! standard output, devices and named pipes are written straight through. An existing
//! directory is never replaced by a file, and no output may be one of the inputs it is made from.

use std::fs::{self, File};
use std::io::Write;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use crate::{HasKind, IoError, Kind, io};

/// Why an output cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("{0} is a directory; give a file name for the output")]
    IsDirectory(PathBuf),
    #[error("{output} is also an input ({input}); choose another output")]
    IsInput { output: PathBuf, input: PathBuf },
    #[error("{0} is named for two outputs; give each its own")]
    Twice(PathBuf),
    #[error(
        "{0} already holds files that are not frames of an earlier sequence; choose an empty or new folder"
    )]
    NotASequence(PathBuf),
    #[error(
        "{dir} is being written by another reel (process {pid}); wait for it to finish or stop it"
    )]
    Busy { dir: PathBuf, pid: u32 },
    #[error(transparent)]
    Io(#[from] IoError),
}

impl HasKind for OutputError {
    fn kind(&self) -> Kind {
        match self {
            OutputError::Io(_) | OutputError::Busy { .. } => Kind::Output,
            _ => Kind::Usage,
        }
    }
}

/// Where an output really goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    /// A regular file, existing or not (for a symlink, its final target): written beside itself
    /// and renamed into place.
    File(PathBuf),
    /// Standard output (`-`), a device or a named pipe: written straight through.
    Stream(PathBuf),
}

/// Resolves an output path: symlinks followed, streams recognised, directories refused.
pub fn destination(path: &Path) -> Result<Destination, OutputError> {
    if path == Path::new("-") {
        return Ok(Destination::Stream(path.to_path_buf()));
    }
    let resolved = follow_links(path)?;
    match fs::metadata(&resolved) {
        Ok(m) if m.is_dir() => Err(OutputError::IsDirectory(path.to_path_buf())),
        Ok(m) => {
            let t = m.file_type();
            if t.is_char_device() || t.is_block_device() || t.is_fifo() || t.is_socket() {
                Ok(Destination::Stream(resolved))
            } else {
                Ok(Destination::File(resolved))
            }
        }
        Err(_) => Ok(Destination::File(resolved)),
    }
}

/// The path a chain of symlinks ends at (which need not exist yet).
fn follow_links(path: &Path) -> Result<PathBuf, OutputError> {
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        match fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let target =
                    fs::read_link(&p).map_err(io(format!("reading link {}", p.display())))?;
                p = match p.parent() {
                    Some(dir) if target.is_relative() => dir.join(target),
                    _ => target,
                };
            }
            _ => return Ok(p),
        }
    }
    Err(IoError {
        context: format!("following {}", path.display()),
        source: std::io::Error::other("too many levels of symbolic links"),
        path: Some(path.to_path_buf()),
    }
    .into())
}

fn parent_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

fn partial_prefix(output: &Path) -> String {
    let name = output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!(".{name}.partial-")
}

/// Where an output is written until it is complete: a hidden sibling named after this process.
pub fn partial_path(output: &Path) -> PathBuf {
    parent_of(output).join(format!("{}{}", partial_prefix(output), std::process::id()))
}

/// Removes what runs that died left while writing `output` (their process is gone).
pub fn remove_stale_partials(output: &Path) {
    let prefix = partial_prefix(output);
    let Ok(entries) = fs::read_dir(parent_of(output)) else {
        return;
    };
    for e in entries.flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = file.strip_prefix(&prefix) else {
            continue;
        };
        let alive = pid
            .parse::<u32>()
            .is_ok_and(|p| Path::new(&format!("/proc/{p}")).exists());
        if !alive || pid == std::process::id().to_string() {
            let _ = fs::remove_dir_all(e.path());
            let _ = fs::remove_file(e.path());
        }
    }
}

/// Prepares to write a regular file: its folder made, stale partial files cleared, and the
/// partial path to write to.
pub fn prepare(file: &Path) -> Result<PathBuf, OutputError> {
    let dir = parent_of(file);
    fs::create_dir_all(dir).map_err(io(format!("creating {}", dir.display())))?;
    remove_stale_partials(file);
    Ok(partial_path(file))
}

/// Moves a finished partial file into place (for a stream, copies it through and removes it).
pub fn commit(partial: &Path, destination: &Destination) -> Result<(), OutputError> {
    match destination {
        Destination::File(file) => fs::rename(partial, file)
            .map_err(io(format!("moving the output to {}", file.display())))?,
        Destination::Stream(stream) => {
            let copied = File::open(partial)
                .and_then(|mut f| {
                    if stream == Path::new("-") {
                        std::io::copy(&mut f, &mut std::io::stdout().lock())
                    } else {
                        let mut out = fs::OpenOptions::new().write(true).open(stream)?;
                        std::io::copy(&mut f, &mut out)
                    }
                })
                .map_err(io(format!("writing {}", stream.display())));
            let _ = fs::remove_file(partial);
            copied?;
        }
    }
    Ok(())
}

/// Writes `bytes` to `path` atomically (or straight through, for a stream).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    let mut file = AtomicFile::create(path)?;
    file.write_all(bytes)
        .map_err(io(format!("writing {}", path.display())))?;
    file.commit()
}

/// A file being written: a partial file renamed into place by [`AtomicFile::commit`] and removed
/// if dropped before that; or, for a stream, the stream itself.
pub struct AtomicFile {
    out: std::io::BufWriter<Box<dyn Write + Send>>,
    partial: Option<PathBuf>,
    destination: Destination,
}

impl AtomicFile {
    pub fn create(path: &Path) -> Result<AtomicFile, OutputError> {
        let destination = destination(path)?;
        let (out, partial): (Box<dyn Write + Send>, Option<PathBuf>) = match &destination {
            Destination::Stream(s) if s == Path::new("-") => (Box::new(std::io::stdout()), None),
            Destination::Stream(s) => (
                Box::new(
                    fs::OpenOptions::new()
                        .write(true)
                        .open(s)
                        .map_err(io(format!("opening {}", s.display())))?,
                ),
                None,
            ),
            Destination::File(file) => {
                let partial = prepare(file)?;
                let f = File::create(&partial)
                    .map_err(io(format!("creating {}", partial.display())))?;
                (Box::new(f), Some(partial))
            }
        };
        Ok(AtomicFile {
            out: std::io::BufWriter::with_capacity(1 << 16, out),
            partial,
            destination,
        })
    }

    /// Completes the file and moves it into place.
    pub fn commit(mut self) -> Result<(), OutputError> {
        let name = match &self.destination {
            Destination::File(p) | Destination::Stream(p) => p.clone(),
        };
        self.out
            .flush()
            .map_err(io(format!("writing {}", name.display())))?;
        if let Some(partial) = self.partial.take()
            && let Destination::File(file) = &self.destination
            && let Err(e) = fs::rename(&partial, file)
        {
            let _ = fs::remove_file(&partial);
            return Err(io(format!("moving the output to {}", file.display()))(e).into());
        }
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.out.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if let Some(partial) = self.partial.take() {
            let _ = fs::remove_file(partial);
        }
    }
}

/// Whether a folder may receive a new frame sequence: it does not exist, is empty, or holds
/// only the frames (`frame_NNNNNN.png`) of an earlier one, which the new one replaces.
pub fn check_sequence_folder(dir: &Path) -> Result<(), OutputError> {
    let resolved = follow_links(dir)?;
    match fs::metadata(&resolved) {
        Err(_) => Ok(()),
        Ok(m) if !m.is_dir() => Ok(()),
        Ok(_) => {
            let entries =
                fs::read_dir(&resolved).map_err(io(format!("reading {}", dir.display())))?;
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if !is_frame_name(&name) {
                    return Err(OutputError::NotASequence(dir.to_path_buf()));
                }
            }
            Ok(())
        }
    }
}

/// A frame of a sequence reel writes: `frame_` and six digits, `.png`.
pub fn is_frame_name(name: &str) -> bool {
    name.strip_prefix("frame_")
        .and_then(|n| n.strip_suffix(".png"))
        .is_some_and(|d| d.len() >= 6 && d.bytes().all(|b| b.is_ascii_digit()))
}

/// Moves a finished sequence folder into place: an earlier sequence there (frames only, as
/// [`check_sequence_folder`] made sure) is set aside first and removed once the new one is in.
pub fn commit_folder(partial: &Path, dir: &Path) -> Result<(), OutputError> {
    let dir = follow_links(dir)?;
    if dir.is_dir() {
        check_sequence_folder(&dir)?;
        let old = parent_of(&dir).join(format!(
            "{}old-{}",
            partial_prefix(&dir),
            std::process::id()
        ));
        fs::rename(&dir, &old).map_err(io(format!("setting {} aside", dir.display())))?;
        if let Err(e) = fs::rename(partial, &dir) {
            let _ = fs::rename(&old, &dir);
            return Err(io(format!("moving the output to {}", dir.display()))(e).into());
        }
        let _ = fs::remove_dir_all(&old);
        return Ok(());
    }
    fs::rename(partial, &dir).map_err(io(format!("moving the output to {}", dir.display())))?;
    Ok(())
}

/// A folder that one run writes into (a face set, a model), held for that run alone: a second
/// run into it is refused, naming the first; the lock of a run that died is taken over.
pub struct FolderLock {
    file: PathBuf,
}

const LOCK_NAME: &str = ".reel-lock";

impl FolderLock {
    pub fn take(dir: &Path) -> Result<FolderLock, OutputError> {
        fs::create_dir_all(dir).map_err(io(format!("creating {}", dir.display())))?;
        let file = dir.join(LOCK_NAME);
        for _ in 0..3 {
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&file)
            {
                Ok(mut f) => {
                    f.write_all(std::process::id().to_string().as_bytes())
                        .map_err(io(format!("writing {}", file.display())))?;
                    return Ok(FolderLock { file });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder = fs::read_to_string(&file)
                        .ok()
                        .and_then(|t| t.trim().parse::<u32>().ok());
                    match holder {
                        Some(pid)
                            if pid != std::process::id()
                                && Path::new(&format!("/proc/{pid}")).exists() =>
                        {
                            return Err(OutputError::Busy {
                                dir: dir.to_path_buf(),
                                pid,
                            });
                        }
                        // Its run is gone (or is this one): the lock is stale.
                        _ => {
                            let _ = fs::remove_file(&file);
                        }
                    }
                }
                Err(e) => return Err(io(format!("locking {}", dir.display()))(e).into()),
            }
        }
        Err(IoError {
            context: format!("locking {}", dir.display()),
            source: std::io::Error::other("the lock kept changing hands"),
            path: Some(dir.to_path_buf()),
        }
        .into())
    }
}

impl Drop for FolderLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.file);
    }
}

/// A file's identity (device and inode) where it exists, else its absolute, resolved path.
#[derive(Debug, PartialEq, Eq)]
enum Identity {
    Inode(u64, u64),
    Path(PathBuf),
}

fn identity(path: &Path) -> Option<Identity> {
    if path == Path::new("-") {
        return None;
    }
    let resolved = follow_links(path).ok()?;
    if let Ok(m) = fs::metadata(&resolved) {
        let t = m.file_type();
        if t.is_char_device() || t.is_fifo() || t.is_socket() || t.is_block_device() {
            return None; // streams such as /dev/null may be named more than once
        }
        return Some(Identity::Inode(m.dev(), m.ino()));
    }
    let dir = parent_of(&resolved).canonicalize().ok()?;
    Some(Identity::Path(dir.join(resolved.file_name()?)))
}

/// Checks that no output is one of the inputs, nor named twice: by file identity, symlinks and
/// relative paths seen through. An output inside an input folder (a model's own files) counts
/// as that input when `inputs` lists the folder's files.
pub fn check_distinct(inputs: &[&Path], outputs: &[&Path]) -> Result<(), OutputError> {
    let ins: Vec<(Identity, &Path)> = inputs
        .iter()
        .filter_map(|p| identity(p).map(|i| (i, *p)))
        .collect();
    let mut seen: Vec<Identity> = Vec::new();
    for out in outputs {
        let Some(id) = identity(out) else { continue };
        if let Some((_, input)) = ins.iter().find(|(i, _)| *i == id) {
            return Err(OutputError::IsInput {
                output: out.to_path_buf(),
                input: input.to_path_buf(),
            });
        }
        if seen.contains(&id) {
            return Err(OutputError::Twice(out.to_path_buf()));
        }
        seen.push(id);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("reel-core-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn atomic_write_replaces_a_file_and_leaves_no_partial() {
        let d = scratch("atomic");
        let f = d.join("a.json");
        fs::write(&f, "old").unwrap();
        write_atomic(&f, b"new").unwrap();
        assert_eq!(fs::read(&f).unwrap(), b"new");
        assert_eq!(fs::read_dir(&d).unwrap().count(), 1);
        // Dropped before commit: the old file stays, no partial is left.
        let mut w = AtomicFile::create(&f).unwrap();
        w.write_all(b"half").unwrap();
        drop(w);
        assert_eq!(fs::read(&f).unwrap(), b"new");
        assert_eq!(fs::read_dir(&d).unwrap().count(), 1);
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_directory_is_refused_and_kept() {
        let d = scratch("dir");
        let out = d.join("important.mp4");
        fs::create_dir_all(out.join("sub")).unwrap();
        fs::write(out.join("sub/file.txt"), "data").unwrap();
        assert!(matches!(
            write_atomic(&out, b"x"),
            Err(OutputError::IsDirectory(_))
        ));
        assert_eq!(fs::read(out.join("sub/file.txt")).unwrap(), b"data");
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_symlink_is_followed_and_kept() {
        let d = scratch("link");
        let target = d.join("target.json");
        fs::write(&target, "old").unwrap();
        let link = d.join("link.json");
        std::os::unix::fs::symlink("target.json", &link).unwrap();
        write_atomic(&link, b"new").unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read(&target).unwrap(), b"new");
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn devices_are_written_through() {
        write_atomic(Path::new("/dev/null"), b"nothing").unwrap();
        assert!(Path::new("/dev/null").exists());
        assert!(
            fs::metadata("/dev/null")
                .unwrap()
                .file_type()
                .is_char_device()
        );
    }

    #[test]
    fn outputs_differ_from_inputs_and_each_other() {
        let d = scratch("distinct");
        let a = d.join("a.wav");
        fs::write(&a, "x").unwrap();
        let link = d.join("b.wav");
        std::os::unix::fs::symlink(&a, &link).unwrap();
        let relative = d.join("sub/../a.wav");
        fs::create_dir_all(d.join("sub")).unwrap();
        assert!(check_distinct(&[&a], &[&link]).is_err());
        assert!(check_distinct(&[&a], &[&relative]).is_err());
        let new = d.join("new.json");
        assert!(check_distinct(&[&a], &[&new, &d.join("sub/../new.json")]).is_err());
        assert!(
            check_distinct(
                &[&a],
                &[&new, Path::new("/dev/null"), Path::new("/dev/null")]
            )
            .is_ok()
        );
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_folder_is_locked_for_one_run() {
        let d = scratch("lock");
        let lock = FolderLock::take(&d).unwrap();
        // A live holder (this test's parent, pid 1 here being init) refuses a second run.
        fs::remove_file(d.join(LOCK_NAME)).unwrap();
        fs::write(d.join(LOCK_NAME), "1").unwrap();
        assert!(matches!(
            FolderLock::take(&d),
            Err(OutputError::Busy { pid: 1, .. })
        ));
        // A dead holder's lock is taken over.
        fs::write(d.join(LOCK_NAME), "4000000000").unwrap();
        let again = FolderLock::take(&d).unwrap();
        drop(lock);
        drop(again);
        assert!(!d.join(LOCK_NAME).exists());
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_sequence_replaces_only_frames() {
        let d = scratch("sequence");
        let frames = d.join("frames");
        fs::create_dir_all(&frames).unwrap();
        fs::write(frames.join("frame_000000.png"), "old").unwrap();
        assert!(check_sequence_folder(&frames).is_ok());
        let partial = d.join(".frames.partial-1");
        fs::create_dir_all(&partial).unwrap();
        fs::write(partial.join("frame_000000.png"), "new").unwrap();
        commit_folder(&partial, &frames).unwrap();
        assert_eq!(fs::read(frames.join("frame_000000.png")).unwrap(), b"new");
        fs::write(frames.join("mine.txt"), "mine").unwrap();
        assert!(matches!(
            check_sequence_folder(&frames),
            Err(OutputError::NotASequence(_))
        ));
        fs::remove_dir_all(&d).unwrap();
    }
}
