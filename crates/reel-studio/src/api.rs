//! The studio's HTTP API, the one the page itself uses: media (upload, list, file with byte
//! ranges, faces, provenance), jobs (ask, list, one, cancel, retry), and an event stream of
//! job changes. Every call needs the studio's token.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use reel_jobs::film::Performance;
use reel_jobs::{JobError, Media, MediaKind, Queue, store::NewMedia};
use serde_json::{Value, json};

use crate::http::{Request, Response, send_file};
use crate::{archive, multipart};

pub struct Shared {
    pub queue: Arc<Queue>,
    /// Made at the first preview and kept (its face models loaded once).
    pub previewer: std::sync::Mutex<Option<reel_jobs::preview::Previewer>>,
    pub token: String,
    /// The largest upload taken, in bytes.
    pub max_upload: u64,
    /// The folder the user allowed the page to pick media from.
    pub folder: Option<std::path::PathBuf>,
}

const PAGE: &str = include_str!("../page/index.html");
const SCRIPT: &str = include_str!("../page/studio.js");
const STYLE: &str = include_str!("../page/studio.css");

/// Answers one request on its own connection.
pub fn handle(shared: &Shared, mut request: Request) {
    let answer = route(shared, &mut request);
    if let Some(response) = answer {
        let _ = response.send(request.stream());
    }
    request.finish();
}

/// Compares in time independent of where the texts differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

fn cookie_token(request: &Request) -> Option<&str> {
    request.header("cookie")?.split(';').find_map(|c| {
        let (k, v) = c.trim().split_once('=')?;
        (k == "reel_studio").then_some(v)
    })
}

fn authorised(shared: &Shared, request: &Request) -> bool {
    let bearer = request
        .header("authorization")
        .and_then(|h| h.strip_prefix("Bearer "));
    [bearer, cookie_token(request)]
        .into_iter()
        .flatten()
        .any(|t| same(t.trim(), &shared.token))
}

/// The response, or None where the handler answered on the stream itself (files, events).
fn route(shared: &Shared, request: &mut Request) -> Option<Response> {
    let method = request.method.clone();
    let path = request.path.clone();
    // The page is opened from the printed link: its token is taken from the query once and
    // kept in a cookie that scripts cannot read.
    if method == "GET" && path == "/" {
        let by_query = request
            .query
            .get("token")
            .is_some_and(|t| same(t, &shared.token));
        if !by_query && !authorised(shared, request) {
            return Some(unauthorised());
        }
        return Some(
            Response::new(200, "text/html; charset=utf-8", PAGE).with_header(
                "Set-Cookie",
                format!(
                    "reel_studio={}; HttpOnly; SameSite=Strict; Path=/",
                    shared.token
                ),
            ),
        );
    }
    if !authorised(shared, request) {
        return Some(unauthorised());
    }
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let id = |s: &str| -> Option<u64> {
        (!s.is_empty() && s.len() <= 19 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let store = shared.queue.store();
    let result: Result<Option<Response>, JobError> = match (method.as_str(), parts.as_slice()) {
        ("GET", ["studio.js"]) => Ok(Some(Response::new(
            200,
            "text/javascript; charset=utf-8",
            SCRIPT,
        ))),
        ("GET", ["studio.css"]) => Ok(Some(Response::new(200, "text/css; charset=utf-8", STYLE))),
        ("GET", ["api", "commands"]) => Ok(Some(Response::json(
            200,
            &commands(shared.queue.resources()),
        ))),
        ("GET", ["api", "media"]) => store
            .list_media()
            .map(|m| Some(Response::json(200, &json!(m)))),
        ("POST", ["api", "media"]) => Ok(Some(upload(shared, request))),
        ("GET", ["api", "folder"]) => Ok(Some(folder_list(shared))),
        ("GET", ["api", "film"]) => Ok(Some(film(shared))),
        ("POST", ["api", "folder", "import"]) => Ok(Some(import(shared, request))),
        ("GET", ["api", "media", n]) => match id(n) {
            Some(n) => store.media(n).map(|m| {
                Some(match m {
                    Some(m) => Response::json(200, &json!(m)),
                    None => not_found("media", n),
                })
            }),
            None => Ok(Some(bad_id(n))),
        },
        ("GET" | "HEAD", ["api", "media", n, what @ ("file" | "download")]) => match id(n) {
            Some(n) => match store.media(n) {
                // A trained model is a folder: shown by its preview grid, downloaded whole.
                Ok(Some(m)) if m.kind == MediaKind::Model => {
                    let folder = store.media_path(&m);
                    let sent = match *what {
                        "download" => archive::send_folder(request, &folder, &m.name),
                        _ => File::open(folder.join("preview.png"))
                            .and_then(|f| send_file(request, f, "image/png", None)),
                    };
                    match sent {
                        Ok(()) => Ok(None),
                        Err(e) => Ok(Some(Response::error(500, format!("media {n}: {e}")))),
                    }
                }
                Ok(Some(m)) => {
                    let download = (*what == "download").then_some(m.name.as_str());
                    match File::open(store.media_path(&m)) {
                        Ok(f) => {
                            let _ = send_file(request, f, content_type(&m), download);
                            Ok(None)
                        }
                        Err(e) => Ok(Some(Response::error(500, format!("media {n}: {e}")))),
                    }
                }
                Ok(None) => Ok(Some(not_found("media", n))),
                Err(e) => Err(e),
            },
            None => Ok(Some(bad_id(n))),
        },
        ("GET", ["api", "media", n, "faces"]) => match id(n) {
            Some(n) => store.media(n).map(|m| {
                Some(match m {
                    Some(m) => faces(store, &m),
                    None => not_found("media", n),
                })
            }),
            None => Ok(Some(bad_id(n))),
        },
        ("GET", ["api", "media", n, "provenance"]) => match id(n) {
            Some(n) => store.media(n).map(|m| {
                Some(match m {
                    Some(m) => {
                        let mut report = reel_jobs::provenance::verify(&store.media_path(&m));
                        // The file's place on this machine is not the page's business.
                        report["file"] = json!(m.name);
                        Response::json(200, &report)
                    }
                    None => not_found("media", n),
                })
            }),
            None => Ok(Some(bad_id(n))),
        },
        ("GET", ["api", "media", n, "frame", f]) => match (id(n), id(f)) {
            (Some(n), Some(f)) => store.media(n).map(|m| {
                Some(match m {
                    Some(m) => match reel_jobs::preview::decode(&store.media_path(&m), f) {
                        Ok(image) => png(&image),
                        Err(e) => Response::error(400, e),
                    },
                    None => not_found("media", n),
                })
            }),
            _ => Ok(Some(bad_id(&format!("{n}/{f}")))),
        },
        ("POST", ["api", "preview"]) => Ok(Some(preview(shared, request))),
        ("GET", ["api", "jobs"]) => store
            .list_jobs()
            .map(|j| Some(Response::json(200, &json!(j)))),
        ("POST", ["api", "jobs"]) => Ok(Some(submit(shared, request))),
        ("GET", ["api", "jobs", n]) => match id(n) {
            Some(n) => store.job(n).map(|j| {
                Some(match j {
                    Some(j) => Response::json(200, &json!(j)),
                    None => not_found("job", n),
                })
            }),
            None => Ok(Some(bad_id(n))),
        },
        ("GET", ["api", "jobs", n, "preview"]) => match id(n) {
            Some(n) => match shared.queue.training_preview(n) {
                Ok(Some(grid)) => match File::open(grid) {
                    Ok(f) => {
                        let _ = send_file(request, f, "image/png", None);
                        Ok(None)
                    }
                    Err(e) => Ok(Some(Response::error(500, format!("job {n}: {e}")))),
                },
                Ok(None) => Ok(Some(Response::error(
                    404,
                    format!("job {n} is not a training, or has drawn no preview yet"),
                ))),
                Err(e) => Err(e),
            },
            None => Ok(Some(bad_id(n))),
        },
        ("POST", ["api", "jobs", n, action @ ("cancel" | "retry")]) => match id(n) {
            Some(n) => match store.job(n) {
                Ok(None) => Ok(Some(not_found("job", n))),
                Ok(Some(_)) => {
                    let done = if *action == "cancel" {
                        shared.queue.cancel(n)
                    } else {
                        shared.queue.retry(n)
                    };
                    done.and_then(|ok| {
                        let job = store.job(n)?;
                        Ok(Some(if ok {
                            Response::json(200, &json!(job))
                        } else {
                            Response::error(
                                409,
                                format!(
                                    "job {n} cannot be {action}ed as it stands: {}",
                                    job.map_or("gone", |j| j.state.name())
                                ),
                            )
                        }))
                    })
                }
                Err(e) => Err(e),
            },
            None => Ok(Some(bad_id(n))),
        },
        ("GET", ["api", "events"]) => {
            events(shared, request);
            Ok(None)
        }
        (_, ["api", ..]) | (_, ["studio.js" | "studio.css"]) => Ok(Some(Response::error(
            404,
            format!("no such call: {method} {path}"),
        ))),
        _ => Ok(Some(Response::error(404, format!("nothing is at {path}")))),
    };
    result.unwrap_or_else(|e| Some(Response::error(500, e)))
}

fn unauthorised() -> Response {
    Response::error(401, "this studio needs its token: open the link `reel studio` printed, or send Authorization: Bearer TOKEN")
        .with_header("WWW-Authenticate", "Bearer")
}

fn not_found(what: &str, id: u64) -> Response {
    Response::error(404, format!("no {what} has id {id}"))
}

fn bad_id(text: &str) -> Response {
    Response::error(404, format!("{text:?} is not an id"))
}

fn content_type(media: &Media) -> &'static str {
    let ext = Path::new(&media.file)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "mp4" | "m4v" => "video/mp4",
        "mov" => "video/quicktime",
        "webm" => "video/webm",
        "mkv" => "video/x-matroska",
        "png" => "image/png",
        "wav" => "audio/wav",
        "mp3" => "audio/mpeg",
        "flac" => "audio/flac",
        "ogg" | "opus" => "audio/ogg",
        "m4a" => "audio/mp4",
        "mid" | "midi" => "audio/midi",
        "jpg" | "jpeg" => "image/jpeg",
        "json" => "application/json",
        _ => "application/octet-stream",
    }
}

/// The commands and the processors' settings, for the page's panels; the generating ones
/// where a model folder is set, with its name, and the film's where a story is.
fn commands(resources: &reel_jobs::command::Resources) -> Value {
    let registry = reel_swap::register::registry();
    let settings = |name: &str| -> Value {
        registry.get(name).map_or(json!([]), |spec| {
            json!(
                spec.settings
                    .iter()
                    .map(|s| json!({
                        "name": s.name,
                        "help": s.help,
                        "default": s.default.and_then(|d| serde_json::from_str::<Value>(d).ok()),
                    }))
                    .collect::<Vec<_>>()
            )
        })
    };
    let mut all: Vec<Value> = reel_jobs::command::COMMANDS
        .iter()
        .map(|(name, about)| {
            json!({
                "name": name,
                "about": about,
                "settings": match *name {
                    "beauty" | "deage" => settings(name),
                    "swap" => swap_settings(&settings),
                    "train" => reel_jobs::training::described(),
                    _ => json!([]),
                },
            })
        })
        .collect();
    if let Some(story) = &resources.story {
        let name = story.file_name().map(|n| n.to_string_lossy().into_owned());
        all.extend(reel_jobs::film::FILM.iter().map(|(name_of, about)| {
            json!({
                "name": name_of,
                "about": about,
                "settings": reel_jobs::film::described(name_of),
                "film": true,
                "story": name,
            })
        }));
    }
    if let Some(model) = &resources.model {
        // Named as the credentials name it (`--model .` is the folder it stands for).
        let folder = model
            .canonicalize()
            .unwrap_or_else(|_| model.to_path_buf())
            .file_name()
            .map(|n| n.to_string_lossy().into_owned());
        all.extend(
            reel_jobs::generation::GENERATING
                .iter()
                .map(|(name, about)| {
                    json!({
                        "name": name,
                        "about": about,
                        "settings": reel_jobs::generation::described(name),
                        "generates": true,
                        "model": folder,
                    })
                }),
        );
    }
    Value::from(all)
}

/// A swap's settings: the photos' or a trained model (each optional, one needed), and the
/// model swap's own.
fn swap_settings(settings: &dyn Fn(&str) -> Value) -> Value {
    let mut all = vec![json!({
        "name": "model",
        "help": "a model trained by a train job (instead of photos)",
        "default": null,
        "media": "model",
        "optional": true,
    })];
    let photo = settings("photo-swap");
    let model = settings("model-swap");
    for s in photo.as_array().into_iter().flatten() {
        let mut s = s.clone();
        if s["name"] == "photo" {
            s["optional"] = json!(true);
        }
        all.push(s);
    }
    all.extend(
        model
            .as_array()
            .into_iter()
            .flatten()
            .filter(|s| s["name"] == "steady" || s["name"] == "grain")
            .map(|s| {
                let mut s = s.clone();
                // Sent only with a model: they act on its drawing.
                s["with"] = json!("model");
                s
            }),
    );
    Value::from(all)
}

/// `POST /api/jobs` with `{"command", "input", "options"}`.
fn submit(shared: &Shared, request: &mut Request) -> Response {
    let Some(body) = request.small_body(1 << 20) else {
        return Response::error(413, "a job is asked for in at most 1 MiB of JSON");
    };
    let Ok(asked) = serde_json::from_slice::<Value>(&body) else {
        return Response::error(
            400,
            "the body must be JSON: {\"command\", \"input\", \"options\"}",
        );
    };
    let Some(command) = asked.get("command").and_then(Value::as_str) else {
        return Response::error(400, "give the job's command (\"command\": \"beauty\")");
    };
    let input: Option<Vec<u64>> = match asked.get("input") {
        Some(Value::Number(n)) => n.as_u64().map(|n| vec![n]),
        Some(Value::Array(ids)) => ids.iter().map(Value::as_u64).collect(),
        // Text to video reads no media.
        None | Some(Value::Null) if command == "generate" || command == "film_live" => {
            Some(Vec::new())
        }
        _ => None,
    };
    let Some(input) = input else {
        return Response::error(400, "give the job's input as a media id, or a list of them");
    };
    let options = asked.get("options").cloned().unwrap_or(Value::Null);
    match shared.queue.submit(command, &input, &options) {
        Ok(job) => Response::json(201, &json!(job)),
        Err(e @ JobError::Settings(_)) => Response::error(400, e),
        Err(e) => Response::error(
            match reel_core::HasKind::kind(&e) {
                reel_core::Kind::Usage | reel_core::Kind::Input => 400,
                _ => 500,
            },
            e,
        ),
    }
}

/// A name safe to show and to keep: the last part of what the browser sent, printable, short.
fn clean_name(sent: &str) -> String {
    let last = sent.rsplit(['/', '\\']).next().unwrap_or("");
    let name: String = last.chars().filter(|c| !c.is_control()).take(200).collect();
    if name.trim().is_empty() || name == "." || name == ".." {
        "upload".into()
    } else {
        name
    }
}

/// `POST /api/media`: the multipart field `file`, streamed to the media folder, kept only if
/// it is a video or image reel can read.
fn upload(shared: &Shared, request: &mut Request) -> Response {
    if request.header("transfer-encoding").is_some() {
        return Response::error(411, "send the upload with its Content-Length");
    }
    if request.length > shared.max_upload {
        return Response::error(
            413,
            format!(
                "the upload is {} MB; this studio takes at most {} MB (reel studio --max-upload-mb)",
                request.length / 1_000_000,
                shared.max_upload / 1_000_000
            ),
        );
    }
    let Some(boundary) = request.header("content-type").and_then(multipart::boundary) else {
        return Response::error(
            400,
            "send the upload as multipart/form-data with a field named file",
        );
    };
    let (partial, nonce) = match stage(shared) {
        Ok(s) => s,
        Err(refused) => return refused,
    };
    let copied = File::create(&partial)
        .map_err(|e| multipart::UploadError::Io(e.to_string()))
        .and_then(|f| {
            let mut out = BufWriter::with_capacity(1 << 16, f);
            let got = multipart::copy_file_field(
                request.body.by_ref().take(request.length),
                &boundary,
                &mut out,
            )?;
            out.flush()
                .and_then(|_| out.get_ref().sync_all())
                .map_err(|e| multipart::UploadError::Io(e.to_string()))?;
            Ok(got)
        });
    let refuse = |status: u16, message: String| {
        discard(&partial);
        Response::error(status, message)
    };
    let (sent_name, bytes) = match copied {
        Ok(c) => c,
        Err(multipart::UploadError::NoFile) => {
            return refuse(400, "the form has no field named file".into());
        }
        Err(multipart::UploadError::Malformed(why)) => {
            return refuse(400, format!("the upload is not a well-formed form: {why}"));
        }
        Err(multipart::UploadError::Io(e)) => {
            return refuse(500, format!("the upload was not stored: {e}"));
        }
    };
    let name = clean_name(&sent_name);
    keep(shared, &partial, &name, bytes, nonce)
}

/// A place for a file coming into the library: its partial path, in a folder of its own (each
/// upload keeps its own name there, which the credentials of what is made from it give as the
/// ingredient's), and the folder's nonce.
fn stage(shared: &Shared) -> Result<(std::path::PathBuf, u64), Response> {
    let nonce = reel_jobs::provenance::new_payload();
    let staged = shared
        .queue
        .store()
        .media_dir()
        .join(format!("upload-{nonce:016x}/upload"));
    reel_core::output::prepare(&staged)
        .map(|partial| (partial, nonce))
        .map_err(|e| Response::error(500, e))
}

/// Removes a staged file and its folder (a refused or failed upload leaves nothing).
fn discard(partial: &Path) {
    let _ = std::fs::remove_file(partial);
    if let Some(folder) = partial.parent() {
        let _ = std::fs::remove_dir(folder);
    }
}

/// Takes a file staged at `partial` (in its own upload folder) into the library as `name`:
/// probed (refused, and removed, when it is not a video or image), named, committed, recorded.
fn keep(shared: &Shared, partial: &Path, name: &str, bytes: u64, nonce: u64) -> Response {
    let store = shared.queue.store();
    let refuse = |status: u16, message: String| {
        discard(partial);
        Response::error(status, message)
    };
    // The extension is kept (letters and digits only): stills are known by it.
    let ext: String = Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .filter(|e| e.len() <= 5 && e.bytes().all(|b| b.is_ascii_alphanumeric()))
        .map(str::to_ascii_lowercase)
        .unwrap_or_else(|| "bin".into());
    // A picture, or else a performance for the film (a sound or a MIDI file).
    let (info, sound) = match reel_video::probe(partial) {
        Ok(i) if i.width > 0 && i.height > 0 => (Some(i), None),
        probed => match reel_jobs::film::performance(partial) {
            Some(p) => (None, Some(p)),
            None => {
                let why = match probed {
                    Ok(_) => "it has no picture or sound".to_string(),
                    Err(e) => {
                        let why = e.to_string();
                        why.rsplit(": ").next().unwrap_or(&why).to_string()
                    }
                };
                return refuse(
                    400,
                    format!(
                        "{name} is not a video, image, sound or MIDI file reel can read ({why})"
                    ),
                );
            }
        },
    };
    let safe_name = name.replace(['/', '\\'], "_");
    let midi = matches!(sound, Some(Performance::Midi(_)));
    // The film knows a MIDI performance by its extension.
    let stored_name = match Path::new(name).extension() {
        Some(e) if !midi || e.eq_ignore_ascii_case("mid") || e.eq_ignore_ascii_case("midi") => {
            safe_name
        }
        _ if midi => format!("{safe_name}.mid"),
        _ => format!("{safe_name}.{ext}"),
    };
    let file = format!("upload-{nonce:016x}/{stored_name}");
    let destination = match reel_core::output::destination(&store.media_dir().join(&file)) {
        Ok(d) => d,
        Err(e) => return refuse(500, e.to_string()),
    };
    if let Err(e) = reel_core::output::commit(partial, &destination) {
        return refuse(500, e.to_string());
    }
    let record = match (&info, sound) {
        (Some(info), _) => NewMedia::probed(info, name, &file, bytes, None, None),
        (None, sound) => NewMedia::sound(
            name,
            &file,
            bytes,
            match sound {
                Some(Performance::Midi(s)) => Some(s),
                Some(Performance::Sound(s)) => s,
                None => None,
            },
        ),
    };
    match store.add_media(&record) {
        Ok(m) => Response::json(201, &json!(m)),
        Err(e) => {
            let _ = std::fs::remove_file(store.media_dir().join(&file));
            if let Some(folder) = store.media_dir().join(&file).parent() {
                let _ = std::fs::remove_dir(folder);
            }
            Response::error(500, e)
        }
    }
}

/// `GET /api/film`: the story the studio was started with, checked now as `reel film check`
/// checks it.
fn film(shared: &Shared) -> Response {
    match &shared.queue.resources().story {
        Some(story) => Response::json(200, &reel_jobs::film::checked(story)),
        None => Response::json(200, &json!({"allowed": false})),
    }
}

fn no_folder() -> Response {
    Response::error(
        404,
        "no folder is allowed: start the studio with --folder DIR to pick media from one",
    )
}

/// `GET /api/folder`: the allowed folder's videos and images (none allowed: an empty list).
fn folder_list(shared: &Shared) -> Response {
    // The page asks at every start: no folder is an answer, not an error.
    let Some(root) = &shared.folder else {
        return Response::json(
            200,
            &json!({"allowed": false, "name": null, "files": [], "more": false}),
        );
    };
    let (files, more) = crate::folder::list(root);
    Response::json(
        200,
        &json!({
            "allowed": true,
            "name": root.file_name().map(|n| n.to_string_lossy().into_owned()),
            "files": files
                .iter()
                .map(|f| json!({"path": f.path, "bytes": f.bytes}))
                .collect::<Vec<_>>(),
            "more": more,
        }),
    )
}

/// `POST /api/folder/import` with `{"path"}`: a copy of one of the folder's files into the
/// library (the folder's own file is only read), as an upload is taken.
fn import(shared: &Shared, request: &mut Request) -> Response {
    let Some(root) = &shared.folder else {
        return no_folder();
    };
    let Some(body) = request.small_body(1 << 16) else {
        return Response::error(413, "ask for a file in at most 64 KiB of JSON");
    };
    let Some(asked) = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("path").and_then(Value::as_str).map(str::to_string))
    else {
        return Response::error(
            400,
            "the body must be JSON: {\"path\": \"as the folder lists it\"}",
        );
    };
    let source = match crate::folder::resolve(root, &asked) {
        Ok(p) => p,
        Err(e) => return Response::error(404, e),
    };
    let mut from = match crate::folder::open_inside(root, &source) {
        Ok(f) => f,
        Err(e) => return Response::error(404, e),
    };
    let size = from.metadata().map(|m| m.len()).unwrap_or(0);
    if size > shared.max_upload {
        return Response::error(
            413,
            format!(
                "{asked} is {} MB; this studio takes at most {} MB (reel studio --max-upload-mb)",
                size / 1_000_000,
                shared.max_upload / 1_000_000
            ),
        );
    }
    let (partial, nonce) = match stage(shared) {
        Ok(s) => s,
        Err(refused) => return refused,
    };
    let copied = File::create(&partial).and_then(|mut to| {
        let bytes = std::io::copy(&mut from, &mut to)?;
        to.sync_all()?;
        Ok(bytes)
    });
    let bytes = match copied {
        Ok(b) => b,
        Err(e) => {
            discard(&partial);
            return Response::error(500, format!("{asked} was not copied: {e}"));
        }
    };
    let name = clean_name(&asked);
    keep(shared, &partial, &name, bytes, nonce)
}

/// The faces of an analysed clip, as the player draws them: for every frame its index, time
/// and each face's track id and box.
fn faces(store: &reel_jobs::Store, media: &Media) -> Response {
    let Some(file) = &media.faces else {
        return Response::error(
            404,
            format!("media {} is not analysed yet: run an analyze job", media.id),
        );
    };
    let read = File::open(store.media_dir().join(file))
        .map_err(|e| e.to_string())
        .and_then(|f| {
            serde_json::from_reader::<_, Value>(std::io::BufReader::new(f))
                .map_err(|e| e.to_string())
        });
    let report = match read {
        Ok(r) => r,
        Err(e) => return Response::error(500, format!("the faces of media {}: {e}", media.id)),
    };
    let frames: Vec<Value> = report
        .get("frames")
        .and_then(Value::as_array)
        .map(|frames| {
            frames
                .iter()
                .map(|f| {
                    let faces: Vec<Value> = f
                        .get("faces")
                        .and_then(Value::as_array)
                        .map(|fs| {
                            fs.iter()
                                .map(|face| json!({ "id": face["id"], "bbox": face["bbox"] }))
                                .collect()
                        })
                        .unwrap_or_default();
                    json!({ "index": f["index"], "time": f["time"], "faces": faces })
                })
                .collect()
        })
        .unwrap_or_default();
    Response::json(
        200,
        &json!({ "width": media.width, "height": media.height, "fps": media.fps, "frames": frames }),
    )
}

/// `GET /api/events`: every change of a job, as server-sent events, until the page goes.
fn events(shared: &Shared, request: &mut Request) {
    let changes = shared.queue.listen();
    let out = request.stream();
    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n: reel studio\n\n";
    if out
        .write_all(head.as_bytes())
        .and_then(|_| out.flush())
        .is_err()
    {
        return;
    }
    loop {
        let message = match changes.recv_timeout(Duration::from_secs(15)) {
            Ok(job) => format!("event: job\ndata: {}\n\n", json!(job)),
            // A comment now and then finds a page that has gone.
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => ": still here\n\n".into(),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
        };
        if out
            .write_all(message.as_bytes())
            .and_then(|_| out.flush())
            .is_err()
        {
            return;
        }
    }
}

fn png(image: &reel_image::Image) -> Response {
    Response::new(
        200,
        "image/png",
        reel_image::png::encode(image.width, image.height, 3, &image.data),
    )
}

/// `POST /api/preview` with `{"command", "input", "options", "frame"}`: the frame after the
/// command, as a PNG (its before is `GET /api/media/{id}/frame/{n}`).
fn preview(shared: &Shared, request: &mut Request) -> Response {
    let Some(body) = request.small_body(1 << 20) else {
        return Response::error(413, "a preview is asked for in at most 1 MiB of JSON");
    };
    let Ok(asked) = serde_json::from_slice::<Value>(&body) else {
        return Response::error(
            400,
            "the body must be JSON: {\"command\", \"input\", \"options\", \"frame\"}",
        );
    };
    let command = asked.get("command").and_then(Value::as_str).unwrap_or("");
    let Some(id) = asked.get("input").and_then(Value::as_u64) else {
        return Response::error(400, "give the preview's input as a media id");
    };
    let index = asked.get("frame").and_then(Value::as_u64).unwrap_or(0);
    let store = shared.queue.store();
    let media = match store.media(id) {
        Ok(Some(m)) => m,
        Ok(None) => return Response::error(400, format!("no media has id {id}")),
        Err(e) => return Response::error(500, e),
    };
    // Where the clip's own analysis saw each face in this frame, to find a chosen one again.
    let known: Vec<reel_jobs::preview::KnownFace> = media
        .faces
        .as_ref()
        .and_then(|file| std::fs::File::open(store.media_dir().join(file)).ok())
        .and_then(|f| serde_json::from_reader::<_, Value>(std::io::BufReader::new(f)).ok())
        .and_then(|report| {
            let frames = report.get("frames")?.as_array()?.clone();
            let frame = frames.into_iter().find(|f| f["index"] == index)?;
            Some(
                frame["faces"]
                    .as_array()?
                    .iter()
                    .filter_map(|face| {
                        let b = face["bbox"].as_array()?;
                        let b: Vec<f32> = b
                            .iter()
                            .filter_map(|v| v.as_f64().map(|v| v as f32))
                            .collect();
                        Some((
                            face["id"].as_u64()? as u32,
                            [*b.first()?, *b.get(1)?, *b.get(2)?, *b.get(3)?],
                        ))
                    })
                    .collect(),
            )
        })
        .unwrap_or_default();
    let path = store.media_path(&media);
    let input = reel_jobs::command::Input {
        path: &path,
        kind: media.kind,
    };
    let options = asked.get("options").cloned().unwrap_or(Value::Null);
    let mut previewer = shared.previewer.lock().unwrap_or_else(|p| p.into_inner());
    if previewer.is_none() {
        match reel_jobs::preview::Previewer::new() {
            Ok(p) => *previewer = Some(p),
            Err(e) => return Response::error(500, e),
        }
    }
    let started = std::time::Instant::now();
    match previewer.as_mut().expect("made above").frame(
        command,
        &input,
        &options,
        index,
        &known,
        &|id| store.found(id),
    ) {
        Ok((_, after)) => png(&after).with_header(
            "X-Reel-Preview-Ms",
            started.elapsed().as_millis().to_string(),
        ),
        Err(e @ JobError::Settings(_)) => Response::error(400, e),
        Err(e) => Response::error(500, e),
    }
}
