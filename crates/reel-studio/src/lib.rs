//! reel studio: a local web studio over reel's job queue. `http` is the little HTTP/1.1 it
//! speaks, `multipart` takes uploads apart as they stream in, `folder` lists and resolves the
//! files of the folder the user allowed, `archive` sends a trained model's folder as one tar, `api` answers the calls the page makes (and scripts can
//! make), and the page itself is under `page/`. Jobs run through
//! reel-jobs, on the same library calls and processor registry as the command line.

mod api;
mod archive;
mod folder;
mod http;
mod multipart;

use std::net::{IpAddr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use reel_core::{HasKind, Kind};
use reel_jobs::command::Resources;
use reel_jobs::provenance::Signing;
use reel_jobs::{JobError, Queue, Store};

#[derive(Debug, thiserror::Error)]
pub enum StudioError {
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Jobs(#[from] JobError),
}

impl HasKind for StudioError {
    fn kind(&self) -> Kind {
        match self {
            StudioError::Listen { .. } => Kind::Usage,
            StudioError::Jobs(e) => e.kind(),
        }
    }
}

/// How a studio is started.
pub struct Settings {
    pub host: IpAddr,
    /// 0 picks a free port.
    pub port: u16,
    /// The token every call needs; by default a fresh random one.
    pub token: Option<String>,
    pub workers: usize,
    /// The largest upload taken, in bytes.
    pub max_upload: u64,
    /// Where the store (database and media files) lives.
    pub root: PathBuf,
    pub signing: Signing,
    /// The model folder generating jobs run with and the film's story (none: their commands
    /// are not offered).
    pub resources: Resources,
    /// A folder of the user's whose videos and images the page lists and copies into the
    /// library (none: uploads only).
    pub folder: Option<PathBuf>,
}

/// A studio listening, its queue running.
pub struct Studio {
    listener: TcpListener,
    shared: Arc<api::Shared>,
    address: SocketAddr,
}

/// A token no one can guess: 128 bits from the system's random source.
fn new_token() -> String {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    let from_system = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .is_ok();
    if !from_system {
        for (i, chunk) in bytes.chunks_mut(8).enumerate() {
            let n = reel_jobs::provenance::new_payload().rotate_left(i as u32 * 7);
            chunk.copy_from_slice(&n.to_le_bytes());
        }
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Studio {
    /// Opens the store (marking jobs a dead studio left running as interrupted), starts the
    /// workers and listens.
    pub fn start(settings: Settings) -> Result<Studio, StudioError> {
        let address = SocketAddr::new(settings.host, settings.port);
        let listener = TcpListener::bind(address).map_err(|source| StudioError::Listen {
            address: address.to_string(),
            source,
        })?;
        let address = listener
            .local_addr()
            .map_err(|source| StudioError::Listen {
                address: address.to_string(),
                source,
            })?;
        let store = Arc::new(Store::open(&settings.root)?);
        let queue = Queue::start(
            store,
            settings.workers,
            settings.signing,
            settings.resources,
        );
        let token = settings
            .token
            .filter(|t| !t.trim().is_empty())
            .unwrap_or_else(new_token);
        Ok(Studio {
            listener,
            shared: Arc::new(api::Shared {
                queue,
                previewer: std::sync::Mutex::new(None),
                token,
                max_upload: settings.max_upload,
                folder: settings.folder,
            }),
            address,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The link that opens the page (its token in it).
    pub fn url(&self) -> String {
        let host = match self.address.ip() {
            IpAddr::V6(ip) => format!("[{ip}]"),
            IpAddr::V4(ip) if ip.is_unspecified() => "127.0.0.1".into(),
            ip => ip.to_string(),
        };
        format!(
            "http://{host}:{}/?token={}",
            self.address.port(),
            self.shared.token
        )
    }

    /// Answers requests, each connection on a thread of its own, until a stop is requested
    /// (Ctrl-C); then lets the running jobs stop (they are marked interrupted, to retry).
    pub fn serve(self) -> Result<(), StudioError> {
        // Connections are taken as they come (a polled listener would hold each call back
        // until its next look); the stop is watched apart.
        let (listener, shared) = (self.listener, self.shared.clone());
        std::thread::Builder::new()
            .name("reel-studio-accept".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    // A refusal that lasts (no file handles left) is waited out, not spun on.
                    let Ok(stream) = stream else {
                        std::thread::sleep(Duration::from_millis(20));
                        continue;
                    };
                    let shared = shared.clone();
                    let _ = std::thread::Builder::new()
                        .name("reel-studio-call".into())
                        .spawn(move || {
                            if let Some(request) = http::Request::read(stream) {
                                api::handle(&shared, request);
                            }
                        });
                }
            })
            .map_err(|source| StudioError::Listen {
                address: self.address.to_string(),
                source,
            })?;
        while !reel_core::stop::requested() {
            std::thread::sleep(Duration::from_millis(50));
        }
        self.shared.queue.stop();
        Ok(())
    }
}
