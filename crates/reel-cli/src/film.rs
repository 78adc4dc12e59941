//! `reel film`: the AI-directed film. `check` reads a story file and reports every problem in
//! it, with its line and column, or the story's shape when it is sound.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use reel_film::Story;
use reel_film::story::{Node, Picture};

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The story file (TOML).
    pub story: PathBuf,
}

fn picture(p: &Picture) -> String {
    match p {
        Picture::Video(p) => format!("video {}", p.display()),
        Picture::Sequence(p) => format!("frames {}", p.display()),
        Picture::Still(p) => format!("still {}", p.display()),
    }
}

pub fn check(args: &CheckArgs, quiet: bool) -> Result<()> {
    let story = Story::load(&args.story)?;
    if quiet {
        return Ok(());
    }
    println!(
        "{}: {} ({} nodes), starts at \"{}\"",
        args.story.display(),
        story.title.as_deref().unwrap_or("untitled"),
        story.order.len(),
        story.start
    );
    for id in &story.order {
        match &story.nodes[id] {
            Node::Scene(s) => {
                let kind = if s.next.is_some() { "scene " } else { "ending" };
                let seconds = s.seconds.map(|v| format!(", {v} s")).unwrap_or_default();
                let next = s
                    .next
                    .as_ref()
                    .map(|n| format!(" -> {n}"))
                    .unwrap_or_default();
                println!("  {kind}   {id}: {}{seconds}{next}", picture(&s.picture));
                for l in &s.layers {
                    println!(
                        "             while {} is heard: {} at {:.0}%",
                        l.style.name(),
                        picture(&l.picture),
                        l.opacity * 100.0
                    );
                }
            }
            Node::Decision(d) => {
                let branches: Vec<String> = d
                    .branches
                    .iter()
                    .map(|(s, n)| format!("{} -> {n}", s.name()))
                    .collect();
                println!(
                    "  decision {id}: listens {} s; {}; otherwise -> {} (confidence {}, hysteresis {}, dwell {} s)",
                    d.listen,
                    branches.join(", "),
                    d.default,
                    d.listening.confidence,
                    d.listening.hysteresis,
                    d.listening.min_dwell
                );
            }
        }
    }
    Ok(())
}
