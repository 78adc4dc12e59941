//! Model file formats and converters. MediaPipe ships its face models as TFLite files and dlib
//! its recognition network in its own format; reel reads both ([`tflite`], [`dlib`]) and writes
//! ONNX graphs ([`onnx`]) that ONNX Runtime runs, in memory at load time ([`tflite_to_onnx`],
//! [`dlib::face_recognition_to_onnx`]).

mod convert;
pub mod dlib;
pub mod onnx;
pub mod tflite;

pub use convert::tflite_to_onnx;

/// A model file reel cannot read or convert.
#[derive(Debug, thiserror::Error)]
#[error("model format: {0}")]
pub struct ConvertError(pub String);

impl reel_core::HasKind for ConvertError {
    fn kind(&self) -> reel_core::Kind {
        reel_core::Kind::Other
    }
}

impl From<&str> for ConvertError {
    fn from(s: &str) -> ConvertError {
        ConvertError(s.to_string())
    }
}

impl From<String> for ConvertError {
    fn from(s: String) -> ConvertError {
        ConvertError(s)
    }
}
