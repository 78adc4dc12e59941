//! Story files of any content are read or refused with problems, never a panic or a hang.

use std::path::Path;

use proptest::prelude::*;
use reel_film::Story;

const EXAMPLE: &str = include_str!("../../../examples/film/story.toml");

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn any_text_is_read_or_refused(text in "\\PC{0,400}") {
        let _ = Story::parse(&text, Path::new("."));
    }

    #[test]
    fn a_damaged_example_is_read_or_refused(
        edits in proptest::collection::vec((0usize..4000, any::<char>()), 1..12),
        cut in 0usize..4000,
    ) {
        let mut chars: Vec<char> = EXAMPLE.chars().collect();
        for (at, c) in edits {
            let i = at % chars.len();
            chars[i] = c;
        }
        chars.truncate(cut.max(1).min(chars.len()));
        let text: String = chars.into_iter().collect();
        let _ = Story::parse(&text, Path::new("."));
    }

    #[test]
    fn numbers_anywhere_are_checked(n in prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(-1.0), Just(1e300), 0.0f64..1e9]) {
        let text = EXAMPLE.replace("seconds = ", &format!("seconds = {n:?} # "))
            .replace("listen = ", &format!("listen = {n:?} # "));
        let _ = Story::parse(&text, Path::new("."));
    }
}
