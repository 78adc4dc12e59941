//! Who signs: an ES256 key with its certificate chain. By default a local identity made on first
//! use under reel's data directory (a root that signs an end-entity certificate with the
//! extensions C2PA asks for; validators refuse a self-signed signer), key and certificates
//! readable by their owner only. `from_files` takes an organisation's own instead.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
};
use reel_core::output::write_atomic;

use crate::CredentialError;

/// A signing key and the certificate chain (signer first) that vouches for it.
#[derive(Clone)]
pub struct Identity {
    pub chain_pem: Vec<u8>,
    key_pem: Vec<u8>,
    /// Where it came from, for messages.
    pub origin: PathBuf,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

const KEY: &str = "signer.key";
const CHAIN: &str = "signer-chain.pem";
const ROOT: &str = "root.pem";

impl Identity {
    /// The folder of the local identity.
    pub fn local_dir() -> PathBuf {
        reel_core::dirs::data_dir().join("signing")
    }

    /// The local identity, made now if there is none yet.
    pub fn local() -> Result<Identity, CredentialError> {
        let dir = Identity::local_dir();
        let (key, chain) = (dir.join(KEY), dir.join(CHAIN));
        if !key.exists() || !chain.exists() {
            // Two first runs at once would interleave a key and a chain: one makes it, the
            // other waits and takes what it made.
            let _lock = take_lock(&dir)?;
            if !key.exists() || !chain.exists() {
                create(&dir)?;
            }
        }
        Identity::from_files(&chain, &key)
    }

    /// An identity from a PEM certificate chain (signer first) and its PEM private key.
    pub fn from_files(chain: &Path, key: &Path) -> Result<Identity, CredentialError> {
        let read = |p: &Path| {
            fs::read(p).map_err(|e| CredentialError::Identity(format!("{}: {e}", p.display())))
        };
        let identity = Identity {
            chain_pem: read(chain)?,
            key_pem: read(key)?,
            origin: chain.to_path_buf(),
        };
        identity.signer()?;
        Ok(identity)
    }

    pub(crate) fn signer(&self) -> Result<c2pa::BoxedSigner, CredentialError> {
        c2pa::create_signer::from_keys(
            &self.chain_pem,
            &self.key_pem,
            c2pa::SigningAlg::Es256,
            None,
        )
        .map_err(|e| {
            CredentialError::Identity(format!(
                "{}: not a usable ES256 certificate chain and key ({e})",
                self.origin.display()
            ))
        })
    }
}

fn take_lock(dir: &Path) -> Result<reel_core::output::FolderLock, CredentialError> {
    use reel_core::output::{FolderLock, OutputError};
    for _ in 0..100 {
        match FolderLock::take(dir) {
            Err(OutputError::Busy { .. }) => {
                std::thread::sleep(std::time::Duration::from_millis(100))
            }
            other => return Ok(other?),
        }
    }
    Ok(FolderLock::take(dir)?)
}

fn owner_only(path: &Path, mode: u32) -> Result<(), CredentialError> {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(reel_core::io(format!("protecting {}", path.display())))?;
    Ok(())
}

/// Makes a local root and an end-entity signer under `dir`.
fn create(dir: &Path) -> Result<(), CredentialError> {
    fs::create_dir_all(dir).map_err(reel_core::io(format!("creating {}", dir.display())))?;
    owner_only(dir, 0o700)?;
    let failed = |e: rcgen::Error| CredentialError::Identity(format!("making a certificate: {e}"));
    let user = std::env::var("USER").unwrap_or_else(|_| "reel user".into());
    let root_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(failed)?;
    let mut root = CertificateParams::new(Vec::<String>::new()).map_err(failed)?;
    root.distinguished_name
        .push(DnType::CommonName, format!("reel local root ({user})"));
    root.distinguished_name
        .push(DnType::OrganizationName, "reel (local)");
    root.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    root.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let root_cert = root.self_signed(&root_key).map_err(failed)?;
    let signer_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(failed)?;
    let mut signer = CertificateParams::new(Vec::<String>::new()).map_err(failed)?;
    signer
        .distinguished_name
        .push(DnType::CommonName, format!("reel signer ({user})"));
    signer
        .distinguished_name
        .push(DnType::OrganizationName, "reel (local)");
    signer.is_ca = IsCa::ExplicitNoCa;
    signer.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    signer.extended_key_usages = vec![ExtendedKeyUsagePurpose::EmailProtection];
    signer.use_authority_key_identifier_extension = true;
    let issuer = Issuer::new(root, root_key);
    let signer_cert = signer.signed_by(&signer_key, &issuer).map_err(failed)?;
    let chain = format!("{}{}", signer_cert.pem(), root_cert.pem());
    for (name, text) in [
        (ROOT, root_cert.pem()),
        (CHAIN, chain),
        (KEY, signer_key.serialize_pem()),
    ] {
        let path = dir.join(name);
        write_atomic(&path, text.as_bytes())?;
        owner_only(&path, 0o600)?;
    }
    Ok(())
}
