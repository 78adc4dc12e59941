//! The check every swap makes before it puts a face on anyone, for every front end: the
//! person in each photo (or a model's source face set) must have a live consent in the
//! register, or the user gives a reason why none is needed; what it rests on goes into the
//! output's credentials.

use std::path::Path;

use reel_consent::{Consent, Register};
use reel_face::FaceRecognizer;
use serde_json::{Value, json};

use crate::JobError;

fn register() -> Result<Register, JobError> {
    Ok(Register::open(&reel_consent::default_path())?)
}

/// The identity descriptor of the largest face in a photo.
pub fn identity(photo: &Path, recognizer: &mut FaceRecognizer) -> Result<Vec<f32>, JobError> {
    let (image, face) = reel_process::pipeline::photo_face(photo)?;
    Ok(recognizer
        .describe(&image, &face.landmarks)
        .map_err(reel_process::ProcessError::from)?
        .to_vec())
}

/// The live consent of the person `descriptor` describes (`whose` names where the face came
/// from, for the message when there is none).
pub fn require(descriptor: &[f32], whose: &str) -> Result<Consent, JobError> {
    let register = register()?;
    if let Some((c, _)) = register.matching(descriptor, reel_consent::today())? {
        return Ok(c);
    }
    let how = "record it with `reel consent add --name NAME --photo PHOTO --granted-by WHO` (or, where none is needed, give --no-consent-check \"REASON\")";
    Err(JobError::Settings(
        match register.any_matching(descriptor)? {
            Some(c) if c.revoked_at.is_some() => format!(
                "the consent of {} ({}) for {whose} was revoked on {}; {how}",
                c.name,
                c.id,
                c.revoked_at.as_deref().unwrap_or("")
            ),
            Some(c) => format!(
                "the consent of {} ({}) for {whose} expired on {}; {how}",
                c.name,
                c.id,
                c.expires.map(|e| e.to_string()).unwrap_or_default()
            ),
            None => format!("no consent is recorded for the person in {whose}; {how}"),
        },
    ))
}

/// The consent of the person in every photo a swap puts on (`names` say how to call them).
pub fn check_photos(photos: &[&Path], names: &[String]) -> Result<Vec<Consent>, JobError> {
    let mut recognizer = FaceRecognizer::new(1).map_err(reel_process::ProcessError::from)?;
    photos
        .iter()
        .zip(names)
        .map(|(p, name)| require(&identity(p, &mut recognizer)?, name))
        .collect()
}

/// The live consent of the person a trained model puts on (`name` is how to call the model):
/// the model must be a pair's (not pretrained) and record whose face it learned.
pub fn of_model(model: &Path, name: &str) -> Result<Consent, JobError> {
    let info = reel_swap::train::read_info(model)?;
    info.check_swappable(model)?;
    if info.source_identity.is_empty() {
        return Err(JobError::Settings(format!(
            "{name} does not record whose face it puts on (it was trained before reel recorded it); train it again, or give --no-consent-check \"REASON\""
        )));
    }
    require(
        &info.source_identity,
        &format!("the source face set of {name}"),
    )
}

/// The live consent of the person in a face set, where one is recorded (training goes on
/// without one: it harms no one, but a swap with the model will be refused until one is).
pub fn of_face_set(set: &Path) -> Result<Option<Consent>, JobError> {
    let Some(identity) = reel_faceset::record::set_identity(set)? else {
        return Ok(None);
    };
    Ok(register()?
        .matching(&identity, reel_consent::today())?
        .map(|(c, _)| c))
}

/// The consent records a swap's credentials name (id, name, grantor and the record's hash).
pub fn record(consents: &[Consent]) -> Value {
    json!({
        "records": consents
            .iter()
            .map(|c| json!({
                "id": c.id,
                "name": c.name,
                "granted_by": c.granted_by,
                "deceased": c.deceased,
                "sha256": c.hash,
            }))
            .collect::<Vec<_>>(),
    })
}

/// What the credentials say when the user put a face on without a recorded consent.
pub fn overridden(reason: &str) -> Result<Value, JobError> {
    if reason.trim().is_empty() {
        return Err(JobError::Settings(
            "--no-consent-check needs its reason".into(),
        ));
    }
    Ok(json!({ "records": [], "override_reason": reason }))
}
