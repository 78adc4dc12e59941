//! A reader for the TFLite flatbuffer format, just wide enough for the graphs reel converts.
//!
//! Flatbuffers are read in place: a table is an offset into the buffer plus a vtable that says
//! where each field lives. Field numbers follow TFLite's `schema.fbs`.

use crate::ConvertError;

#[derive(Clone, Copy)]
struct Table<'a> {
    buf: &'a [u8],
    pos: usize,
}

fn read_u32(buf: &[u8], pos: usize) -> Result<u32, ConvertError> {
    buf.get(pos..pos + 4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or_else(|| ConvertError("flatbuffer offset out of range".into()))
}

impl<'a> Table<'a> {
    fn root(buf: &'a [u8]) -> Result<Self, ConvertError> {
        let pos = read_u32(buf, 0)? as usize;
        Ok(Table { buf, pos })
    }

    /// Byte position of field `index`, or None when the field is absent (default value).
    fn field(&self, index: usize) -> Result<Option<usize>, ConvertError> {
        let soffset = read_u32(self.buf, self.pos)? as i32;
        let vtable = (self.pos as i64 - soffset as i64) as usize;
        let vt_len = u16_at(self.buf, vtable)? as usize;
        let slot = 4 + 2 * index;
        if slot + 2 > vt_len {
            return Ok(None);
        }
        let off = u16_at(self.buf, vtable + slot)? as usize;
        Ok((off != 0).then_some(self.pos + off))
    }

    fn scalar<T: Scalar>(&self, index: usize, default: T) -> Result<T, ConvertError> {
        match self.field(index)? {
            Some(p) => T::read(self.buf, p),
            None => Ok(default),
        }
    }

    fn indirect(&self, index: usize) -> Result<Option<usize>, ConvertError> {
        match self.field(index)? {
            Some(p) => Ok(Some(p + read_u32(self.buf, p)? as usize)),
            None => Ok(None),
        }
    }

    fn table(&self, index: usize) -> Result<Option<Table<'a>>, ConvertError> {
        Ok(self
            .indirect(index)?
            .map(|pos| Table { buf: self.buf, pos }))
    }

    /// A vector field as (start of elements, length).
    fn vector(&self, index: usize) -> Result<(usize, usize), ConvertError> {
        match self.indirect(index)? {
            Some(p) => Ok((p + 4, read_u32(self.buf, p)? as usize)),
            None => Ok((0, 0)),
        }
    }

    fn bytes(&self, index: usize) -> Result<&'a [u8], ConvertError> {
        let (start, len) = self.vector(index)?;
        self.buf
            .get(start..start + len)
            .ok_or_else(|| ConvertError("flatbuffer vector out of range".into()))
    }

    fn string(&self, index: usize) -> Result<String, ConvertError> {
        Ok(String::from_utf8_lossy(self.bytes(index)?).into_owned())
    }

    fn scalars<T: Scalar>(&self, index: usize) -> Result<Vec<T>, ConvertError> {
        let (start, len) = self.vector(index)?;
        (0..len)
            .map(|i| T::read(self.buf, start + i * T::SIZE))
            .collect()
    }

    fn tables(&self, index: usize) -> Result<Vec<Table<'a>>, ConvertError> {
        let (start, len) = self.vector(index)?;
        (0..len)
            .map(|i| {
                let p = start + 4 * i;
                Ok(Table {
                    buf: self.buf,
                    pos: p + read_u32(self.buf, p)? as usize,
                })
            })
            .collect()
    }
}

fn u16_at(buf: &[u8], pos: usize) -> Result<u16, ConvertError> {
    buf.get(pos..pos + 2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
        .ok_or_else(|| ConvertError("flatbuffer vtable out of range".into()))
}

trait Scalar: Sized + Copy {
    const SIZE: usize;
    fn read(buf: &[u8], pos: usize) -> Result<Self, ConvertError>;
}

macro_rules! scalar {
    ($t:ty) => {
        impl Scalar for $t {
            const SIZE: usize = std::mem::size_of::<$t>();
            fn read(buf: &[u8], pos: usize) -> Result<Self, ConvertError> {
                let b = buf
                    .get(pos..pos + Self::SIZE)
                    .ok_or_else(|| ConvertError("flatbuffer scalar out of range".into()))?;
                Ok(<$t>::from_le_bytes(b.try_into().expect("sized slice")))
            }
        }
    };
}
scalar!(u8);
scalar!(i8);
scalar!(u16);
scalar!(i32);
scalar!(u32);

/// Element types of TFLite tensors that reel meets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DType {
    F32,
    F16,
    I32,
    Other(u8),
}

#[derive(Clone, Debug)]
pub struct Tensor {
    pub name: String,
    pub shape: Vec<usize>,
    pub dtype: DType,
    pub buffer: usize,
    pub sparsity: Option<Sparsity>,
}

/// Sparse storage as TFLite's DENSIFY expects it: every dimension dense except the last, which is CSR.
#[derive(Clone, Debug)]
pub struct Sparsity {
    pub segments: Vec<usize>,
    pub indices: Vec<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Padding {
    Same,
    Valid,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    None,
    Relu,
    Relu6,
}

/// Operators with the options reel needs, already decoded.
#[derive(Clone, Debug)]
pub enum Op {
    Conv2d {
        padding: Padding,
        stride: [usize; 2],
        dilation: [usize; 2],
        activation: Activation,
    },
    DepthwiseConv2d {
        padding: Padding,
        stride: [usize; 2],
        dilation: [usize; 2],
        activation: Activation,
    },
    MaxPool2d(Pool),
    AveragePool2d(Pool),
    Add(Activation),
    Mul(Activation),
    Concatenation {
        axis: i32,
        activation: Activation,
    },
    Reshape,
    Pad,
    Relu,
    Prelu,
    Logistic,
    HardSwish,
    Dequantize,
    Densify,
    DepthToSpace {
        block: usize,
    },
    ResizeBilinear {
        align_corners: bool,
        half_pixel_centers: bool,
    },
    /// A dense layer: input times the transposed weights, plus the bias.
    FullyConnected(Activation),
    /// The mean over the axes the second input lists.
    Mean {
        keep_dims: bool,
    },
    /// MediaPipe's custom transposed convolution with bias.
    TransposeConvBias {
        padding: Padding,
        stride: [usize; 2],
    },
    Unsupported(String),
}

#[derive(Clone, Copy, Debug)]
pub struct Pool {
    pub padding: Padding,
    pub stride: [usize; 2],
    pub filter: [usize; 2],
    pub activation: Activation,
}

#[derive(Clone, Debug)]
pub struct Operator {
    pub op: Op,
    pub inputs: Vec<i32>,
    pub outputs: Vec<i32>,
}

/// The first subgraph of a TFLite model, with its constant buffers.
pub struct Model<'a> {
    pub tensors: Vec<Tensor>,
    pub operators: Vec<Operator>,
    pub inputs: Vec<usize>,
    pub outputs: Vec<usize>,
    buffers: Vec<&'a [u8]>,
}

impl<'a> Model<'a> {
    pub fn parse(buf: &'a [u8]) -> Result<Self, ConvertError> {
        if buf.len() < 8 || &buf[4..8] != b"TFL3" {
            return Err(ConvertError(
                "not a TFLite model (no TFL3 identifier)".into(),
            ));
        }
        let model = Table::root(buf)?;
        let codes = model
            .tables(1)?
            .iter()
            .map(|c| {
                let deprecated = c.scalar::<i8>(0, 0)? as i32;
                let code = c.scalar::<i32>(3, 0)?.max(deprecated);
                Ok((code, c.string(1)?))
            })
            .collect::<Result<Vec<_>, ConvertError>>()?;
        let buffers = model
            .tables(4)?
            .iter()
            .map(|b| b.bytes(0))
            .collect::<Result<Vec<_>, _>>()?;
        let graph = model
            .tables(2)?
            .into_iter()
            .next()
            .ok_or_else(|| ConvertError("model has no subgraph".into()))?;
        let tensors = graph
            .tables(0)?
            .iter()
            .map(read_tensor)
            .collect::<Result<Vec<_>, _>>()?;
        let operators = graph
            .tables(3)?
            .iter()
            .map(|o| read_operator(o, &codes))
            .collect::<Result<Vec<_>, _>>()?;
        let to_usize = |v: Vec<i32>| v.into_iter().map(|i| i as usize).collect::<Vec<_>>();
        Ok(Model {
            tensors,
            operators,
            inputs: to_usize(graph.scalars(1)?),
            outputs: to_usize(graph.scalars(2)?),
            buffers,
        })
    }

    /// The constant data of a tensor, if it has any.
    pub fn data(&self, tensor: usize) -> Option<&'a [u8]> {
        let b = *self.buffers.get(self.tensors[tensor].buffer)?;
        (!b.is_empty()).then_some(b)
    }
}

fn read_tensor(t: &Table) -> Result<Tensor, ConvertError> {
    let dtype = match t.scalar::<u8>(1, 0)? {
        0 => DType::F32,
        1 => DType::F16,
        2 => DType::I32,
        other => DType::Other(other),
    };
    let sparsity = match t.table(6)? {
        Some(s) => Some(read_sparsity(&s)?),
        None => None,
    };
    Ok(Tensor {
        shape: t
            .scalars::<i32>(0)?
            .into_iter()
            .map(|d| d.max(1) as usize)
            .collect(),
        dtype,
        buffer: t.scalar::<u32>(2, 0)? as usize,
        name: t.string(3)?,
        sparsity,
    })
}

fn read_sparsity(s: &Table) -> Result<Sparsity, ConvertError> {
    let order: Vec<i32> = s.scalars(0)?;
    let block_map: Vec<i32> = s.scalars(1)?;
    let dims = s.tables(2)?;
    let unsupported = || ConvertError("unsupported sparse tensor layout".into());
    if !block_map.is_empty() || order.iter().enumerate().any(|(i, &o)| o != i as i32) {
        return Err(unsupported());
    }
    let (last, dense) = dims.split_last().ok_or_else(unsupported)?;
    for d in dense {
        if d.scalar::<i8>(0, 0)? != 0 {
            return Err(unsupported());
        }
    }
    if last.scalar::<i8>(0, 0)? != 1 {
        return Err(unsupported());
    }
    let index_vector =
        |type_field: usize, value_field: usize| -> Result<Vec<usize>, ConvertError> {
            let kind = last.scalar::<u8>(type_field, 0)?;
            let v = last.table(value_field)?.ok_or_else(unsupported)?;
            Ok(match kind {
                1 => v
                    .scalars::<i32>(0)?
                    .into_iter()
                    .map(|x| x as usize)
                    .collect(),
                2 => v
                    .scalars::<u16>(0)?
                    .into_iter()
                    .map(|x| x as usize)
                    .collect(),
                3 => v
                    .scalars::<u8>(0)?
                    .into_iter()
                    .map(|x| x as usize)
                    .collect(),
                _ => return Err(unsupported()),
            })
        };
    Ok(Sparsity {
        segments: index_vector(2, 3)?,
        indices: index_vector(4, 5)?,
    })
}

fn padding(v: u8) -> Padding {
    if v == 1 {
        Padding::Valid
    } else {
        Padding::Same
    }
}

fn activation(v: i8) -> Result<Activation, ConvertError> {
    match v {
        0 => Ok(Activation::None),
        1 => Ok(Activation::Relu),
        3 => Ok(Activation::Relu6),
        other => Err(ConvertError(format!(
            "unsupported fused activation {other}"
        ))),
    }
}

fn read_operator(o: &Table, codes: &[(i32, String)]) -> Result<Operator, ConvertError> {
    let index = o.scalar::<u32>(0, 0)? as usize;
    let (code, custom) = codes
        .get(index)
        .ok_or_else(|| ConvertError("operator code index out of range".into()))?;
    let opts = o.table(4)?;
    let opt = |f: &dyn Fn(&Table) -> Result<Op, ConvertError>| -> Result<Op, ConvertError> {
        match &opts {
            Some(t) => f(t),
            None => Err(ConvertError(format!("operator {code} lacks its options"))),
        }
    };
    let pool = |t: &Table| -> Result<Pool, ConvertError> {
        Ok(Pool {
            padding: padding(t.scalar(0, 0u8)?),
            stride: [
                t.scalar::<i32>(2, 1)? as usize,
                t.scalar::<i32>(1, 1)? as usize,
            ],
            filter: [
                t.scalar::<i32>(4, 1)? as usize,
                t.scalar::<i32>(3, 1)? as usize,
            ],
            activation: activation(t.scalar(5, 0i8)?)?,
        })
    };
    let fused = |field: usize| -> Result<Activation, ConvertError> {
        match &opts {
            Some(t) => activation(t.scalar(field, 0i8)?),
            None => Ok(Activation::None),
        }
    };
    let op = match code {
        0 => Op::Add(fused(0)?),
        1 => opt(&|t| Ok(Op::AveragePool2d(pool(t)?)))?,
        2 => opt(&|t| {
            Ok(Op::Concatenation {
                axis: t.scalar(0, 0i32)?,
                activation: activation(t.scalar(1, 0i8)?)?,
            })
        })?,
        3 => opt(&|t| {
            Ok(Op::Conv2d {
                padding: padding(t.scalar(0, 0u8)?),
                stride: [
                    t.scalar::<i32>(2, 1)? as usize,
                    t.scalar::<i32>(1, 1)? as usize,
                ],
                activation: activation(t.scalar(3, 0i8)?)?,
                dilation: [
                    t.scalar::<i32>(5, 1)? as usize,
                    t.scalar::<i32>(4, 1)? as usize,
                ],
            })
        })?,
        4 => opt(&|t| {
            Ok(Op::DepthwiseConv2d {
                padding: padding(t.scalar(0, 0u8)?),
                stride: [
                    t.scalar::<i32>(2, 1)? as usize,
                    t.scalar::<i32>(1, 1)? as usize,
                ],
                activation: activation(t.scalar(4, 0i8)?)?,
                dilation: [
                    t.scalar::<i32>(6, 1)? as usize,
                    t.scalar::<i32>(5, 1)? as usize,
                ],
            })
        })?,
        5 => opt(&|t| {
            Ok(Op::DepthToSpace {
                block: t.scalar::<i32>(0, 1)? as usize,
            })
        })?,
        6 => Op::Dequantize,
        9 => Op::FullyConnected(fused(0)?),
        14 => Op::Logistic,
        17 => opt(&|t| Ok(Op::MaxPool2d(pool(t)?)))?,
        18 => Op::Mul(fused(0)?),
        19 => Op::Relu,
        22 => Op::Reshape,
        23 => match &opts {
            Some(t) => Op::ResizeBilinear {
                align_corners: t.scalar(2, 0u8)? != 0,
                half_pixel_centers: t.scalar(3, 0u8)? != 0,
            },
            None => Op::ResizeBilinear {
                align_corners: false,
                half_pixel_centers: false,
            },
        },
        34 => Op::Pad,
        40 => Op::Mean {
            keep_dims: match &opts {
                Some(t) => t.scalar(0, 0u8)? != 0,
                None => false,
            },
        },
        54 => Op::Prelu,
        117 => Op::HardSwish,
        124 => Op::Densify,
        32 if custom == "Convolution2DTransposeBias" => {
            // The options are a raw TfLiteTransposeConvParams struct: padding, stride_w, stride_h.
            let raw: Vec<u8> = o.scalars(5)?;
            let word = |i: usize| -> Result<i32, ConvertError> { i32::read(&raw, i * 4) };
            Op::TransposeConvBias {
                padding: if word(0)? == 2 {
                    Padding::Valid
                } else {
                    Padding::Same
                },
                stride: [word(2)? as usize, word(1)? as usize],
            }
        }
        32 => Op::Unsupported(format!("custom operator {custom}")),
        other => Op::Unsupported(format!("builtin operator {other}")),
    };
    Ok(Operator {
        op,
        inputs: o.scalars(1)?,
        outputs: o.scalars(2)?,
    })
}
