//! The film a performance makes of a story: which scenes play, for how many frames, which layers
//! show on each frame, and what each decision chose and why. The music and the film share one
//! clock from the first frame. A decision listens to the last `listen` seconds before the film
//! reaches it (the music heard while the scene before it played) and branches at once, so the film
//! never waits. Worked out from the recogniser's readings alone, so the same performance always
//! gives the same film.

use serde::Serialize;

use crate::Style;
use crate::listen::{Reading, StyleTracker, Window};
use crate::story::{Layer, Node, Picture, Story};

/// A scene as it plays in the film.
#[derive(Clone, Debug, Serialize)]
pub struct Shot {
    pub node: String,
    #[serde(skip)]
    pub picture: Picture,
    #[serde(skip)]
    pub layers: Vec<Layer>,
    /// The film frame it starts on, and how many frames it lasts.
    pub first_frame: u64,
    pub frames: u64,
}

/// One decision, as the log records it.
#[derive(Clone, Debug, Serialize)]
pub struct DecisionLog {
    pub decision: String,
    /// Film seconds at which it was taken.
    pub at: f64,
    /// The stretch of music listened to, in seconds.
    pub listened_from: f64,
    pub listened_to: f64,
    /// Seconds each style held in that stretch (after the tracker's rules), then no music.
    pub held: [f64; 5],
    /// The recogniser's mean probabilities over it: each style, then no music.
    pub confidence: [f64; 5],
    /// The style chosen; None when no music or nothing clear held longest.
    pub style: Option<Style>,
    pub next: String,
    /// Why: a branch for the style, or the default.
    pub reason: String,
}

/// When the style the layers follow changed.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct StyleChange {
    pub frame: u64,
    pub seconds: f64,
    pub style: Option<Style>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Timeline {
    pub fps: u32,
    pub frames: u64,
    pub shots: Vec<Shot>,
    pub decisions: Vec<DecisionLog>,
    pub changes: Vec<StyleChange>,
    /// The style playing on each frame (for the layers).
    #[serde(skip)]
    pub styles: Vec<Option<Style>>,
}

#[derive(Debug, thiserror::Error)]
pub enum TimelineError {
    #[error("scene \"{node}\": {detail}")]
    Length { node: String, detail: String },
    #[error(
        "the story went round {0} nodes without reaching an ending (the music kept choosing a loop)"
    )]
    Endless(usize),
}

/// Nodes visited at most before the film is called endless.
const MAX_STEPS: usize = 1000;

/// Works out the film. `seconds_of` gives a picture's own length in seconds (None for a still);
/// a scene's `seconds` overrides it.
pub fn plan(
    story: &Story,
    readings: &[Reading],
    seconds_of: &mut dyn FnMut(&Picture) -> Result<Option<f64>, String>,
) -> Result<Timeline, TimelineError> {
    let fps = story.fps as f64;
    let mut shots = Vec::new();
    let mut decisions = Vec::new();
    let mut frame = 0u64;
    let mut node = story.start.clone();
    for _ in 0..MAX_STEPS {
        match &story.nodes[&node] {
            Node::Scene(scene) => {
                let seconds = match scene.seconds {
                    Some(s) => s,
                    None => seconds_of(&scene.picture)
                        .map_err(|detail| TimelineError::Length {
                            node: node.clone(),
                            detail,
                        })?
                        .ok_or_else(|| TimelineError::Length {
                            node: node.clone(),
                            detail: "a still needs `seconds`".into(),
                        })?,
                };
                let frames = (seconds * fps).round().max(1.0) as u64;
                shots.push(Shot {
                    node: node.clone(),
                    picture: scene.picture.clone(),
                    layers: scene.layers.clone(),
                    first_frame: frame,
                    frames,
                });
                frame += frames;
                match &scene.next {
                    Some(next) => node = next.clone(),
                    None => {
                        let (styles, changes) = layer_styles(story, readings, frame);
                        return Ok(Timeline {
                            fps: story.fps,
                            frames: frame,
                            shots,
                            decisions,
                            changes,
                            styles,
                        });
                    }
                }
            }
            Node::Decision(d) => {
                let at = frame as f64 / fps;
                let from = (at - d.listen).max(0.0);
                let mut tracker = StyleTracker::new(d.listening);
                let mut window = Window::new(from, at - from);
                for r in readings.iter().take_while(|r| r.time <= at) {
                    let playing = tracker.update(r);
                    if r.time >= from {
                        window.add(r, playing);
                    }
                }
                // The window ends at the decision, whatever the last reading's time.
                window.close(at);
                let choice = window.choice();
                let (next, reason) = match choice
                    .style
                    .and_then(|s| d.branches.get(&s).map(|n| (s, n)))
                {
                    Some((s, n)) => (n.clone(), format!("{} was heard longest", s.name())),
                    None => (
                        d.default.clone(),
                        match choice.style {
                            Some(s) => format!(
                                "{} was heard longest, but has no branch: the default",
                                s.name()
                            ),
                            None => "no style held (silence, noise or nothing clear): the default"
                                .into(),
                        },
                    ),
                };
                decisions.push(DecisionLog {
                    decision: node.clone(),
                    at,
                    listened_from: from,
                    listened_to: at,
                    held: window.held,
                    confidence: window.mean,
                    style: choice.style,
                    next: next.clone(),
                    reason,
                });
                node = next;
            }
        }
    }
    Err(TimelineError::Endless(MAX_STEPS))
}

/// The style playing on each of `frames` frames, under the story's listening rules.
fn layer_styles(
    story: &Story,
    readings: &[Reading],
    frames: u64,
) -> (Vec<Option<Style>>, Vec<StyleChange>) {
    let fps = story.fps as f64;
    let mut tracker = StyleTracker::new(story.listening);
    let mut next = 0;
    let mut playing = None;
    let mut styles = Vec::with_capacity(frames as usize);
    let mut changes = Vec::new();
    for f in 0..frames {
        let t = f as f64 / fps;
        while next < readings.len() && readings[next].time <= t {
            playing = tracker.update(&readings[next]);
            next += 1;
        }
        let before = styles.last().copied().flatten();
        if before != playing {
            changes.push(StyleChange {
                frame: f,
                seconds: t,
                style: playing,
            });
        }
        styles.push(playing);
    }
    (styles, changes)
}
