//! Story files: scenes, decision points that listen to the music, per-style animation layers and
//! endings, written in TOML. A story is checked whole before anything renders, and every problem
//! is reported with its line and column.
//!
//! ```toml
//! start = "prelude"
//!
//! [listening]          # how heard styles become decisions (these are the defaults)
//! confidence = 0.6     # a style counts only at this probability or more
//! hysteresis = 0.1     # a new style must lead the current one by this much to take over
//! min_dwell = 1.5      # seconds a change must hold before it counts
//!
//! [[scene]]
//! id = "prelude"
//! picture = "clips/prelude.mp4"   # a video, an image sequence ("frames/%04d.png") or a still
//! seconds = 6.0                   # needed for a still; cuts a video short
//! next = "choice"
//!
//! [[scene.layer]]                 # shown over the picture while this style is heard
//! style = "jazz"
//! picture = "layers/neon_%04d.png"
//! opacity = 0.8
//!
//! [[decision]]
//! id = "choice"
//! listen = 8.0                    # seconds of listening before choosing
//! default = "calm"                # silence, noise, or no style clear enough
//! branch = { baroque = "cathedral", jazz = "club" }
//!
//! [[ending]]
//! id = "club"
//! picture = "clips/club.mp4"
//! ```

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::Style;
use crate::listen::Listening;

/// A place in the story file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// One thing wrong with a story, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub position: Position,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum StoryError {
    #[error("{path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}", report(.path, .problems))]
    Invalid {
        path: PathBuf,
        problems: Vec<Problem>,
    },
}

fn report(path: &Path, problems: &[Problem]) -> String {
    let lines: Vec<String> = problems
        .iter()
        .map(|p| {
            format!(
                "{}:{}:{}: {}",
                path.display(),
                p.position.line,
                p.position.column,
                p.message
            )
        })
        .collect();
    lines.join("\n")
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LayerFile {
    style: Spanned<String>,
    picture: Spanned<String>,
    #[serde(default = "full")]
    opacity: Spanned<f32>,
}

fn full() -> Spanned<f32> {
    Spanned::new(0..0, 1.0)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SceneFile {
    id: Spanned<String>,
    picture: Spanned<String>,
    seconds: Option<Spanned<f64>>,
    next: Option<Spanned<String>>,
    #[serde(default)]
    layer: Vec<LayerFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DecisionFile {
    id: Spanned<String>,
    listen: Spanned<f64>,
    default: Spanned<String>,
    #[serde(default)]
    branch: BTreeMap<Spanned<String>, Spanned<String>>,
    /// Listening rules for this decision alone.
    listening: Option<Spanned<Listening>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoryFile {
    title: Option<String>,
    /// Frames a second of the rendered film.
    fps: Option<Spanned<u32>>,
    start: Spanned<String>,
    listening: Option<Spanned<Listening>>,
    #[serde(default)]
    scene: Vec<SceneFile>,
    #[serde(default)]
    decision: Vec<DecisionFile>,
    #[serde(default)]
    ending: Vec<SceneFile>,
}

/// What a scene shows.
#[derive(Clone, Debug, PartialEq)]
pub enum Picture {
    Video(PathBuf),
    /// A printf-style pattern of numbered images ("frames/%04d.png").
    Sequence(PathBuf),
    Still(PathBuf),
}

/// An animation layer, shown over the picture while its style is heard.
#[derive(Clone, Debug, PartialEq)]
pub struct Layer {
    pub style: Style,
    pub picture: Picture,
    pub opacity: f32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Scene {
    pub picture: Picture,
    pub seconds: Option<f64>,
    pub layers: Vec<Layer>,
    /// The node after this one; None for an ending.
    pub next: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    pub listen: f64,
    pub default: String,
    pub branches: BTreeMap<Style, String>,
    pub listening: Listening,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Scene(Scene),
    Decision(Decision),
}

/// A checked story: every reference resolves, every picture exists, every path ends.
#[derive(Clone, Debug)]
pub struct Story {
    pub title: Option<String>,
    pub start: String,
    /// Frames a second of the rendered film.
    pub fps: u32,
    /// How heard styles become the style playing (for the layers); decisions carry their own.
    pub listening: Listening,
    pub nodes: HashMap<String, Node>,
    /// Node ids in the order the file declares them.
    pub order: Vec<String>,
}

/// The longest a scene may show or a decision listen: a day.
const MAX_SECONDS: f64 = 86_400.0;

/// Byte offsets to lines and columns.
struct Lines(Vec<usize>);

impl Lines {
    fn new(text: &str) -> Lines {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Lines(starts)
    }
    fn at(&self, text: &str, offset: usize) -> Position {
        let line = self.0.partition_point(|&s| s <= offset).max(1);
        let start = self.0[line - 1];
        let column = text
            .get(start..offset.min(text.len()))
            .map_or(1, |t| t.chars().count() + 1);
        Position { line, column }
    }
}

/// Whether the pattern names numbered frames.
fn is_sequence(name: &str) -> bool {
    let Some(i) = name.find('%') else {
        return false;
    };
    let rest = &name[i + 1..];
    let digits = rest.trim_start_matches(|c: char| c.is_ascii_digit());
    digits.starts_with('d')
}

/// The files of a numbered sequence ("frames/%04d.png"), in frame order.
pub fn sequence_files(pattern: &Path) -> Vec<PathBuf> {
    let (Some(dir), Some(name)) = (pattern.parent(), pattern.file_name()) else {
        return Vec::new();
    };
    let name = name.to_string_lossy();
    let Some(i) = name.find('%') else {
        return Vec::new();
    };
    let (prefix, rest) = (&name[..i], &name[i + 1..]);
    let Some(d) = rest.find('d') else {
        return Vec::new();
    };
    let suffix = &rest[d + 1..];
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<(u64, PathBuf)> = entries
        .flatten()
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            let number = n
                .strip_prefix(prefix)?
                .strip_suffix(suffix)
                .filter(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()))?
                .parse()
                .ok()?;
            Some((number, e.path()))
        })
        .collect();
    found.sort();
    found.into_iter().map(|(_, p)| p).collect()
}

/// Frames a second of a film whose story does not say.
pub const DEFAULT_FPS: u32 = 25;

const STILL_EXTENSIONS: [&str; 7] = ["png", "jpg", "jpeg", "webp", "bmp", "tif", "tiff"];

impl Story {
    /// Reads and checks a story file; pictures are found relative to its folder.
    pub fn load(path: &Path) -> Result<Story, StoryError> {
        let text = std::fs::read_to_string(path).map_err(|source| StoryError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Story::parse(&text, base).map_err(|problems| StoryError::Invalid {
            path: path.to_path_buf(),
            problems,
        })
    }

    /// Checks a story's text; every problem found is returned, in file order.
    pub fn parse(text: &str, base: &Path) -> Result<Story, Vec<Problem>> {
        let lines = Lines::new(text);
        let file: StoryFile = toml::from_str(text).map_err(|e| {
            vec![Problem {
                position: lines.at(text, e.span().map_or(0, |s| s.start)),
                message: e.message().trim().to_string(),
            }]
        })?;
        let c = Checker {
            text,
            lines,
            base,
            problems: std::cell::RefCell::new(Vec::new()),
        };
        let declared = c.ids(&file);
        c.links(&file, &declared);
        let mut nodes = HashMap::new();
        let mut order = Vec::new();
        c.scenes(&file, &mut nodes, &mut order);
        c.decisions(&file, &mut nodes, &mut order);
        check_paths(
            &nodes,
            &order,
            &declared,
            file.start.get_ref(),
            &mut |at, m| c.problem(at, m),
        );
        let mut problems = c.problems.into_inner();
        if problems.is_empty() {
            order.sort_by_key(|id| declared[id]);
            Ok(Story {
                title: file.title,
                start: file.start.into_inner(),
                fps: file.fps.map_or(DEFAULT_FPS, |f| f.into_inner()),
                listening: file
                    .listening
                    .as_ref()
                    .map_or_else(Listening::default, |l| *l.get_ref()),
                nodes,
                order,
            })
        } else {
            problems.sort_by_key(|p| (p.position.line, p.position.column));
            Err(problems)
        }
    }
}

/// Reads a story file's parts, collecting every problem with its position.
struct Checker<'a> {
    text: &'a str,
    lines: Lines,
    base: &'a Path,
    problems: std::cell::RefCell<Vec<Problem>>,
}

impl Checker<'_> {
    fn problem(&self, offset: usize, message: String) {
        self.problems.borrow_mut().push(Problem {
            position: self.lines.at(self.text, offset),
            message,
        });
    }

    /// Every node's id, each once, with where it is declared.
    fn ids(&self, file: &StoryFile) -> HashMap<String, usize> {
        let mut declared: HashMap<String, usize> = HashMap::new();
        let ids = file
            .scene
            .iter()
            .map(|s| &s.id)
            .chain(file.decision.iter().map(|d| &d.id))
            .chain(file.ending.iter().map(|e| &e.id));
        for id in ids {
            if let Some(first) = declared.get(id.get_ref()) {
                let first = self.lines.at(self.text, *first);
                self.problem(
                    id.span().start,
                    format!(
                        "\"{}\" is already the id of the node at line {}",
                        id.get_ref(),
                        first.line
                    ),
                );
            } else {
                declared.insert(id.get_ref().clone(), id.span().start);
            }
        }
        declared
    }

    /// Every reference names a node, and every scene that is not an ending goes on.
    fn links(&self, file: &StoryFile, declared: &HashMap<String, usize>) {
        let target = |r: &Spanned<String>, what: &str| {
            if !declared.contains_key(r.get_ref()) {
                self.problem(
                    r.span().start,
                    format!(
                        "{what} leads nowhere: no scene, decision or ending is called \"{}\"",
                        r.get_ref()
                    ),
                );
            }
        };
        target(&file.start, "start");
        for s in &file.scene {
            if let Some(next) = &s.next {
                target(next, "next");
            }
        }
        for d in &file.decision {
            target(&d.default, "default");
            for b in d.branch.values() {
                target(b, "branch");
            }
        }
        for s in &file.scene {
            if s.next.is_none() {
                self.problem(
                    s.id.span().start,
                    format!(
                        "scene \"{}\" has no next: give it one, or make it an [[ending]]",
                        s.id.get_ref()
                    ),
                );
            }
        }
        if let Some(f) = &file.fps
            && !(1..=120).contains(f.get_ref())
        {
            self.problem(f.span().start, "fps must be between 1 and 120".into());
        }
    }

    /// A picture, found relative to the story's folder, and how long it shows.
    fn picture(&self, p: &Spanned<String>, seconds: Option<&Spanned<f64>>) -> Picture {
        let path = self.base.join(p.get_ref());
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let pic = if is_sequence(&name) {
            if sequence_files(&path).is_empty() {
                self.problem(
                    p.span().start,
                    format!("no images match {}", path.display()),
                );
            }
            Picture::Sequence(path)
        } else {
            if !path.is_file() {
                self.problem(
                    p.span().start,
                    format!("missing picture: {} does not exist", path.display()),
                );
            }
            let still = path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| STILL_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
            if still {
                Picture::Still(path)
            } else {
                Picture::Video(path)
            }
        };
        match seconds {
            Some(s) if !(*s.get_ref() > 0.0 && *s.get_ref() <= MAX_SECONDS) => self.problem(
                s.span().start,
                format!("seconds must be above 0 and at most {MAX_SECONDS} (a day)"),
            ),
            None if matches!(pic, Picture::Still(_)) => self.problem(
                p.span().start,
                "a still needs `seconds`: how long to show it".into(),
            ),
            _ => {}
        }
        pic
    }

    fn style(&self, s: &Spanned<String>) -> Option<Style> {
        let parsed = Style::parse(s.get_ref());
        if parsed.is_none() {
            self.problem(
                s.span().start,
                format!(
                    "unknown style \"{}\": the styles are {}",
                    s.get_ref(),
                    Style::NAMES.join(", ")
                ),
            );
        }
        parsed
    }

    /// The scenes and endings, with their layers.
    fn scenes(&self, file: &StoryFile, nodes: &mut HashMap<String, Node>, order: &mut Vec<String>) {
        for (s, is_ending) in file
            .scene
            .iter()
            .map(|s| (s, false))
            .chain(file.ending.iter().map(|e| (e, true)))
        {
            let mut layers = Vec::new();
            for l in &s.layer {
                let st = self.style(&l.style);
                let pic = self.picture(&l.picture, Some(&Spanned::new(0..0, 1.0)));
                let o = *l.opacity.get_ref();
                if !(0.0..=1.0).contains(&o) {
                    self.problem(l.opacity.span().start, "opacity must be from 0 to 1".into());
                }
                if let Some(st) = st {
                    layers.push(Layer {
                        style: st,
                        picture: pic,
                        opacity: o,
                    });
                }
            }
            if is_ending && s.next.is_some() {
                self.problem(
                    s.next.as_ref().map_or(0, |n| n.span().start),
                    "an ending has no next".into(),
                );
            }
            let scene = Scene {
                picture: self.picture(&s.picture, s.seconds.as_ref()),
                seconds: s.seconds.as_ref().map(|v| *v.get_ref()),
                layers,
                next: if is_ending {
                    None
                } else {
                    s.next.as_ref().map(|n| n.get_ref().clone())
                },
            };
            order.push(s.id.get_ref().clone());
            nodes
                .entry(s.id.get_ref().clone())
                .or_insert(Node::Scene(scene));
        }
    }

    /// The decisions, with their branches and listening rules.
    fn decisions(
        &self,
        file: &StoryFile,
        nodes: &mut HashMap<String, Node>,
        order: &mut Vec<String>,
    ) {
        for d in &file.decision {
            let mut branches = BTreeMap::new();
            for (k, v) in &d.branch {
                if let Some(st) = self.style(k) {
                    branches.insert(st, v.get_ref().clone());
                }
            }
            let listening = d
                .listening
                .as_ref()
                .or(file.listening.as_ref())
                .map_or_else(Listening::default, |l| *l.get_ref());
            let listen = *d.listen.get_ref();
            if !(listen > 0.0 && listen <= MAX_SECONDS) {
                self.problem(
                    d.listen.span().start,
                    format!("listen must be above 0 and at most {MAX_SECONDS} seconds"),
                );
            } else if listen < crate::listen::MAJORITY * listening.min_dwell {
                self.problem(
                    d.listen.span().start,
                    format!(
                        "listen ({listen} s) is shorter than the {:.2} s a style must be heard to count (2/3 of min_dwell): this decision could only take its default",
                        crate::listen::MAJORITY * listening.min_dwell
                    ),
                );
            }
            order.push(d.id.get_ref().clone());
            nodes
                .entry(d.id.get_ref().clone())
                .or_insert(Node::Decision(Decision {
                    listen: *d.listen.get_ref(),
                    default: d.default.get_ref().clone(),
                    branches,
                    listening,
                }));
        }
        let rules = file
            .listening
            .iter()
            .chain(file.decision.iter().filter_map(|d| d.listening.as_ref()));
        for l in rules {
            if let Some(m) = l.get_ref().problem() {
                self.problem(l.span().start, m);
            }
        }
    }
}

impl reel_core::HasKind for StoryError {
    fn kind(&self) -> reel_core::Kind {
        reel_core::Kind::Input
    }
}

/// The story's paths: every node must be able to reach an ending (or the film could loop for
/// ever) and be reachable from the start (or it is a mistake).
fn check_paths(
    nodes: &HashMap<String, Node>,
    order: &[String],
    declared: &HashMap<String, usize>,
    start: &str,
    problem: &mut dyn FnMut(usize, String),
) {
    // Every node must be able to reach an ending, or the film can loop for ever.
    let ends = |id: &str| matches!(nodes.get(id), Some(Node::Scene(s)) if s.next.is_none());
    let successors = |id: &str| -> Vec<String> {
        match nodes.get(id) {
            Some(Node::Scene(s)) => s.next.iter().cloned().collect(),
            Some(Node::Decision(d)) => std::iter::once(d.default.clone())
                .chain(d.branches.values().cloned())
                .collect(),
            None => Vec::new(),
        }
    };
    let mut finishes: HashMap<&str, bool> =
        order.iter().map(|id| (id.as_str(), ends(id))).collect();
    loop {
        let mut changed = false;
        for id in order {
            if !finishes[id.as_str()]
                && successors(id)
                    .iter()
                    .any(|n| finishes.get(n.as_str()).copied().unwrap_or(false))
            {
                finishes.insert(id, true);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let has_dangling = |id: &str| successors(id).iter().any(|n| !declared.contains_key(n));
    for id in order {
        // A node stuck only because a reference is broken is reported there already.
        if !finishes[id.as_str()] && !has_dangling(id) {
            problem(
                declared[id],
                format!("\"{id}\" never reaches an ending: it is caught in a loop with no way out"),
            );
        }
    }
    // Every node must be reachable from the start, or it is a mistake.
    let mut reached = std::collections::HashSet::new();
    let mut todo = vec![start.to_string()];
    while let Some(id) = todo.pop() {
        if declared.contains_key(&id) && reached.insert(id.clone()) {
            todo.extend(successors(&id));
        }
    }
    if declared.contains_key(start) {
        for id in order {
            if !reached.contains(id) {
                problem(
                    declared[id],
                    format!("\"{id}\" is never reached from the start, \"{}\"", start),
                );
            }
        }
    }
}

/// The story's shape, a line a node as `reel film check` prints it: each scene (or ending)
/// with its picture, length and next node, each layer with its style, each decision with its
/// branches and listening; pictures inside `folder` (the story's) are named from it.
pub fn outline(story: &Story, folder: &Path) -> Vec<String> {
    let picture = |p: &Picture| {
        let (what, path) = match p {
            Picture::Video(p) => ("video", p),
            Picture::Sequence(p) => ("frames", p),
            Picture::Still(p) => ("still", p),
        };
        let shown = path.strip_prefix(folder).unwrap_or(path);
        format!("{what} {}", shown.display())
    };
    let mut lines = Vec::new();
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
                lines.push(format!(
                    "{kind}   {id}: {}{seconds}{next}",
                    picture(&s.picture)
                ));
                for l in &s.layers {
                    lines.push(format!(
                        "           while {} is heard: {} at {:.0}%",
                        l.style.name(),
                        picture(&l.picture),
                        l.opacity * 100.0
                    ));
                }
            }
            Node::Decision(d) => {
                let branches: Vec<String> = d
                    .branches
                    .iter()
                    .map(|(s, n)| format!("{} -> {n}", s.name()))
                    .collect();
                lines.push(format!(
                    "decision {id}: listens {} s; {}; otherwise -> {} (confidence {}, hysteresis {}, dwell {} s)",
                    d.listen,
                    branches.join(", "),
                    d.default,
                    d.listening.confidence,
                    d.listening.hysteresis,
                    d.listening.min_dwell
                ));
            }
        }
    }
    lines
}
