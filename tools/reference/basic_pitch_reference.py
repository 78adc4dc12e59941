"""Reference output of Spotify's basic-pitch (the Python package, ONNX model) for reel's
transcription parity test.

Run with basic-pitch==0.4.0 and onnxruntime installed (the package's other run-time needs:
librosa, pretty_midi, resampy, scipy, scikit-learn, mir_eval; tensorflow is not needed):

    python tools/reference/basic_pitch_reference.py OUT.json NAME=AUDIO.wav [NAME=AUDIO.wav ...]

Each input must be a mono 22050 Hz WAV file (the test makes them with ffmpeg), so that
basic-pitch reads exactly the samples reel reads. For each it stores every 5th frame of the note
and onset activations and the decoded note events (as frame indices).
"""

import json
import pathlib
import sys

import numpy as np
from basic_pitch import ICASSP_2022_MODEL_PATH
from basic_pitch.inference import Model, predict
from basic_pitch.note_creation import model_frames_to_time

ONNX = pathlib.Path(ICASSP_2022_MODEL_PATH).parent / "nmp.onnx"


def main() -> None:
    out, inputs = sys.argv[1], sys.argv[2:]
    model = Model(ONNX)
    result = {"basic_pitch": "0.4.0", "every": 5, "inputs": {}}
    for item in inputs:
        name, path = item.split("=", 1)
        output, _, events = predict(path, model)
        # Note times back to frame indices, which is what reel compares.
        times = model_frames_to_time(output["note"].shape[0])
        frame = lambda t: int(np.argmin(np.abs(times - t)))
        result["inputs"][name] = {
            "frames": int(output["note"].shape[0]),
            "note": np.round(output["note"][::5], 6).tolist(),
            "onset": np.round(output["onset"][::5], 6).tolist(),
            "notes": [
                {"start_frame": frame(s), "end_frame": frame(e), "pitch": int(p), "amplitude": float(a)}
                for s, e, p, a, _ in sorted(events, key=lambda n: (n[0], n[2]))
            ],
        }
    pathlib.Path(out).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
