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
