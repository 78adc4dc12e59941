//! Gaussian blur approximated by three box blurs (running sums: cost independent of sigma), on
//! interleaved float images with any number of channels. Edges repeat the border pixel.

/// Box widths whose threefold convolution best matches a Gaussian of `sigma`.
fn box_radii(sigma: f32) -> [usize; 3] {
    let n = 3.0;
    let ideal = (12.0 * sigma * sigma / n + 1.0).sqrt();
    let mut wl = ideal.floor() as i32;
    if wl % 2 == 0 {
        wl -= 1;
    }
    let wl = wl.max(1);
    let wu = wl + 2;
    let m = ((12.0 * sigma * sigma - n * (wl * wl) as f32 - 4.0 * n * wl as f32 - 3.0 * n)
        / (-4.0 * wl as f32 - 4.0))
        .round() as i32;
    let mut out = [0; 3];
    for (i, r) in out.iter_mut().enumerate() {
        let w = if (i as i32) < m { wl } else { wu };
        *r = ((w - 1) / 2) as usize;
    }
    out
}

/// Blurs `data` (width x height x channels, interleaved) in place; `tmp` is scratch space.
pub fn gaussian(
    data: &mut [f32],
    width: usize,
    height: usize,
    channels: usize,
    sigma: f32,
    tmp: &mut Vec<f32>,
) {
    if sigma < 0.3 || width == 0 || height == 0 {
        return;
    }
    let longest_pad = box_radii(sigma).iter().max().copied().unwrap_or(0);
    tmp.resize(
        data.len().max((2 * width + 2 * longest_pad) * channels),
        0.0,
    );
    for r in box_radii(sigma) {
        if r == 0 {
            continue;
        }
        horizontal(data, width, height, channels, r, tmp);
        vertical(data, width, height, channels, r, tmp);
    }
}

fn horizontal(data: &mut [f32], width: usize, height: usize, ch: usize, r: usize, tmp: &mut [f32]) {
    let norm = 1.0 / (2 * r + 1) as f32;
    let row_len = width * ch;
    // The row with r repeated edge pixels on each side, so the sliding sum needs no clamping.
    let padded_len = (width + 2 * r) * ch;
    let (padded, line) = tmp.split_at_mut(padded_len);
    let line = &mut line[..row_len];
    for y in 0..height {
        let row = &mut data[y * row_len..(y + 1) * row_len];
        for i in 0..r {
            padded[i * ch..(i + 1) * ch].copy_from_slice(&row[..ch]);
            let j = r + width + i;
            padded[j * ch..(j + 1) * ch].copy_from_slice(&row[row_len - ch..]);
        }
        padded[r * ch..(r + width) * ch].copy_from_slice(row);
        for c in 0..ch {
            let mut acc: f32 = (0..2 * r + 1).map(|k| padded[k * ch + c]).sum();
            for x in 0..width {
                line[x * ch + c] = acc * norm;
                if x + 1 < width {
                    acc += padded[(x + 2 * r + 1) * ch + c] - padded[x * ch + c];
                }
            }
        }
        row.copy_from_slice(line);
    }
}

fn vertical(data: &mut [f32], width: usize, height: usize, ch: usize, r: usize, tmp: &mut [f32]) {
    let norm = 1.0 / (2 * r + 1) as f32;
    let row_len = width * ch;
    let src = &mut tmp[..data.len()];
    src.copy_from_slice(data);
    let row = |y: isize| (y.clamp(0, height as isize - 1) as usize) * row_len;
    let mut acc = vec![0.0f32; row_len];
    for y in -(r as isize)..=r as isize {
        let o = row(y);
        for (a, v) in acc.iter_mut().zip(&src[o..o + row_len]) {
            *a += v;
        }
    }
    for y in 0..height {
        let out = &mut data[y * row_len..(y + 1) * row_len];
        for (o, a) in out.iter_mut().zip(&acc) {
            *o = a * norm;
        }
        let (add, sub) = (
            row(y as isize + r as isize + 1),
            row(y as isize - r as isize),
        );
        for i in 0..row_len {
            acc[i] += src[add + i] - src[sub + i];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blur_keeps_the_mean_and_spreads_an_impulse_like_a_gaussian() {
        let (w, h) = (41, 41);
        let mut img = vec![0.0f32; w * h];
        img[20 * w + 20] = 1000.0;
        let mut tmp = Vec::new();
        gaussian(&mut img, w, h, 1, 3.0, &mut tmp);
        let sum: f32 = img.iter().sum();
        assert!((sum - 1000.0).abs() < 0.5, "mean kept: {sum}");
        // Variance of the spread along x matches sigma^2.
        let var: f32 = (0..w)
            .map(|x| (x as f32 - 20.0).powi(2) * (0..h).map(|y| img[y * w + x]).sum::<f32>())
            .sum::<f32>()
            / 1000.0;
        assert!((var - 9.0).abs() < 1.0, "variance {var}");
    }
}
