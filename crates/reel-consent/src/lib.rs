//! The consent register. A face is put on someone only with its owner's recorded consent: who
//! (with identity descriptors of their photos), granted by whom (the person, an estate, a
//! guardian), for what, until when, with the hash of the signed document, and when it was
//! revoked. The register is an SQLite database in reel's data directory (WAL, full sync, one
//! transaction a change), so a process killed mid-write leaves it as it was before or after.

mod date;

use std::path::{Path, PathBuf};

use reel_core::{HasKind, Kind};
use rusqlite::{Connection, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

pub use date::{Date, today};

/// Below this distance between identity descriptors two faces are taken for one person (as
/// everywhere in reel: dlib's recognition network).
pub const SAME_PERSON: f32 = 0.6;

#[derive(Debug, thiserror::Error)]
pub enum ConsentError {
    #[error("consent register {path}: {detail}")]
    Database { path: PathBuf, detail: String },
    #[error("{0}")]
    Settings(String),
    #[error("no consent is recorded with id {0} (see `reel consent list`)")]
    Unknown(String),
    #[error(transparent)]
    Io(#[from] reel_core::IoError),
}

impl HasKind for ConsentError {
    fn kind(&self) -> Kind {
        match self {
            ConsentError::Database { .. } => Kind::Output,
            ConsentError::Settings(_) | ConsentError::Unknown(_) => Kind::Usage,
            ConsentError::Io(e) => e.kind(),
        }
    }
}

/// One photo of the person, as recorded: its name, hash and identity descriptor.
#[derive(Clone, Debug, Serialize)]
pub struct Photo {
    pub file: String,
    pub sha256: String,
    #[serde(skip)]
    pub descriptor: Vec<f32>,
}

/// A consent as recorded.
#[derive(Clone, Debug, Serialize)]
pub struct Consent {
    pub id: String,
    pub name: String,
    pub granted_by: String,
    pub scope: Option<String>,
    pub granted_at: String,
    pub expires: Option<Date>,
    pub document_sha256: Option<String>,
    pub deceased: bool,
    pub revoked_at: Option<String>,
    pub photos: Vec<Photo>,
    /// SHA-256 of the record's terms (who, by whom, scope, dates, document, photos), for the
    /// credentials of what is made under it.
    pub hash: String,
}

impl Consent {
    /// Live: not revoked and not expired on `day`.
    pub fn live_on(&self, day: Date) -> bool {
        self.revoked_at.is_none() && self.expires.is_none_or(|e| day <= e)
    }
}

/// What a new consent records.
pub struct NewConsent<'a> {
    pub name: &'a str,
    pub granted_by: &'a str,
    pub scope: Option<&'a str>,
    pub expires: Option<Date>,
    /// The signed document's bytes (only its hash is kept).
    pub document: Option<&'a [u8]>,
    pub deceased: bool,
    /// Each photo's file name, bytes and identity descriptor.
    pub photos: Vec<(String, Vec<u8>, Vec<f32>)>,
}

/// The register.
pub struct Register {
    db: Connection,
    path: PathBuf,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// The register's file in reel's data directory.
pub fn default_path() -> PathBuf {
    reel_core::dirs::data_dir().join("consent.sqlite")
}

impl Register {
    /// Opens (or creates) the register at `path`.
    pub fn open(path: &Path) -> Result<Register, ConsentError> {
        let fail = |e: rusqlite::Error| ConsentError::Database {
            path: path.to_path_buf(),
            detail: e.to_string(),
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(reel_core::io(format!("creating {}", dir.display())))?;
        }
        let db = Connection::open(path).map_err(fail)?;
        db.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = ON;
             CREATE TABLE IF NOT EXISTS consents (
                 id TEXT PRIMARY KEY,
                 name TEXT NOT NULL,
                 granted_by TEXT NOT NULL,
                 scope TEXT,
                 granted_at TEXT NOT NULL,
                 expires TEXT,
                 document_sha256 TEXT,
                 deceased INTEGER NOT NULL,
                 revoked_at TEXT,
                 hash TEXT NOT NULL
             );
             CREATE TABLE IF NOT EXISTS photos (
                 consent_id TEXT NOT NULL REFERENCES consents(id),
                 file TEXT NOT NULL,
                 sha256 TEXT NOT NULL,
                 descriptor BLOB NOT NULL
             );",
        )
        .map_err(fail)?;
        // The register holds people's identities: only its owner may read it.
        set_private(path);
        Ok(Register {
            db,
            path: path.to_path_buf(),
        })
    }

    fn fail(&self, e: rusqlite::Error) -> ConsentError {
        ConsentError::Database {
            path: self.path.clone(),
            detail: e.to_string(),
        }
    }

    /// Records a consent; one transaction, so that it is there whole or not at all.
    pub fn add(&mut self, c: &NewConsent) -> Result<Consent, ConsentError> {
        if c.name.trim().is_empty() || c.granted_by.trim().is_empty() {
            return Err(ConsentError::Settings(
                "give the person's --name and who grants the consent (--granted-by)".into(),
            ));
        }
        if c.photos.is_empty() {
            return Err(ConsentError::Settings(
                "give at least one --photo of the person, so that their face is recognised".into(),
            ));
        }
        let granted_at = date::now_utc();
        let photos: Vec<Photo> = c
            .photos
            .iter()
            .map(|(file, bytes, descriptor)| Photo {
                file: file.clone(),
                sha256: sha256(bytes),
                descriptor: descriptor.clone(),
            })
            .collect();
        let document_sha256 = c.document.map(sha256);
        let terms = serde_json::json!({
            "name": c.name,
            "granted_by": c.granted_by,
            "scope": c.scope,
            "granted_at": granted_at,
            "expires": c.expires.map(|d| d.to_string()),
            "document_sha256": document_sha256,
            "deceased": c.deceased,
            "photos": photos.iter().map(|p| &p.sha256).collect::<Vec<_>>(),
        });
        let hash = sha256(terms.to_string().as_bytes());
        // The id is unique even for two records of the same terms.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let unique = sha256(format!("{hash} {nanos} {}", std::process::id()).as_bytes());
        let id = format!("consent-{}", &unique[..12]);
        let tx = self.db.transaction().map_err(|e| ConsentError::Database {
            path: self.path.clone(),
            detail: e.to_string(),
        })?;
        tx.execute(
            "INSERT INTO consents (id, name, granted_by, scope, granted_at, expires,
                 document_sha256, deceased, revoked_at, hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL, ?9)",
            params![
                id,
                c.name,
                c.granted_by,
                c.scope,
                granted_at,
                c.expires.map(|d| d.to_string()),
                document_sha256,
                c.deceased,
                hash
            ],
        )
        .map_err(|e| self_fail(&self.path, e))?;
        for p in &photos {
            let blob: Vec<u8> = p.descriptor.iter().flat_map(|v| v.to_le_bytes()).collect();
            tx.execute(
                "INSERT INTO photos (consent_id, file, sha256, descriptor) VALUES (?1, ?2, ?3, ?4)",
                params![id, p.file, p.sha256, blob],
            )
            .map_err(|e| self_fail(&self.path, e))?;
        }
        tx.commit().map_err(|e| self_fail(&self.path, e))?;
        self.get(&id)
    }

    /// Marks a consent revoked (now); what was made under it keeps its record.
    pub fn revoke(&mut self, id: &str) -> Result<Consent, ConsentError> {
        let changed = self
            .db
            .execute(
                "UPDATE consents SET revoked_at = ?1 WHERE id = ?2 AND revoked_at IS NULL",
                params![date::now_utc(), id],
            )
            .map_err(|e| self.fail(e))?;
        if changed == 0 {
            // Unknown, or revoked already (which is fine).
            self.get(id)?;
        }
        self.get(id)
    }

    /// One consent by id.
    pub fn get(&self, id: &str) -> Result<Consent, ConsentError> {
        self.all()?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or_else(|| ConsentError::Unknown(id.to_string()))
    }

    /// Every consent, in the order recorded.
    pub fn all(&self) -> Result<Vec<Consent>, ConsentError> {
        let mut q = self
            .db
            .prepare(
                "SELECT id, name, granted_by, scope, granted_at, expires, document_sha256,
                        deceased, revoked_at, hash FROM consents ORDER BY rowid",
            )
            .map_err(|e| self.fail(e))?;
        let rows = q
            .query_map([], |r| {
                Ok(Consent {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    granted_by: r.get(2)?,
                    scope: r.get(3)?,
                    granted_at: r.get(4)?,
                    expires: r.get::<_, Option<String>>(5)?.and_then(|d| Date::parse(&d)),
                    document_sha256: r.get(6)?,
                    deceased: r.get(7)?,
                    revoked_at: r.get(8)?,
                    hash: r.get(9)?,
                    photos: Vec::new(),
                })
            })
            .map_err(|e| self.fail(e))?;
        let mut out: Vec<Consent> = rows.collect::<Result<_, _>>().map_err(|e| self.fail(e))?;
        let mut q = self
            .db
            .prepare("SELECT consent_id, file, sha256, descriptor FROM photos ORDER BY rowid")
            .map_err(|e| self.fail(e))?;
        let photos = q
            .query_map([], |r| {
                let blob: Vec<u8> = r.get(3)?;
                Ok((
                    r.get::<_, String>(0)?,
                    Photo {
                        file: r.get(1)?,
                        sha256: r.get(2)?,
                        descriptor: blob
                            .chunks_exact(4)
                            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                            .collect(),
                    },
                ))
            })
            .map_err(|e| self.fail(e))?;
        for p in photos {
            let (id, photo) = p.map_err(|e| self.fail(e))?;
            if let Some(c) = out.iter_mut().find(|c| c.id == id) {
                c.photos.push(photo);
            }
        }
        Ok(out)
    }

    /// The live consent whose photos look most like `descriptor` (within [`SAME_PERSON`]), and
    /// the distance; None when nobody recorded looks like them.
    pub fn matching(
        &self,
        descriptor: &[f32],
        day: Date,
    ) -> Result<Option<(Consent, f32)>, ConsentError> {
        let mut best: Option<(Consent, f32)> = None;
        for c in self.all()? {
            if !c.live_on(day) {
                continue;
            }
            let d = c
                .photos
                .iter()
                .map(|p| distance(&p.descriptor, descriptor))
                .fold(f32::INFINITY, f32::min);
            if d < SAME_PERSON && best.as_ref().is_none_or(|(_, b)| d < *b) {
                best = Some((c, d));
            }
        }
        Ok(best)
    }

    /// Whether any record, live or not, looks like `descriptor` (to tell "revoked" or
    /// "expired" from "never recorded").
    pub fn any_matching(&self, descriptor: &[f32]) -> Result<Option<Consent>, ConsentError> {
        Ok(self.all()?.into_iter().find(|c| {
            c.photos
                .iter()
                .any(|p| distance(&p.descriptor, descriptor) < SAME_PERSON)
        }))
    }
}

fn self_fail(path: &Path, e: rusqlite::Error) -> ConsentError {
    ConsentError::Database {
        path: path.to_path_buf(),
        detail: e.to_string(),
    }
}

/// Euclidean distance between two descriptors (infinite when their lengths differ).
pub fn distance(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() || a.is_empty() {
        return f32::INFINITY;
    }
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f32>()
        .sqrt()
}

fn set_private(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    for p in [
        path.to_path_buf(),
        PathBuf::from(format!("{}-wal", path.display())),
        PathBuf::from(format!("{}-shm", path.display())),
    ] {
        let _ = std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600));
    }
}
