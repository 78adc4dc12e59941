//! The converters' own checks: what the ONNX writer encodes reads back the same, and the real
//! models reel converts (MediaPipe's TFLite files, dlib's network) become well-formed graphs with
//! the inputs and outputs of the originals. (That the converted graphs compute what the
//! originals do is reel-face's parity test.) The real-model tests need `reel setup`.

use std::collections::HashSet;

use reel_assets::{ModelId, models_dir};
use reel_convert::onnx::{Attr, Data, Graph};
use reel_convert::{dlib, tflite, tflite_to_onnx};

/// A protobuf field: its number and either a varint, 4 bytes or length-delimited bytes.
enum Value<'a> {
    Int(u64),
    Fixed32([u8; 4]),
    Bytes(&'a [u8]),
}

fn varint(b: &[u8], pos: &mut usize) -> u64 {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let byte = b[*pos];
        *pos += 1;
        v |= ((byte & 0x7f) as u64) << shift;
        if byte < 0x80 {
            return v;
        }
        shift += 7;
    }
}

fn fields(b: &[u8]) -> Vec<(u32, Value<'_>)> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < b.len() {
        let key = varint(b, &mut pos);
        let (field, wire) = ((key >> 3) as u32, key & 7);
        let v = match wire {
            0 => Value::Int(varint(b, &mut pos)),
            5 => {
                let v = Value::Fixed32(b[pos..pos + 4].try_into().unwrap());
                pos += 4;
                v
            }
            2 => {
                let n = varint(b, &mut pos) as usize;
                let v = Value::Bytes(&b[pos..pos + n]);
                pos += n;
                v
            }
            w => panic!("wire type {w} is not written by reel"),
        };
        out.push((field, v));
    }
    out
}

fn messages(b: &[u8], field: u32) -> Vec<&[u8]> {
    fields(b)
        .into_iter()
        .filter_map(|(f, v)| match v {
            Value::Bytes(m) if f == field => Some(m),
            _ => None,
        })
        .collect()
}

fn strings(b: &[u8], field: u32) -> Vec<String> {
    messages(b, field)
        .into_iter()
        .map(|m| String::from_utf8(m.to_vec()).unwrap())
        .collect()
}

fn ints(b: &[u8], field: u32) -> Vec<i64> {
    fields(b)
        .into_iter()
        .filter_map(|(f, v)| match v {
            Value::Int(i) if f == field => Some(i as i64),
            _ => None,
        })
        .collect()
}

/// The graph of a ModelProto, after checking its opset.
fn graph(model: &[u8]) -> &[u8] {
    let opset = messages(model, 8);
    assert_eq!(ints(opset[0], 2), vec![17]);
    messages(model, 7)[0]
}

/// A value info's dimensions.
fn dims(value_info: &[u8]) -> Vec<i64> {
    let ty = messages(value_info, 2)[0];
    let tensor = messages(ty, 1)[0];
    let shape = messages(tensor, 2)[0];
    messages(shape, 1)
        .into_iter()
        .map(|d| ints(d, 1)[0])
        .collect()
}

/// Every node input is a graph input, an initializer or an earlier node's output, and every
/// graph output is made.
fn assert_well_formed(g: &[u8]) {
    let mut known: HashSet<String> = messages(g, 11)
        .into_iter()
        .map(|vi| strings(vi, 1).remove(0))
        .collect();
    known.extend(messages(g, 5).into_iter().map(|t| strings(t, 8).remove(0)));
    for node in messages(g, 1) {
        for input in strings(node, 1) {
            assert!(
                input.is_empty() || known.contains(&input),
                "{} reads {input}, made nowhere before it",
                strings(node, 4)[0]
            );
        }
        known.extend(strings(node, 2));
    }
    for out in messages(g, 12) {
        assert!(known.contains(&strings(out, 1)[0]));
    }
}

#[test]
fn a_written_graph_reads_back_the_same() {
    let mut g = Graph::default();
    g.inputs.push(("x".into(), vec![1, 3, 4, 4]));
    g.constant(
        "w",
        vec![2, 3, 1, 1],
        Data::F32(vec![0.5, -1.0, 2.0, 3.0, 1e-3, -7.25]),
    );
    g.constant("shape", vec![2], Data::I64(vec![1, -1]));
    g.node(
        "Conv",
        &["x", "w"],
        "y",
        vec![("strides", Attr::Ints(vec![1, 1])), ("group", Attr::Int(1))],
    );
    g.node("LeakyRelu", &["y"], "z", vec![("alpha", Attr::Float(0.2))]);
    g.node("Reshape", &["z", "shape"], "out", vec![]);
    g.node(
        "Cast",
        &["out"],
        "named",
        vec![("to", Attr::Str("float".into()))],
    );
    g.outputs.push(("named".into(), vec![1, 32]));
    let bytes = g.finish();
    let gr = graph(&bytes);
    assert_well_formed(gr);

    let nodes = messages(gr, 1);
    let ops: Vec<String> = nodes.iter().map(|n| strings(n, 4).remove(0)).collect();
    assert_eq!(ops, ["Conv", "LeakyRelu", "Reshape", "Cast"]);
    assert_eq!(strings(nodes[0], 1), ["x", "w"]);
    assert_eq!(strings(nodes[2], 2), ["out"]);
    let attrs = messages(nodes[0], 5);
    assert_eq!(strings(attrs[0], 1), ["strides"]);
    assert_eq!(ints(attrs[0], 8), vec![1, 1]);
    assert_eq!(ints(attrs[1], 3), vec![1]);
    let alpha = fields(messages(nodes[1], 5)[0])
        .into_iter()
        .find_map(|(f, v)| match v {
            Value::Fixed32(b) if f == 2 => Some(f32::from_le_bytes(b)),
            _ => None,
        });
    assert_eq!(alpha, Some(0.2));
    assert_eq!(strings(messages(nodes[3], 5)[0], 4), ["float"]);

    let inits = messages(gr, 5);
    assert_eq!(ints(inits[0], 1), vec![2, 3, 1, 1]);
    assert_eq!(ints(inits[0], 2), vec![1]);
    let raw = messages(inits[0], 9)[0];
    let w: Vec<f32> = raw
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(w, vec![0.5, -1.0, 2.0, 3.0, 1e-3, -7.25]);
    let raw = messages(inits[1], 9)[0];
    let s: Vec<i64> = raw
        .chunks_exact(8)
        .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!((ints(inits[1], 2), s), (vec![7], vec![1, -1]));
    assert_eq!(dims(messages(gr, 11)[0]), vec![1, 3, 4, 4]);
    assert_eq!(dims(messages(gr, 12)[0]), vec![1, 32]);
}

#[test]
fn mediapipe_models_convert_to_well_formed_graphs_with_their_inputs_and_outputs() {
    for id in [
        ModelId::FaceDetectorShort,
        ModelId::FaceDetectorFull,
        ModelId::FaceMesh,
        ModelId::SelfieSegmentation,
    ] {
        let asset = id.asset();
        let bytes = std::fs::read(models_dir().join(asset.file))
            .unwrap_or_else(|_| panic!("{} is missing: run `reel setup`", asset.file));
        let model = tflite::Model::parse(&bytes).unwrap();
        let onnx = tflite_to_onnx(&bytes).unwrap();
        let g = graph(&onnx);
        assert_well_formed(g);
        let inputs = messages(g, 11);
        assert_eq!(inputs.len(), model.inputs.len(), "{}", asset.file);
        // NHWC in TFLite, NCHW in the graph.
        let s = &model.tensors[model.inputs[0]].shape;
        let nchw: Vec<i64> = [s[0], s[3], s[1], s[2]].iter().map(|&d| d as i64).collect();
        assert_eq!(dims(inputs[0]), nchw, "{}", asset.file);
        assert_eq!(messages(g, 12).len(), model.outputs.len(), "{}", asset.file);
        assert!(
            messages(g, 1).len() >= model.operators.len() / 2,
            "{}",
            asset.file
        );
    }
}

#[test]
fn dlibs_network_converts_to_a_well_formed_graph_with_a_128_number_descriptor() {
    let asset = ModelId::FaceRecognition.asset();
    let bytes = std::fs::read(models_dir().join(asset.file)).expect("run `reel setup`");
    let (onnx, spec) = dlib::face_recognition_to_onnx(&bytes).unwrap();
    assert_eq!(spec.size, 150);
    let g = graph(&onnx);
    assert_well_formed(g);
    assert_eq!(dims(messages(g, 11)[0]), vec![1, 3, 150, 150]);
    let out = messages(g, 12);
    assert_eq!(strings(out[0], 1), ["descriptor"]);
    assert_eq!(dims(out[0]), vec![1, 128]);
}
