//! The store: media and jobs in one SQLite database (WAL, full sync, one transaction a change)
//! under a folder of its own, media files beside it. A process killed mid-change leaves the
//! database as it was before or after the change; a job that was running when the process died
//! is found at the next start and marked failed (interrupted), ready to retry.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;
use serde_json::Value;

use crate::JobError;

/// Where a job stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Queued,
    Running,
    Done,
    Failed,
    Cancelled,
}

impl State {
    pub fn name(self) -> &'static str {
        match self {
            State::Queued => "queued",
            State::Running => "running",
            State::Done => "done",
            State::Failed => "failed",
            State::Cancelled => "cancelled",
        }
    }

    fn parse(text: &str) -> State {
        match text {
            "queued" => State::Queued,
            "running" => State::Running,
            "done" => State::Done,
            "cancelled" => State::Cancelled,
            _ => State::Failed,
        }
    }

    /// Finished one way or another.
    pub fn ended(self) -> bool {
        matches!(self, State::Done | State::Failed | State::Cancelled)
    }
}

/// What kind of media a file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    Video,
    Image,
    Audio,
    /// A face-swap model trained by a job: a folder, shown by its preview grid.
    Model,
}

impl MediaKind {
    fn parse(text: &str) -> MediaKind {
        match text {
            "image" => MediaKind::Image,
            "audio" => MediaKind::Audio,
            "model" => MediaKind::Model,
            _ => MediaKind::Video,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            MediaKind::Video => "video",
            MediaKind::Image => "image",
            MediaKind::Audio => "audio",
            MediaKind::Model => "model",
        }
    }
}

/// One file in the library: uploaded, or made by a job.
#[derive(Clone, Debug, Serialize)]
pub struct Media {
    pub id: u64,
    /// The name it was uploaded under (or the job's name for it).
    pub name: String,
    pub kind: MediaKind,
    pub width: usize,
    pub height: usize,
    /// Frames, where the container says (a still has 1).
    pub frames: Option<u64>,
    pub fps: Option<f64>,
    pub duration: Option<f64>,
    pub bytes: u64,
    /// The job that made it, if a job did.
    pub job: Option<u64>,
    /// The faces JSON of its analysis, once analysed.
    #[serde(skip)]
    pub faces: Option<String>,
    pub analysed: bool,
    pub created: f64,
    /// Its file, relative to the media folder.
    #[serde(skip)]
    pub file: String,
}

/// What a new media record holds.
pub struct NewMedia<'a> {
    pub name: &'a str,
    pub kind: MediaKind,
    pub width: usize,
    pub height: usize,
    pub frames: Option<u64>,
    pub fps: Option<f64>,
    pub duration: Option<f64>,
    pub bytes: u64,
    pub job: Option<u64>,
    pub file: &'a str,
}

impl<'a> NewMedia<'a> {
    /// A record of a file as ffprobe describes it; `frames` where they were counted, else
    /// those the container declares (or its duration at its rate).
    pub fn probed(
        info: &reel_video::MediaInfo,
        name: &'a str,
        file: &'a str,
        bytes: u64,
        job: Option<u64>,
        frames: Option<u64>,
    ) -> NewMedia<'a> {
        let (n, d) = info.rate();
        let fps = (!info.is_still && n > 0 && d > 0).then(|| n as f64 / d as f64);
        let frames = if info.is_still {
            Some(1)
        } else {
            frames
                .or(info.declared_frames)
                .or_else(|| Some((info.duration? * fps?).round() as u64))
        };
        NewMedia {
            name,
            kind: if info.is_still {
                MediaKind::Image
            } else {
                MediaKind::Video
            },
            width: info.width,
            height: info.height,
            frames,
            fps,
            duration: info.duration.filter(|_| !info.is_still),
            bytes,
            job,
            file,
        }
    }
}

impl<'a> NewMedia<'a> {
    /// A record of a sound or a MIDI file (no picture) lasting `seconds`.
    pub fn sound(name: &'a str, file: &'a str, bytes: u64, seconds: Option<f64>) -> NewMedia<'a> {
        NewMedia {
            name,
            kind: MediaKind::Audio,
            width: 0,
            height: 0,
            frames: None,
            fps: None,
            duration: seconds,
            bytes,
            job: None,
            file,
        }
    }
}

/// One job as stored.
#[derive(Clone, Debug, Serialize)]
pub struct Job {
    pub id: u64,
    pub command: String,
    pub input: Vec<u64>,
    pub options: Value,
    pub state: State,
    pub progress: f64,
    pub error: Option<String>,
    pub output: Option<u64>,
    /// Notes the job left (what could not be labelled, what was conformed).
    pub notes: Vec<String>,
    pub created: f64,
    pub started: Option<f64>,
    pub finished: Option<f64>,
    /// What a running job tells besides its fraction done (a training's loss curve), as the
    /// job last told it.
    pub detail: Value,
}

pub struct Store {
    root: PathBuf,
    db: Mutex<Connection>,
}

/// What a job that was running when its process died is marked with.
pub const INTERRUPTED: &str = "interrupted: the studio stopped while this job ran; retry it";

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

impl Store {
    /// Opens (or makes) the store in `root`: `studio.db` and `media/`. Jobs left running by a
    /// process that died are marked failed (interrupted).
    pub fn open(root: &Path) -> Result<Store, JobError> {
        let media = root.join("media");
        std::fs::create_dir_all(&media)
            .map_err(reel_core::io(format!("making {}", media.display())))?;
        let path = root.join("studio.db");
        let db = Connection::open(&path).map_err(|e| database(&path, e))?;
        db.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             PRAGMA busy_timeout = 5000;
             CREATE TABLE IF NOT EXISTS media (
                 id INTEGER PRIMARY KEY AUTOINCREMENT,
                 name TEXT NOT NULL,
                 kind TEXT NOT NULL,
                 width INTEGER NOT NULL,
                 height INTEGER NOT NULL,
                 frames INTEGER,
                 fps REAL,
                 duration REAL,
                 bytes INTEGER NOT NULL,
                 job INTEGER,
                 file TEXT NOT NULL,
                 faces TEXT,
                 created REAL NOT NULL
             );
             CREATE TABLE IF NOT EXISTS jobs (
                 id INTEGER PRIMARY KEY AUTOINCREMENT,
                 command TEXT NOT NULL,
                 input TEXT NOT NULL,
                 options TEXT NOT NULL,
                 state TEXT NOT NULL,
                 progress REAL NOT NULL DEFAULT 0,
                 error TEXT,
                 output INTEGER,
                 notes TEXT NOT NULL DEFAULT '[]',
                 created REAL NOT NULL,
                 started REAL,
                 finished REAL
             );",
        )
        .map_err(|e| database(&path, e))?;
        // Stores made before jobs told more than their fraction done gain the column.
        let has_detail = db
            .prepare("SELECT 1 FROM pragma_table_info('jobs') WHERE name = 'detail'")
            .and_then(|mut q| q.exists([]))
            .map_err(|e| database(&path, e))?;
        if !has_detail {
            db.execute_batch("ALTER TABLE jobs ADD COLUMN detail TEXT")
                .map_err(|e| database(&path, e))?;
        }
        db.execute(
            "UPDATE jobs SET state = 'failed', error = ?1, finished = ?2 WHERE state = 'running'",
            params![INTERRUPTED, now()],
        )
        .map_err(|e| database(&path, e))?;
        Ok(Store {
            root: root.to_path_buf(),
            db: Mutex::new(db),
        })
    }

    /// The folder media files live in.
    pub fn media_dir(&self) -> PathBuf {
        self.root.join("media")
    }

    /// A media record's file.
    pub fn media_path(&self, media: &Media) -> PathBuf {
        self.media_dir().join(&media.file)
    }

    fn with<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, JobError> {
        let db = self.db.lock().unwrap_or_else(|p| p.into_inner());
        f(&db).map_err(|e| database(&self.root.join("studio.db"), e))
    }

    /// A number no media record has yet, for naming its file before it is recorded.
    pub fn add_media(&self, new: &NewMedia) -> Result<Media, JobError> {
        let created = now();
        let id = self.with(|db| {
            db.execute(
                "INSERT INTO media (name, kind, width, height, frames, fps, duration, bytes, job, file, created)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    new.name,
                    new.kind.name(),
                    new.width as i64,
                    new.height as i64,
                    new.frames.map(|f| f as i64),
                    new.fps,
                    new.duration,
                    new.bytes as i64,
                    new.job.map(|j| j as i64),
                    new.file,
                    created
                ],
            )?;
            Ok(db.last_insert_rowid() as u64)
        })?;
        self.media(id)?
            .ok_or_else(|| JobError::Settings(format!("media {id} vanished as it was added")))
    }

    pub fn media(&self, id: u64) -> Result<Option<Media>, JobError> {
        self.with(|db| {
            db.query_row(
                &format!("SELECT {MEDIA_COLUMNS} FROM media WHERE id = ?1"),
                params![id as i64],
                media_row,
            )
            .optional()
        })
    }

    /// Media named by id in a job's options: its file, its name and its kind.
    pub fn found(&self, id: u64) -> Result<crate::command::Found, JobError> {
        let m = self
            .media(id)?
            .ok_or_else(|| JobError::Settings(format!("no media has id {id}")))?;
        Ok(crate::command::Found {
            path: self.media_path(&m),
            name: m.name,
            kind: m.kind,
        })
    }

    /// Every media record, newest first.
    pub fn list_media(&self) -> Result<Vec<Media>, JobError> {
        self.with(|db| {
            let mut q = db.prepare(&format!(
                "SELECT {MEDIA_COLUMNS} FROM media ORDER BY id DESC"
            ))?;
            q.query_map([], media_row)?.collect()
        })
    }

    /// Records where a media file's faces JSON is (relative to the media folder).
    pub fn set_faces(&self, id: u64, file: &str) -> Result<(), JobError> {
        self.with(|db| {
            db.execute(
                "UPDATE media SET faces = ?1 WHERE id = ?2",
                params![file, id as i64],
            )
            .map(drop)
        })
    }

    /// Queues a job.
    pub fn add_job(&self, command: &str, input: &[u64], options: &Value) -> Result<Job, JobError> {
        let id = self.with(|db| {
            db.execute(
                "INSERT INTO jobs (command, input, options, state, created) VALUES (?1, ?2, ?3, 'queued', ?4)",
                params![command, Value::from(input.to_vec()).to_string(), options.to_string(), now()],
            )?;
            Ok(db.last_insert_rowid() as u64)
        })?;
        self.job(id)?
            .ok_or_else(|| JobError::Settings(format!("job {id} vanished as it was added")))
    }

    pub fn job(&self, id: u64) -> Result<Option<Job>, JobError> {
        self.with(|db| {
            db.query_row(
                &format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1"),
                params![id as i64],
                job_row,
            )
            .optional()
        })
    }

    /// Every job, newest first.
    pub fn list_jobs(&self) -> Result<Vec<Job>, JobError> {
        self.with(|db| {
            let mut q = db.prepare(&format!("SELECT {JOB_COLUMNS} FROM jobs ORDER BY id DESC"))?;
            q.query_map([], job_row)?.collect()
        })
    }

    /// Takes the oldest queued job and marks it running, in one step (two workers never take
    /// the same job).
    pub fn claim_next(&self) -> Result<Option<Job>, JobError> {
        let id = self.with(|db| {
            db.query_row(
                "UPDATE jobs SET state = 'running', started = ?1, progress = 0
                 WHERE id = (SELECT id FROM jobs WHERE state = 'queued' ORDER BY id LIMIT 1)
                 RETURNING id",
                params![now()],
                |r| r.get::<_, i64>(0),
            )
            .optional()
        })?;
        match id {
            Some(id) => self.job(id as u64),
            None => Ok(None),
        }
    }

    pub fn set_progress(&self, id: u64, progress: f64) -> Result<(), JobError> {
        self.with(|db| {
            db.execute(
                "UPDATE jobs SET progress = ?1 WHERE id = ?2 AND state = 'running'",
                params![progress.clamp(0.0, 1.0), id as i64],
            )
            .map(drop)
        })
    }

    /// What a running job tells besides its fraction done.
    pub fn set_detail(&self, id: u64, detail: &Value) -> Result<(), JobError> {
        self.with(|db| {
            db.execute(
                "UPDATE jobs SET detail = ?1 WHERE id = ?2 AND state = 'running'",
                params![detail.to_string(), id as i64],
            )
            .map(drop)
        })
    }

    /// Ends a running job: done with its output, failed with its error, or cancelled.
    pub fn finish(
        &self,
        id: u64,
        state: State,
        output: Option<u64>,
        error: Option<&str>,
        notes: &[String],
    ) -> Result<(), JobError> {
        self.with(|db| {
            db.execute(
                "UPDATE jobs SET state = ?1, output = ?2, error = ?3, notes = ?4, finished = ?5,
                     progress = CASE WHEN ?1 = 'done' THEN 1 ELSE progress END
                 WHERE id = ?6",
                params![
                    state.name(),
                    output.map(|o| o as i64),
                    error,
                    Value::from(notes.to_vec()).to_string(),
                    now(),
                    id as i64
                ],
            )
            .map(drop)
        })
    }

    /// Cancels a job that has not started; true if it was queued.
    pub fn cancel_queued(&self, id: u64) -> Result<bool, JobError> {
        self.with(|db| {
            db.execute(
                "UPDATE jobs SET state = 'cancelled', finished = ?1 WHERE id = ?2 AND state = 'queued'",
                params![now(), id as i64],
            )
            .map(|n| n == 1)
        })
    }

    /// Queues a failed or cancelled job again; true if it was one.
    pub fn retry(&self, id: u64) -> Result<bool, JobError> {
        self.with(|db| {
            db.execute(
                "UPDATE jobs SET state = 'queued', progress = 0, error = NULL, output = NULL,
                     notes = '[]', started = NULL, finished = NULL,
                     detail = NULL
                 WHERE id = ?1 AND state IN ('failed', 'cancelled')",
                params![id as i64],
            )
            .map(|n| n == 1)
        })
    }
}

const MEDIA_COLUMNS: &str =
    "id, name, kind, width, height, frames, fps, duration, bytes, job, file, faces, created";

fn media_row(r: &Row) -> rusqlite::Result<Media> {
    let faces: Option<String> = r.get(11)?;
    Ok(Media {
        id: r.get::<_, i64>(0)? as u64,
        name: r.get(1)?,
        kind: MediaKind::parse(&r.get::<_, String>(2)?),
        width: r.get::<_, i64>(3)? as usize,
        height: r.get::<_, i64>(4)? as usize,
        frames: r.get::<_, Option<i64>>(5)?.map(|f| f as u64),
        fps: r.get(6)?,
        duration: r.get(7)?,
        bytes: r.get::<_, i64>(8)? as u64,
        job: r.get::<_, Option<i64>>(9)?.map(|j| j as u64),
        file: r.get(10)?,
        analysed: faces.is_some(),
        faces,
        created: r.get(12)?,
    })
}

const JOB_COLUMNS: &str = "id, command, input, options, state, progress, error, output, notes, created, started, finished, detail";

fn job_row(r: &Row) -> rusqlite::Result<Job> {
    let input: String = r.get(2)?;
    let options: String = r.get(3)?;
    let notes: String = r.get(8)?;
    Ok(Job {
        id: r.get::<_, i64>(0)? as u64,
        command: r.get(1)?,
        input: serde_json::from_str(&input).unwrap_or_default(),
        options: serde_json::from_str(&options).unwrap_or(Value::Null),
        state: State::parse(&r.get::<_, String>(4)?),
        progress: r.get(5)?,
        error: r.get(6)?,
        output: r.get::<_, Option<i64>>(7)?.map(|o| o as u64),
        notes: serde_json::from_str(&notes).unwrap_or_default(),
        created: r.get(9)?,
        started: r.get(10)?,
        finished: r.get(11)?,
        detail: r
            .get::<_, Option<String>>(12)?
            .and_then(|d| serde_json::from_str(&d).ok())
            .unwrap_or(Value::Null),
    })
}

fn database(path: &Path, e: rusqlite::Error) -> JobError {
    JobError::Database {
        path: path.to_path_buf(),
        detail: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("reel-jobs-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn a_running_job_is_interrupted_by_a_restart_and_can_be_retried() {
        let dir = temp("restart");
        let store = Store::open(&dir).unwrap();
        let a = store
            .add_job("beauty", &[1], &serde_json::json!({"strength": 0.5}))
            .unwrap();
        let b = store
            .add_job("deage", &[1], &serde_json::json!({"years": 10}))
            .unwrap();
        assert_eq!(store.claim_next().unwrap().unwrap().id, a.id);
        store.set_progress(a.id, 0.25).unwrap();
        drop(store);
        let store = Store::open(&dir).unwrap();
        let a = store.job(a.id).unwrap().unwrap();
        assert_eq!(a.state, State::Failed);
        assert_eq!(a.error.as_deref(), Some(INTERRUPTED));
        assert_eq!(store.job(b.id).unwrap().unwrap().state, State::Queued);
        assert!(store.retry(a.id).unwrap());
        assert!(!store.retry(b.id).unwrap(), "a queued job is not retried");
        // Oldest first: a again, then b.
        assert_eq!(store.claim_next().unwrap().unwrap().id, a.id);
        assert_eq!(store.claim_next().unwrap().unwrap().id, b.id);
        assert!(store.claim_next().unwrap().is_none());
        store
            .finish(b.id, State::Done, Some(7), None, &["n".into()])
            .unwrap();
        let b = store.job(b.id).unwrap().unwrap();
        assert_eq!((b.state, b.output, b.progress), (State::Done, Some(7), 1.0));
        assert_eq!(b.notes, vec!["n".to_string()]);
        assert_eq!(b.options["years"], 10);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
