//! From what the recogniser hears, moment by moment, to the style being played and to the
//! choice at a decision point, without flapping: a style counts only when it is confident, a
//! different style must lead the current one by a margin (hysteresis), and a change is taken only
//! once it has been heard for two thirds of the last `min_dwell` seconds (so brief doubts in
//! between neither stop a real change nor make a false one).

pub use reel_music::Reading;

use crate::Style;
use serde::Deserialize;

/// The style being played, kept steady against the recogniser's moment-to-moment doubts.
#[derive(Clone, Debug)]
pub struct StyleTracker {
    rules: Listening,
    current: Option<Style>,
    /// What each reading of the last `min_dwell` seconds heard, oldest first.
    recent: std::collections::VecDeque<(f64, Option<Style>)>,
    /// When the first reading came: nothing was heard before it.
    began: Option<f64>,
}

/// The longest stretch before it that one reading speaks for, in seconds.
const READING_SPAN: f64 = 0.5;

/// The share of the dwell time a change must have been heard for.
pub const MAJORITY: f64 = 2.0 / 3.0;

impl StyleTracker {
    pub fn new(rules: Listening) -> StyleTracker {
        StyleTracker {
            rules,
            current: None,
            recent: std::collections::VecDeque::new(),
            began: None,
        }
    }

    /// The style taken to be playing (None: no music, or nothing clear).
    pub fn current(&self) -> Option<Style> {
        self.current
    }

    /// What this reading alone says, given what is playing now.
    fn heard(&self, r: &Reading) -> Option<Style> {
        let (best, p) = r.best();
        let margin = self.rules.hysteresis;
        if let Some(c) = self.current {
            let pc = r.styles[c as usize];
            // The current style stays while it is near confidence and nothing clearly leads it.
            if pc >= self.rules.confidence - margin && p < pc + margin && r.no_music < pc + margin {
                return Some(c);
            }
        }
        if p >= self.rules.confidence && p > r.no_music {
            Some(best)
        } else {
            None
        }
    }

    /// Takes the next reading (in time order) and returns the style playing after it.
    pub fn update(&mut self, r: &Reading) -> Option<Style> {
        let heard = self.heard(r);
        let dwell = self.rules.min_dwell;
        if dwell <= 0.0 {
            self.current = heard;
            return heard;
        }
        self.recent.push_back((r.time, heard));
        while self
            .recent
            .front()
            .is_some_and(|&(t, _)| t < r.time - dwell)
        {
            self.recent.pop_front();
        }
        // Time each answer was heard over the window: a reading stands for the time since the
        // one before it.
        let mut shares = [0.0f64; 5];
        let start = r.time - dwell;
        let began = *self.began.get_or_insert(r.time);
        let mut previous = start.max(began);
        for &(t, s) in &self.recent {
            // A reading vouches for at most READING_SPAN before it; a longer gap (the
            // recogniser paused) counts as nothing heard.
            let span = t.max(start) - previous;
            let vouched = span.min(READING_SPAN);
            shares[s.map_or(4, |s| s as usize)] += vouched;
            shares[4] += span - vouched;
            previous = t.max(start);
        }
        let best = (0..5).fold(4, |b, i| if shares[i] > shares[b] { i } else { b });
        let candidate = (best < 4).then(|| Style::ALL[best]);
        if candidate != self.current && shares[best] >= MAJORITY * dwell - 1e-9 {
            self.current = candidate;
        }
        self.current
    }
}

/// A decision point's listening window: how long each style was playing in it, and how
/// confident the recogniser was, for the choice and its log.
#[derive(Clone, Debug)]
pub struct Window {
    pub start: f64,
    pub length: f64,
    /// Seconds each style held, in `Style::ALL` order, then no music.
    pub held: [f64; 5],
    /// Mean probability of each style, then of no music, over the readings in the window.
    pub mean: [f64; 5],
    readings: usize,
    last: Option<(f64, Option<Style>)>,
}

/// What a window decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Choice {
    /// The style held longest (None: no music or nothing clear held longest).
    pub style: Option<Style>,
}

impl Window {
    pub fn new(start: f64, length: f64) -> Window {
        Window {
            start,
            length,
            held: [0.0; 5],
            mean: [0.0; 5],
            readings: 0,
            last: None,
        }
    }

    fn slot(s: Option<Style>) -> usize {
        s.map_or(4, |s| s as usize)
    }

    /// Adds a reading and the style playing after it; readings past the window's end count
    /// only up to the end.
    pub fn add(&mut self, r: &Reading, playing: Option<Style>) {
        let end = self.start + self.length;
        let t = r.time.clamp(self.start, end);
        if let Some((from, style)) = self.last {
            self.held[Window::slot(style)] += t - from;
        }
        self.last = Some((t, playing));
        if r.time >= self.start && r.time <= end {
            let n = self.readings as f64;
            for (i, p) in r.styles.iter().chain([&r.no_music]).enumerate() {
                self.mean[i] = (self.mean[i] * n + *p as f64) / (n + 1.0);
            }
            self.readings += 1;
        }
    }

    /// Counts the time from the last reading to `end` (the window's end at most) for the style
    /// playing then: the window runs to its end even when the readings stop short of it.
    pub fn close(&mut self, end: f64) {
        let end = end.min(self.start + self.length);
        if let Some((from, style)) = self.last
            && end > from
        {
            self.held[Window::slot(style)] += end - from;
            self.last = Some((end, style));
        }
    }

    /// The style held longest; on a tie, no music wins (the story's default), then the first
    /// style in order.
    pub fn choice(&self) -> Choice {
        let mut best = 4;
        for i in 0..4 {
            if self.held[i] > self.held[best] {
                best = i;
            }
        }
        Choice {
            style: (best < 4).then(|| Style::ALL[best]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(time: f64, styles: [f32; 4], no_music: f32) -> Reading {
        Reading {
            time,
            styles,
            no_music,
        }
    }

    const JAZZ: [f32; 4] = [0.05, 0.05, 0.1, 0.8];
    const BAROQUE: [f32; 4] = [0.8, 0.1, 0.05, 0.05];

    #[test]
    fn a_change_is_taken_once_it_has_held_for_the_dwell_time() {
        let mut t = StyleTracker::new(Listening::default());
        let mut switched = None;
        for i in 0..100 {
            let time = i as f64 * 0.1;
            let styles = if time < 3.0 { BAROQUE } else { JAZZ };
            let now = t.update(&reading(time, styles, 0.0));
            if now == Some(Style::Jazz) && switched.is_none() {
                switched = Some(time);
            }
        }
        // Jazz once it fills two thirds of the 1.5 s dwell: 1 s after it began at 3 s.
        let switched = switched.unwrap();
        assert!((switched - 4.0).abs() < 0.11, "switched at {switched}");
    }

    #[test]
    fn brief_doubts_do_not_flap() {
        let mut t = StyleTracker::new(Listening::default());
        let mut changes = 0;
        let mut last = None;
        for i in 0..200 {
            let time = i as f64 * 0.1;
            // Jazz throughout, but every seventh reading leans to baroque, every eleventh is
            // unsure, and one stretch of 1 s reads as ragtime.
            let styles = if i % 7 == 0 {
                BAROQUE
            } else if i % 11 == 0 {
                [0.3, 0.3, 0.2, 0.2]
            } else if (100..110).contains(&i) {
                [0.05, 0.05, 0.85, 0.05]
            } else {
                JAZZ
            };
            let now = t.update(&reading(time, styles, 0.0));
            if now != last {
                changes += 1;
                last = now;
            }
        }
        assert_eq!(changes, 1, "only the first change, to jazz");
        assert_eq!(t.current(), Some(Style::Jazz));
    }

    #[test]
    fn hysteresis_keeps_the_current_style_against_a_slight_lead() {
        let mut t = StyleTracker::new(Listening::default());
        for i in 0..30 {
            t.update(&reading(i as f64 * 0.1, JAZZ, 0.0));
        }
        // Ragtime now leads, but only by 0.05: jazz stays.
        for i in 30..100 {
            t.update(&reading(i as f64 * 0.1, [0.0, 0.0, 0.55, 0.5], 0.0));
        }
        assert_eq!(t.current(), Some(Style::Jazz));
        // A clear lead takes over after the dwell.
        for i in 100..130 {
            t.update(&reading(i as f64 * 0.1, [0.0, 0.0, 0.75, 0.2], 0.05));
        }
        assert_eq!(t.current(), Some(Style::Ragtime));
    }

    #[test]
    fn one_reading_after_a_pause_does_not_switch() {
        let mut t = StyleTracker::new(Listening::default());
        for i in 0..30 {
            t.update(&reading(i as f64 * 0.1, BAROQUE, 0.0));
        }
        assert_eq!(t.current(), Some(Style::Baroque));
        // Ten seconds without readings (which count as nothing heard), then one jazz reading:
        // not enough to call it jazz.
        assert_ne!(t.update(&reading(13.0, JAZZ, 0.0)), Some(Style::Jazz));
    }

    #[test]
    fn silence_and_unclear_music_choose_nothing() {
        let mut t = StyleTracker::new(Listening::default());
        let mut w = Window::new(0.0, 8.0);
        for i in 0..100 {
            let time = i as f64 * 0.1;
            let r = if i < 50 {
                reading(time, [0.02; 4], 0.92)
            } else {
                reading(time, [0.3, 0.25, 0.25, 0.2], 0.0)
            };
            let now = t.update(&r);
            w.add(&r, now);
        }
        assert_eq!(w.choice(), Choice { style: None });
        assert!((w.held.iter().sum::<f64>() - 8.0).abs() < 1e-9);
    }

    #[test]
    fn the_window_chooses_the_style_held_longest() {
        let mut t = StyleTracker::new(Listening::default());
        let mut w = Window::new(2.0, 8.0);
        for i in 0..120 {
            let time = i as f64 * 0.1;
            let styles = if time < 4.0 { BAROQUE } else { JAZZ };
            let r = reading(time, styles, 0.0);
            let now = t.update(&r);
            w.add(&r, now);
        }
        assert_eq!(w.choice().style, Some(Style::Jazz));
        assert!(w.held[Style::Jazz as usize] > 4.0);
        assert!(w.mean[Style::Jazz as usize] > 0.5);
    }
}

/// How heard styles become decisions.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Listening {
    /// A style counts only when the recogniser gives it at least this probability.
    pub confidence: f32,
    /// A new style must lead the current one by this much to take over.
    pub hysteresis: f32,
    /// Seconds a change must hold before it counts.
    pub min_dwell: f64,
}

impl Default for Listening {
    fn default() -> Self {
        Listening {
            confidence: 0.6,
            hysteresis: 0.1,
            min_dwell: 1.5,
        }
    }
}

impl Listening {
    pub(crate) fn problem(&self) -> Option<String> {
        if !(self.confidence > 0.0 && self.confidence <= 1.0) {
            return Some("listening.confidence must be above 0 and at most 1".into());
        }
        if !(0.0..1.0).contains(&self.hysteresis) {
            return Some("listening.hysteresis must be from 0 to below 1".into());
        }
        if !(self.min_dwell >= 0.0 && self.min_dwell.is_finite()) {
            return Some("listening.min_dwell must be 0 or more seconds".into());
        }
        None
    }
}
