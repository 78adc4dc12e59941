//! The compute device for the networks reel trains and runs itself.

pub use candle_core::Device;

/// CUDA when built with the `cuda` feature and a GPU is present, else the CPU.
pub fn device() -> Device {
    #[cfg(feature = "cuda")]
    if let Ok(d) = Device::new_cuda(0) {
        return d;
    }
    Device::Cpu
}
