//! Converts a TFLite graph (NHWC, float16 weights behind DEQUANTIZE, TF 'SAME' padding) into an
//! equivalent ONNX graph in NCHW layout that ONNX Runtime runs at full speed.
//!
//! Weights are decoded and re-laid out here at load time, so nothing converted is ever stored.
//! The ONNX graph takes its image input as NCHW float32 and returns the model's outputs in
//! TFLite's own layout and names.

use std::collections::HashMap;

use crate::ConvertError;
use crate::onnx::{Attr, Data, Graph};
use crate::tflite::{Activation, DType, Model, Op, Padding, Pool};

/// A constant tensor in TFLite's (NHWC) layout.
#[derive(Clone)]
struct Const {
    shape: Vec<usize>,
    values: Vec<f32>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// A 4-D activation stored as NCHW (TFLite's NHWC transposed).
    Nchw,
    /// Anything else, stored exactly as TFLite has it.
    Plain,
}

struct Converter<'m, 'a> {
    model: &'m Model<'a>,
    graph: Graph,
    consts: HashMap<usize, Const>,
    layouts: HashMap<usize, Layout>,
    counter: usize,
}

/// Converts the model and returns a serialized ONNX `ModelProto`.
pub fn tflite_to_onnx(tflite: &[u8]) -> Result<Vec<u8>, ConvertError> {
    let model = Model::parse(tflite)?;
    let mut c = Converter {
        model: &model,
        graph: Graph::default(),
        consts: HashMap::new(),
        layouts: HashMap::new(),
        counter: 0,
    };
    for (i, t) in model.tensors.iter().enumerate() {
        if let Some(bytes) = model.data(i)
            && t.sparsity.is_none()
        {
            c.consts.insert(i, decode_const(t.dtype, &t.shape, bytes)?);
        }
    }
    for &i in &model.inputs {
        let s = &model.tensors[i].shape;
        if s.len() != 4 {
            return Err(ConvertError("model input is not an image tensor".into()));
        }
        c.graph.inputs.push((
            tname(i),
            vec![s[0] as i64, s[3] as i64, s[1] as i64, s[2] as i64],
        ));
        c.layouts.insert(i, Layout::Nchw);
    }
    for op in &model.operators {
        c.operator(op)?;
    }
    for &i in &model.outputs {
        let t = &model.tensors[i];
        let name = t.name.clone();
        let src = tname(i);
        match c.layouts.get(&i) {
            Some(Layout::Nchw) => c.graph.node(
                "Transpose",
                &[&src],
                &name,
                vec![("perm", Attr::Ints(vec![0, 2, 3, 1]))],
            ),
            Some(Layout::Plain) => c.graph.node("Identity", &[&src], &name, vec![]),
            None => {
                return Err(ConvertError(format!("output {name} is never computed")));
            }
        }
        c.graph
            .outputs
            .push((name, t.shape.iter().map(|&d| d as i64).collect()));
    }
    Ok(c.graph.finish())
}

fn tname(i: usize) -> String {
    format!("t{i}")
}

fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h >> 15) as u32) << 31;
    let exp = ((h >> 10) & 0x1f) as u32;
    let frac = (h & 0x3ff) as u32;
    let bits = match (exp, frac) {
        (0, 0) => sign,
        (0, _) => {
            // Subnormal: normalise the fraction.
            let mut e = 127 - 15 + 1;
            let mut f = frac;
            while f & 0x400 == 0 {
                f <<= 1;
                e -= 1;
            }
            sign | ((e as u32) << 23) | ((f & 0x3ff) << 13)
        }
        (0x1f, _) => sign | 0x7f80_0000 | (frac << 13),
        _ => sign | ((exp + 127 - 15) << 23) | (frac << 13),
    };
    f32::from_bits(bits)
}

fn decode_const(dtype: DType, shape: &[usize], bytes: &[u8]) -> Result<Const, ConvertError> {
    let values: Vec<f32> = match dtype {
        DType::F32 => bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
        DType::F16 => bytes
            .chunks_exact(2)
            .map(|b| f16_to_f32(u16::from_le_bytes([b[0], b[1]])))
            .collect(),
        DType::I32 => bytes
            .chunks_exact(4)
            .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f32)
            .collect(),
        DType::Other(t) => return Err(ConvertError(format!("unsupported tensor type {t}"))),
    };
    Ok(Const {
        shape: shape.to_vec(),
        values,
    })
}

/// TF 'SAME' padding for one spatial axis: (before, after).
fn same_pad(input: usize, kernel: usize, stride: usize, dilation: usize) -> (i64, i64) {
    let out = input.div_ceil(stride);
    let effective = (kernel - 1) * dilation + 1;
    let total = ((out - 1) * stride + effective).saturating_sub(input);
    ((total / 2) as i64, (total - total / 2) as i64)
}

fn pads(
    padding: Padding,
    in_hw: [usize; 2],
    k: [usize; 2],
    s: [usize; 2],
    d: [usize; 2],
) -> Vec<i64> {
    match padding {
        Padding::Valid => vec![0, 0, 0, 0],
        Padding::Same => {
            let (t, b) = same_pad(in_hw[0], k[0], s[0], d[0]);
            let (l, r) = same_pad(in_hw[1], k[1], s[1], d[1]);
            vec![t, l, b, r]
        }
    }
}

/// Permutes an NHWC array to NCHW (`to_nchw`) or an OHWI kernel to OIHW.
fn nhwc_to_nchw(values: &[f32], [n, h, w, c]: [usize; 4]) -> Vec<f32> {
    let mut out = vec![0.0; values.len()];
    for ni in 0..n {
        for hi in 0..h {
            for wi in 0..w {
                for ci in 0..c {
                    out[((ni * c + ci) * h + hi) * w + wi] =
                        values[((ni * h + hi) * w + wi) * c + ci];
                }
            }
        }
    }
    out
}

fn as4(shape: &[usize]) -> Result<[usize; 4], ConvertError> {
    shape
        .try_into()
        .map_err(|_| ConvertError(format!("expected a 4-D tensor, got shape {shape:?}")))
}

impl Converter<'_, '_> {
    fn fresh(&mut self, what: &str) -> String {
        self.counter += 1;
        format!("{what}_{}", self.counter)
    }

    fn shape(&self, t: usize) -> &[usize] {
        &self.model.tensors[t].shape
    }

    fn konst(&self, t: usize) -> Result<&Const, ConvertError> {
        self.consts.get(&t).ok_or_else(|| {
            ConvertError(format!(
                "tensor {} must be constant",
                self.model.tensors[t].name
            ))
        })
    }

    fn add_const(&mut self, dims: Vec<i64>, data: Data) -> String {
        let name = self.fresh("c");
        self.graph.constant(&name, dims, data);
        name
    }

    fn ints(&mut self, v: Vec<i64>) -> String {
        self.add_const(vec![v.len() as i64], Data::I64(v))
    }

    /// The ONNX name of an operand: an activation, or a constant laid out to broadcast against
    /// an NCHW activation.
    fn operand(&mut self, t: usize, against: Layout) -> Result<String, ConvertError> {
        if self.layouts.contains_key(&t) {
            return Ok(tname(t));
        }
        let k = self.konst(t)?.clone();
        self.const_operand(k, against)
    }

    /// Adds a constant laid out to broadcast against an activation of layout `against`.
    fn const_operand(&mut self, k: Const, against: Layout) -> Result<String, ConvertError> {
        if against == Layout::Nchw && !k.shape.is_empty() {
            let mut s4 = vec![1usize; 4 - k.shape.len().min(4)];
            s4.extend_from_slice(&k.shape);
            let s4 = as4(&s4)?;
            let v = nhwc_to_nchw(&k.values, s4);
            let dims = vec![s4[0] as i64, s4[3] as i64, s4[1] as i64, s4[2] as i64];
            return Ok(self.add_const(dims, Data::F32(v)));
        }
        let dims = k.shape.iter().map(|&d| d as i64).collect();
        Ok(self.add_const(dims, Data::F32(k.values)))
    }

    fn activation_node(&mut self, pre: String, out: usize, act: Activation) {
        let name = tname(out);
        match act {
            Activation::None => self.graph.node("Identity", &[&pre], &name, vec![]),
            Activation::Relu => self.graph.node("Relu", &[&pre], &name, vec![]),
            Activation::Relu6 => {
                let lo = self.add_const(vec![], Data::F32(vec![0.0]));
                let hi = self.add_const(vec![], Data::F32(vec![6.0]));
                self.graph.node("Clip", &[&pre, &lo, &hi], &name, vec![]);
            }
        }
    }

    /// Where an op is followed by an activation, the op writes to a temporary name first.
    fn pre_activation(&mut self, out: usize, act: Activation) -> String {
        if act == Activation::None {
            tname(out)
        } else {
            self.fresh("pre")
        }
    }

    fn finish_activation(&mut self, pre: String, out: usize, act: Activation) {
        if act != Activation::None {
            self.activation_node(pre, out, act);
        }
    }

    /// An activation in TFLite's own (NHWC) order, transposed back where it is held as NCHW.
    fn in_tflite_order(&mut self, t: usize) -> String {
        if self.layouts[&t] != Layout::Nchw {
            return tname(t);
        }
        let name = self.fresh("nhwc");
        self.graph.node(
            "Transpose",
            &[&tname(t)],
            &name,
            vec![("perm", Attr::Ints(vec![0, 2, 3, 1]))],
        );
        name
    }

    fn operator(&mut self, op: &crate::tflite::Operator) -> Result<(), ConvertError> {
        let ins: Vec<usize> = op.inputs.iter().map(|&i| i as usize).collect();
        let out = op.outputs[0] as usize;
        match &op.op {
            Op::Dequantize => {
                let k = self.konst(ins[0])?.clone();
                self.consts.insert(out, k);
            }
            Op::Densify => {
                let t = &self.model.tensors[ins[0]];
                let sp = t.sparsity.as_ref().expect("DENSIFY input is sparse");
                let values = decode_const(
                    t.dtype,
                    &[],
                    self.model
                        .data(ins[0])
                        .ok_or_else(|| ConvertError("sparse tensor without data".into()))?,
                )?
                .values;
                let last = *t.shape.last().unwrap_or(&1);
                let total: usize = t.shape.iter().product();
                let mut dense = vec![0.0f32; total];
                for row in 0..sp.segments.len().saturating_sub(1) {
                    for k in sp.segments[row]..sp.segments[row + 1] {
                        let col = *sp
                            .indices
                            .get(k)
                            .ok_or_else(|| ConvertError("bad sparse index".into()))?;
                        let v = *values
                            .get(k)
                            .ok_or_else(|| ConvertError("bad sparse value".into()))?;
                        *dense
                            .get_mut(row * last + col)
                            .ok_or_else(|| ConvertError("sparse index out of range".into()))? = v;
                    }
                }
                self.consts.insert(
                    out,
                    Const {
                        shape: t.shape.clone(),
                        values: dense,
                    },
                );
            }
            Op::Conv2d {
                padding,
                stride,
                dilation,
                activation,
            }
            | Op::DepthwiseConv2d {
                padding,
                stride,
                dilation,
                activation,
            } => {
                let depthwise = matches!(op.op, Op::DepthwiseConv2d { .. });
                let x = as4(self.shape(ins[0]))?;
                let w = self.konst(ins[1])?.clone();
                let [o, kh, kw, i] = as4(&w.shape)?;
                // OHWI -> OIHW; a depthwise kernel is 1HW(C*m) -> (C*m)1HW.
                let (weights, dims) = if depthwise {
                    (
                        nhwc_to_nchw(&w.values, [1, kh, kw, i]),
                        vec![i as i64, 1, kh as i64, kw as i64],
                    )
                } else {
                    (
                        nhwc_to_nchw(&w.values, [o, kh, kw, i]),
                        vec![o as i64, i as i64, kh as i64, kw as i64],
                    )
                };
                let wname = self.add_const(dims, Data::F32(weights));
                let mut inputs = vec![tname(ins[0]), wname];
                if let Some(&b) = ins
                    .get(2)
                    .filter(|&&b| b != usize::MAX && self.consts.contains_key(&b))
                {
                    let bias = self.konst(b)?.clone();
                    inputs.push(
                        self.add_const(vec![bias.values.len() as i64], Data::F32(bias.values)),
                    );
                }
                let mut attrs = vec![
                    ("kernel_shape", Attr::Ints(vec![kh as i64, kw as i64])),
                    (
                        "strides",
                        Attr::Ints(stride.iter().map(|&s| s as i64).collect()),
                    ),
                    (
                        "dilations",
                        Attr::Ints(dilation.iter().map(|&s| s as i64).collect()),
                    ),
                    (
                        "pads",
                        Attr::Ints(pads(*padding, [x[1], x[2]], [kh, kw], *stride, *dilation)),
                    ),
                ];
                if depthwise {
                    attrs.push(("group", Attr::Int(x[3] as i64)));
                }
                let pre = self.pre_activation(out, *activation);
                let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
                self.graph.node("Conv", &refs, &pre, attrs);
                self.finish_activation(pre, out, *activation);
                self.layouts.insert(out, Layout::Nchw);
            }
            Op::TransposeConvBias { padding, stride } => {
                let x = as4(self.shape(ins[0]))?;
                let y = as4(self.shape(out))?;
                let w = self.konst(ins[1])?.clone();
                let [o, kh, kw, i] = as4(&w.shape)?;
                // OHWI -> IOHW, as ONNX's ConvTranspose wants.
                let mut weights = vec![0.0f32; w.values.len()];
                for oi in 0..o {
                    for hi in 0..kh {
                        for wi in 0..kw {
                            for ii in 0..i {
                                weights[((ii * o + oi) * kh + hi) * kw + wi] =
                                    w.values[((oi * kh + hi) * kw + wi) * i + ii];
                            }
                        }
                    }
                }
                let wname = self.add_const(
                    vec![i as i64, o as i64, kh as i64, kw as i64],
                    Data::F32(weights),
                );
                let bias = self.konst(ins[2])?.clone();
                let bname = self.add_const(vec![o as i64], Data::F32(bias.values));
                let crop = |inp: usize, k: usize, s: usize, outp: usize| -> (i64, i64) {
                    let total = match padding {
                        Padding::Same => ((inp - 1) * s + k).saturating_sub(outp),
                        Padding::Valid => 0,
                    };
                    ((total / 2) as i64, (total - total / 2) as i64)
                };
                let (t, b) = crop(x[1], kh, stride[0], y[1]);
                let (l, r) = crop(x[2], kw, stride[1], y[2]);
                self.graph.node(
                    "ConvTranspose",
                    &[&tname(ins[0]), &wname, &bname],
                    &tname(out),
                    vec![
                        ("kernel_shape", Attr::Ints(vec![kh as i64, kw as i64])),
                        (
                            "strides",
                            Attr::Ints(stride.iter().map(|&s| s as i64).collect()),
                        ),
                        ("pads", Attr::Ints(vec![t, l, b, r])),
                    ],
                );
                self.layouts.insert(out, Layout::Nchw);
            }
            Op::MaxPool2d(p) | Op::AveragePool2d(p) => {
                let x = as4(self.shape(ins[0]))?;
                let Pool {
                    padding,
                    stride,
                    filter,
                    activation,
                } = *p;
                let onnx_op = if matches!(op.op, Op::MaxPool2d(_)) {
                    "MaxPool"
                } else {
                    "AveragePool"
                };
                let pre = self.pre_activation(out, activation);
                self.graph.node(
                    onnx_op,
                    &[&tname(ins[0])],
                    &pre,
                    vec![
                        (
                            "kernel_shape",
                            Attr::Ints(filter.iter().map(|&s| s as i64).collect()),
                        ),
                        (
                            "strides",
                            Attr::Ints(stride.iter().map(|&s| s as i64).collect()),
                        ),
                        (
                            "pads",
                            Attr::Ints(pads(padding, [x[1], x[2]], filter, stride, [1, 1])),
                        ),
                    ],
                );
                self.finish_activation(pre, out, activation);
                self.layouts.insert(out, Layout::Nchw);
            }
            Op::Add(act) | Op::Mul(act) => {
                let layout = ins
                    .iter()
                    .find_map(|i| self.layouts.get(i).copied())
                    .ok_or_else(|| ConvertError("binary op on constants only".into()))?;
                let a = self.operand(ins[0], layout)?;
                let b = self.operand(ins[1], layout)?;
                let onnx_op = if matches!(op.op, Op::Add(_)) {
                    "Add"
                } else {
                    "Mul"
                };
                let pre = self.pre_activation(out, *act);
                self.graph.node(onnx_op, &[&a, &b], &pre, vec![]);
                self.finish_activation(pre, out, *act);
                self.layouts.insert(out, layout);
            }
            Op::Prelu => {
                // ONNX Runtime's PRelu with per-channel slopes is slow on CPU (it leaves the
                // blocked NCHWc layout and broadcasts generically), so it is rewritten exactly
                // with operators that stay fast: max(x, s*x) when every slope is at most 1,
                // else relu(x)*(1-s) + s*x.
                let layout = self.layouts[&ins[0]];
                let x = tname(ins[0]);
                let slopes = self.konst(ins[1])?.clone();
                let slope = self.operand(ins[1], layout)?;
                let scaled = self.fresh("prelu_sx");
                self.graph.node("Mul", &[&x, &slope], &scaled, vec![]);
                if slopes.values.iter().all(|&v| v <= 1.0) {
                    self.graph.node("Max", &[&x, &scaled], &tname(out), vec![]);
                } else {
                    let complement = Const {
                        shape: slopes.shape,
                        values: slopes.values.iter().map(|v| 1.0 - v).collect(),
                    };
                    let one_minus = self.const_operand(complement, layout)?;
                    let (relu, kept) = (self.fresh("prelu_relu"), self.fresh("prelu_kept"));
                    self.graph.node("Relu", &[&x], &relu, vec![]);
                    self.graph.node("Mul", &[&relu, &one_minus], &kept, vec![]);
                    self.graph
                        .node("Add", &[&kept, &scaled], &tname(out), vec![]);
                }
                self.layouts.insert(out, layout);
            }
            Op::Relu | Op::Logistic | Op::HardSwish => {
                let onnx_op = match op.op {
                    Op::Relu => "Relu",
                    Op::Logistic => "Sigmoid",
                    _ => "HardSwish",
                };
                let layout = self.layouts[&ins[0]];
                self.graph
                    .node(onnx_op, &[&tname(ins[0])], &tname(out), vec![]);
                self.layouts.insert(out, layout);
            }
            Op::Pad => {
                let p = self.konst(ins[1])?.values.clone();
                let rank = p.len() / 2;
                let layout = self.layouts[&ins[0]];
                let order: Vec<usize> = if layout == Layout::Nchw {
                    vec![0, 3, 1, 2]
                } else {
                    (0..rank).collect()
                };
                let mut v: Vec<i64> = order.iter().map(|&a| p[2 * a] as i64).collect();
                v.extend(order.iter().map(|&a| p[2 * a + 1] as i64));
                let pname = self.ints(v);
                self.graph
                    .node("Pad", &[&tname(ins[0]), &pname], &tname(out), vec![]);
                self.layouts.insert(out, layout);
            }
            Op::Concatenation { axis, activation } => {
                let layout = self.layouts[&ins[0]];
                let rank = self.shape(out).len() as i32;
                let axis = if *axis < 0 { axis + rank } else { *axis };
                let axis = if layout == Layout::Nchw {
                    [0, 2, 3, 1][axis as usize]
                } else {
                    axis as i64
                };
                let names: Vec<String> = ins
                    .iter()
                    .map(|&i| self.operand(i, layout))
                    .collect::<Result<_, _>>()?;
                let refs: Vec<&str> = names.iter().map(String::as_str).collect();
                let pre = self.pre_activation(out, *activation);
                self.graph
                    .node("Concat", &refs, &pre, vec![("axis", Attr::Int(axis))]);
                self.finish_activation(pre, out, *activation);
                self.layouts.insert(out, layout);
            }
            Op::Reshape => {
                let src = self.in_tflite_order(ins[0]);
                let target: Vec<i64> = self.shape(out).iter().map(|&d| d as i64).collect();
                let four = target.len() == 4;
                let shape = self.ints(target);
                if four {
                    let t = self.fresh("reshaped");
                    self.graph.node("Reshape", &[&src, &shape], &t, vec![]);
                    self.graph.node(
                        "Transpose",
                        &[&t],
                        &tname(out),
                        vec![("perm", Attr::Ints(vec![0, 3, 1, 2]))],
                    );
                    self.layouts.insert(out, Layout::Nchw);
                } else {
                    self.graph
                        .node("Reshape", &[&src, &shape], &tname(out), vec![]);
                    self.layouts.insert(out, Layout::Plain);
                }
            }
            Op::DepthToSpace { block } => {
                self.graph.node(
                    "DepthToSpace",
                    &[&tname(ins[0])],
                    &tname(out),
                    vec![
                        ("blocksize", Attr::Int(*block as i64)),
                        ("mode", Attr::Str("DCR".into())),
                    ],
                );
                self.layouts.insert(out, Layout::Nchw);
            }
            Op::ResizeBilinear {
                align_corners,
                half_pixel_centers,
            } => {
                let y = as4(self.shape(out))?;
                let mode = if *align_corners {
                    "align_corners"
                } else if *half_pixel_centers {
                    "half_pixel"
                } else {
                    "asymmetric"
                };
                let sizes = self.ints(vec![y[0] as i64, y[3] as i64, y[1] as i64, y[2] as i64]);
                self.graph.node(
                    "Resize",
                    &[&tname(ins[0]), "", "", &sizes],
                    &tname(out),
                    vec![
                        ("mode", Attr::Str("linear".into())),
                        ("coordinate_transformation_mode", Attr::Str(mode.into())),
                    ],
                );
                self.layouts.insert(out, Layout::Nchw);
            }
            Op::FullyConnected(act) => {
                let weights = self.konst(ins[1])?.clone();
                let [units, depth] = weights.shape[..] else {
                    return Err(ConvertError(format!(
                        "dense weights must be 2-D, not {:?}",
                        weights.shape
                    )));
                };
                // TFLite flattens in NHWC order.
                let mut src = self.in_tflite_order(ins[0]);
                if self.shape(ins[0]).len() != 2 || self.layouts[&ins[0]] == Layout::Nchw {
                    let flat = self.ints(vec![-1, depth as i64]);
                    let t = self.fresh("flat");
                    self.graph.node("Reshape", &[&src, &flat], &t, vec![]);
                    src = t;
                }
                let w = self.add_const(vec![units as i64, depth as i64], Data::F32(weights.values));
                let bias = match ins
                    .get(2)
                    .filter(|&&b| b != usize::MAX && b < self.model.tensors.len())
                {
                    Some(&b) => self.konst(b)?.values.clone(),
                    None => vec![0.0; units],
                };
                let b = self.add_const(vec![units as i64], Data::F32(bias));
                let pre = self.pre_activation(out, *act);
                self.graph.node(
                    "Gemm",
                    &[&src, &w, &b],
                    &pre,
                    vec![("transB", Attr::Int(1))],
                );
                self.finish_activation(pre, out, *act);
                self.layouts.insert(out, Layout::Plain);
            }
            Op::Mean { keep_dims } => {
                let layout = self.layouts[&ins[0]];
                let rank = self.shape(ins[0]).len() as i64;
                let mut axes: Vec<i64> = self
                    .konst(ins[1])?
                    .values
                    .iter()
                    .map(|&a| {
                        let a = a as i64;
                        if a < 0 { a + rank } else { a }
                    })
                    .collect();
                if layout == Layout::Nchw {
                    // NHWC axes named in NCHW.
                    axes = axes.iter().map(|&a| [0, 2, 3, 1][a as usize]).collect();
                }
                axes.sort_unstable();
                // What is left of a 4-D NCHW tensor keeps that layout only if no axis went.
                let out_layout = if *keep_dims { layout } else { Layout::Plain };
                if !*keep_dims && layout == Layout::Nchw && axes != [2, 3] && axes != [1, 2, 3] {
                    return Err(ConvertError(format!(
                        "MEAN over NHWC axes other than the spatial ones ({axes:?}) is not supported"
                    )));
                }
                self.graph.node(
                    "ReduceMean",
                    &[&tname(ins[0])],
                    &tname(out),
                    vec![
                        ("axes", Attr::Ints(axes)),
                        ("keepdims", Attr::Int(i64::from(*keep_dims))),
                    ],
                );
                self.layouts.insert(out, out_layout);
            }
            Op::Unsupported(what) => {
                return Err(ConvertError(format!("unsupported TFLite {what}")));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_floats_decode_exactly() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x3555), 0.333_251_95);
        assert_eq!(f16_to_f32(0x0001), 5.960_464_5e-8);
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
    }

    #[test]
    fn same_padding_matches_tensorflow() {
        // 128 px, 3x3 kernel, stride 2: TF pads 0 before and 1 after.
        assert_eq!(same_pad(128, 3, 2, 1), (0, 1));
        assert_eq!(same_pad(128, 5, 1, 1), (2, 2));
        assert_eq!(same_pad(7, 2, 2, 1), (0, 1));
    }
}
