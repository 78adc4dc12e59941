"""Reference outputs from MediaPipe's own implementation, for reel's parity tests.

Development only: reel never runs Python. This script needs `mediapipe==0.10.14` and
`ai-edge-litert` (pip) and the models and samples that `reel setup` installs. It writes
crates/reel-face/tests/fixtures/mediapipe_reference.json, which the tests compare against.

    python tools/reference/mediapipe_reference.py            # everything
    python tools/reference/mediapipe_reference.py --models   # only the models' raw outputs
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "reel"
MODELS = Path(os.environ.get("REEL_MODELS", CACHE / "models"))
SAMPLES = Path(os.environ.get("REEL_SAMPLES", CACHE / "samples"))
OUT = Path(__file__).resolve().parents[2] / "crates/reel-face/tests/fixtures/mediapipe_reference.json"


def frames(path):
    """Every frame as RGB, decoded by ffmpeg exactly as reel decodes it."""
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height", "-of", "csv=p=0", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout.strip().split(",")
    w, h = int(probe[0]), int(probe[1])
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:v:0", "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True, check=True,
    ).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, h, w, 3)


def deterministic_input(n):
    """The same pseudo-random model input the Rust test builds: values in [-1, 1)."""
    i = np.arange(n, dtype=np.int64)
    return (((i * 7919) % 1000) / 500.0 - 1.0).astype(np.float32)


def model_outputs():
    from ai_edge_litert.interpreter import Interpreter

    out = {}
    for name in ["face_detection_short_range", "face_detection_full_range_sparse", "face_landmark", "selfie_segmentation",
                 "palm_detection_full", "hand_landmark_full"]:
        it = Interpreter(model_path=str(MODELS / f"{name}.tflite"))
        it.allocate_tensors()
        inp = it.get_input_details()[0]
        n, h, w, c = inp["shape"]
        # The Rust side fills NCHW planes in order; hand TFLite the same values as NHWC.
        x = deterministic_input(n * c * h * w).reshape(n, c, h, w).transpose(0, 2, 3, 1).copy()
        it.set_tensor(inp["index"], x)
        it.invoke()
        outs = {}
        for od in it.get_output_details():
            v = it.get_tensor(od["index"]).reshape(-1)
            outs[od["name"]] = {"len": int(v.size), "every_13th": [round(float(a), 5) for a in v[::13]]}
        out[name] = outs
    return out


def mesh_record(result, w, h):
    faces = []
    for lm in result.multi_face_landmarks or []:
        faces.append([[round(p.x * w, 3), round(p.y * h, 3)] for p in lm.landmark])
    return faces


def detection_record(result, w, h):
    dets = []
    for d in result.detections or []:
        b = d.location_data.relative_bounding_box
        dets.append({
            "bbox": [round(b.xmin * w, 3), round(b.ymin * h, 3), round(b.width * w, 3), round(b.height * h, 3)],
            "score": round(d.score[0], 4),
        })
    return dets


def main():
    if "--models" in sys.argv:
        # Only the converted models' outputs, written into the existing file.
        ref = json.loads(OUT.read_text())
        ref["models"] = model_outputs()
        OUT.write_text(json.dumps(ref, separators=(",", ":")))
        print(f"updated the model outputs in {OUT}", file=sys.stderr)
        return
    import mediapipe as mp

    ref = {"mediapipe": mp.__version__, "models": model_outputs(), "static": {}, "tracking": {}}
    fm = mp.solutions.face_mesh
    fd = mp.solutions.face_detection
    clips = {"talking_head.mp4": range(0, 173, 12), "speaker.mp4": range(0, 237, 16)}
    for name, picks in clips.items():
        video = frames(SAMPLES / name)
        h, w = video.shape[1:3]
        entries = []
        with fm.FaceMesh(static_image_mode=True, max_num_faces=4) as mesh, fd.FaceDetection(model_selection=0) as det:
            for i in picks:
                entries.append({
                    "frame": i,
                    "detections": detection_record(det.process(video[i]), w, h),
                    "landmarks": mesh_record(mesh.process(video[i]), w, h),
                })
        ref["static"][name] = entries
        tracked = []
        with fm.FaceMesh(static_image_mode=False, max_num_faces=1) as mesh:
            for i, img in enumerate(video):
                faces = mesh_record(mesh.process(img), w, h)
                if i % 8 == 0:
                    tracked.append({"frame": i, "landmarks": faces})
        ref["tracking"][name] = tracked
    still = frames(SAMPLES / "portrait.jpg")[0]
    h, w = still.shape[:2]
    with fm.FaceMesh(static_image_mode=True, max_num_faces=4) as mesh, fd.FaceDetection(model_selection=0) as det:
        ref["static"]["portrait.jpg"] = [{
            "frame": 0,
            "detections": detection_record(det.process(still), w, h),
            "landmarks": mesh_record(mesh.process(still), w, h),
        }]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(ref, separators=(",", ":")))
    print(f"wrote {OUT} ({OUT.stat().st_size // 1024} KiB)", file=sys.stderr)


if __name__ == "__main__":
    main()
