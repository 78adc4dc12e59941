//! A reader for dlib's serialized face recognition network (dlib_face_recognition_resnet_model_v1
//! .dat, a 29-layer ResNet giving a 128-number descriptor of a 150 x 150 face chip), converted to
//! an ONNX graph in memory like the TFLite models.
//!
//! dlib writes a network outermost layer first: the loss layer's record, then one version number
//! per layer down to the input, then the input layer, then each layer's parameters from the input
//! upwards. Tag and skip layers (the residual wiring) leave only a version number, so the wiring
//! comes from the block pattern the parameters follow.

use crate::ConvertError;
use crate::onnx::{Attr, Data, Graph};

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

fn bad(what: &str, pos: usize) -> ConvertError {
    ConvertError(format!("dlib model: {what} at byte {pos}"))
}

impl Reader<'_> {
    /// dlib's integers: a control byte (low nibble = byte count, 0x80 = negative), then the
    /// magnitude little-endian.
    fn int(&mut self) -> Result<i64, ConvertError> {
        let start = self.pos;
        let c = *self
            .buf
            .get(self.pos)
            .ok_or_else(|| bad("file ends", start))?;
        let n = (c & 0x0f) as usize;
        if !(1..=8).contains(&n) || c & 0x70 != 0 {
            return Err(bad("bad integer", start));
        }
        let bytes = self
            .buf
            .get(self.pos + 1..self.pos + 1 + n)
            .ok_or_else(|| bad("file ends", start))?;
        let v = bytes
            .iter()
            .rev()
            .fold(0u64, |acc, &b| (acc << 8) | b as u64) as i64;
        self.pos += 1 + n;
        Ok(if c & 0x80 != 0 { -v } else { v })
    }

    fn usize(&mut self) -> Result<usize, ConvertError> {
        let at = self.pos;
        usize::try_from(self.int()?).map_err(|_| bad("negative size", at))
    }

    fn bool(&mut self) -> Result<bool, ConvertError> {
        let c = *self
            .buf
            .get(self.pos)
            .ok_or_else(|| bad("file ends", self.pos))?;
        self.pos += 1;
        match c {
            b'1' => Ok(true),
            b'0' => Ok(false),
            _ => Err(bad("bad bool", self.pos - 1)),
        }
    }

    fn string(&mut self) -> Result<String, ConvertError> {
        let n = self.usize()?;
        let s = self
            .buf
            .get(self.pos..self.pos + n)
            .ok_or_else(|| bad("file ends", self.pos))?;
        self.pos += n;
        Ok(String::from_utf8_lossy(s).into_owned())
    }

    /// Floats are a mantissa and a power of two.
    fn float(&mut self) -> Result<f64, ConvertError> {
        let m = self.int()?;
        let e = self.int()?;
        Ok(match e {
            32000 => f64::INFINITY,
            32001 => f64::NEG_INFINITY,
            32002 => f64::NAN,
            _ => m as f64 * 2f64.powi(e as i32),
        })
    }

    fn tensor(&mut self) -> Result<Vec<f32>, ConvertError> {
        if self.int()? != 2 {
            return Err(bad("unknown tensor version", self.pos));
        }
        let mut n = 1usize;
        for _ in 0..4 {
            n = n
                .checked_mul(self.usize()?)
                .ok_or_else(|| bad("tensor too large", self.pos))?;
        }
        let bytes = self
            .buf
            .get(self.pos..self.pos + n * 4)
            .ok_or_else(|| bad("file ends", self.pos))?;
        self.pos += n * 4;
        Ok(bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect())
    }

    fn alias(&mut self) -> Result<[usize; 4], ConvertError> {
        if self.int()? != 1 {
            return Err(bad("unknown alias tensor version", self.pos));
        }
        Ok([self.usize()?, self.usize()?, self.usize()?, self.usize()?])
    }

    fn peek_is(&self, name: &str) -> bool {
        let mut r = Reader {
            buf: self.buf,
            pos: self.pos,
        };
        r.string().is_ok_and(|s| s == name)
    }
}

/// One layer's parameters, in forward order.
enum Layer {
    /// A tag or skip layer: nothing but its place in the sequence.
    Marker,
    Conv {
        filters: usize,
        kernel: usize,
        stride: usize,
        pad: usize,
        weights: Vec<f32>,
        bias: Vec<f32>,
    },
    Affine {
        gamma: Vec<f32>,
        beta: Vec<f32>,
    },
    Relu,
    MaxPool {
        size: usize,
        stride: usize,
    },
    AvgPool {
        size: usize,
        stride: usize,
    },
    AddPrev,
    Dense {
        outputs: usize,
        inputs: usize,
        weights: Vec<f32>,
    },
}

/// The network's input normalisation: (pixel - mean) / 256 per channel, RGB.
#[derive(Clone, Copy, Debug)]
pub struct InputSpec {
    pub mean: [f32; 3],
    pub size: usize,
}

fn details(r: &mut Reader) -> Result<Layer, ConvertError> {
    let at = r.pos;
    let name = r.string()?;
    Ok(match name.as_str() {
        "con_4" => {
            let params = r.tensor()?;
            let filters = r.usize()?;
            let (kh, kw) = (r.usize()?, r.usize()?);
            let (sy, sx) = (r.usize()?, r.usize()?);
            let (py, px) = (r.usize()?, r.usize()?);
            let shape = r.alias()?;
            r.alias()?;
            for _ in 0..4 {
                r.float()?;
            }
            if kh != kw || sy != sx || py != px || shape[0] != filters {
                return Err(bad("non-square convolution", at));
            }
            let n = shape.iter().product::<usize>();
            if params.len() != n + filters {
                return Err(bad("convolution parameter count", at));
            }
            Layer::Conv {
                filters,
                kernel: kh,
                stride: sy,
                pad: py,
                bias: params[n..].to_vec(),
                weights: params[..n].to_vec(),
            }
        }
        "affine_" => {
            let params = r.tensor()?;
            r.alias()?;
            r.alias()?;
            if r.int()? != 0 {
                return Err(bad("affine layer not in convolution mode", at));
            }
            let c = params.len() / 2;
            Layer::Affine {
                gamma: params[..c].to_vec(),
                beta: params[c..].to_vec(),
            }
        }
        "relu_" => Layer::Relu,
        "add_prev_" => Layer::AddPrev,
        "max_pool_2" | "avg_pool_2" => {
            let (nr, nc) = (r.usize()?, r.usize()?);
            let (sy, sx) = (r.usize()?, r.usize()?);
            let (py, px) = (r.usize()?, r.usize()?);
            if nr != nc || sy != sx || py != 0 || px != 0 {
                return Err(bad("unsupported pooling", at));
            }
            if name == "max_pool_2" {
                Layer::MaxPool {
                    size: nr,
                    stride: sy,
                }
            } else {
                Layer::AvgPool {
                    size: nr,
                    stride: sy,
                }
            }
        }
        "fc_2" => {
            let outputs = r.usize()?;
            let inputs = r.usize()?;
            let weights = r.tensor()?;
            r.alias()?;
            r.alias()?;
            if r.int()? != 1 {
                return Err(bad("dense layer with bias", at));
            }
            for _ in 0..4 {
                r.float()?;
            }
            if weights.len() != inputs * outputs {
                return Err(bad("dense parameter count", at));
            }
            Layer::Dense {
                outputs,
                inputs,
                weights,
            }
        }
        other => return Err(bad(&format!("unsupported layer {other}"), at)),
    })
}

fn parse(buf: &[u8]) -> Result<(InputSpec, Vec<Layer>), ConvertError> {
    let mut r = Reader { buf, pos: 0 };
    if r.int()? != 1 || r.string()? != "loss_metric_2" {
        return Err(ConvertError("not dlib's face recognition network".into()));
    }
    r.float()?;
    r.float()?;
    let mut versions = Vec::new();
    while !r.peek_is("input_rgb_image_sized") {
        versions.push(r.int()?);
        if versions.len() > 10_000 {
            return Err(bad("no input layer", r.pos));
        }
    }
    r.string()?;
    let mean = [r.float()? as f32, r.float()? as f32, r.float()? as f32];
    let size = r.usize()?;
    if r.usize()? != size {
        return Err(bad("non-square input", r.pos));
    }
    let mut layers = Vec::with_capacity(versions.len());
    for (i, &v) in versions.iter().rev().enumerate() {
        if v == 1 && i > 0 {
            layers.push(Layer::Marker);
            continue;
        }
        layers.push(details(&mut r)?);
        // Training state: three flags and three tensors, then (for the first layer) a factor.
        for _ in 0..3 {
            r.bool()?;
        }
        for _ in 0..3 {
            r.tensor()?;
        }
        if i == 0 && v == 3 {
            r.usize()?;
        }
    }
    if r.pos != buf.len() {
        return Err(bad("trailing bytes", r.pos));
    }
    Ok((InputSpec { mean, size }, layers))
}

/// Converts the network to ONNX: input `x` as NCHW floats already normalised, output `descriptor`
/// of 128 numbers.
pub fn face_recognition_to_onnx(buf: &[u8]) -> Result<(Vec<u8>, InputSpec), ConvertError> {
    let (spec, layers) = parse(buf)?;
    let mut g = Graph::default();
    let mut n = 0usize;
    let mut fresh = |what: &str| {
        n += 1;
        format!("{what}{n}")
    };
    g.inputs
        .push(("x".into(), vec![1, 3, spec.size as i64, spec.size as i64]));
    let mut cur = "x".to_string();
    let mut shape = [3usize, spec.size, spec.size];
    // The residual bookkeeping: a block's input, and for down-sampling blocks the branch output.
    let (mut block_in, mut block_in_shape) = (cur.clone(), shape);
    let mut branch: Option<(String, [usize; 3])> = None;
    let mut i = 0;
    while i < layers.len() {
        match &layers[i] {
            Layer::Marker => {
                if matches!(layers.get(i + 1), Some(Layer::Marker)) {
                    // Tag of the branch output, then a skip back to the block input.
                    branch = Some((cur.clone(), shape));
                    cur = block_in.clone();
                    shape = block_in_shape;
                    i += 1;
                } else {
                    block_in = cur.clone();
                    block_in_shape = shape;
                }
            }
            Layer::Conv {
                filters,
                kernel,
                stride,
                pad,
                weights,
                bias,
            } => {
                // A following affine layer folds into the convolution.
                let (mut w, mut b) = (weights.clone(), bias.clone());
                if let Some(Layer::Affine { gamma, beta }) = layers.get(i + 1) {
                    let per = w.len() / filters;
                    for o in 0..*filters {
                        for v in &mut w[o * per..(o + 1) * per] {
                            *v *= gamma[o];
                        }
                        b[o] = b[o] * gamma[o] + beta[o];
                    }
                    i += 1;
                }
                let wn = fresh("w");
                g.constant(
                    &wn,
                    vec![
                        *filters as i64,
                        shape[0] as i64,
                        *kernel as i64,
                        *kernel as i64,
                    ],
                    Data::F32(w),
                );
                let bn = fresh("b");
                g.constant(&bn, vec![*filters as i64], Data::F32(b));
                let out = fresh("conv");
                let p = *pad as i64;
                g.node(
                    "Conv",
                    &[&cur, &wn, &bn],
                    &out,
                    vec![
                        ("kernel_shape", Attr::Ints(vec![*kernel as i64; 2])),
                        ("strides", Attr::Ints(vec![*stride as i64; 2])),
                        ("pads", Attr::Ints(vec![p, p, p, p])),
                    ],
                );
                cur = out;
                shape = [
                    *filters,
                    1 + (shape[1] + 2 * pad - kernel) / stride,
                    1 + (shape[2] + 2 * pad - kernel) / stride,
                ];
            }
            Layer::Affine { gamma, beta } => {
                let (gn, bn) = (fresh("gamma"), fresh("beta"));
                let c = gamma.len() as i64;
                g.constant(&gn, vec![c, 1, 1], Data::F32(gamma.clone()));
                g.constant(&bn, vec![c, 1, 1], Data::F32(beta.clone()));
                let (m, out) = (fresh("scaled"), fresh("affine"));
                g.node("Mul", &[&cur, &gn], &m, vec![]);
                g.node("Add", &[&m, &bn], &out, vec![]);
                cur = out;
            }
            Layer::Relu => {
                let out = fresh("relu");
                g.node("Relu", &[&cur], &out, vec![]);
                cur = out;
            }
            Layer::MaxPool { size, stride } | Layer::AvgPool { size, stride } => {
                let out = fresh("pool");
                if *size == 0 {
                    g.node("GlobalAveragePool", &[&cur], &out, vec![]);
                    shape = [shape[0], 1, 1];
                } else {
                    let op = if matches!(layers[i], Layer::MaxPool { .. }) {
                        "MaxPool"
                    } else {
                        "AveragePool"
                    };
                    g.node(
                        op,
                        &[&cur],
                        &out,
                        vec![
                            ("kernel_shape", Attr::Ints(vec![*size as i64; 2])),
                            ("strides", Attr::Ints(vec![*stride as i64; 2])),
                        ],
                    );
                    shape = [
                        shape[0],
                        1 + (shape[1] - size) / stride,
                        1 + (shape[2] - size) / stride,
                    ];
                }
                cur = out;
            }
            Layer::AddPrev => {
                let (other, other_shape) =
                    branch.take().unwrap_or((block_in.clone(), block_in_shape));
                // dlib adds tensors of different sizes by padding the smaller with zeros at the end.
                let target = [0, 1, 2].map(|k| shape[k].max(other_shape[k]));
                let mut pad_to = |name: &str, s: [usize; 3], g: &mut Graph| -> String {
                    if s == target {
                        return name.to_string();
                    }
                    let pads = fresh("pads");
                    g.constant(
                        &pads,
                        vec![8],
                        Data::I64(vec![
                            0,
                            0,
                            0,
                            0,
                            0,
                            (target[0] - s[0]) as i64,
                            (target[1] - s[1]) as i64,
                            (target[2] - s[2]) as i64,
                        ]),
                    );
                    let out = fresh("padded");
                    g.node("Pad", &[name, &pads], &out, vec![]);
                    out
                };
                let a = pad_to(&cur, shape, &mut g);
                let b = pad_to(&other, other_shape, &mut g);
                let out = fresh("sum");
                g.node("Add", &[&a, &b], &out, vec![]);
                cur = out;
                shape = target;
            }
            Layer::Dense {
                outputs,
                inputs,
                weights,
            } => {
                let flat = fresh("flat");
                g.node("Flatten", &[&cur], &flat, vec![]);
                let wn = fresh("dense");
                g.constant(
                    &wn,
                    vec![*inputs as i64, *outputs as i64],
                    Data::F32(weights.clone()),
                );
                g.node("MatMul", &[&flat, &wn], "descriptor", vec![]);
                cur = "descriptor".into();
            }
        }
        i += 1;
    }
    if cur != "descriptor" {
        return Err(ConvertError("dlib model: no descriptor layer".into()));
    }
    g.outputs.push(("descriptor".into(), vec![1, 128]));
    Ok((g.finish(), spec))
}
