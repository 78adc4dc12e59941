//! The film a performance makes of a story: which scenes play, for how many frames, which layers
//! show on each frame, and what each decision chose and why. The music and the film share one
//! clock from the first frame. A decision listens to the last `listen` seconds before the film
//! reaches it (the music heard while the scene before it played) and branches at once, so the film
//! never waits. Worked out from the recogniser's readings alone, so the same performance always
//! gives the same film. The [`Player`] takes the film a frame at a time, needing only the readings
//! up to that frame: offline rendering and live playback are the same walk.

use serde::Serialize;

use crate::Style;
use crate::listen::{Reading, StyleTracker, Window};
use crate::story::{Decision, Layer, Node, Picture, Story};

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
    #[error(
        "the film ran past {0:.0} s without reaching an ending (after the music, its defaults keep looping)"
    )]
    TooLong(f64),
}

/// Nodes visited at most in a row without a scene before the film is called endless.
const MAX_STEPS: usize = 1000;

/// A picture's own length in seconds (None for a still), or why it is unknown.
pub type SecondsOf<'a> = dyn FnMut(&Picture) -> Result<Option<f64>, String> + 'a;

/// What to draw for one frame.
#[derive(Clone, Copy, Debug)]
pub struct FrameState {
    pub frame: u64,
    /// Index of the shot in [`Player::shots`], and the frame within it.
    pub shot: usize,
    pub frame_in_shot: u64,
    /// The style playing (for the layers).
    pub style: Option<Style>,
}

/// Walks a story a frame at a time as readings come in.
pub struct Player<'a> {
    story: &'a Story,
    pub shots: Vec<Shot>,
    pub decisions: Vec<DecisionLog>,
    pub changes: Vec<StyleChange>,
    frame: u64,
    /// The node to enter when the current shot ends (None: the film is over).
    next_node: Option<String>,
    tracker: StyleTracker,
    read: usize,
    playing: Option<Style>,
}

impl<'a> Player<'a> {
    pub fn new(story: &'a Story) -> Player<'a> {
        Player {
            story,
            shots: Vec::new(),
            decisions: Vec::new(),
            changes: Vec::new(),
            frame: 0,
            next_node: Some(story.start.clone()),
            tracker: StyleTracker::new(story.listening),
            read: 0,
            playing: None,
        }
    }

    pub fn fps(&self) -> u32 {
        self.story.fps
    }

    /// Whether the next frame starts a new node (a decision may be taken first).
    pub fn at_shot_end(&self) -> bool {
        self.shots
            .last()
            .is_none_or(|s| self.frame >= s.first_frame + s.frames)
    }

    /// Frames drawn so far.
    pub fn frames(&self) -> u64 {
        self.frame
    }

    /// The next frame, given every reading up to its time (in time order; more may follow in
    /// later calls); None once the ending has played.
    pub fn next_frame(
        &mut self,
        readings: &[Reading],
        seconds_of: &mut SecondsOf,
    ) -> Result<Option<FrameState>, TimelineError> {
        let fps = self.story.fps as f64;
        let t = self.frame as f64 / fps;
        let in_shot = self
            .shots
            .last()
            .is_some_and(|s| self.frame < s.first_frame + s.frames);
        if !in_shot {
            let Some(node) = self.next_node.take() else {
                return Ok(None);
            };
            self.enter(node, readings, seconds_of)?;
        }
        while self.read < readings.len() && readings[self.read].time <= t {
            self.playing = self.tracker.update(&readings[self.read]);
            self.read += 1;
        }
        let before = self.changes.last().and_then(|c| c.style);
        if before != self.playing {
            self.changes.push(StyleChange {
                frame: self.frame,
                seconds: t,
                style: self.playing,
            });
        }
        let shot = self.shots.len() - 1;
        let state = FrameState {
            frame: self.frame,
            shot,
            frame_in_shot: self.frame - self.shots[shot].first_frame,
            style: self.playing,
        };
        self.frame += 1;
        Ok(Some(state))
    }

    /// Takes decisions from `node` on until a scene, and starts it.
    fn enter(
        &mut self,
        mut node: String,
        readings: &[Reading],
        seconds_of: &mut SecondsOf,
    ) -> Result<(), TimelineError> {
        let fps = self.story.fps as f64;
        for _ in 0..MAX_STEPS {
            match &self.story.nodes[&node] {
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
                    self.shots.push(Shot {
                        node: node.clone(),
                        picture: scene.picture.clone(),
                        layers: scene.layers.clone(),
                        first_frame: self.frame,
                        frames: (seconds * fps).round().max(1.0) as u64,
                    });
                    self.next_node = scene.next.clone();
                    return Ok(());
                }
                Node::Decision(d) => {
                    let at = self.frame as f64 / fps;
                    let log = decide(&node, d, at, readings);
                    node = log.next.clone();
                    self.decisions.push(log);
                }
            }
        }
        Err(TimelineError::Endless(MAX_STEPS))
    }
}

/// A decision taken at film time `at` from the readings of the `listen` seconds before it.
fn decide(id: &str, d: &Decision, at: f64, readings: &[Reading]) -> DecisionLog {
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
                None => "no style held (silence, noise or nothing clear): the default".into(),
            },
        ),
    };
    DecisionLog {
        decision: id.to_string(),
        at,
        listened_from: from,
        listened_to: at,
        held: window.held,
        confidence: window.mean,
        style: choice.style,
        next,
        reason,
    }
}

/// Works out the whole film from a whole performance's readings; a film longer than
/// `max_seconds` is refused (a story can loop for as long as the music asks it to).
pub fn plan(
    story: &Story,
    readings: &[Reading],
    max_seconds: f64,
    seconds_of: &mut SecondsOf,
) -> Result<Timeline, TimelineError> {
    let mut player = Player::new(story);
    let mut styles = Vec::new();
    let limit = (max_seconds * story.fps as f64) as u64;
    while let Some(f) = player.next_frame(readings, seconds_of)? {
        if f.frame > limit {
            return Err(TimelineError::TooLong(max_seconds));
        }
        styles.push(f.style);
    }
    Ok(Timeline {
        fps: story.fps,
        frames: player.frames(),
        shots: player.shots,
        decisions: player.decisions,
        changes: player.changes,
        styles,
    })
}

/// One decision as a line: when, which, why, and where it led.
pub fn decision_line(d: &DecisionLog) -> String {
    format!("{:7.2} s  {}: {} -> {}", d.at, d.decision, d.reason, d.next)
}
