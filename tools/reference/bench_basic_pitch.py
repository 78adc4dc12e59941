"""basic-pitch's own timing on the same audio as `reel bench transcribe`, for the ratio it prints.

Development only: needs basic-pitch==0.4.0 and onnxruntime in the Python that runs it (see
basic_pitch_reference.py). Times reading the file, the model over it (windowing, the ONNX model,
joining) and the note decoding (without pitch bends, which reel does not compute), with ONNX Runtime on THREADS threads; prints one JSON object of median
seconds.

    python bench_basic_pitch.py AUDIO_22050_MONO.wav THREADS RUNS
"""

import json
import sys
import time

import numpy as np
import onnxruntime as ort
from basic_pitch import ICASSP_2022_MODEL_PATH
from basic_pitch.inference import Model, run_inference
from basic_pitch.note_creation import model_output_to_notes
import pathlib


def main():
    path, threads, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    onnx = pathlib.Path(ICASSP_2022_MODEL_PATH).parent / "nmp.onnx"
    model = Model(onnx)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    model.model = ort.InferenceSession(str(onnx), options, providers=["CPUExecutionProvider"])
    times = []
    for _ in range(runs + 1):
        t = time.perf_counter()
        output = run_inference(path, model)
        model_output_to_notes(
            output, onset_thresh=0.5, frame_thresh=0.3, min_note_len=11, include_pitch_bends=False
        )
        times.append(time.perf_counter() - t)
    print(json.dumps({"seconds": float(np.median(times[1:]))}))


if __name__ == "__main__":
    main()
