//! A minimal ONNX model writer: the protobuf messages of `onnx.proto` that a static float graph
//! needs, encoded by hand so that no protobuf compiler is needed at build time.

#[derive(Default)]
struct Pb(Vec<u8>);

impl Pb {
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }
    fn key(&mut self, field: u32, wire: u8) {
        self.varint(((field as u64) << 3) | wire as u64);
    }
    fn int(&mut self, field: u32, v: i64) {
        self.key(field, 0);
        self.varint(v as u64);
    }
    fn float(&mut self, field: u32, v: f32) {
        self.key(field, 5);
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn bytes(&mut self, field: u32, b: &[u8]) {
        self.key(field, 2);
        self.varint(b.len() as u64);
        self.0.extend_from_slice(b);
    }
    fn str(&mut self, field: u32, s: &str) {
        self.bytes(field, s.as_bytes());
    }
    fn msg(&mut self, field: u32, m: Pb) {
        self.bytes(field, &m.0);
    }
}

/// An ONNX attribute value.
pub enum Attr {
    Int(i64),
    Float(f32),
    Ints(Vec<i64>),
    Str(String),
}

/// A constant tensor (initializer).
pub enum Data {
    F32(Vec<f32>),
    I64(Vec<i64>),
}

pub struct Initializer {
    pub name: String,
    pub dims: Vec<i64>,
    pub data: Data,
}

pub struct Node {
    pub op: &'static str,
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
    pub attrs: Vec<(&'static str, Attr)>,
}

/// A graph under construction; `finish` encodes it as a serialized `ModelProto`.
#[derive(Default)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub initializers: Vec<Initializer>,
    pub inputs: Vec<(String, Vec<i64>)>,
    pub outputs: Vec<(String, Vec<i64>)>,
}

const OPSET: i64 = 17;

impl Graph {
    pub fn node(
        &mut self,
        op: &'static str,
        inputs: &[&str],
        output: &str,
        attrs: Vec<(&'static str, Attr)>,
    ) {
        self.nodes.push(Node {
            op,
            inputs: inputs.iter().map(|s| s.to_string()).collect(),
            outputs: vec![output.to_string()],
            attrs,
        });
    }

    pub fn constant(&mut self, name: &str, dims: Vec<i64>, data: Data) {
        self.initializers.push(Initializer {
            name: name.to_string(),
            dims,
            data,
        });
    }

    pub fn finish(&self) -> Vec<u8> {
        let mut g = Pb::default();
        for n in &self.nodes {
            let mut m = Pb::default();
            for i in &n.inputs {
                m.str(1, i);
            }
            for o in &n.outputs {
                m.str(2, o);
            }
            m.str(3, &n.outputs[0]);
            m.str(4, n.op);
            for (name, a) in &n.attrs {
                let mut am = Pb::default();
                am.str(1, name);
                match a {
                    Attr::Float(f) => {
                        am.float(2, *f);
                        am.int(20, 1);
                    }
                    Attr::Int(i) => {
                        am.int(3, *i);
                        am.int(20, 2);
                    }
                    Attr::Str(s) => {
                        am.str(4, s);
                        am.int(20, 3);
                    }
                    Attr::Ints(v) => {
                        for i in v {
                            am.int(8, *i);
                        }
                        am.int(20, 7);
                    }
                }
                m.msg(5, am);
            }
            g.msg(1, m);
        }
        g.str(2, "reel");
        for init in &self.initializers {
            let mut t = Pb::default();
            for d in &init.dims {
                t.int(1, *d);
            }
            match &init.data {
                Data::F32(v) => {
                    t.int(2, 1);
                    t.str(8, &init.name);
                    let raw: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
                    t.bytes(9, &raw);
                }
                Data::I64(v) => {
                    t.int(2, 7);
                    t.str(8, &init.name);
                    let raw: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
                    t.bytes(9, &raw);
                }
            }
            g.msg(5, t);
        }
        for (field, list) in [(11, &self.inputs), (12, &self.outputs)] {
            for (name, dims) in list {
                g.msg(field, value_info(name, dims));
            }
        }
        let mut model = Pb::default();
        model.int(1, 8); // IR version 8 goes with opset 17.
        model.str(2, "reel");
        model.msg(7, g);
        let mut opset = Pb::default();
        opset.str(1, "");
        opset.int(2, OPSET);
        model.msg(8, opset);
        model.0
    }
}

fn value_info(name: &str, dims: &[i64]) -> Pb {
    let mut shape = Pb::default();
    for d in dims {
        let mut dim = Pb::default();
        dim.int(1, *d);
        shape.msg(1, dim);
    }
    let mut tensor = Pb::default();
    tensor.int(1, 1);
    tensor.msg(2, shape);
    let mut ty = Pb::default();
    ty.msg(1, tensor);
    let mut vi = Pb::default();
    vi.str(1, name);
    vi.msg(2, ty);
    vi
}
