//! CPU kernels for the networks reel runs itself (the swap models, the diffusion transformer):
//! matrix products on `gemm` with strided operands, so transposes and head splits cost
//! nothing, and fused passes where candle's generic ops would allocate a tensor per step
//! (attention's scores, softmax, GELU). On other devices the networks use candle's own ops.

mod attention;
mod math;
mod matmul;

pub use attention::{AttentionShape, attention};
pub use gemm::Parallelism;
pub use math::{exp, gelu_tanh_in_place, softmax_in_place};
pub use matmul::{Operand, matmul, with_scratch};

use candle_core::{CpuStorage, Layout};

/// The values of a contiguous f32 tensor's CPU storage, for a custom operation's `cpu_fwd`.
pub fn f32_slice<'a>(storage: &'a CpuStorage, layout: &Layout) -> candle_core::Result<&'a [f32]> {
    match (storage, layout.contiguous_offsets()) {
        (CpuStorage::F32(data), Some((start, end))) => Ok(&data[start..end]),
        _ => candle_core::bail!("expected a contiguous f32 tensor"),
    }
}
