//! What every job that writes media puts on its outputs: a fresh watermark payload, and content
//! credentials naming what was done, signed by the user's identity; and what a finished file
//! says of itself (its credentials and its watermark, read back).

use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use reel_core::output::Seal;
use reel_credentials::{CredentialError, Credentials, Identity, Sealer, SourceType};
use reel_process::marking;
use reel_watermark::{Disclosure, Marker};
use serde_json::{Value, json};

/// Who signs a job's outputs, and the id their watermark carries.
#[derive(Clone, Debug, Default)]
pub struct Signing {
    /// An organisation's PEM certificate chain and ES256 key, instead of reel's local identity.
    pub cert_and_key: Option<(PathBuf, PathBuf)>,
    /// The watermark's payload; by default a fresh random one for every output.
    pub watermark_id: Option<u64>,
    /// Burn a visible disclosure into the first seconds (of every still).
    pub label: bool,
}

impl Signing {
    pub fn identity(&self) -> Result<Identity, CredentialError> {
        match &self.cert_and_key {
            Some((cert, key)) => Identity::from_files(cert, key),
            None => Identity::local(),
        }
    }
}

/// A job's watermark payload, its visible label if asked for, and the sealer that signs its
/// files.
pub struct Provenance {
    pub payload: u64,
    pub label: Option<Disclosure>,
    sealer: Arc<Sealer>,
}

/// A payload no other output shares (random; it is an id, not a secret).
pub fn new_payload() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.write_u32(std::process::id());
    h.finish()
}

impl Provenance {
    pub fn new(
        sign: &Signing,
        action: &'static str,
        source_type: SourceType,
        mut parameters: Value,
        sources: &[&Path],
        consent: Option<Value>,
    ) -> Result<Provenance, CredentialError> {
        let payload = sign.watermark_id.unwrap_or_else(new_payload);
        let label = sign.label.then_some(match source_type {
            SourceType::CompositeWithTrainedAlgorithmicMedia | SourceType::Composite => {
                Disclosure::Modified
            }
            SourceType::TrainedAlgorithmicMedia | SourceType::AlgorithmicMedia => {
                Disclosure::Generated
            }
        });
        if let (Some(label), Some(settings)) = (label, parameters.as_object_mut()) {
            settings.insert("visible_label".into(), label.text().into());
        }
        let credentials = Credentials {
            action,
            source_type,
            parameters,
            // Files only: a model's folder is read, but is no ingredient.
            sources: sources
                .iter()
                .filter(|p| p.is_file())
                .map(|p| p.to_path_buf())
                .collect(),
            watermark: Some(payload),
            consent,
        };
        Ok(Provenance {
            payload,
            label,
            sealer: Arc::new(Sealer::new(credentials, sign.identity()?)),
        })
    }

    /// What marks this job's frames: its label, if any, and its watermark.
    pub fn marker(&self) -> Marker {
        Marker::new(self.payload, self.label)
    }

    pub fn seal(&self) -> Option<Arc<dyn Seal>> {
        Some(self.sealer.clone())
    }

    /// What the credentials could not cover (a format without a place for them).
    pub fn notices(&self) -> Vec<String> {
        self.sealer.notices()
    }
}

/// A file's content credentials and watermark as JSON (objects `c2pa` and `watermark`), as
/// `reel verify --json` prints them and the studio shows them.
pub fn verify(path: &Path) -> Value {
    let c2pa = reel_credentials::read::read(path);
    let watermark = match marking::read_watermark(path) {
        Ok(d) => json!({
            "found": d.found(),
            "payload": d.payload.map(|p| format!("{p:016x}")),
            "confidence": d.sync,
            "bits_corrected": d.bit_errors,
            "frames_read": d.frames,
            "matches_manifest": d.payload.and_then(|p| c2pa.watermark.map(|m| m == p)),
        }),
        Err(e) => json!({ "found": false, "payload": null, "error": e.to_string() }),
    };
    json!({ "file": path, "c2pa": c2pa.to_json(), "watermark": watermark })
}
