//! Clip settings written as text, read the same way by every front end: frame rates (`25`,
//! `29.97`, `30000/1001`, or a multiple of a clip's own, `2x`) and sizes (`1280x720`).

/// What a rate must look like, for messages.
const RATE_HELP: &str = "give a rate such as 25, 29.97 or 30000/1001";

/// A frame rate as a fraction; the NTSC rates written as decimals (29.97) are taken as the
/// exact ones (30000/1001).
pub fn rate(text: &str) -> Result<(i64, i64), String> {
    let bad = || RATE_HELP.to_string();
    if let Some((n, d)) = text.split_once('/') {
        let (n, d): (i64, i64) = (
            n.trim().parse().map_err(|_| bad())?,
            d.trim().parse().map_err(|_| bad())?,
        );
        let sensible = n > 0 && d > 0 && n <= 1_000_000 && d <= 1_000_000 && n <= 1000 * d;
        return sensible.then_some((n, d)).ok_or_else(bad);
    }
    let fps: f64 = text.trim().parse().map_err(|_| bad())?;
    if !(fps.is_finite() && fps > 0.0 && fps <= 1000.0) {
        return Err(bad());
    }
    for base in [24, 30, 48, 60, 120] {
        let ntsc = base as f64 * 1000.0 / 1001.0;
        if (fps - ntsc).abs() < 0.006 {
            return Ok((base * 1000, 1001));
        }
    }
    let thousandths = (fps * 1000.0).round() as i64;
    let divisor = gcd(thousandths, 1000);
    Ok((thousandths / divisor, 1000 / divisor))
}

/// A rate, or a multiple of `own` written with an `x` (`2x`, `0.5x`).
pub fn rate_or_multiple(text: &str, own: (i64, i64)) -> Result<(i64, i64), String> {
    match text.trim().strip_suffix('x') {
        Some(multiple) => {
            let (n, d) = rate(multiple)?;
            let (num, den) = (own.0 * n, own.1.max(1) * d);
            let divisor = gcd(num, den).max(1);
            let (num, den) = (num / divisor, den / divisor);
            if num > 1000 * den {
                return Err(format!("{text} of the clip's own rate is above 1000 fps"));
            }
            Ok((num, den))
        }
        None => rate(text),
    }
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 { a.abs() } else { gcd(b, a % b) }
}

/// `WIDTHxHEIGHT`, each from 1 to 16384.
pub fn size(text: &str) -> Result<(usize, usize), String> {
    text.split_once('x')
        .and_then(|(w, h)| Some((w.trim().parse().ok()?, h.trim().parse().ok()?)))
        .filter(|&(w, h): &(usize, usize)| w > 0 && h > 0 && w <= 16384 && h <= 16384)
        .ok_or_else(|| "give WIDTHxHEIGHT, for example 1280x720".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_sizes() {
        assert_eq!(rate("29.97"), Ok((30000, 1001)));
        assert_eq!(rate("25"), Ok((25, 1)));
        assert_eq!(rate("12.5"), Ok((25, 2)));
        assert_eq!(rate("60000/1001"), Ok((60000, 1001)));
        assert!(rate("0").is_err() && rate("abc").is_err() && rate("5000/1").is_err());
        assert_eq!(rate_or_multiple("2x", (30000, 1001)), Ok((60000, 1001)));
        assert_eq!(rate_or_multiple("0.5x", (24, 1)), Ok((12, 1)));
        assert!(rate_or_multiple("100x", (60, 1)).is_err());
        assert_eq!(size("1280x720"), Ok((1280, 720)));
        assert!(size("0x5").is_err() && size("big").is_err());
    }
}
