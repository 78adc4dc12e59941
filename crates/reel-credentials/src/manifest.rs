//! What a job did, signed into each file it finished: the actions (opened or created, then
//! edited, with the processors and their settings), the IPTC digital source type, the sources as
//! ingredients (their own credentials kept), the watermark's payload as a soft binding, and the
//! consent the edit rests on.

use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use reel_core::output::{OutputError, Seal};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::{CredentialError, Identity, format_for};

/// The name reel's watermark goes by in soft-binding assertions.
pub const WATERMARK_ALGORITHM: &str = "org.reel.watermark.1";
/// The label of reel's consent assertion.
pub const CONSENT_LABEL: &str = "org.reel.consent";
const IPTC: &str = "http://cv.iptc.org/newscodes/digitalsourcetype/";

/// How the media came to be, in the IPTC's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceType {
    /// Real footage edited by learned models (swaps, de-aging, retouching).
    CompositeWithTrainedAlgorithmicMedia,
    /// Made by a generative model.
    TrainedAlgorithmicMedia,
    /// Assembled from other media by algorithm, without a learned model (a film's compositing,
    /// frames made from the motion between real ones).
    AlgorithmicMedia,
    /// Put together from other media (clips joined or trimmed) with nothing made.
    Composite,
}

impl SourceType {
    pub fn uri(self) -> String {
        let name = match self {
            SourceType::CompositeWithTrainedAlgorithmicMedia => {
                "compositeWithTrainedAlgorithmicMedia"
            }
            SourceType::TrainedAlgorithmicMedia => "trainedAlgorithmicMedia",
            SourceType::AlgorithmicMedia => "algorithmicMedia",
            SourceType::Composite => "composite",
        };
        format!("{IPTC}{name}")
    }
}

/// What a job says about the files it writes.
#[derive(Clone, Debug)]
pub struct Credentials {
    /// The action that made the content: `c2pa.edited` for edits of a source, `c2pa.created`
    /// for made media.
    pub action: &'static str,
    pub source_type: SourceType,
    /// Free-form parameters of the action: the processors and their settings, the command.
    pub parameters: Value,
    /// The media the output was made from (the first is the parent).
    pub sources: Vec<PathBuf>,
    /// The watermark payload in every frame.
    pub watermark: Option<u64>,
    /// The consent the output rests on (record ids and hashes), or the reason given for none.
    pub consent: Option<Value>,
}

/// Signs a job's credentials into each file it finishes; formats without a place for them are
/// noted (their frames still carry the watermark).
#[derive(Debug)]
pub struct Sealer {
    credentials: Credentials,
    identity: Identity,
    notices: Mutex<Vec<String>>,
    /// The sources' SHA-256, read once for all the files a job seals (a sequence's frames).
    hashes: OnceLock<Result<Vec<String>, String>>,
}

impl Sealer {
    pub fn new(credentials: Credentials, identity: Identity) -> Sealer {
        Sealer {
            credentials,
            identity,
            notices: Mutex::new(Vec::new()),
            hashes: OnceLock::new(),
        }
    }

    /// What the sealer had to say (a format it could not label), once each.
    pub fn notices(&self) -> Vec<String> {
        let mut n = self.notices.lock().map(|n| n.clone()).unwrap_or_default();
        n.dedup();
        n
    }

    fn note(&self, text: String) {
        if let Ok(mut n) = self.notices.lock()
            && !n.contains(&text)
        {
            n.push(text);
        }
    }

    /// Signs the manifest into `partial` (to be named `name`), in place.
    pub fn sign(&self, partial: &Path, name: &Path) -> Result<bool, CredentialError> {
        let Some(format) = format_for(name) else {
            self.note(format!(
                "{}: this format has no place for C2PA content credentials (use .mp4, .mov, .png or .jpg for them); its frames carry the watermark",
                name.display()
            ));
            return Ok(false);
        };
        let failed = |detail: String| CredentialError::Sign {
            path: name.to_path_buf(),
            detail,
        };
        let c = &self.credentials;
        let title = name
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let mut actions = Vec::new();
        if c.action == "c2pa.edited" && !c.sources.is_empty() {
            actions.push(json!({
                "action": "c2pa.opened",
                "parameters": { "ingredientIds": [ingredient_label(0)] },
            }));
        } else if c.action != "c2pa.created" {
            actions.push(
                json!({ "action": "c2pa.created", "digitalSourceType": c.source_type.uri() }),
            );
        }
        actions.push(json!({
            "action": c.action,
            "digitalSourceType": c.source_type.uri(),
            "softwareAgent": { "name": "reel", "version": env!("CARGO_PKG_VERSION") },
            "parameters": c.parameters,
        }));
        let mut assertions =
            vec![json!({ "label": "c2pa.actions.v2", "data": { "actions": actions } })];
        if let Some(payload) = c.watermark {
            assertions.push(json!({
                "label": "c2pa.soft-binding",
                "data": {
                    "alg": WATERMARK_ALGORITHM,
                    "blocks": [{ "scope": {}, "value": base64(&payload.to_be_bytes()) }],
                },
            }));
        }
        if let Some(consent) = &c.consent {
            assertions.push(json!({ "label": CONSENT_LABEL, "data": consent }));
        }
        let definition = json!({
            "claim_generator_info": [{ "name": "reel", "version": env!("CARGO_PKG_VERSION") }],
            "title": title,
            "assertions": assertions,
        });
        let mut builder = c2pa::Builder::from_context(c2pa::Context::new())
            .with_definition(definition.to_string())
            .map_err(|e| failed(format!("the manifest: {e}")))?;
        let hashes = self
            .hashes
            .get_or_init(|| {
                c.sources
                    .iter()
                    .map(|p| sha256_file(p).map_err(|e| format!("{}: {e}", p.display())))
                    .collect()
            })
            .as_ref()
            .map_err(|e| failed(format!("reading an ingredient: {e}")))?;
        for (i, (source, hash)) in c.sources.iter().zip(hashes).enumerate() {
            add_ingredient(&mut builder, source, hash, &ingredient_label(i), i == 0)
                .map_err(|e| failed(format!("ingredient {}: {e}", source.display())))?;
        }
        let signer = self.identity.signer()?;
        let signed = partial.with_file_name(format!(
            "{}.signing",
            partial.file_name().unwrap_or_default().to_string_lossy()
        ));
        let result = (|| -> Result<(), CredentialError> {
            let mut source = File::open(partial)
                .map_err(reel_core::io(format!("reading {}", partial.display())))?;
            let mut dest = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(true)
                .open(&signed)
                .map_err(reel_core::io(format!("writing {}", signed.display())))?;
            builder
                .sign(signer.as_ref(), format, &mut source, &mut dest)
                .map_err(|e| failed(e.to_string()))?;
            dest.sync_all()
                .map_err(reel_core::io(format!("writing {}", signed.display())))?;
            let perms = fs::metadata(partial).map(|m| m.permissions());
            if let Ok(perms) = perms {
                let _ = fs::set_permissions(&signed, perms);
            }
            fs::rename(&signed, partial)
                .map_err(reel_core::io(format!("replacing {}", partial.display())))?;
            Ok(())
        })();
        if result.is_err() {
            let _ = fs::remove_file(&signed);
        }
        result.map(|()| true)
    }
}

impl Seal for Sealer {
    fn seal(&self, partial: &Path, name: &Path) -> Result<(), OutputError> {
        self.sign(partial, name).map(|_| ()).map_err(|e| {
            use reel_core::HasKind;
            OutputError::Seal {
                path: name.to_path_buf(),
                detail: e.to_string(),
                kind: e.kind(),
            }
        })
    }
}

/// Adds a source as an ingredient: with its own credentials where it has them (kept, whoever
/// made them), else with its hash; a source in a format C2PA does not read is described only.
fn ingredient_label(index: usize) -> String {
    format!("source-{index}")
}

fn add_ingredient(
    builder: &mut c2pa::Builder,
    source: &Path,
    hash: &str,
    label: &str,
    parent: bool,
) -> Result<(), String> {
    let title = source
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let relationship = if parent { "parentOf" } else { "componentOf" };
    let format = format_for(source);
    let mut json = json!({
        "title": title,
        "relationship": relationship,
        "label": label,
        "metadata": { "org.reel.sha256": hash },
    });
    if let Some(format) = format {
        json["format"] = json!(format);
        let mut stream = File::open(source).map_err(|e| e.to_string())?;
        // An unreadable or foreign manifest is kept out; the source is still named below.
        if builder
            .add_ingredient_from_stream(json.to_string(), format, &mut stream)
            .is_ok()
        {
            return Ok(());
        }
    }
    let ingredient = c2pa::Ingredient::from_json(&json.to_string()).map_err(|e| e.to_string())?;
    builder.add_ingredient(ingredient);
    Ok(())
}

pub(crate) fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    let mut f = File::open(path)?;
    std::io::copy(&mut f, &mut hasher)?;
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

fn base64(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub(crate) fn unbase64(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let bytes: Vec<u8> = text.bytes().filter(|&c| c != b'=').collect();
    let mut out = Vec::new();
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= value(c)? << (18 - 6 * i);
        }
        for i in 0..chunk.len().saturating_sub(1) {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_round_trips() {
        for bytes in [
            &b""[..],
            b"a",
            b"ab",
            b"abc",
            &0xDEAD_BEEF_0123_4567u64.to_be_bytes(),
        ] {
            let text = super::base64(bytes);
            assert_eq!(super::unbase64(&text).as_deref(), Some(bytes), "{text}");
        }
        assert_eq!(super::base64(b"Man"), "TWFu");
    }
}
