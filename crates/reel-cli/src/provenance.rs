//! The flags that say who signs a command's outputs; the provenance itself (watermark payload,
//! credentials) is reel-jobs', shared with the studio.

use std::path::PathBuf;

use clap::Args;
pub use reel_jobs::provenance::{Provenance, Signing, new_payload};

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
    /// The signing these flags ask for.
    pub fn signing(&self) -> Signing {
        Signing {
            cert_and_key: self.sign_cert.clone().zip(self.sign_key.clone()),
            watermark_id: self.watermark_id,
            label: self.label,
        }
    }
}

/// Says what a job's credentials could not cover (a format without a place for them).
pub trait Report {
    fn report(&self, quiet: bool);
}

impl Report for Provenance {
    fn report(&self, quiet: bool) {
        if !quiet {
            for notice in self.notices() {
                eprintln!("note: {notice}");
            }
        }
    }
}
