//! `reel style`: the piano-style recogniser. `reel style FILE` prints the style heard over time
//! with its confidences; `reel style train` builds the training corpus from the registries'
//! packages and trains the recogniser; `reel style evaluate` measures it on pieces held out.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use reel_corpus::corpus::{self, Packages, Rendition, class_name};
use reel_corpus::learn;
use reel_music::style::{CLASSES, NO_MUSIC};
use reel_music::{NoteSettings, Recogniser, played_notes};

use crate::failure::{Failure, Result};

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct StyleArgs {
    #[command(subcommand)]
    pub command: Option<StyleCommand>,
    /// Audio or video (its first audio stream), or a MIDI file.
    pub input: Option<PathBuf>,
    /// Write the readings as JSON here ('-' for standard output) instead of lines.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// A recogniser other than the one `reel style train` made.
    #[arg(long)]
    pub recogniser: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum StyleCommand {
    /// Build the training corpus (MIDI, scores, MMA jazz, noise; rendered and transcribed) and
    /// train the recogniser.
    Train(TrainArgs),
    /// Held-out evaluation: each fold of pieces judged by a recogniser trained without it.
    Evaluate(EvaluateArgs),
}

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Where to write the recogniser (default: reel's models directory).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Workers rendering and transcribing the corpus.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Train again even when a recogniser is already there.
    #[arg(long)]
    pub force: bool,
}

#[derive(Args, Debug)]
pub struct EvaluateArgs {
    /// Workers rendering and transcribing the corpus.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Write every piece's verdict as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

pub fn run(args: &StyleArgs, quiet: bool) -> Result {
    match &args.command {
        Some(StyleCommand::Train(t)) => train(t, quiet),
        Some(StyleCommand::Evaluate(e)) => evaluate(e, quiet),
        None => {
            let Some(input) = &args.input else {
                return Err(Failure::usage(
                    "give an audio, video or MIDI file (or `reel style train`)",
                ));
            };
            listen(args, input, quiet)
        }
    }
}

fn listen(args: &StyleArgs, input: &std::path::Path, quiet: bool) -> Result {
    if let Some(out) = &args.json {
        reel_core::output::check_distinct(&[input], &[out])?;
    }
    let (recogniser, _) = Recogniser::load_or_default(args.recogniser.as_deref())?;
    let (notes, seconds) = played_notes(input, &NoteSettings::default())?;
    let readings = recogniser.over_time(&notes, seconds);
    if let Some(out) = &args.json {
        let mut json = serde_json::to_vec_pretty(&serde_json::json!({
            "input": input,
            "seconds": seconds,
            "window": recogniser.window,
            "readings": readings,
        }))
        .expect("readings serialise");
        json.push(b'\n');
        reel_core::output::write_atomic(out, &json)?;
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "  time  heard        baroque classical ragtime  jazz  no-music"
    );
    for r in &readings {
        let (best, p) = r.best();
        let heard = if r.no_music >= p {
            "no music"
        } else {
            best.name()
        };
        let line = writeln!(
            out,
            "{:6.1}  {:<11} {:7.2} {:9.2} {:7.2} {:5.2} {:9.2}",
            r.time, heard, r.styles[0], r.styles[1], r.styles[2], r.styles[3], r.no_music
        );
        if line.is_err() {
            break;
        }
    }
    if !quiet {
        // The whole piece's verdict: the style held longest.
        let mut held = [0usize; CLASSES];
        for r in &readings {
            let (best, p) = r.best();
            held[if r.no_music >= p {
                NO_MUSIC
            } else {
                best as usize
            }] += 1;
        }
        let top = (0..CLASSES).fold(0, |b, i| if held[i] > held[b] { i } else { b });
        eprintln!(
            "{}: {:.1} s, {} notes; mostly {} ({} of {} readings, every {} s over the last {} s)",
            input.display(),
            seconds,
            notes.len(),
            class_name(top),
            held[top],
            readings.len(),
            reel_music::style::HOP,
            recogniser.window
        );
    }
    Ok(())
}

/// The corpus's pieces and their examples, built (or read from the cache).
fn corpus_examples(
    threads: usize,
    quiet: bool,
) -> Result<(Vec<corpus::Piece>, Vec<corpus::PieceExamples>)> {
    let packages = Packages::fetch()?;
    let pieces = corpus::pieces(&packages)?;
    let examples = rendered(&pieces, &packages, Rendition::Training, threads, quiet)?;
    Ok((pieces, examples))
}

/// Every piece's examples from one rendition.
fn rendered(
    pieces: &[corpus::Piece],
    packages: &Packages,
    rendition: Rendition,
    threads: usize,
    quiet: bool,
) -> Result<Vec<corpus::PieceExamples>> {
    let cache = reel_assets::catalogue::derived_dir("style-corpus");
    let total = pieces.len();
    let what = match rendition {
        Rendition::Training => "corpus",
        Rendition::OtherPiano => "2nd piano",
    };
    let bar = crate::progress::frames(Some(total as u64), what, quiet);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg:>10} [{bar:30}] {pos}/{len} pieces  {wide_msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let examples = corpus::examples(pieces, packages, rendition, &cache, threads, &|done, _| {
        bar.set_position(done as u64)
    })?;
    bar.finish_and_clear();
    Ok(examples)
}

fn train(args: &TrainArgs, quiet: bool) -> Result {
    let path = args.output.clone().unwrap_or_else(Recogniser::default_path);
    if !args.force && Recogniser::load(&path).is_ok() {
        if !quiet {
            eprintln!("{}: already trained (--force trains again)", path.display());
        }
        return Ok(());
    }
    let (pieces, examples) = corpus_examples(args.threads, quiet)?;
    let recogniser = learn::train(&pieces, &examples);
    recogniser.save(&path)?;
    if !quiet {
        let p = &recogniser.provenance;
        let counts: Vec<String> = (0..CLASSES)
            .map(|c| {
                format!(
                    "{} {} pieces / {} windows",
                    class_name(c),
                    p.pieces[c],
                    p.windows[c]
                )
            })
            .collect();
        eprintln!("trained {}: {}", path.display(), counts.join(", "));
    }
    Ok(())
}

fn matrix(title: &str, m: &[[usize; CLASSES]; CLASSES]) {
    println!("{title} (rows: true class, columns: heard as)");
    print!("{:>12}", "");
    for c in 0..CLASSES {
        print!("{:>10}", class_name(c));
    }
    println!();
    for (t, row) in m.iter().enumerate() {
        print!("{:>12}", class_name(t));
        for v in row {
            print!("{v:>10}");
        }
        println!();
    }
}

fn evaluate(args: &EvaluateArgs, quiet: bool) -> Result {
    let packages = Packages::fetch()?;
    let pieces = corpus::pieces(&packages)?;
    let examples = rendered(&pieces, &packages, Rendition::Training, args.threads, quiet)?;
    let other = rendered(
        &pieces,
        &packages,
        Rendition::OtherPiano,
        args.threads,
        quiet,
    )?;
    let e = learn::evaluate(&pieces, &examples, Some(&other));
    println!(
        "held-out evaluation, {} folds by composer / piece set / groove family; {} pieces",
        learn::FOLDS,
        e.pieces.len()
    );
    println!(
        "style accuracy by piece: from audio {:.1}%, from written notes {:.1}%, from audio on another (recorded) piano {:.1}%",
        100.0 * e.style_accuracy(&e.heard),
        100.0 * e.style_accuracy(&e.read),
        100.0 * e.style_accuracy(&e.other_piano)
    );
    matrix("by piece, from audio", &e.heard);
    matrix(
        "by piece, from audio on the recorded Salamander piano (never trained on)",
        &e.other_piano,
    );
    matrix("by piece, from written notes", &e.read);
    matrix(
        &format!("by {} s window, from audio", reel_music::style::WINDOW),
        &e.heard_windows,
    );
    let wrong: Vec<&learn::Judged> = e.pieces.iter().filter(|j| j.heard_as != j.class).collect();
    if !wrong.is_empty() {
        println!("heard wrong from audio:");
        for j in wrong {
            println!(
                "  {} ({}): heard as {}, {:.0}% of windows right",
                j.name,
                class_name(j.class),
                class_name(j.heard_as),
                100.0 * j.windows_right
            );
        }
    }
    if let Some(path) = &args.json {
        let json = serde_json::to_vec_pretty(&e).expect("the evaluation serialises");
        reel_core::output::write_atomic(path, &json)?;
    }
    Ok(())
}
