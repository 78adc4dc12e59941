//! `dst = [dst +] scale · a · b` on `gemm`, every operand with its own row and column strides.

/// A read-only matrix operand: its elements and the strides between rows and columns.
#[derive(Clone, Copy)]
pub struct Operand<'a> {
    pub data: &'a [f32],
    pub row_stride: usize,
    pub col_stride: usize,
}

impl<'a> Operand<'a> {
    pub fn rows(data: &'a [f32], row_stride: usize) -> Self {
        Operand {
            data,
            row_stride,
            col_stride: 1,
        }
    }

    /// The transpose of a row-major matrix whose rows are `row_stride` apart.
    pub fn transposed(data: &'a [f32], row_stride: usize) -> Self {
        Operand {
            data,
            row_stride: 1,
            col_stride: row_stride,
        }
    }
}

/// `dst (m × n, rows `dst_row_stride` apart) = [dst +] scale · a (m × k) · b (k × n)`.
pub fn matmul(
    (m, n, k): (usize, usize, usize),
    (dst, dst_row_stride): (&mut [f32], usize),
    accumulate: bool,
    a: Operand,
    b: Operand,
    scale: f32,
    parallelism: gemm::Parallelism,
) {
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            for row in 0..m {
                dst[row * dst_row_stride..row * dst_row_stride + n].fill(0.0);
            }
        }
        return;
    }
    // The last element each operand is read at, computed without overflow.
    let last = |rows: usize, cols: usize, r: usize, c: usize| {
        (rows - 1)
            .checked_mul(r)
            .and_then(|x| (cols - 1).checked_mul(c).and_then(|y| x.checked_add(y)))
    };
    // Output rows must not overlap (gemm writes them from several threads), and every stride
    // must survive the cast to isize.
    assert!(m == 1 || dst_row_stride >= n);
    let max = isize::MAX as usize;
    assert!(
        [
            dst_row_stride,
            a.row_stride,
            a.col_stride,
            b.row_stride,
            b.col_stride
        ]
        .iter()
        .all(|&s| s <= max)
    );
    assert!(last(m, n, dst_row_stride, 1).is_some_and(|i| i < dst.len()));
    assert!(last(m, k, a.row_stride, a.col_stride).is_some_and(|i| i < a.data.len()));
    assert!(last(k, n, b.row_stride, b.col_stride).is_some_and(|i| i < b.data.len()));
    // SAFETY: the asserts above keep every index the product touches inside the slices.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            dst_row_stride as isize,
            accumulate,
            a.data.as_ptr(),
            a.col_stride as isize,
            a.row_stride as isize,
            b.data.as_ptr(),
            b.col_stride as isize,
            b.row_stride as isize,
            1.0,
            scale,
            false,
            false,
            false,
            parallelism,
        )
    }
}

thread_local! {
    /// A working buffer kept between calls: a fresh one each call cost more in page faults
    /// than the work it held.
    static SCRATCH: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` with this thread's scratch buffer of `len` floats (contents unspecified).
pub fn with_scratch<R>(len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buffer) => {
            if buffer.len() < len {
                buffer.resize(len, 0.0);
            }
            f(&mut buffer[..len])
        }
        // Re-entered on this thread (a nested parallel job): use a buffer of its own.
        Err(_) => f(&mut vec![0f32; len]),
    })
}
