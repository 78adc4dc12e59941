//! The queue: jobs asked for are checked, stored, and run by a set number of workers (one by
//! default) in the order they came. Each change of a job is told to whoever listens (the
//! studio's event stream); a running job can be cancelled, and a failed one retried.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::JobError;
use crate::command::{self, Input, Plan, Resources};
use crate::provenance::Signing;
use crate::store::{Job, Media, MediaKind, NewMedia, State, Store};

pub struct Queue {
    store: Arc<Store>,
    signing: Signing,
    /// The model folder and story some commands run with.
    resources: Resources,
    /// The cancel flags of running jobs.
    running: Mutex<HashMap<u64, Arc<AtomicBool>>>,
    listeners: Mutex<Vec<Sender<Job>>>,
    /// Wakes the workers when a job is queued.
    wake: (Mutex<u64>, Condvar),
    stopping: AtomicBool,
}

impl Queue {
    /// Starts `workers` workers over `store`, signing outputs with `signing`; generating jobs
    /// run with the model folder of `resources`, the film's with its story, and are refused
    /// without them.
    pub fn start(
        store: Arc<Store>,
        workers: usize,
        signing: Signing,
        resources: Resources,
    ) -> Arc<Queue> {
        let queue = Arc::new(Queue {
            store,
            signing,
            resources,
            running: Mutex::new(HashMap::new()),
            listeners: Mutex::new(Vec::new()),
            wake: (Mutex::new(0), Condvar::new()),
            stopping: AtomicBool::new(false),
        });
        for n in 0..workers.max(1) {
            let q = queue.clone();
            std::thread::Builder::new()
                .name(format!("reel-job-{n}"))
                .spawn(move || q.work())
                .expect("a worker thread starts");
        }
        queue
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The model folder and story some commands run with.
    pub fn resources(&self) -> &Resources {
        &self.resources
    }

    /// The preview grid a training job draws as it goes (None: the job is not a training, or
    /// it has drawn none yet).
    pub fn training_preview(&self, id: u64) -> Result<Option<PathBuf>, JobError> {
        let Some(job) = self.store.job(id)? else {
            return Ok(None);
        };
        if job.command != "train" {
            return Ok(None);
        }
        let media = self.inputs(&job.input)?;
        let (_, file) = output_name(&job, &media, Some("model"));
        let grid = self.store.media_dir().join(file).join("preview.png");
        Ok(grid.exists().then_some(grid))
    }

    /// Checks and queues a job; a bad command or option is refused here, and nothing stored.
    pub fn submit(&self, command: &str, input: &[u64], options: &Value) -> Result<Job, JobError> {
        self.check(command, input, options)?;
        let job = self.store.add_job(command, input, options)?;
        self.tell(&job);
        self.nudge();
        Ok(job)
    }

    /// A job's input media, their files, and the job checked against them.
    fn check(
        &self,
        command: &str,
        ids: &[u64],
        options: &Value,
    ) -> Result<(Vec<Media>, Vec<PathBuf>, Plan), JobError> {
        // How many inputs a command takes (none, for text to video) is the plan's to say.
        let media = self.inputs(ids)?;
        let paths: Vec<PathBuf> = media.iter().map(|m| self.store.media_path(m)).collect();
        let inputs: Vec<Input> = media
            .iter()
            .zip(&paths)
            .map(|(m, p)| Input {
                path: p,
                kind: m.kind,
            })
            .collect();
        let plan = command::plan(
            command,
            &inputs,
            options,
            &|id| self.store.found(id),
            &self.resources,
        )?;
        Ok((media, paths, plan))
    }

    fn inputs(&self, ids: &[u64]) -> Result<Vec<Media>, JobError> {
        ids.iter()
            .map(|&id| {
                self.store
                    .media(id)?
                    .ok_or_else(|| JobError::Settings(format!("no media has id {id}")))
            })
            .collect()
    }

    /// Cancels a queued or running job; false if it had ended.
    pub fn cancel(&self, id: u64) -> Result<bool, JobError> {
        // Held while looking: a worker claims a job and records its flag under the same lock,
        // so a job is either still queued here or running with its flag (never in between).
        let running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        if self.store.cancel_queued(id)? {
            drop(running);
            self.tell_id(id);
            return Ok(true);
        }
        Ok(match running.get(&id) {
            Some(flag) => {
                flag.store(true, Ordering::SeqCst);
                true
            }
            None => false,
        })
    }

    /// Queues a failed or cancelled job again; false if it was not one.
    pub fn retry(&self, id: u64) -> Result<bool, JobError> {
        let again = self.store.retry(id)?;
        if again {
            self.tell_id(id);
            self.nudge();
        }
        Ok(again)
    }

    /// Hears every change of every job from now on.
    pub fn listen(&self) -> Receiver<Job> {
        let (tx, rx) = channel();
        self.listeners
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(tx);
        rx
    }

    /// Lets the workers finish their jobs' current frame and stop taking new ones.
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        for flag in self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
        {
            flag.store(true, Ordering::SeqCst);
        }
        self.wake.1.notify_all();
    }

    fn tell(&self, job: &Job) {
        self.listeners
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|l| l.send(job.clone()).is_ok());
    }

    fn tell_id(&self, id: u64) {
        if let Ok(Some(job)) = self.store.job(id) {
            self.tell(&job);
        }
    }

    fn nudge(&self) {
        *self.wake.0.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        self.wake.1.notify_all();
    }

    fn work(&self) {
        gentle();
        loop {
            if self.stopping.load(Ordering::SeqCst) {
                return;
            }
            let claimed = {
                let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
                self.store.claim_next().map(|job| {
                    job.map(|job| {
                        let cancel = Arc::new(AtomicBool::new(false));
                        running.insert(job.id, cancel.clone());
                        (job, cancel)
                    })
                })
            };
            match claimed {
                Ok(Some((job, cancel))) => self.run(job, cancel),
                Ok(None) | Err(_) => {
                    let seen = self.wake.0.lock().unwrap_or_else(|p| p.into_inner());
                    let _ = self
                        .wake
                        .1
                        .wait_timeout(seen, Duration::from_secs(1))
                        .unwrap_or_else(|p| p.into_inner());
                }
            }
        }
    }

    fn run(&self, job: Job, cancel: Arc<AtomicBool>) {
        self.tell(&job);
        let result = self.execute(&job, &cancel);
        self.running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&job.id);
        let _ = match result {
            Ok((output, notes)) => self.store.finish(job.id, State::Done, output, None, &notes),
            // Stopped with the studio, not by the user: left to retry, as after a crash.
            Err(_) if self.stopping.load(Ordering::SeqCst) => self.store.finish(
                job.id,
                State::Failed,
                None,
                Some(crate::store::INTERRUPTED),
                &[],
            ),
            Err(JobError::Cancelled) => {
                self.store
                    .finish(job.id, State::Cancelled, None, Some("cancelled"), &[])
            }
            Err(e) => self
                .store
                .finish(job.id, State::Failed, None, Some(&e.to_string()), &[]),
        };
        self.tell_id(job.id);
    }

    /// Runs one job; its output is recorded as new media (an analysis is recorded on its
    /// input instead).
    fn execute(
        &self,
        job: &Job,
        cancel: &AtomicBool,
    ) -> Result<(Option<u64>, Vec<String>), JobError> {
        let (media, paths, plan) = self.check(&job.command, &job.input, &job.options)?;
        let still = media.first().is_some_and(|m| m.kind == MediaKind::Image);
        let (name, file) = output_name(job, &media, plan.extension(still));
        let output = self.store.media_dir().join(&file);
        let mut last = Instant::now();
        let mut progress = |fraction: f64| {
            if cancel.load(Ordering::SeqCst) || reel_core::stop::requested() {
                return false;
            }
            // Told a few times a second, not every frame.
            if last.elapsed() >= Duration::from_millis(250) {
                last = Instant::now();
                if self.store.set_progress(job.id, fraction).is_ok() {
                    self.tell_id(job.id);
                }
            }
            true
        };
        let mut detail = |detail: Value| {
            if self.store.set_detail(job.id, &detail).is_ok() {
                self.tell_id(job.id);
            }
        };
        let path_list: Vec<&std::path::Path> = paths.iter().map(PathBuf::as_path).collect();
        let outcome = plan.run(
            &job.command,
            &path_list,
            &output,
            &self.signing,
            &mut progress,
            &mut detail,
        );
        let outcome = match outcome {
            Ok(o) => o,
            Err(e) if cancel.load(Ordering::SeqCst) => {
                drop(e);
                return Err(JobError::Cancelled);
            }
            Err(e) => return Err(e),
        };
        if matches!(plan, Plan::Analyze { .. }) {
            self.store.set_faces(media[0].id, &file)?;
            return Ok((None, outcome.notes));
        }
        if let Plan::Train(training) = &plan {
            let made = self.store.add_media(&NewMedia {
                name: &name,
                kind: MediaKind::Model,
                width: training.resolution(),
                height: training.resolution(),
                frames: None,
                fps: None,
                duration: None,
                bytes: folder_bytes(&output),
                job: Some(job.id),
                file: &file,
            })?;
            return Ok((Some(made.id), outcome.notes));
        }
        let info = reel_video::probe(&output)?;
        let bytes = std::fs::metadata(&output).map(|m| m.len()).unwrap_or(0);
        let made = self.store.add_media(&NewMedia::probed(
            &info,
            &name,
            &file,
            bytes,
            Some(job.id),
            Some(outcome.frames),
        ))?;
        Ok((Some(made.id), outcome.notes))
    }
}

/// The name a job's output is shown by, and its file in the media folder: each output in a
/// folder of its own job, under the name it is shown by (also the name its credentials give it
/// as an ingredient of what is made from it); an analysis's faces JSON (no `extension`) beside
/// its input.
fn output_name(job: &Job, media: &[Media], extension: Option<&str>) -> (String, String) {
    let stem = match media.first() {
        Some(m) => Path::new(&m.name)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| format!("media{}", m.id)),
        None => "generated".into(),
    };
    let name = format!("{stem}.{}.{}", job.command, extension.unwrap_or("json"));
    let file = match extension {
        Some(_) => format!("job{}/{name}", job.id),
        None => format!(
            "media{}-faces-job{}.json",
            media.first().map_or(0, |m| m.id),
            job.id
        ),
    };
    (name, file)
}

/// The bytes of the files in a folder (a trained model's).
fn folder_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// Lowers the calling worker's priority (nice 10; on Linux the nice value is a thread's, and
/// the threads and programs a job starts inherit it), so that the page's calls are answered
/// first while jobs keep every core busy.
fn gentle() {
    #[cfg(target_os = "linux")]
    // SAFETY: gettid and setpriority take no pointers; a refusal leaves the priority as it was.
    unsafe {
        let thread = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, thread, 10);
    }
}
