"""Reference face descriptors from dlib itself, for reel's parity test of its own reading of
dlib's face recognition network.

Development only: needs `dlib-bin` (pip), the models and samples that `reel setup` installs, and
SHAPE_PREDICTOR pointing at shape_predictor_5_face_landmarks.dat from face_recognition_models.
Face chips are cut by ffmpeg with fixed filters, so the Rust test can make identical chips.
Writes crates/reel-face/tests/fixtures/dlib_reference.json.

    python tools/reference/dlib_reference.py
"""

import json
import os
import subprocess
from pathlib import Path

import dlib
import numpy as np

CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "reel"
MODELS = Path(os.environ.get("REEL_MODELS", CACHE / "models"))
SAMPLES = Path(os.environ.get("REEL_SAMPLES", CACHE / "samples"))
OUT = Path(__file__).resolve().parents[2] / "crates/reel-face/tests/fixtures/dlib_reference.json"

# (sample, frame, ffmpeg filter that cuts a 150x150 chip around the face)
CHIPS = [
    ("portrait.jpg", 0, "crop=520:520:195:150,scale=150:150"),
    ("talking_head.mp4", 60, "crop=170:170:195:95,scale=150:150"),
    ("speaker.mp4", 100, "crop=130:130:110:70,scale=150:150"),
]


def chip(sample, frame, filt):
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(SAMPLES / sample), "-vf", f"select=eq(n\\,{frame}),{filt}",
         "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True, check=True,
    ).stdout
    return np.frombuffer(raw, np.uint8).reshape(150, 150, 3).copy()


# Whole frames, aligned by dlib's own detector and 5-point predictor (the predictor comes from
# the same face_recognition_models package; pass its path as SHAPE_PREDICTOR).
ALIGNED = [("portrait.jpg", 0), ("talking_head.mp4", 0), ("talking_head.mp4", 90), ("speaker.mp4", 150),
           ("grace_hopper.jpg", 0), ("astronaut.png", 0)]


def whole_frame(sample, n):
    path = str(SAMPLES / sample)
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", path, "-vf", f"select=eq(n\\,{n})", "-frames:v", "1", "-f", "rawvideo",
         "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    w, h = map(int, subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height", "-of", "csv=p=0", path],
        capture_output=True, text=True, check=True).stdout.strip().split(","))
    return np.frombuffer(raw, np.uint8).reshape(h, w, 3).copy()


def main():
    net = dlib.face_recognition_model_v1(str(MODELS / "dlib_face_recognition_resnet_model_v1.dat"))
    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(os.environ["SHAPE_PREDICTOR"])
    aligned = []
    for sample, n in ALIGNED:
        img = whole_frame(sample, n)
        shape = predictor(img, detector(img, 1)[0])
        d = np.array(net.compute_face_descriptor(img, shape))
        aligned.append({"sample": sample, "frame": n, "descriptor": [round(float(v), 6) for v in d]})
    out = []
    for sample, frame, filt in CHIPS:
        d = np.array(net.compute_face_descriptor(chip(sample, frame, filt)))
        out.append({"sample": sample, "frame": frame, "filter": filt, "descriptor": [round(float(v), 6) for v in d]})
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"dlib": dlib.__version__, "chips": out, "aligned": aligned}, indent=1))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
