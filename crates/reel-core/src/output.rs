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
    /// The file was written but could not be labelled (its content credentials).
    #[error("{path}: {detail}")]
    Seal {
        path: PathBuf,
        detail: String,
        kind: Kind,
    },
    #[error(transparent)]
    Io(#[from] IoError),
}

/// Labels a finished file before it takes its final name: reel's content credentials go in
/// here, so that no output reaches its name unlabelled. `name` is where the file will go (its
/// extension tells the format); `partial` is the finished file, changed in place.
pub trait Seal: Send + Sync + std::fmt::Debug {
    fn seal(&self, partial: &Path, name: &Path) -> Result<(), OutputError>;
}

impl HasKind for OutputError {
    fn kind(&self) -> Kind {
        match self {
            OutputError::Io(_) | OutputError::Busy { .. } => Kind::Output,
            OutputError::Seal { kind, .. } => *kind,
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

/// Whether a path names one of this process's open files (`/dev/stdout`, `/dev/fd/3`,
/// `/proc/self/fd/1`, a shell's `>(...)`): written through as it is, never resolved or renamed
/// over (it may be a pipe, or a file the shell opened for appending).
fn names_an_open_file(path: &Path) -> bool {
    let text = path.to_string_lossy();
    text.starts_with("/dev/fd/")
        || text.starts_with("/proc/self/fd/")
        || (text.starts_with("/proc/") && text.contains("/fd/"))
        || matches!(text.as_ref(), "/dev/stdout" | "/dev/stderr")
}

/// Resolves an output path: symlinks followed, streams recognised, directories refused.
pub fn destination(path: &Path) -> Result<Destination, OutputError> {
    if path == Path::new("-") || names_an_open_file(path) {
        return Ok(Destination::Stream(path.to_path_buf()));
    }
    // What the path ends at, as the kernel sees it: a device or pipe is written through.
    if let Ok(m) = fs::metadata(path) {
        let t = m.file_type();
        if t.is_char_device() || t.is_block_device() || t.is_fifo() || t.is_socket() {
            return Ok(Destination::Stream(path.to_path_buf()));
        }
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
pub fn follow_links(path: &Path) -> Result<PathBuf, OutputError> {
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

/// A stream to write to: standard output for `-` and `/dev/stdout` (its own handle, so that a
/// shell's redirection, appending or not, is honoured), else the device, pipe or open file
/// the path names, appended to.
fn open_stream(stream: &Path) -> std::io::Result<Box<dyn Write + Send>> {
    let text = stream.to_string_lossy();
    if matches!(
        text.as_ref(),
        "-" | "/dev/stdout" | "/dev/fd/1" | "/proc/self/fd/1"
    ) {
        return Ok(Box::new(std::io::stdout()));
    }
    if matches!(
        text.as_ref(),
        "/dev/stderr" | "/dev/fd/2" | "/proc/self/fd/2"
    ) {
        return Ok(Box::new(std::io::stderr()));
    }
    Ok(Box::new(fs::OpenOptions::new().append(true).open(stream)?))
}

/// Where a partial output for a stream (a device, a pipe) is kept until complete: the
/// temporary folder, not beside the device.
pub fn stream_partial(stream: &Path) -> PathBuf {
    let name = stream
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "stream".into());
    std::env::temp_dir().join(format!(".reel-{name}.partial-{}", std::process::id()))
}

/// Gives a finished partial file the permissions of the file it replaces (a rename would
/// otherwise reset them), and puts its bytes on disk before it takes the name.
fn settle(partial: &Path, file: &Path) {
    if let Ok(m) = fs::metadata(file) {
        let _ = fs::set_permissions(partial, m.permissions());
    }
    if let Ok(f) = File::open(partial) {
        let _ = f.sync_all();
    }
}

/// Moves a finished partial file into place (for a stream, copies it through and removes it).
pub fn commit(partial: &Path, destination: &Destination) -> Result<(), OutputError> {
    match destination {
        Destination::File(file) => {
            settle(partial, file);
            fs::rename(partial, file)
                .map_err(io(format!("moving the output to {}", file.display())))?
        }
        Destination::Stream(stream) => {
            let copied = File::open(partial)
                .and_then(|mut f| {
                    let mut out = open_stream(stream)?;
                    std::io::copy(&mut f, &mut out)?;
                    out.flush()
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

/// Writes `bytes` as [`write_atomic`] does, labelled by `seal` before the file takes its name.
/// A stream (`-`, a pipe) gets the labelled bytes too: they are labelled in a temporary file
/// first, named as `path` is (its extension tells the format; `-` is named by `format`).
pub fn write_sealed(
    path: &Path,
    bytes: &[u8],
    seal: &dyn Seal,
    format: &str,
) -> Result<(), OutputError> {
    match destination(path)? {
        Destination::File(file) => {
            let partial = prepare(&file)?;
            let written = fs::write(&partial, bytes)
                .map_err(|e| io(format!("writing {}", partial.display()))(e).into())
                .and_then(|()| seal.seal(&partial, &file))
                .and_then(|()| {
                    settle(&partial, &file);
                    fs::rename(&partial, &file).map_err(|e| {
                        io(format!("moving the output to {}", file.display()))(e).into()
                    })
                });
            if written.is_err() {
                let _ = fs::remove_file(&partial);
            }
            written
        }
        Destination::Stream(stream) => {
            let name = match path.extension() {
                Some(_) => path.to_path_buf(),
                None => PathBuf::from(format!("output.{format}")),
            };
            // A name no one else has, made here (never a file or link someone left there).
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            let temp = std::env::temp_dir().join(format!(
                ".reel-sealing-{}-{nanos}-{}",
                std::process::id(),
                name.file_name().unwrap_or_default().to_string_lossy()
            ));
            let labelled = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&temp)
                .and_then(|mut f| f.write_all(bytes))
                .map_err(|e| io(format!("writing {}", temp.display()))(e).into())
                .and_then(|()| seal.seal(&temp, &name))
                .and_then(|()| {
                    fs::read(&temp).map_err(|e| io(format!("reading {}", temp.display()))(e).into())
                });
            let _ = fs::remove_file(&temp);
            let labelled = labelled?;
            let mut out =
                open_stream(&stream).map_err(io(format!("opening {}", stream.display())))?;
            out.write_all(&labelled)
                .and_then(|()| out.flush())
                .map_err(|e| io(format!("writing {}", stream.display()))(e).into())
        }
    }
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
            Destination::Stream(s) => (
                open_stream(s).map_err(io(format!("opening {}", s.display())))?,
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
            && let Err(e) = {
                settle(&partial, file);
                fs::rename(&partial, file)
            }
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
/// only the frames (`frame_NNNNNN.png`) of an earlier one, which the new one replaces. Gives
/// the folder the frames go to (a symlink followed), beside which they are written first.
pub fn check_sequence_folder(dir: &Path) -> Result<PathBuf, OutputError> {
    let resolved = follow_links(dir)?;
    match fs::metadata(&resolved) {
        Err(_) => Ok(resolved),
        Ok(m) if !m.is_dir() => Err(OutputError::NotASequence(dir.to_path_buf())),
        Ok(_) => {
            let entries =
                fs::read_dir(&resolved).map_err(io(format!("reading {}", dir.display())))?;
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if !is_frame_name(&name) {
                    return Err(OutputError::NotASequence(dir.to_path_buf()));
                }
            }
            Ok(resolved)
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
/// run into it is refused, naming the first. The hold is an advisory lock (flock) on
/// `.reel-lock`, which the kernel lets go of when its process ends, however it ends.
pub struct FolderLock {
    path: PathBuf,
    file: Option<File>,
}

const LOCK_NAME: &str = ".reel-lock";

impl FolderLock {
    pub fn take(dir: &Path) -> Result<FolderLock, OutputError> {
        fs::create_dir_all(dir).map_err(io(format!("creating {}", dir.display())))?;
        let path = dir.join(LOCK_NAME);
        let locking = |e| io(format!("locking {}", dir.display()))(e);
        for _ in 0..10 {
            let mut file = fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(locking)?;
            match file.try_lock() {
                Ok(()) => {}
                Err(fs::TryLockError::WouldBlock) => {
                    let mut text = String::new();
                    let _ = std::io::Read::read_to_string(&mut file, &mut text);
                    return Err(OutputError::Busy {
                        dir: dir.to_path_buf(),
                        pid: text.trim().parse().unwrap_or(0),
                    });
                }
                Err(fs::TryLockError::Error(e)) => return Err(locking(e).into()),
            }
            // The holder before may have removed the file between our open and our lock:
            // hold the file that is there now, or try again.
            let same = match (file.metadata(), fs::metadata(&path)) {
                (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
                _ => false,
            };
            if !same {
                continue;
            }
            file.set_len(0).map_err(locking)?;
            file.write_all(std::process::id().to_string().as_bytes())
                .map_err(locking)?;
            return Ok(FolderLock {
                path,
                file: Some(file),
            });
        }
        Err(locking(std::io::Error::other("the lock kept changing hands")).into())
    }
}

impl Drop for FolderLock {
    fn drop(&mut self) {
        // Removed while still held, then let go: a run waiting on the old file sees it gone.
        let _ = fs::remove_file(&self.path);
        drop(self.file.take());
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
        // A folder output (a frame sequence, a face set) replaced over an input inside it.
        if let Ok(folder) = fs::canonicalize(out)
            && folder.is_dir()
            && let Some(input) = inputs.iter().find(|i| {
                // A numbered pattern (frames/%06d.png) reads the folder it names.
                if i.to_string_lossy().contains('%') {
                    let parent = i.parent().filter(|p| !p.as_os_str().is_empty());
                    let dir = parent.unwrap_or(Path::new("."));
                    return fs::canonicalize(dir).is_ok_and(|d| d.starts_with(&folder));
                }
                fs::canonicalize(i).is_ok_and(|i| i != folder && i.starts_with(&folder))
            })
        {
            return Err(OutputError::IsInput {
                output: out.to_path_buf(),
                input: input.to_path_buf(),
            });
        }
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
        // Held: a second taker is refused, told who holds it.
        match FolderLock::take(&d) {
            Err(OutputError::Busy { pid, .. }) => assert_eq!(pid, std::process::id()),
            _ => panic!("a held folder was taken twice"),
        }
        drop(lock);
        assert!(!d.join(LOCK_NAME).exists());
        // A lock file left by a run that died (unlocked, an old pid inside) is taken over.
        fs::write(d.join(LOCK_NAME), "4000000000").unwrap();
        let again = FolderLock::take(&d).unwrap();
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
