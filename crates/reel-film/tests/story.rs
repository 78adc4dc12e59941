//! Story files: a good one loads whole; each kind of mistake is reported at its line and column
//! before anything renders.

use std::path::{Path, PathBuf};

use reel_film::story::{Node, Picture, Problem};
use reel_film::{Story, Style};

/// A folder with the pictures the stories name (empty files: checking needs only that they
/// exist).
fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("reel-film-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("layers")).unwrap();
    for f in [
        "prelude.mp4",
        "club.mp4",
        "church.mov",
        "calm.png",
        "title.jpg",
    ] {
        std::fs::write(dir.join(f), b"").unwrap();
    }
    for i in 1..=3 {
        std::fs::write(dir.join(format!("layers/neon_{i:04}.png")), b"").unwrap();
    }
    dir
}

const GOOD: &str = r#"
title = "The pianist"
start = "title"

[listening]
confidence = 0.55
min_dwell = 1.0

[[scene]]
id = "title"
picture = "title.jpg"
seconds = 3
next = "prelude"

[[scene]]
id = "prelude"
picture = "prelude.mp4"
next = "choice"

[[scene.layer]]
style = "jazz"
picture = "layers/neon_%04d.png"
opacity = 0.8

[[decision]]
id = "choice"
listen = 8.0
default = "calm"
branch = { baroque = "church", jazz = "club", ragtime = "club" }

[[ending]]
id = "church"
picture = "church.mov"

[[ending]]
id = "club"
picture = "club.mp4"

[[ending]]
id = "calm"
picture = "calm.png"
seconds = 5
"#;

fn problems(text: &str, dir: &Path) -> Vec<Problem> {
    Story::parse(text, dir).expect_err("the story has a problem")
}

fn at(p: &Problem) -> (usize, usize) {
    (p.position.line, p.position.column)
}

#[test]
fn a_good_story_loads_with_everything_resolved() {
    let dir = folder("good");
    let path = dir.join("story.toml");
    std::fs::write(&path, GOOD).unwrap();
    let story = Story::load(&path).unwrap();
    assert_eq!(story.start, "title");
    assert_eq!(
        story.order,
        ["title", "prelude", "choice", "church", "club", "calm"]
    );
    let Node::Decision(d) = &story.nodes["choice"] else {
        panic!("choice is a decision")
    };
    assert_eq!(d.branches[&Style::Jazz], "club");
    assert_eq!(d.listening.confidence, 0.55);
    assert_eq!(d.listening.hysteresis, 0.1);
    let Node::Scene(s) = &story.nodes["prelude"] else {
        panic!("prelude is a scene")
    };
    assert_eq!(s.layers[0].style, Style::Jazz);
    assert!(matches!(s.layers[0].picture, Picture::Sequence(_)));
    assert!(matches!(s.picture, Picture::Video(_)));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_missing_clip_is_reported_where_it_is_named() {
    let dir = folder("missing");
    let text = GOOD.replace("\"club.mp4\"", "\"clips/club_final.mp4\"");
    let p = problems(&text, &dir);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(at(&p[0]), (37, 11));
    assert!(
        p[0].message.contains("clips/club_final.mp4 does not exist"),
        "{}",
        p[0].message
    );
    // An image sequence with no frames.
    let text = GOOD.replace("neon_%04d", "glow_%04d");
    let p = problems(&text, &dir);
    assert_eq!(at(&p[0]), (22, 11));
    assert!(p[0].message.contains("no images match"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_branch_to_nowhere_is_reported() {
    let dir = folder("nowhere");
    let text = GOOD.replace("jazz = \"club\"", "jazz = \"jazz_club\"");
    let p = problems(&text, &dir);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(at(&p[0]), (29, 39));
    assert!(
        p[0].message
            .contains("no scene, decision or ending is called \"jazz_club\"")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_unknown_style_is_reported() {
    let dir = folder("style");
    let text = GOOD.replace("ragtime = \"club\"", "boogie = \"club\"");
    let p = problems(&text, &dir);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(at(&p[0]), (29, 47));
    assert!(p[0].message.contains("unknown style \"boogie\""));
    assert!(p[0].message.contains("baroque, classical, ragtime, jazz"));
    let text = GOOD.replace("style = \"jazz\"", "style = \"swing\"");
    let p = problems(&text, &dir);
    assert_eq!(at(&p[0]), (21, 9));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_loop_with_no_way_out_is_reported() {
    let dir = folder("loop");
    // The decision's every way leads back to the prelude, and the prelude to the decision.
    let text = GOOD
        .replace(
            "default = \"calm\"\nbranch = { baroque = \"church\", jazz = \"club\", ragtime = \"club\" }",
            "default = \"prelude\"\nbranch = { jazz = \"prelude\" }",
        );
    let p = problems(&text, &dir);
    let stuck: Vec<usize> = p
        .iter()
        .filter(|p| p.message.contains("never reaches an ending"))
        .map(|p| p.position.line)
        .collect();
    assert_eq!(stuck, [10, 16, 26], "{p:?}");
    // The endings are now out of reach, and said to be.
    let orphans = p
        .iter()
        .filter(|p| p.message.contains("never reached from the start"));
    assert_eq!(orphans.count(), 3, "{p:?}");
    // A loop with a way out is fine.
    let text = GOOD.replace("ragtime = \"club\"", "ragtime = \"prelude\"");
    assert!(Story::parse(&text, &dir).is_ok());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn syntax_errors_bad_settings_and_duplicates_are_reported_with_positions() {
    let dir = folder("syntax");
    let p = problems(&GOOD.replace("listen = 8.0", "listen = 8.0.0"), &dir);
    assert_eq!(p[0].position.line, 27, "{p:?}");
    let p = problems(&GOOD.replace("confidence = 0.55", "confidence = 1.5"), &dir);
    assert!(p[0].message.contains("confidence"), "{p:?}");
    let p = problems(&GOOD.replace("id = \"club\"", "id = \"church\""), &dir);
    assert!(
        p.iter().any(|p| p.message.contains("already the id")),
        "{p:?}"
    );
    let p = problems(&GOOD.replace("seconds = 5\n", ""), &dir);
    assert!(p[0].message.contains("a still needs `seconds`"), "{p:?}");
    let p = problems(
        &GOOD.replace("opacity = 0.8", "opacity = 0.8\nblend = \"add\""),
        &dir,
    );
    assert!(p[0].message.contains("blend"), "{p:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
