//! `reel faceset extract`, `reel faceset stats` and `reel cast`.

use std::path::PathBuf;

use clap::Args;
use reel_faceset::cast::{contact_sheet, profile, rank};
use reel_faceset::extract::{ExtractSettings, Subject, extract};

use crate::failure::{Failure, Result};
use crate::progress;
use crate::provenance::Report as _;

#[derive(Args, Debug)]
pub struct ExtractArgs {
    /// Footage (videos, image sequences, photos) of the person.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// The face set directory (created; faces already there are kept).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Crop size in pixels.
    #[arg(long, default_value_t = 256)]
    pub size: usize,
    /// Room around the face (0 is tight, 0.4 takes in the forehead and chin).
    #[arg(long, default_value_t = 0.4)]
    pub margin: f32,
    /// Consider every n-th frame.
    #[arg(long, default_value_t = 1)]
    pub every: u64,
    /// Stop after this many faces.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Keep every face, not only the largest of each frame.
    #[arg(long, conflicts_with = "reference")]
    pub all_faces: bool,
    /// Keep only the person in this photo.
    #[arg(long)]
    pub reference: Option<PathBuf>,
    /// Drop faces blurrier than this (variance of the Laplacian of the aligned 112 px crop).
    #[arg(long, default_value_t = 15.0)]
    pub min_sharpness: f32,
    /// Drop faces turned further than this (degrees).
    #[arg(long, default_value_t = 55.0)]
    pub max_yaw: f32,
    #[arg(long, default_value_t = 40.0)]
    pub max_pitch: f32,
    /// Drop a face as a near-duplicate when none of its landmarks moved more than this fraction
    /// of the crop since the last kept face of the same person (0 keeps every face).
    #[arg(long, default_value_t = 0.01)]
    pub min_change: f32,
}

#[derive(Args, Debug)]
pub struct StatsArgs {
    pub faceset: PathBuf,
}

#[derive(Args, Debug)]
pub struct CastArgs {
    /// The person to double: a face set directory, a video or a photo.
    #[arg(long)]
    pub target: PathBuf,
    /// Candidates: face sets, videos or photos.
    #[arg(required = true)]
    pub candidates: Vec<PathBuf>,
    /// Write a contact sheet (target first, then the candidates in ranking order).
    #[arg(long)]
    pub sheet: Option<PathBuf>,
    /// Print the ranking as JSON.
    #[arg(long)]
    pub json: bool,
    /// Frames sampled from each video.
    #[arg(long, default_value_t = 12)]
    pub samples: usize,
    #[command(flatten)]
    pub sign: crate::provenance::SignArgs,
}

pub fn extract_cmd(args: &ExtractArgs, quiet: bool) -> Result {
    let subject = match (&args.reference, args.all_faces) {
        (Some(photo), _) => {
            let p = profile(photo, 1)?;
            Subject::Like(Box::new(p.identity))
        }
        (None, true) => Subject::All,
        (None, false) => Subject::Largest,
    };
    let settings = ExtractSettings {
        size: args.size,
        margin: args.margin,
        every: args.every,
        limit: args.limit,
        min_sharpness: args.min_sharpness,
        max_yaw: args.max_yaw,
        max_pitch: args.max_pitch,
        min_change: args.min_change,
        subject,
        ..ExtractSettings::default()
    };
    let bar = progress::frames(None, "extract", quiet);
    let report = extract(&args.inputs, &args.output, &settings, |_, done, total| {
        progress::advance(&bar, done, total)
    });
    bar.finish_and_clear();
    let report = report?;
    if !quiet {
        eprintln!(
            "{}: kept {} faces of {} seen in {} frames (dropped: {} blurred, {} extreme pose, {} occluded, {} near-duplicates, {} other people)",
            args.output.display(),
            report.kept,
            report.faces_seen,
            report.frames,
            report.blurred,
            report.extreme_pose,
            report.occluded,
            report.near_duplicates,
            report.other_people
        );
    }
    if report.already_in_set > 0 && !quiet {
        eprintln!(
            "{} frames were already in the set (from an earlier run) and were skipped",
            report.already_in_set
        );
    }
    if report.kept == 0 && report.already_in_set == 0 {
        return Err(Failure::usage(
            "no usable face was found; check the footage or loosen --min-sharpness/--max-yaw",
        ));
    }
    Ok(())
}

pub fn stats_cmd(args: &StatsArgs) -> Result {
    print!("{}", reel_faceset::stats::report(&args.faceset)?);
    Ok(())
}

pub fn cast_cmd(args: &CastArgs, quiet: bool) -> Result {
    if !(1..=1000).contains(&args.samples) {
        return Err(Failure::usage(format!(
            "--samples must be between 1 and 1000, not {}",
            args.samples
        )));
    }
    if let Some(sheet) = &args.sheet {
        // The sheet is a PNG, labelled as one (a stream or a device takes it whatever its name).
        let file = matches!(
            reel_core::output::destination(sheet)?,
            reel_core::output::Destination::File(_)
        );
        if file
            && !sheet
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("png"))
        {
            return Err(Failure::usage(format!(
                "{}: the contact sheet is a PNG; give it a .png name",
                sheet.display()
            )));
        }
        let mut inputs: Vec<&std::path::Path> = vec![&args.target];
        inputs.extend(args.candidates.iter().map(PathBuf::as_path));
        reel_core::output::check_distinct(&inputs, &[sheet])?;
    }
    let target = profile(&args.target, args.samples)?;
    let candidates = args
        .candidates
        .iter()
        .map(|c| profile(c, args.samples))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let ranked = rank(&target, &candidates);
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&ranked).expect("the ranking serialises")
        );
    } else {
        println!(
            "doubles for {} (lower score is closer; identity below 0.6 reads as the same person)",
            target.name
        );
        println!(
            "{:>4}  {:>6}  {:>8}  {:>6}  {:>6}  candidate",
            "rank", "score", "identity", "shape", "skin"
        );
        for (i, r) in ranked.iter().enumerate() {
            println!(
                "{:>4}  {:>6.2}  {:>8.3}  {:>6.3}  {:>6.1}  {}",
                i + 1,
                r.score,
                r.identity,
                r.shape,
                r.skin,
                r.name
            );
        }
    }
    if let Some(sheet) = &args.sheet {
        // The sheet shows the people's faces: marked and labelled as every still reel writes,
        // its target and candidates its ingredients.
        let mut inputs: Vec<&std::path::Path> = vec![&args.target];
        inputs.extend(args.candidates.iter().map(PathBuf::as_path));
        let provenance = crate::provenance::Provenance::new(
            &args.sign.signing(),
            "c2pa.created",
            reel_credentials::SourceType::Composite,
            serde_json::json!({ "ranking": ranked.iter().map(|r| &r.name).collect::<Vec<_>>() }),
            &inputs,
            None,
        )?;
        let mut image = contact_sheet(&target, &ranked, &candidates);
        provenance.marker().mark(&mut image, 0.0);
        let png = reel_image::png::encode(image.width, image.height, 3, &image.data);
        let seal = provenance.seal().expect("a provenance always seals");
        reel_core::output::write_sealed(sheet, &png, seal.as_ref(), "png")?;
        provenance.report(quiet);
        if !quiet {
            eprintln!("contact sheet: {}", sheet.display());
        }
    }
    Ok(())
}
