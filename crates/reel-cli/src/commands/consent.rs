//! `reel consent add | list | revoke`: the consent register, and the check `reel swap` makes
//! before it puts a face on anyone.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use reel_consent::{Consent, Date, NewConsent, Register};
use reel_face::FaceRecognizer;

use crate::failure::{Failure, Result};

#[derive(Subcommand, Debug)]
pub enum ConsentCommand {
    /// Record a person's consent to their face being put on someone.
    Add(AddArgs),
    /// Every consent recorded, live, expired or revoked.
    List(ListArgs),
    /// Revoke a consent: swaps of that face are refused from now on.
    Revoke(RevokeArgs),
}

#[derive(Args, Debug)]
pub struct AddArgs {
    /// The person whose face it is.
    #[arg(long)]
    pub name: String,
    /// Photos of the person (their face is recognised from these); repeatable.
    #[arg(long = "photo", required = true)]
    pub photos: Vec<PathBuf>,
    /// Who grants it: the person, or their estate or guardian.
    #[arg(long)]
    pub granted_by: String,
    /// What it covers (a production, a use).
    #[arg(long)]
    pub scope: Option<String>,
    /// The last day it holds (YYYY-MM-DD).
    #[arg(long)]
    pub expires: Option<String>,
    /// The signed document (only its SHA-256 is recorded).
    #[arg(long)]
    pub document: Option<PathBuf>,
    /// The person has died (the consent is their estate's).
    #[arg(long)]
    pub deceased: bool,
}

#[derive(Args, Debug)]
pub struct ListArgs {
    /// As JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct RevokeArgs {
    /// The consent's id, as `reel consent list` shows it.
    pub id: String,
}

fn open() -> Result<Register> {
    Ok(Register::open(&reel_consent::default_path())?)
}

pub fn run(command: &ConsentCommand, quiet: bool) -> Result {
    match command {
        ConsentCommand::Add(a) => add(a, quiet),
        ConsentCommand::List(l) => list(l),
        ConsentCommand::Revoke(r) => {
            let c = open()?.revoke(&r.id)?;
            if !quiet {
                eprintln!(
                    "{}: consent of {} revoked ({})",
                    c.id,
                    c.name,
                    c.revoked_at.as_deref().unwrap_or("")
                );
            }
            Ok(())
        }
    }
}

fn add(args: &AddArgs, quiet: bool) -> Result {
    let expires =
        match &args.expires {
            Some(e) => Some(Date::parse(e).ok_or_else(|| {
                Failure::usage(format!("--expires {e}: give a day as YYYY-MM-DD"))
            })?),
            None => None,
        };
    if expires.is_some_and(|e| e < reel_consent::today()) {
        return Err(Failure::usage("--expires is in the past"));
    }
    let document =
        match &args.document {
            Some(d) => Some(std::fs::read(d).map_err(|e| {
                Failure::new(reel_core::Kind::Input, format!("{}: {e}", d.display()))
            })?),
            None => None,
        };
    let mut recognizer = FaceRecognizer::new(1)?;
    let mut photos = Vec::new();
    for p in &args.photos {
        let bytes = std::fs::read(p)
            .map_err(|e| Failure::new(reel_core::Kind::Input, format!("{}: {e}", p.display())))?;
        let descriptor = reel_jobs::consent::identity(p, &mut recognizer)?;
        let name = p.file_name().map_or_else(
            || p.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        photos.push((name, bytes, descriptor));
    }
    let consent = open()?.add(&NewConsent {
        name: &args.name,
        granted_by: &args.granted_by,
        scope: args.scope.as_deref(),
        expires,
        document: document.as_deref(),
        deceased: args.deceased,
        photos,
    })?;
    println!("{}", consent.id);
    if !quiet {
        eprintln!(
            "consent of {} granted by {} recorded ({} photo{}), in {}",
            consent.name,
            consent.granted_by,
            consent.photos.len(),
            if consent.photos.len() == 1 { "" } else { "s" },
            reel_consent::default_path().display()
        );
    }
    Ok(())
}

fn list(args: &ListArgs) -> Result {
    let all = open()?.all()?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&all).expect("consents serialise")
        );
        return Ok(());
    }
    let today = reel_consent::today();
    for c in &all {
        let state = match (&c.revoked_at, c.expires) {
            (Some(t), _) => format!("revoked {t}"),
            (None, Some(e)) if e < today => format!("expired {e}"),
            (None, Some(e)) => format!("live until {e}"),
            (None, None) => "live".into(),
        };
        println!(
            "{}  {}{}  granted by {}  {}  {} photo{}{}",
            c.id,
            c.name,
            if c.deceased { " (deceased)" } else { "" },
            c.granted_by,
            state,
            c.photos.len(),
            if c.photos.len() == 1 { "" } else { "s" },
            c.scope
                .as_deref()
                .map(|s| format!("  scope: {s}"))
                .unwrap_or_default()
        );
    }
    Ok(())
}

/// The live consent for the person with `descriptor`, or a refusal that says how to record one.
/// Checks consent for every photo a swap puts on; prints whose consent it rests on.
pub fn check_photos(photos: &[PathBuf], quiet: bool) -> Result<Vec<Consent>> {
    let paths: Vec<&Path> = photos.iter().map(PathBuf::as_path).collect();
    let names: Vec<String> = photos.iter().map(|p| p.display().to_string()).collect();
    let consents = reel_jobs::consent::check_photos(&paths, &names)?;
    if !quiet {
        for c in &consents {
            eprintln!(
                "consent: {} ({}, granted by {})",
                c.name, c.id, c.granted_by
            );
        }
    }
    Ok(consents)
}
