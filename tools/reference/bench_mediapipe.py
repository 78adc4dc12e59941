"""MediaPipe's own timings on the same frames as `reel bench faces`, for the ratio it prints.

Development only: needs `mediapipe==0.10.14` in the Python that runs it. Reads raw RGB frames
from files written by `reel bench faces` and prints one JSON object of median milliseconds.

    python bench_mediapipe.py FRAMES_DIR
"""

import json
import sys
import time
from pathlib import Path

import numpy as np


def load(path):
    meta = json.loads((path.with_suffix(".json")).read_text())
    data = np.fromfile(path, np.uint8)
    return data.reshape(meta["frames"], meta["height"], meta["width"], 3)


def median_ms(fn, items, warmup=3):
    for x in items[:warmup]:
        fn(x)
    times = []
    for x in items:
        t = time.perf_counter()
        fn(x)
        times.append((time.perf_counter() - t) * 1000)
    return float(np.median(times))


def main():
    import mediapipe as mp

    folder = Path(sys.argv[1])
    out = {}
    vga = load(folder / "vga.rgb")
    with mp.solutions.face_detection.FaceDetection(model_selection=0) as det:
        out["detection_ms"] = median_ms(det.process, [vga[0]] * 50)
    with mp.solutions.face_mesh.FaceMesh(static_image_mode=False, max_num_faces=1) as mesh:
        out["tracking_ms"] = median_ms(mesh.process, list(vga))
    for name in ["720p", "1080p"]:
        frames = load(folder / f"{name}.rgb")
        with mp.solutions.face_mesh.FaceMesh(static_image_mode=False, max_num_faces=1) as mesh:
            out[f"analysis_{name}_ms"] = median_ms(mesh.process, list(frames))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
