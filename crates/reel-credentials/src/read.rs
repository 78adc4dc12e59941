//! Reading a file's content credentials back, validated: absent, valid (and whether the signer
//! is trusted), or invalid with the validator's reasons (a hash mismatch after the media was
//! changed, a broken signature, a manifest that does not parse).

use std::path::Path;

use serde_json::{Value, json};

use crate::format_for;
use crate::manifest::{CONSENT_LABEL, WATERMARK_ALGORITHM, unbase64};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// The file carries no manifest.
    Absent,
    /// The format has no place for one.
    Unsupported,
    /// Signed, and the content matches what was signed.
    Valid,
    /// A manifest is there but fails validation.
    Invalid,
}

impl State {
    pub fn name(self) -> &'static str {
        match self {
            State::Absent => "absent",
            State::Unsupported => "unsupported",
            State::Valid => "valid",
            State::Invalid => "invalid",
        }
    }
}

/// What a file's credentials say.
#[derive(Clone, Debug)]
pub struct Report {
    pub state: State,
    /// Whether the signer chains to a trusted root (a local identity's root is not).
    pub trusted: bool,
    /// The validator's failure codes and explanations.
    pub problems: Vec<String>,
    pub signer: Option<String>,
    pub issuer: Option<String>,
    pub generator: Option<String>,
    pub actions: Vec<Value>,
    pub source_type: Option<String>,
    pub ingredients: Vec<String>,
    pub consent: Option<Value>,
    /// The watermark payload the manifest binds to.
    pub watermark: Option<u64>,
}

impl Report {
    fn empty(state: State) -> Report {
        Report {
            state,
            trusted: false,
            problems: Vec::new(),
            signer: None,
            issuer: None,
            generator: None,
            actions: Vec::new(),
            source_type: None,
            ingredients: Vec::new(),
            consent: None,
            watermark: None,
        }
    }

    pub fn to_json(&self) -> Value {
        json!({
            "state": self.state.name(),
            "trusted": self.trusted,
            "problems": self.problems,
            "signer": self.signer,
            "issuer": self.issuer,
            "generator": self.generator,
            "actions": self.actions,
            "digital_source_type": self.source_type,
            "ingredients": self.ingredients,
            "consent": self.consent,
            "watermark_payload": self.watermark.map(|p| format!("{p:016x}")),
        })
    }
}

/// Reads and validates the credentials of `path`.
pub fn read(path: &Path) -> Report {
    if format_for(path).is_none() {
        return Report::empty(State::Unsupported);
    }
    let reader = match c2pa::Reader::from_context(c2pa::Context::new()).with_file(path) {
        Ok(r) => r,
        Err(c2pa::Error::JumbfNotFound) | Err(c2pa::Error::ProvenanceMissing) => {
            return Report::empty(State::Absent);
        }
        Err(c2pa::Error::UnsupportedType) => return Report::empty(State::Unsupported),
        Err(e) => {
            let mut r = Report::empty(State::Invalid);
            r.problems.push(format!("the manifest cannot be read: {e}"));
            return r;
        }
    };
    let mut report = Report::empty(State::Valid);
    report.state = match reader.validation_state() {
        c2pa::ValidationState::Invalid => State::Invalid,
        c2pa::ValidationState::Trusted => {
            report.trusted = true;
            State::Valid
        }
        c2pa::ValidationState::Valid => State::Valid,
    };
    for status in reader.validation_status().unwrap_or_default() {
        if status.code() == "signingCredential.untrusted" {
            continue;
        }
        report.problems.push(match status.explanation() {
            Some(e) => format!("{}: {e}", status.code()),
            None => status.code().to_string(),
        });
    }
    let Some(manifest) = reader.active_manifest() else {
        return report;
    };
    if let Some(info) = manifest.signature_info() {
        report.signer = info.common_name.clone();
        report.issuer = info.issuer.clone();
    }
    report.generator = manifest
        .claim_generator_info
        .as_ref()
        .and_then(|g| g.first())
        .map(|g| match &g.version {
            Some(v) => format!("{} {v}", g.name),
            None => g.name.clone(),
        });
    report.ingredients = manifest
        .ingredients()
        .iter()
        .map(|i| i.title().unwrap_or("untitled").to_string())
        .collect();
    for assertion in manifest.assertions() {
        let label = assertion.label();
        let Ok(data) = assertion.value() else {
            continue;
        };
        if label.starts_with("c2pa.actions") {
            if let Some(actions) = data.get("actions").and_then(Value::as_array) {
                for a in actions {
                    if let Some(t) = a.get("digitalSourceType").and_then(Value::as_str) {
                        report.source_type = Some(t.rsplit('/').next().unwrap_or(t).to_string());
                    }
                    // The links to ingredients are hashes for validators; their titles are listed.
                    let mut a = a.clone();
                    if let Some(p) = a.get_mut("parameters").and_then(Value::as_object_mut) {
                        p.remove("ingredients");
                    }
                    report.actions.push(a);
                }
            }
        } else if label.starts_with("c2pa.soft-binding") {
            if data.get("alg").and_then(Value::as_str) == Some(WATERMARK_ALGORITHM) {
                report.watermark = data
                    .get("blocks")
                    .and_then(|b| b.get(0))
                    .and_then(|b| b.get("value"))
                    .and_then(Value::as_str)
                    .and_then(unbase64)
                    .and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok())
                    .map(u64::from_be_bytes);
            }
        } else if label == CONSENT_LABEL {
            report.consent = Some(data.clone());
        }
    }
    report
}
