//! Writes the ONNX graph reel builds from a TFLite model, for inspection with ONNX tools.
//! Usage: cargo run -p reel-convert --example tflite_to_onnx -- MODEL.tflite OUT.onnx

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, input, output] = args.as_slice() else {
        return Err("usage: tflite_to_onnx MODEL.tflite OUT.onnx".into());
    };
    let onnx = reel_convert::tflite_to_onnx(&std::fs::read(input)?)?;
    std::fs::write(output, onnx)?;
    Ok(())
}
