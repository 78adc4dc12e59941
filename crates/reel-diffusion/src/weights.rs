//! A model's weights, read by the names diffusers gives them, from one safetensors file or the
//! shards its index lists. Every read checks the shape, so a folder of another model (or another
//! size) fails with the tensor's name rather than a wrong result.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use candle_core::safetensors::MmapedSafetensors;
use candle_core::{DType, Device, Tensor};

use crate::error::{DiffusionError, Result};

pub struct Weights {
    folder: PathBuf,
    source: Source,
    device: Device,
    dtype: DType,
}

enum Source {
    Files(MmapedSafetensors),
    /// Drawn at random on first read and kept, for benchmarks and tests of full-size shapes
    /// without a download; [`Weights::save`] writes them out for the reference to load.
    Random(RefCell<HashMap<String, Tensor>>),
}

impl Weights {
    /// Opens `folder/{stem}.safetensors`, or the shards named by `folder/{stem}.safetensors.index.json`.
    /// Tensors are converted to `dtype` on `device` as they are read.
    pub fn open(folder: &Path, stem: &str, device: &Device, dtype: DType) -> Result<Self> {
        let single = folder.join(format!("{stem}.safetensors"));
        let index = folder.join(format!("{stem}.safetensors.index.json"));
        let paths = if single.is_file() {
            vec![single]
        } else if index.is_file() {
            shards(&index)?
        } else {
            return Err(DiffusionError::model(
                folder,
                format!("no weights: neither {stem}.safetensors nor {stem}.safetensors.index.json"),
            ));
        };
        // SAFETY: the files are mapped read-only; reel never writes model files, and a file
        // changed underneath a running job is the user's doing, as with any mapped model.
        let files = unsafe { MmapedSafetensors::multi(&paths) }
            .map_err(|e| DiffusionError::model(folder, format!("unreadable weights: {e}")))?;
        Ok(Weights {
            folder: folder.to_path_buf(),
            source: Source::Files(files),
            device: device.clone(),
            dtype,
        })
    }

    /// Weights drawn at random as they are asked for: matrices with variance 1/fan-in, norm
    /// weights around 1, biases small, so that a network of any size keeps its activations in
    /// range. Every weight is drawn (none left at zero), so every path carries signal.
    pub fn random(device: &Device, dtype: DType) -> Self {
        Weights {
            folder: PathBuf::from("(random weights)"),
            source: Source::Random(RefCell::new(HashMap::new())),
            device: device.clone(),
            dtype,
        }
    }

    /// Writes the random weights drawn so far as one safetensors file.
    pub fn save(&self, path: &Path) -> Result<()> {
        match &self.source {
            Source::Random(drawn) => candle_core::safetensors::save(&drawn.borrow(), path)
                .map_err(|e| DiffusionError::model(path, format!("cannot write weights: {e}"))),
            Source::Files(_) => Err(DiffusionError::model(path, "only random weights are saved")),
        }
    }

    /// How many bytes the weights take once converted to the model's dtype.
    pub fn bytes(&self) -> usize {
        match &self.source {
            Source::Files(files) => files
                .tensors()
                .iter()
                .map(|(_, view)| {
                    view.shape().iter().product::<usize>() * self.dtype.size_in_bytes()
                })
                .sum(),
            Source::Random(drawn) => drawn
                .borrow()
                .values()
                .map(|t| t.elem_count() * self.dtype.size_in_bytes())
                .sum(),
        }
    }

    pub fn contains(&self, name: &str) -> bool {
        match &self.source {
            Source::Files(files) => files.get(name).is_ok(),
            Source::Random(_) => false,
        }
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The tensor `name`, which must have `shape`, in the model's dtype.
    pub fn get(&self, name: &str, shape: &[usize]) -> Result<Tensor> {
        self.get_as(name, shape, self.dtype)
    }

    /// The tensor `name` in `dtype` (for the parts diffusers keeps in f32).
    pub fn get_as(&self, name: &str, shape: &[usize], dtype: DType) -> Result<Tensor> {
        let files = match &self.source {
            Source::Files(files) => files,
            Source::Random(drawn) => {
                let tensor = draw(name, shape, &self.device)?;
                drawn.borrow_mut().insert(name.to_string(), tensor.clone());
                return Ok(tensor.to_dtype(dtype)?);
            }
        };
        let view = files
            .get(name)
            .map_err(|_| DiffusionError::model(&self.folder, format!("missing tensor {name}")))?;
        if view.shape() != shape {
            return Err(DiffusionError::model(
                &self.folder,
                format!(
                    "tensor {name} is {:?}, the config says {shape:?}",
                    view.shape()
                ),
            ));
        }
        let tensor = files
            .load(name, &self.device)
            .map_err(|e| DiffusionError::model(&self.folder, format!("tensor {name}: {e}")))?;
        Ok(tensor.to_dtype(dtype)?)
    }
}

fn draw(name: &str, shape: &[usize], device: &Device) -> Result<Tensor> {
    let normal = Tensor::randn(0f32, 1f32, shape, device)?;
    Ok(match shape {
        [_] if name.contains("norm") && name.ends_with("weight") => ((normal * 0.1)? + 1.0)?,
        [_] => (normal * 0.02)?,
        [_, rest @ ..] => (normal / (rest.iter().product::<usize>() as f64).sqrt())?,
        [] => normal,
    })
}

fn shards(index: &Path) -> Result<Vec<PathBuf>> {
    let folder = index.parent().unwrap_or(Path::new("."));
    let text = std::fs::read_to_string(index)
        .map_err(|e| DiffusionError::model(index, format!("unreadable: {e}")))?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| DiffusionError::model(index, format!("not JSON: {e}")))?;
    let map = json
        .get("weight_map")
        .and_then(|m| m.as_object())
        .ok_or_else(|| DiffusionError::model(index, "no weight_map"))?;
    let names: BTreeSet<&str> = map.values().filter_map(|v| v.as_str()).collect();
    let mut paths = Vec::new();
    for name in names {
        let path = folder.join(name);
        if !path.is_file() {
            return Err(DiffusionError::model(
                index,
                format!("shard {name} is missing (the index lists it)"),
            ));
        }
        paths.push(path);
    }
    Ok(paths)
}

/// Reads a diffusers `config.json`, checking its `_class_name`.
pub fn read_config<T: serde::de::DeserializeOwned>(folder: &Path, class: &str) -> Result<T> {
    let path = folder.join("config.json");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| DiffusionError::model(&path, format!("unreadable: {e}")))?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| DiffusionError::model(&path, format!("not JSON: {e}")))?;
    match json.get("_class_name").and_then(|c| c.as_str()) {
        Some(found) if found == class => {}
        Some(found) => {
            return Err(DiffusionError::model(
                &path,
                format!("a {found}, not a {class}: a config from another model family"),
            ));
        }
        None => {
            return Err(DiffusionError::model(
                &path,
                format!("no _class_name (expected {class})"),
            ));
        }
    }
    serde_json::from_value(json).map_err(|e| DiffusionError::model(&path, format!("{class}: {e}")))
}

/// Reads a transformers `config.json` (which names its `model_type`, where diffusers' name a
/// class), refusing another family's: `name` says what was expected ("umT5").
pub fn read_model_config<T: serde::de::DeserializeOwned>(
    folder: &Path,
    model_type: &str,
    name: &str,
) -> Result<T> {
    let path = folder.join("config.json");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| DiffusionError::model(&path, format!("unreadable: {e}")))?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| DiffusionError::model(&path, format!("not a {name} config: {e}")))?;
    if let Some(found) = json.get("model_type").and_then(|t| t.as_str())
        && found != model_type
    {
        return Err(DiffusionError::model(
            &path,
            format!("a {found} model, not {name}: a config from another model family"),
        ));
    }
    serde_json::from_value(json)
        .map_err(|e| DiffusionError::model(&path, format!("not a {name} config: {e}")))
}
