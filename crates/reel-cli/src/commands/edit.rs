//! `reel beauty`, `reel deage` and `reel process`: frame processors over a video.

use std::path::PathBuf;

use clap::Args;
use reel_credentials::SourceType;
use reel_process::{Chain, FaceSelection, Options, Watermark, pipeline};
use serde_json::json;

use crate::failure::{Failure, Result};
use crate::provenance::Provenance;
use crate::provenance::Report as _;
use crate::{OutputArgs, progress};

/// What every editing command takes.
#[derive(Args, Debug)]
pub struct EditArgs {
    /// The video (or image sequence, or still) to edit.
    pub input: PathBuf,
    /// Where to write the result.
    #[arg(short, long, required_unless_present = "compare")]
    pub output: Option<PathBuf>,
    /// Edit only the face with this track id (as `reel faces analyze` numbers them); repeatable.
    #[arg(long = "face")]
    pub faces: Vec<u32>,
    /// Edit only the face most like the one in this photo.
    #[arg(long, conflicts_with = "faces")]
    pub reference: Option<PathBuf>,
    /// With --compare: the frame to render (counting from 0).
    #[arg(long, default_value_t = 0)]
    pub frame: u64,
    /// Render frame --frame before and after, side by side, into this image instead of a video.
    #[arg(long)]
    pub compare: Option<PathBuf>,
    /// Follow at most this many faces at once.
    #[arg(long, default_value_t = 8)]
    pub max_faces: usize,
    /// Threads per model.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Edit faces even where a hand is in front of them (by default hands found near a face are
    /// left as they are).
    #[arg(long)]
    pub no_occlusion: bool,
    #[command(flatten)]
    pub output_args: OutputArgs,
}

#[derive(Args, Debug)]
pub struct BeautyArgs {
    #[command(flatten)]
    pub edit: EditArgs,
    #[command(flatten)]
    pub beauty: BeautyOptions,
}

#[derive(Args, Debug, Clone)]
pub struct BeautyOptions {
    /// Overall strength, 0..1 (scales the settings below).
    #[arg(long, default_value_t = BeautyOptions::DEFAULT_STRENGTH)]
    pub strength: f32,
    /// Removal of wrinkles, fine lines and unevenness, 0..1.
    #[arg(long, default_value_t = 0.8)]
    pub smooth: f32,
    /// Evening of colour and shading, 0..1.
    #[arg(long, default_value_t = 0.5)]
    pub even_tone: f32,
    /// Extra removal of dark spots, 0..1.
    #[arg(long, default_value_t = 0.8)]
    pub blemishes: f32,
    /// Lifting of shadows under the eyes, 0..1.
    #[arg(long, default_value_t = 0.5)]
    pub under_eye: f32,
}

impl BeautyOptions {
    const DEFAULT_STRENGTH: f32 = 0.7;

    /// The beauty processor's settings, at `strength` (given as `strength_flag`).
    fn options(&self, strength: f32, strength_flag: &str) -> Result<Options> {
        Ok(options(json!({
            "strength": finite(strength_flag, strength)?,
            "smooth": finite("--smooth", self.smooth)?,
            "even_tone": finite("--even-tone", self.even_tone)?,
            "blemishes": finite("--blemishes", self.blemishes)?,
            "under_eye": finite("--under-eye", self.under_eye)?,
        })))
    }
}

/// A number as given: JSON has no NaN or infinity, so they are refused here, by their flag.
fn finite(flag: &str, value: f32) -> Result<f32> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(Failure::usage(format!(
            "{flag} must be a number, not {value}"
        )))
    }
}

fn options(value: serde_json::Value) -> Options {
    match value {
        serde_json::Value::Object(map) => map,
        _ => Options::new(),
    }
}

/// A chain of processors built by name through the registry, as the studio builds them.
fn chain(steps: &[(&str, Options)]) -> Result<Chain> {
    let registry = reel_swap::register::registry();
    let mut chain = Chain::new();
    for (name, options) in steps {
        chain = chain.then_boxed(registry.build(name, options)?);
    }
    Ok(chain)
}

#[derive(Args, Debug)]
pub struct DeageArgs {
    #[command(flatten)]
    pub edit: EditArgs,
    /// Years to take off (about 5 to 30).
    #[arg(long)]
    pub years: f32,
}

#[derive(Args, Debug)]
pub struct SwapArgs {
    #[command(flatten)]
    pub edit: EditArgs,
    /// Photos of the person whose face goes on (instant mode, no training); several photos at
    /// different head poses let each frame use the closest.
    #[arg(
        long = "photo",
        required_unless_present = "model",
        conflicts_with = "model"
    )]
    pub photos: Vec<PathBuf>,
    /// A model trained by `reel train` (its source person's face goes on).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// How the new face's colour is matched to the performer's: reinhard (Lab mean and spread,
    /// also called rct), linear (RGB covariance), histogram (Lab distributions) or none.
    #[arg(long, default_value = "reinhard", value_parser = ["reinhard", "rct", "linear", "histogram", "none"])]
    pub color: String,
    /// How the new face is joined to the frame: multiband (each band of detail over its own
    /// width), poisson (the face's gradients, the frame's level at the edge) or alpha (one soft
    /// mask).
    #[arg(long, default_value = "multiband", value_parser = ["multiband", "poisson", "alpha"])]
    pub blend: String,
    /// With --model: how much of the drawn face's shimmer from frame to frame is held back, 0
    /// (off) to 1; changes as large as a blink always pass [default: 0.5].
    #[arg(long)]
    pub steady: Option<f32>,
    /// With --model: how much of the plate's grain the drawn face is given, 0 (none) to 1 (as
    /// much as the plate has where the face goes) [default: 1].
    #[arg(long)]
    pub grain: Option<f32>,
    /// Put the face on without a recorded consent, for this reason (a face that needs none,
    /// such as your own or a fictional one); the reason is printed and recorded.
    #[arg(long, value_name = "REASON")]
    pub no_consent_check: Option<String>,
}

#[derive(Args, Debug)]
pub struct ProcessArgs {
    #[command(flatten)]
    pub edit: EditArgs,
    /// Beauty fix at this strength, 0..1.
    #[arg(long)]
    pub beauty: Option<f32>,
    /// Retouch de-aging by this many years.
    #[arg(long)]
    pub deage: Option<f32>,
    #[command(flatten)]
    pub beauty_options: BeautyOptions,
}

pub fn beauty(args: &BeautyArgs, quiet: bool) -> Result {
    let step = (
        "beauty",
        args.beauty.options(args.beauty.strength, "--strength")?,
    );
    let record = processors(&[&step]);
    run(&args.edit, chain(&[step])?, record, quiet)
}

pub fn deage(args: &DeageArgs, quiet: bool) -> Result {
    let step = (
        "deage",
        options(json!({ "years": finite("--years", args.years)? })),
    );
    let record = processors(&[&step]);
    run(&args.edit, chain(&[step])?, record, quiet)
}

pub fn swap(args: &SwapArgs, quiet: bool) -> Result {
    if (args.steady.is_some() || args.grain.is_some()) && args.model.is_none() {
        return Err(Failure::usage(
            "--steady and --grain act on a trained model's drawing: give them with --model",
        ));
    }
    let step = match &args.model {
        Some(dir) => (
            "model-swap",
            options(json!({
                "model": dir,
                "color": args.color,
                "blend": args.blend,
                "steady": args.steady,
                "grain": args.grain,
            })),
        ),
        None => (
            "photo-swap",
            options(json!({ "photo": args.photos, "color": args.color, "blend": args.blend })),
        ),
    };
    // The photos and the model's own files are inputs too: an output over them would destroy
    // them.
    let mut also_read: Vec<PathBuf> = args.photos.clone();
    if let Some(dir) = &args.model {
        also_read.extend(reel_swap::train::FILES.map(|f| dir.join(f)));
        also_read.push(dir.clone());
    }
    // Outputs are checked against every input first; then the model or photos are read (and
    // refused if unusable); then consent is looked up.
    let mut inputs = vec![args.edit.input.as_path()];
    inputs.extend(args.edit.reference.as_deref());
    inputs.extend(also_read.iter().map(PathBuf::as_path));
    for out in [&args.edit.output, &args.edit.compare]
        .into_iter()
        .flatten()
    {
        reel_core::output::check_distinct(&inputs, &[out])?;
    }
    let record = processors(&[&step]);
    let chain = chain(&[step])?;
    let consent = check_consent(args, quiet)?;
    run_reading(&args.edit, chain, record, quiet, &also_read, Some(consent))
}

/// A face goes on only with its owner's live consent, or an override with its reason; what it
/// rests on goes into the output's credentials.
fn check_consent(args: &SwapArgs, quiet: bool) -> Result<serde_json::Value> {
    if let Some(reason) = &args.no_consent_check {
        let record = reel_jobs::consent::overridden(reason)?;
        if !quiet {
            eprintln!("consent not checked: {reason}");
        }
        return Ok(record);
    }
    match &args.model {
        None => {
            let consents = crate::commands::consent::check_photos(&args.photos, quiet)?;
            Ok(reel_jobs::consent::record(&consents))
        }
        Some(dir) => {
            let c = reel_jobs::consent::of_model(dir, &dir.display().to_string())?;
            if !quiet {
                eprintln!(
                    "consent: {} ({}, granted by {})",
                    c.name, c.id, c.granted_by
                );
            }
            Ok(reel_jobs::consent::record(&[c]))
        }
    }
}

/// The processors and their settings, as the credentials record them.
fn processors(steps: &[&(&str, Options)]) -> serde_json::Value {
    json!({
        "processors": steps
            .iter()
            .map(|(name, options)| json!({ "name": name, "settings": options }))
            .collect::<Vec<_>>(),
    })
}

pub fn process(args: &ProcessArgs, quiet: bool) -> Result {
    if args.beauty_options.strength != BeautyOptions::DEFAULT_STRENGTH {
        return Err(Failure::usage(
            "reel process takes the beauty fix's strength as --beauty STRENGTH, not --strength",
        ));
    }
    let mut steps = Vec::new();
    if let Some(years) = args.deage {
        steps.push((
            "deage",
            options(json!({ "years": finite("--deage", years)? })),
        ));
    }
    if let Some(strength) = args.beauty {
        steps.push(("beauty", args.beauty_options.options(strength, "--beauty")?));
    }
    if steps.is_empty() {
        return Err(Failure::usage(
            "nothing to do: give --beauty STRENGTH and/or --deage YEARS",
        ));
    }
    let record = processors(&steps.iter().collect::<Vec<_>>());
    // The registry names the beauty strength --strength; here it was given as --beauty.
    let chain = chain(&steps)
        .map_err(|f| Failure::new(f.kind, f.message.replacen("--strength", "--beauty", 1)))?;
    run(&args.edit, chain, record, quiet)
}

fn run(args: &EditArgs, chain: Chain, record: serde_json::Value, quiet: bool) -> Result {
    run_reading(args, chain, record, quiet, &[], None)
}

/// Runs the chain; `also_read` are the inputs besides the clip and --reference (photos, a
/// model), which no output may replace.
/// The output is marked and signed: `record` (the processors) and `consent` go into its
/// credentials, the inputs as its ingredients.
fn run_reading(
    args: &EditArgs,
    mut chain: Chain,
    record: serde_json::Value,
    quiet: bool,
    also_read: &[PathBuf],
    consent: Option<serde_json::Value>,
) -> Result {
    let mut inputs = vec![args.input.as_path()];
    inputs.extend(args.reference.as_deref());
    inputs.extend(also_read.iter().map(PathBuf::as_path));
    if args.max_faces == 0 || args.max_faces > 100 {
        return Err(Failure::usage(format!(
            "--max-faces must be between 1 and 100, not {}",
            args.max_faces
        )));
    }
    if args.threads == 0 || args.threads > 64 {
        return Err(Failure::usage("--threads must be between 1 and 64"));
    }
    let mut selection = match (&args.reference, args.faces.is_empty()) {
        (Some(photo), _) => pipeline::like_reference(photo, args.threads)?,
        (None, false) => FaceSelection::Ids(args.faces.clone()),
        (None, true) => FaceSelection::All,
    };
    let mut analysis = pipeline::editing_analysis(args.max_faces, args.threads);
    analysis.occlusion = !args.no_occlusion;
    let provenance = Provenance::new(
        &args.output_args.sign.signing(),
        "c2pa.edited",
        SourceType::CompositeWithTrainedAlgorithmicMedia,
        record,
        &inputs,
        consent,
    )?;
    if let Some(sheet) = &args.compare {
        reel_core::output::check_distinct(&inputs, &[sheet])?;
        let n = pipeline::compare(
            &args.input,
            args.frame,
            sheet,
            provenance.seal(),
            Some(provenance.marker()),
            analysis,
            &mut selection,
            &mut chain,
        )?;
        provenance.report(quiet);
        if !quiet {
            eprintln!(
                "{}: frame {} before and after ({} face{} edited)",
                sheet.display(),
                args.frame,
                n,
                if n == 1 { "" } else { "s" }
            );
        }
        return Ok(());
    }
    let output = args
        .output
        .as_ref()
        .expect("clap requires --output without --compare");
    reel_core::output::check_distinct(&inputs, &[output])?;
    let codec = args.output_args.codec_for(output)?;
    let bar = progress::frames(None, &chain.names().join("+"), quiet);
    let mut chain = chain.then(Watermark::new(provenance.marker()));
    let report = pipeline::run(
        &args.input,
        output,
        codec,
        args.output_args.crf,
        provenance.seal(),
        analysis,
        &mut selection,
        &mut chain,
        |done, total| progress::advance(&bar, done, total),
    );
    bar.finish_and_clear();
    let report = report?;
    provenance.report(quiet);
    if !quiet {
        eprintln!(
            "{}: {} frames, faces edited in {}",
            output.display(),
            report.frames,
            report.frames_edited
        );
        if report.frames_edited == 0 {
            eprintln!(
                "no face was edited (no faces found, or none matched --face, or none is the person in --reference)"
            );
        }
    }
    Ok(())
}
