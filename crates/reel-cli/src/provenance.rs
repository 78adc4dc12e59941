//! What every command that writes media puts on its outputs: a fresh watermark payload, and
//! content credentials naming what was done, signed by the user's identity.

use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;
use reel_core::output::Seal;
use reel_credentials::{Credentials, Identity, Sealer, SourceType};
use reel_watermark::{Disclosure, Marker};
use serde_json::Value;

use crate::failure::Result;

/// Who signs the outputs' content credentials, and the id their watermark carries.
#[derive(Args, Clone, Debug, Default)]
pub struct SignArgs {
    /// Sign with this PEM certificate chain (signer first) instead of reel's local identity;
    /// also read from REEL_SIGN_CERT.
    #[arg(long, requires = "sign_key", env = "REEL_SIGN_CERT")]
    pub sign_cert: Option<PathBuf>,
    /// The private key (PEM, ES256) of --sign-cert; also read from REEL_SIGN_KEY.
    #[arg(long, requires = "sign_cert", env = "REEL_SIGN_KEY")]
    pub sign_key: Option<PathBuf>,
    /// The watermark's payload (16 hex digits), for an id of your own (an asset system's);
    /// by default a fresh random one for every output.
    #[arg(long, value_name = "HEX", value_parser = parse_payload)]
    pub watermark_id: Option<u64>,
    /// Burn a visible disclosure into the top-left corner of the first 2 seconds (of every
    /// still): "AI-MODIFIED" on edited footage, "AI-GENERATED" on generated media.
    #[arg(long)]
    pub label: bool,
}

fn parse_payload(text: &str) -> std::result::Result<u64, String> {
    let digits = text.strip_prefix("0x").unwrap_or(text);
    if digits.len() != 16 {
        return Err("give the id as 16 hexadecimal digits".into());
    }
    u64::from_str_radix(digits, 16).map_err(|_| "give the id as 16 hexadecimal digits".into())
}

impl SignArgs {
    pub fn identity(&self) -> Result<Identity> {
        Ok(match (&self.sign_cert, &self.sign_key) {
            (Some(cert), Some(key)) => Identity::from_files(cert, key)?,
            _ => Identity::local()?,
        })
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
        sign: &SignArgs,
        action: &'static str,
        source_type: SourceType,
        mut parameters: Value,
        sources: &[&Path],
        consent: Option<Value>,
    ) -> Result<Provenance> {
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

    /// Says what the credentials could not cover (a format without a place for them).
    pub fn report(&self, quiet: bool) {
        if !quiet {
            for notice in self.sealer.notices() {
                eprintln!("note: {notice}");
            }
        }
    }
}
