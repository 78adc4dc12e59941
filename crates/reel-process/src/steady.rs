//! Steadying a drawn face over time. A swap network draws each frame's face afresh, and the
//! small changes in its input from frame to frame make the skin shimmer. In the face's own
//! aligned crop, where a face that holds still stays put, each value moves only part of the way
//! from the last frame's towards the new one while the change is small, and all the way once it
//! is large (a blink, a mouth opening, a cut), so motion is kept and shimmer is damped.

use std::collections::{HashMap, HashSet};

/// A change of this much (values in 0..1) or more is motion, passed through whole.
const MOTION: f32 = 0.04;

pub struct Steady {
    /// How much of a small change is held back, 0 (off) to 1.
    strength: f32,
    last: HashMap<u32, Vec<f32>>,
    seen: HashSet<u32>,
}

impl Steady {
    /// `strength` 0..1 (clamped): 0 changes nothing, 0.5 halves the smallest changes.
    pub fn new(strength: f32) -> Steady {
        Steady {
            strength: strength.clamp(0.0, 1.0),
            last: HashMap::new(),
            seen: HashSet::new(),
        }
    }

    /// Starts a frame: faces not steadied since the last call are forgotten, so a face that
    /// comes back starts afresh.
    pub fn next_frame(&mut self) {
        let seen = std::mem::take(&mut self.seen);
        self.last.retain(|id, _| seen.contains(id));
    }

    /// Steadies the drawn values of face `id` (in 0..1, laid out alike from frame to frame).
    pub fn apply(&mut self, id: u32, values: &mut [f32]) {
        self.seen.insert(id);
        if self.strength <= 0.0 {
            return;
        }
        let last = self.last.entry(id).or_default();
        if last.len() != values.len() {
            last.clear();
            last.extend_from_slice(values);
            return;
        }
        let hold = self.strength;
        for (v, l) in values.iter_mut().zip(last.iter_mut()) {
            let change = *v - *l;
            let small = (1.0 - change.abs() / MOTION).max(0.0);
            *l += change * (1.0 - hold * small);
            *v = *l;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shimmer_is_damped_and_motion_kept() {
        let mut steady = Steady::new(0.5);
        let mut frame = vec![0.5f32, 0.5, 0.5];
        steady.next_frame();
        steady.apply(7, &mut frame);
        assert_eq!(frame, [0.5, 0.5, 0.5]);
        // A change of 0.004 (one level) goes little more than half way...
        let mut next = vec![0.504f32, 0.8, 0.5];
        steady.next_frame();
        steady.apply(7, &mut next);
        assert!((next[0] - 0.5).abs() < 0.0025, "{next:?}");
        // ...a change of 0.3 (an eye closing) passes whole, and nothing that did not change moves.
        assert_eq!(next[1], 0.8);
        assert_eq!(next[2], 0.5);
    }

    #[test]
    fn faces_are_kept_apart_and_forgotten_when_gone() {
        let mut steady = Steady::new(1.0);
        steady.next_frame();
        steady.apply(1, &mut [0.2]);
        steady.apply(2, &mut [0.6]);
        // Face 2 is absent for a frame: when it comes back it is drawn afresh.
        steady.next_frame();
        steady.apply(1, &mut [0.2]);
        steady.next_frame();
        let (mut one, mut two) = ([0.21f32], [0.61f32]);
        steady.apply(1, &mut one);
        steady.apply(2, &mut two);
        assert!(one[0] > 0.2 && one[0] < 0.205, "{one:?}");
        assert_eq!(two, [0.61]);
    }

    #[test]
    fn strength_zero_changes_nothing() {
        let mut steady = Steady::new(0.0);
        steady.apply(1, &mut [0.2]);
        let mut v = [0.201f32];
        steady.next_frame();
        steady.apply(1, &mut v);
        assert_eq!(v, [0.201]);
    }
}
