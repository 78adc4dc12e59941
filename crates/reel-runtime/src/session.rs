//! Running the pretrained models with ONNX Runtime, loaded at run time from the shared library that
//! `reel setup` installed beside the models.

use std::path::Path;
use std::sync::OnceLock;

use ort::environment::Environment;
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::TensorRef;
use reel_convert::dlib::InputSpec;

use reel_assets::catalogue::{ModelId, ONNXRUNTIME_LIBRARY, PIANO_WINDOW_SAMPLES, models_dir};
use reel_assets::{AssetError, install};

use crate::ModelError;

static RUNTIME: OnceLock<Result<Environment, String>> = OnceLock::new();

fn init_runtime(dir: &Path) -> Result<&'static Environment, ModelError> {
    RUNTIME
        .get_or_init(|| {
            let chosen = std::env::var_os("REEL_ONNXRUNTIME").filter(|v| !v.is_empty());
            let lib = chosen
                .clone()
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|| dir.join(ONNXRUNTIME_LIBRARY.file));
            if !lib.exists() {
                return Err(match chosen {
                    Some(_) => format!(
                        "{} (named by REEL_ONNXRUNTIME) does not exist; point it at libonnxruntime.so or unset it",
                        lib.display()
                    ),
                    None => AssetError::Missing {
                        path: lib.display().to_string(),
                    }
                    .to_string(),
                });
            }
            let builder =
                ort::init_from(&lib).map_err(|e| format!("loading {}: {e}", lib.display()))?;
            builder.with_name("reel").build().map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| ModelError::Library(e.clone()))
}

/// One output tensor: its shape and values.
#[derive(Clone, Debug, Default)]
pub struct Output {
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// A loaded network with a single float input of fixed shape.
pub struct Net {
    session: Session,
    input_shape: Vec<usize>,
}

impl Net {
    /// Loads a catalogue model from the models directory, checking its checksum.
    pub fn load(id: ModelId, threads: usize) -> Result<Net, ModelError> {
        let dir = models_dir();
        let asset = id.asset();
        let bytes = install::read_verified(&dir.join(asset.file), asset.sha256)?;
        match id {
            ModelId::FaceRecognition => face_recognition(threads).map(|(net, _)| net),
            ModelId::PianoTranscription => {
                Net::from_onnx(&bytes, &[1, PIANO_WINDOW_SAMPLES, 1], &dir, threads)
            }
            _ => Net::from_tflite(&bytes, &dir, threads),
        }
    }

    /// Converts a TFLite model in memory and starts a session for it.
    pub fn from_tflite(
        tflite: &[u8],
        runtime_dir: &Path,
        threads: usize,
    ) -> Result<Net, ModelError> {
        let onnx = reel_convert::tflite_to_onnx(tflite)?;
        let model = reel_convert::tflite::Model::parse(tflite)?;
        let s = &model.tensors[model.inputs[0]].shape;
        Net::from_onnx(&onnx, &[s[0], s[3], s[1], s[2]], runtime_dir, threads)
    }

    /// Starts a session for an ONNX model with one float input of `input_shape`.
    pub fn from_onnx(
        onnx: &[u8],
        input_shape: &[usize],
        runtime_dir: &Path,
        threads: usize,
    ) -> Result<Net, ModelError> {
        let env = init_runtime(runtime_dir)?;
        let rt = |e: ort::Error| ModelError::Runtime(e.to_string());
        let session = Session::builder(env)
            .map_err(rt)?
            .with_optimization_level(GraphOptimizationLevel::Level3)
            .map_err(|e| ModelError::Runtime(e.to_string()))?
            .with_intra_threads(threads.max(1))
            .map_err(|e| ModelError::Runtime(e.to_string()))?
            .with_inter_threads(1)
            .map_err(|e| ModelError::Runtime(e.to_string()))?
            .commit_from_memory(onnx)
            .map_err(rt)?;
        Ok(Net {
            session,
            input_shape: input_shape.to_vec(),
        })
    }

    /// The input this network takes (images: [batch, channels, height, width]).
    pub fn input_shape(&self) -> &[usize] {
        &self.input_shape
    }

    /// Runs the network on one input and writes each output into `outputs` (reusing their
    /// allocations from call to call).
    pub fn run(&mut self, input: &[f32], outputs: &mut Vec<Output>) -> Result<(), ModelError> {
        let rt = |e: ort::Error| ModelError::Runtime(e.to_string());
        if input.len() != self.input_shape.iter().product::<usize>() {
            return Err(ModelError::Runtime(format!(
                "input has {} values, the network takes {:?}",
                input.len(),
                self.input_shape
            )));
        }
        let tensor =
            TensorRef::from_array_view((self.input_shape.as_slice(), input)).map_err(rt)?;
        let results = self.session.run(ort::inputs![tensor]).map_err(rt)?;
        outputs.resize_with(results.len(), Output::default);
        for (slot, (_, value)) in outputs.iter_mut().zip(results.iter()) {
            let (shape, data) = value.try_extract_tensor::<f32>().map_err(rt)?;
            slot.shape.clear();
            slot.shape.extend(shape.iter().map(|&d| d as usize));
            slot.values.clear();
            slot.values.extend_from_slice(data);
        }
        Ok(())
    }
}

/// dlib's face recognition network from the models directory, with its input normalisation.
pub fn face_recognition(threads: usize) -> Result<(Net, InputSpec), ModelError> {
    let dir = models_dir();
    let asset = ModelId::FaceRecognition.asset();
    let bytes = install::read_verified(&dir.join(asset.file), asset.sha256)?;
    let (onnx, spec) = reel_convert::dlib::face_recognition_to_onnx(&bytes)?;
    let net = Net::from_onnx(&onnx, &[1, 3, spec.size, spec.size], &dir, threads)?;
    Ok((net, spec))
}
