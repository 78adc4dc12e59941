//! Softmax attention on the CPU, flash-attention style: a block of queries is scored against
//! one block of keys at a time (a few hundred kilobytes, in cache), the weights applied to the
//! values at once and the softmax's running maximum and sum carried from block to block, so
//! no score matrix larger than a block ever exists, however long the video. Queries, keys,
//! values and the output are read and written in the (batch, tokens, heads, head_dim) layout
//! the projections produce, so no head split or merge is ever copied.

use rayon::prelude::*;

use super::math::{softmax_block_in_place, softmax_in_place};
use super::matmul::{Operand, matmul, with_scratch};

#[derive(Debug, Clone, Copy)]
pub struct AttentionShape {
    pub batch: usize,
    pub heads: usize,
    pub queries: usize,
    pub keys: usize,
    pub head_dim: usize,
}

/// Queries a block: enough that the packing of each block of keys is paid over many rows.
const QUERY_BLOCK: usize = 256;
/// Keys a block: with the queries', scores that stay in cache.
const KEY_BLOCK: usize = 512;

/// `out = softmax(scale · q·kᵀ [+ bias])·v` for every batch row and head; `q` and `out` are
/// (batch, queries, heads, head_dim), `k` and `v` (batch, keys, heads, head_dim), all
/// contiguous; `bias`, when given, is (heads, queries, keys), shared by the batch (T5's
/// relative positions).
pub fn attention(
    q: &[f32],
    k: &[f32],
    v: &[f32],
    bias: Option<&[f32]>,
    out: &mut [f32],
    shape: AttentionShape,
    scale: f32,
) {
    let AttentionShape {
        batch,
        heads,
        queries,
        keys,
        head_dim,
    } = shape;
    let width = heads * head_dim;
    assert_eq!(q.len(), batch * queries * width);
    assert_eq!(out.len(), batch * queries * width);
    assert_eq!(k.len(), batch * keys * width);
    assert_eq!(v.len(), batch * keys * width);
    if let Some(bias) = bias {
        assert_eq!(bias.len(), heads * queries * keys);
    }
    if queries == 0 || width == 0 {
        return;
    }
    let blocks = queries.div_ceil(QUERY_BLOCK);
    // One task per block of queries of one batch row, every head: its output rows are one
    // contiguous run of `out`.
    let tasks: Vec<(usize, usize)> = (0..batch)
        .flat_map(|b| (0..blocks).map(move |i| (b, i)))
        .collect();
    let mut chunks: Vec<&mut [f32]> = Vec::with_capacity(tasks.len());
    let mut rest = out;
    for &(_, i) in &tasks {
        let len = QUERY_BLOCK.min(queries - i * QUERY_BLOCK) * width;
        let (chunk, tail) = rest.split_at_mut(len);
        chunks.push(chunk);
        rest = tail;
    }
    tasks.into_par_iter().zip(chunks).for_each(|((b, i), dst)| {
        let start = i * QUERY_BLOCK;
        let rows = QUERY_BLOCK.min(queries - start);
        let q_rows = &q[(b * queries + start) * width..(b * queries + start + rows) * width];
        let k_rows = &k[b * keys * width..(b + 1) * keys * width];
        let v_rows = &v[b * keys * width..(b + 1) * keys * width];
        let key_block = KEY_BLOCK.min(keys);
        with_scratch(rows * key_block + 2 * rows, |scratch| {
            let (scores, state) = scratch.split_at_mut(rows * key_block);
            let (maxima, sums) = state.split_at_mut(rows);
            for h in 0..heads {
                let offset = h * head_dim;
                maxima.fill(f32::NEG_INFINITY);
                sums.fill(0.0);
                for first in (0..keys).step_by(key_block) {
                    let n = key_block.min(keys - first);
                    let scores = &mut scores[..rows * n];
                    matmul(
                        (rows, n, head_dim),
                        (scores, n),
                        false,
                        Operand::rows(&q_rows[offset..], width),
                        Operand::transposed(&k_rows[first * width + offset..], width),
                        scale,
                        gemm::Parallelism::None,
                    );
                    if let Some(bias) = bias {
                        for (r, row) in scores.chunks_exact_mut(n).enumerate() {
                            let from = (h * queries + start + r) * keys + first;
                            for (s, b) in row.iter_mut().zip(&bias[from..from + n]) {
                                *s += b;
                            }
                        }
                    }
                    if n == keys {
                        // One block: the plain softmax, normalised before the values.
                        for row in scores.chunks_exact_mut(keys) {
                            softmax_in_place(row);
                        }
                    } else {
                        for (r, row) in scores.chunks_exact_mut(n).enumerate() {
                            let factor = softmax_block_in_place(row, &mut maxima[r], &mut sums[r]);
                            if first > 0 && factor != 1.0 {
                                let out =
                                    &mut dst[r * width + offset..r * width + offset + head_dim];
                                out.iter_mut().for_each(|o| *o *= factor);
                            }
                        }
                    }
                    matmul(
                        (rows, head_dim, n),
                        (&mut dst[offset..], width),
                        first > 0,
                        Operand::rows(scores, n),
                        Operand::rows(&v_rows[first * width + offset..], width),
                        1.0,
                        gemm::Parallelism::None,
                    );
                }
                if key_block < keys {
                    for (r, &sum) in sums.iter().enumerate() {
                        let inv = 1.0 / sum;
                        dst[r * width + offset..r * width + offset + head_dim]
                            .iter_mut()
                            .for_each(|o| *o *= inv);
                    }
                }
            }
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_definition() {
        check(AttentionShape {
            batch: 2,
            heads: 3,
            queries: 70,
            keys: 45,
            head_dim: 8,
        });
    }

    /// More queries and keys than a block of each: the softmax carried across key blocks.
    #[test]
    fn matches_the_definition_over_several_blocks() {
        check(AttentionShape {
            batch: 1,
            heads: 2,
            queries: QUERY_BLOCK + 44,
            keys: 2 * KEY_BLOCK + 37,
            head_dim: 8,
        });
    }

    fn check(shape: AttentionShape) {
        let width = shape.heads * shape.head_dim;
        let value = |i: usize| ((i * 7919) % 1000) as f32 / 500.0 - 1.0;
        let q: Vec<f32> = (0..shape.batch * shape.queries * width)
            .map(value)
            .collect();
        let k: Vec<f32> = (0..shape.batch * shape.keys * width)
            .map(|i| value(i + 13))
            .collect();
        let v: Vec<f32> = (0..shape.batch * shape.keys * width)
            .map(|i| value(i + 29))
            .collect();
        let bias: Vec<f32> = (0..shape.heads * shape.queries * shape.keys)
            .map(|i| value(i + 3))
            .collect();
        let mut out = vec![0f32; q.len()];
        let scale = 0.35;
        attention(&q, &k, &v, Some(&bias), &mut out, shape, scale);
        for b in 0..shape.batch {
            for h in 0..shape.heads {
                for i in 0..shape.queries {
                    let qi = |d: usize| {
                        q[(b * shape.queries + i) * width + h * shape.head_dim + d] as f64
                    };
                    let at = |t: &[f32], j: usize, d: usize| {
                        t[(b * shape.keys + j) * width + h * shape.head_dim + d] as f64
                    };
                    let s: Vec<f64> = (0..shape.keys)
                        .map(|j| {
                            scale as f64
                                * (0..shape.head_dim)
                                    .map(|d| qi(d) * at(&k, j, d))
                                    .sum::<f64>()
                                + bias[(h * shape.queries + i) * shape.keys + j] as f64
                        })
                        .collect();
                    let max = s.iter().cloned().fold(f64::MIN, f64::max);
                    let total: f64 = s.iter().map(|x| (x - max).exp()).sum();
                    for d in 0..shape.head_dim {
                        let expected: f64 = (0..shape.keys)
                            .map(|j| (s[j] - max).exp() / total * at(&v, j, d))
                            .sum();
                        let ours =
                            out[(b * shape.queries + i) * width + h * shape.head_dim + d] as f64;
                        assert!((ours - expected).abs() < 1e-5, "{ours} against {expected}");
                    }
                }
            }
        }
    }
}
