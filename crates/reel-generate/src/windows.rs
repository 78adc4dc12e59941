//! Frame arithmetic: the 4k+1 lengths the models make, the overlapping windows a long clip is
//! restyled in, and how their overlaps are mixed.

use std::ops::Range;

/// The longest model length (4k+1) that fits in `n` frames (at least 1).
pub fn fitting(n: usize) -> usize {
    (n.max(1) - 1) / 4 * 4 + 1
}

/// The shortest model length (4k+1) of at least `n` frames.
pub fn covering(n: usize) -> usize {
    (n.max(1) - 1).div_ceil(4) * 4 + 1
}

/// Windows of at most `window` frames (4k+1) covering `0..n`, each sharing at least `overlap`
/// frames (at most half a window) with the one before; the last is aligned to the clip's end,
/// so every window has the same length and none runs past the clip.
pub fn plan(n: usize, window: usize, overlap: usize) -> Vec<Range<usize>> {
    if n == 0 {
        return Vec::new();
    }
    let length = fitting(window.min(n));
    let overlap = overlap.min(length / 2);
    let step = length - overlap;
    let mut windows = Vec::new();
    let mut start = 0;
    while start + length < n {
        windows.push(start..start + length);
        start += step;
    }
    windows.push(n - length..n);
    windows
}

/// The weight of the newer window at frame `i` of an overlap `from..to` (the older window's
/// frames there are mixed out linearly, and neither window's weight reaches 0 or 1 inside it).
pub fn newer_weight(i: usize, overlap: Range<usize>) -> f32 {
    (i - overlap.start + 1) as f32 / (overlap.len() + 1) as f32
}

/// `count` indices spread evenly over `range` (its first and last among them where `count`
/// is 2 or more; its middle for 1).
pub fn spread(count: usize, range: Range<usize>) -> Vec<usize> {
    let span = range.len().saturating_sub(1);
    match count {
        0 => Vec::new(),
        1 => vec![range.start + span / 2],
        _ => (0..count)
            .map(|j| range.start + ((j * span) as f64 / (count - 1) as f64).round() as usize)
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn model_lengths() {
        assert_eq!(
            (1..=10).map(fitting).collect::<Vec<_>>(),
            [1, 1, 1, 1, 5, 5, 5, 5, 9, 9]
        );
        assert_eq!(
            (1..=10).map(covering).collect::<Vec<_>>(),
            [1, 5, 5, 5, 5, 9, 9, 9, 9, 13]
        );
    }

    #[test]
    fn a_short_clip_is_one_window_and_a_long_one_ends_on_its_last_frame() {
        assert_eq!(plan(81, 81, 8), vec![(0..81)]);
        assert_eq!(plan(150, 81, 8), [0..81, 69..150]);
        assert_eq!(plan(7, 81, 8), [0..5, 2..7]);
        assert_eq!(plan(3, 81, 8), [0..1, 1..2, 2..3]);
    }

    proptest! {
        #[test]
        fn windows_cover_the_clip_in_order_with_their_overlap(
            n in 1usize..2000, k in 0usize..30, overlap in 0usize..40,
        ) {
            let window = 4 * k + 1;
            let windows = plan(n, window, overlap);
            let length = fitting(window.min(n));
            prop_assert_eq!(windows[0].start, 0);
            prop_assert_eq!(windows.last().unwrap().end, n);
            for w in &windows {
                prop_assert_eq!(w.len(), length);
            }
            for pair in windows.windows(2) {
                prop_assert!(pair[1].start > pair[0].start);
                // Touching or overlapping by at least the asked-for frames: no frame missed.
                prop_assert!(pair[1].start <= pair[0].end);
                prop_assert!(pair[0].end - pair[1].start >= overlap.min(length / 2));
            }
        }

        #[test]
        fn spread_keeps_its_ends_and_order(count in 1usize..60, extra in 0usize..10) {
            let picked = spread(count, 1..1 + count + extra);
            prop_assert_eq!(picked.len(), count);
            prop_assert!(picked.windows(2).all(|p| p[0] < p[1]));
            prop_assert!(picked.iter().all(|&i| (1..1 + count + extra).contains(&i)));
            if count > 1 {
                prop_assert_eq!(picked[0], 1);
                prop_assert_eq!(*picked.last().unwrap(), count + extra);
            }
        }
    }
}
