//! The folder the user allowed (`reel studio --folder DIR`): its videos and images listed for
//! the page, and one of them resolved for a copy into the library. Nothing outside the folder
//! is listed or read, whatever the path asked for (`..`, an absolute path, a link out of it),
//! and nothing in it is ever changed.

use std::path::{Component, Path, PathBuf};

/// Most files listed (a folder of a whole disk is cut short, and says so).
pub const MOST: usize = 5000;
/// Levels of subfolders listed, and folders looked into at most.
const DEPTH: usize = 6;
const FOLDERS: usize = 20_000;
/// What the studio takes, by extension.
const MEDIA: [&str; 14] = [
    "mp4", "m4v", "mov", "mkv", "webm", "avi", "mxf", "png", "jpg", "jpeg", "webp", "tif", "tiff",
    "bmp",
];

#[derive(Debug, PartialEq)]
pub struct Entry {
    /// From the folder, with `/` between parts.
    pub path: String,
    pub bytes: u64,
}

fn is_media(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| MEDIA.contains(&e.to_ascii_lowercase().as_str()))
}

/// The folder's media files by path (sorted), at most [`MOST`], and whether there were more.
/// Hidden files and folders are left out, and links are not followed.
pub fn list(root: &Path) -> (Vec<Entry>, bool) {
    let mut found = Vec::new();
    let mut more = false;
    let mut pending = vec![(root.to_path_buf(), 0usize)];
    let mut visited = 0;
    'walk: while let Some((dir, depth)) = pending.pop() {
        visited += 1;
        if visited > FOLDERS {
            more = true;
            break;
        }
        let Ok(read) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in read.flatten() {
            let name = entry.file_name();
            if name.to_string_lossy().starts_with('.') {
                continue;
            }
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            if kind.is_dir() && depth < DEPTH {
                pending.push((path, depth + 1));
            } else if kind.is_file() && is_media(&path) {
                if found.len() == MOST {
                    more = true;
                    break 'walk;
                }
                let relative = path.strip_prefix(root).unwrap_or(&path);
                found.push(Entry {
                    path: relative
                        .components()
                        .map(|c| c.as_os_str().to_string_lossy())
                        .collect::<Vec<_>>()
                        .join("/"),
                    bytes: entry.metadata().map(|m| m.len()).unwrap_or(0),
                });
            }
        }
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    (found, more)
}

/// The file `asked` names inside `root`: a relative path of plain, unhidden parts to a media
/// file that, links resolved, still lies inside the folder.
pub fn resolve(root: &Path, asked: &str) -> Result<PathBuf, String> {
    let relative = Path::new(asked);
    let plain = !asked.is_empty()
        && relative.components().all(|c| match c {
            Component::Normal(part) => !part.to_string_lossy().starts_with('.'),
            _ => false,
        });
    if !plain {
        return Err(format!(
            "{asked:?} is not a path inside the folder (give it as the list gives it)"
        ));
    }
    let outside = || format!("{asked} is not in the folder");
    let root = root
        .canonicalize()
        .map_err(|e| format!("the folder: {e}"))?;
    let path = root.join(relative).canonicalize().map_err(|_| outside())?;
    if !path.starts_with(&root) {
        return Err(outside());
    }
    if !path.is_file() || !is_media(&path) {
        return Err(format!("{asked} is not a video or image file"));
    }
    Ok(path)
}

/// Opens a file `resolve` gave, refusing what changed since: a link put in its place, a
/// folder on its way swapped for a link out of the folder, a pipe or device (opened without
/// waiting on it), anything but a regular file.
pub fn open_inside(root: &Path, path: &Path) -> Result<std::fs::File, String> {
    use std::os::unix::fs::OpenOptionsExt;
    use std::os::unix::io::AsRawFd;
    let moved = || format!("{} changed while it was read", path.display());
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|_| moved())?;
    let regular = file.metadata().map(|m| m.is_file()).unwrap_or(false);
    let root = root
        .canonicalize()
        .map_err(|e| format!("the folder: {e}"))?;
    // Where the open file really is, as the kernel knows it.
    let opened =
        std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd())).map_err(|_| moved())?;
    if !regular || !opened.starts_with(&root) {
        return Err(moved());
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_media_inside_and_resolves_nothing_outside() {
        let dir = std::env::temp_dir().join(format!("reel-folder-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let root = dir.join("allowed");
        std::fs::create_dir_all(root.join("b-roll/.cache")).unwrap();
        std::fs::write(root.join("a.mp4"), b"1").unwrap();
        std::fs::write(root.join("b-roll/Shot 2.MOV"), b"22").unwrap();
        std::fs::write(root.join("b-roll/.cache/c.png"), b"3").unwrap();
        std::fs::write(root.join("notes.txt"), b"4").unwrap();
        std::fs::write(dir.join("secret.png"), b"5").unwrap();
        std::os::unix::fs::symlink(dir.join("secret.png"), root.join("out.png")).unwrap();
        let (entries, more) = list(&root);
        assert!(!more);
        assert_eq!(
            entries,
            vec![
                Entry {
                    path: "a.mp4".into(),
                    bytes: 1
                },
                Entry {
                    path: "b-roll/Shot 2.MOV".into(),
                    bytes: 2
                },
            ]
        );
        assert_eq!(
            resolve(&root, "b-roll/Shot 2.MOV").unwrap(),
            root.canonicalize().unwrap().join("b-roll/Shot 2.MOV")
        );
        for bad in [
            "",
            "../secret.png",
            "b-roll/../../secret.png",
            "/etc/passwd",
            "out.png",
            "notes.txt",
            "b-roll",
            "missing.mp4",
            "./a.mp4",
            "b-roll/.cache/c.png",
        ] {
            assert!(resolve(&root, bad).is_err(), "{bad}");
        }
        let inside = resolve(&root, "a.mp4").unwrap();
        assert!(open_inside(&root, &inside).is_ok());
        // A link put where the file was, after it was resolved: refused when opened.
        std::fs::remove_file(root.join("a.mp4")).unwrap();
        std::os::unix::fs::symlink(dir.join("secret.png"), root.join("a.mp4")).unwrap();
        assert!(open_inside(&root, &inside).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
