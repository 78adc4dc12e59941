#!/usr/bin/env python3
"""Bad-input sweep: every command family of reel given bad inputs, bad numbers, dangerous outputs
and signals, each in a scratch folder of user files. For every try it records the exit code,
whether reel panicked, whether it ended within its timeout, which user files changed (other than
the output it was asked to write), which partial files or ffmpeg processes were left, and how
long it took. It prints a Markdown table and exits non-zero if any bar is missed (a panic, a
hang, a changed user file, a partial file or child left behind).

    python3 scripts/sweep.py [--reel target/release/reel] [--only FAMILY] [--table FILE]

Needs `reel setup` (models and samples) and ffmpeg.
"""

import argparse
import hashlib
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

SAMPLES = None  # set in main
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXPECTED = {}  # exit code by the start of a try's description, where one is documented


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, **kw)


def make_user_files(dir):
    """The user's own files, made once and copied into each try's folder."""
    s = SAMPLES
    run(["ffmpeg", "-v", "error", "-y", "-i", f"{s}/talking_head.mp4", "-frames:v", "12",
         os.path.join(dir, "clip.mp4")])
    run(["ffmpeg", "-v", "error", "-y", "-i", f"{s}/talking_head.mp4", "-frames:v", "150",
         os.path.join(dir, "long.mp4")])
    run(["ffmpeg", "-v", "error", "-y", "-i", f"{s}/talking_head.mp4", "-c", "copy",
         "-movflags", "+faststart", os.path.join(dir, "fs.mp4")])
    with open(os.path.join(dir, "fs.mp4"), "rb") as f:
        data = f.read()
    with open(os.path.join(dir, "truncated.mp4"), "wb") as f:
        f.write(data[: len(data) * 35 // 100])
    os.remove(os.path.join(dir, "fs.mp4"))
    shutil.copy(f"{s}/grace_hopper.jpg", os.path.join(dir, "photo.jpg"))
    os.makedirs(os.path.join(dir, "seq"))
    run(["ffmpeg", "-v", "error", "-y", "-i", f"{s}/talking_head.mp4", "-frames:v", "3",
         "-start_number", "0", os.path.join(dir, "seq", "frame_%06d.png")])
    shutil.copy(f"{s}/maple_leaf_rag.mid", os.path.join(dir, "piece.mid"))
    run(["ffmpeg", "-v", "error", "-y", "-i", f"{s}/talking_head.mp4", "-t", "4", "-vn",
         "-ac", "1", "-ar", "22050", os.path.join(dir, "sound.wav")])
    run(["ffmpeg", "-v", "error", "-y", "-stream_loop", "12", "-i", f"{s}/talking_head.mp4",
         "-t", "70", "-vn", "-ac", "1", "-ar", "22050", os.path.join(dir, "minute.wav")])
    with open(os.path.join(dir, "notes.txt"), "w") as f:
        f.write("not media\n")
    shutil.copy(os.path.join(dir, "notes.txt"), os.path.join(dir, "notes.mid"))
    open(os.path.join(dir, "empty.mp4"), "w").close()
    with open(os.path.join(dir, "photo.jpg"), "rb") as f:
        jpg = f.read()
    with open(os.path.join(dir, "cut.jpg"), "wb") as f:
        f.write(jpg[: len(jpg) // 3])
    with open(f"{s}/astronaut.png", "rb") as f:
        png = f.read()
    with open(os.path.join(dir, "cut.png"), "wb") as f:
        f.write(png[:20000])
    os.makedirs(os.path.join(dir, "folder.mp4", "sub"))
    with open(os.path.join(dir, "folder.mp4", "sub", "mine.txt"), "w") as f:
        f.write("mine\n")
    os.makedirs(os.path.join(dir, "frames"))
    with open(os.path.join(dir, "frames", "mine.txt"), "w") as f:
        f.write("mine\n")
    shutil.copy(os.path.join(dir, "clip.mp4"), os.path.join(dir, "-dash.mp4"))
    os.symlink("photo.jpg", os.path.join(dir, "link.jpg"))
    os.makedirs(os.path.join(dir, "readonly"))
    os.chmod(os.path.join(dir, "readonly"), 0o555)
    with open(os.path.join(dir, "story.toml"), "w") as f:
        f.write('start = "a"\n[[ending]]\nid = "a"\npicture = "photo.jpg"\nseconds = 2\n')
    with open(os.path.join(dir, "cut.toml"), "w") as f:
        f.write('start = "a"\n[[ending]]\nid = "a"\npicture = "cut.png"\nseconds = 2\n')
    os.makedirs(os.path.join(dir, "mymodel"))
    for name in ["model.json", "model.safetensors"]:
        with open(os.path.join(dir, "mymodel", name), "w") as f:
            f.write("the user's model\n")
    with open(os.path.join(dir, "long.toml"), "w") as f:
        f.write('start = "a"\n[[ending]]\nid = "a"\npicture = "photo.jpg"\nseconds = 60\n')
    with open(os.path.join(dir, "broken.toml"), "w") as f:
        f.write('start = "a"\n[[ending]]\nid = "a"\npicture = "cut.jpg"\nseconds = 1e9\n')
    with open(os.path.join(dir, "model.json"), "w") as f:
        f.write("{}")
    # A complete (small, random) Wan model in the diffusers layout, and a noise file of its own.
    wan = os.path.join(ROOT, "crates", "reel-diffusion", "tests", "fixtures", "wan-t2v")
    shutil.copytree(wan, os.path.join(dir, "wan"))
    for other in ["wan-i2v", "wan-ti2v"]:
        shutil.copytree(os.path.join(os.path.dirname(wan), other), os.path.join(dir, other))
    shutil.copy(os.path.join(wan, "pipeline_io.safetensors"), os.path.join(dir, "noise.safetensors"))


def cases():
    """(family, what, arguments, output named, signal and delay or None, timeout)."""
    c = []

    def add(family, what, args, output=None, sig=None, timeout=90, env=None):
        c.append((family, what, args, output, sig, timeout, env or {}))

    def expect(code, *whats):
        for w in whats:
            EXPECTED[w] = code

    edit = {
        "beauty": [],
        "deage": ["--years", "20"],
        "process": ["--beauty", "0.5"],
        "swap": ["--photo", "photo.jpg", "--no-consent-check", "sweep"],
    }
    for fam, extra in edit.items():
        add(fam, "missing input", [fam, "nothere.mp4", "-o", "o.mp4"] + extra, "o.mp4")
        add(fam, "empty file", [fam, "empty.mp4", "-o", "o.mp4"] + extra, "o.mp4")
        add(fam, "text as video", [fam, "notes.txt", "-o", "o.mp4"] + extra, "o.mp4")
        add(fam, "truncated video", [fam, "truncated.mp4", "-o", "o.mp4"] + extra, "o.mp4")
        add(fam, "folder as output", [fam, "clip.mp4", "-o", "folder.mp4"] + extra)
        add(fam, "frames into a used folder", [fam, "clip.mp4", "-o", "frames"] + extra)
        add(fam, "output is the input", [fam, "clip.mp4", "-o", "clip.mp4"] + extra)
        add(fam, "output links to an input", [fam, "clip.mp4", "-o", "link.jpg"] + extra)
        add(fam, "unknown extension", [fam, "clip.mp4", "-o", "o.gif"] + extra, "o.gif")
        add(fam, "output under a file", [fam, "clip.mp4", "-o", "notes.txt/o.mp4"] + extra)
        add(fam, "crf 255", [fam, "clip.mp4", "-o", "o.mp4", "--crf", "255"] + extra, "o.mp4")
        add(fam, "path starting with -", [fam, "-o", "o.mp4"] + extra + ["--", "-dash.mp4"], "o.mp4")
        add(fam, "SIGINT mid-run", [fam, "long.mp4", "-o", "o.mp4"] + extra, "o.mp4",
            (signal.SIGINT, 1.5))
        add(fam, "SIGTERM mid-run", [fam, "long.mp4", "-o", "o.mp4"] + extra, "o.mp4",
            (signal.SIGTERM, 1.5))
    add("beauty", "compare sheet over the input", ["beauty", "photo.jpg", "--compare", "photo.jpg"])
    add("beauty", "compare sheet as a video", ["beauty", "photo.jpg", "--compare", "s.mp4"])
    add("beauty", "output over the reference", ["beauty", "clip.mp4", "--reference", "photo.jpg", "-o", "photo.jpg"])
    add("swap", "output over the model", ["swap", "clip.mp4", "--model", "mymodel", "-o", "mymodel/model.safetensors"])
    add("film", "check a cut picture", ["film", "check", "cut.toml"])
    add("film", "render a cut picture", ["film", "render", "cut.toml", "--audio", "sound.wav", "-o", "f.mp4"], "f.mp4", None, 60)
    gen = ["gen", "a fox in the snow", "--model", "wan"]
    add("gen", "no model index", ["gen", "a fox", "--model", "frames", "-o", "o.mp4"], "o.mp4")
    add("gen", "size 50x32", gen + ["--size", "50x32", "-o", "o.mp4"], "o.mp4")
    add("gen", "empty prompt", ["gen", " ", "--model", "wan", "-o", "o.mp4"], "o.mp4")
    add("gen", "noise file of another shape", gen + ["--noise", "noise.safetensors", "-o", "o.mp4"], "o.mp4")
    add("gen", "output over the noise file", gen + ["--size", "48x32", "--frames", "9", "--noise", "noise.safetensors", "-o", "noise.safetensors"])
    add("gen", "folder as output", gen + ["--size", "48x32", "--frames", "5", "--steps", "1", "-o", "folder.mp4"])
    add("gen", "image for a text-to-video model", gen + ["--image", "photo.jpg", "--size", "48x32", "-o", "o.mp4"], "o.mp4")
    i2v = ["gen", "a fox in the snow", "--model", "wan-i2v", "--size", "64x64", "--frames", "5", "--steps", "1"]
    add("gen", "image-to-video model without an image", i2v + ["-o", "o.mp4"], "o.mp4")
    add("gen", "text as the image", i2v + ["--image", "notes.txt", "-o", "o.mp4"], "o.mp4")
    add("gen", "output over the image", i2v + ["--image", "photo.jpg", "-o", "photo.jpg"])
    add("gen", "size 48x48 for TI2V (multiples of 32)", ["gen", "a fox", "--model", "wan-ti2v", "--size", "48x48", "--image", "photo.jpg", "-o", "o.mp4"], "o.mp4")
    add("gen", "SIGINT mid-run", gen + ["--size", "256x256", "--frames", "33", "--steps", "200", "-o", "o.mp4"], "o.mp4",
        (signal.SIGINT, 1.5))
    add("gen", "SIGTERM mid-run", gen + ["--size", "256x256", "--frames", "33", "--steps", "200", "-o", "o.mp4"], "o.mp4",
        (signal.SIGTERM, 1.5))
    add("beauty", "strength nan", ["beauty", "clip.mp4", "-o", "o.mp4", "--strength", "nan"])
    add("deage", "years 1e9", ["deage", "clip.mp4", "-o", "o.mp4", "--years", "1e9"])
    add("process", "beauty nan", ["process", "clip.mp4", "-o", "o.mp4", "--beauty", "nan"])
    add("swap", "photo without a face", ["swap", "clip.mp4", "--photo", "notes.txt", "-o", "o.mp4"])
    add("swap", "compare sheet over the photo", ["swap", "clip.mp4", "--photo", "photo.jpg", "--compare", "photo.jpg", "--no-consent-check", "sweep"])
    add("beauty", "frames over their own input", ["beauty", "seq/frame_%06d.png", "-o", "seq"])
    add("beauty", "video to /dev/null", ["beauty", "clip.mp4", "-o", "/dev/null", "--codec", "h264"])
    for fam, head in {"join": ["join", "--seconds", "0.2", "long.mp4"], "trim": ["trim"], "retime": ["retime"]}.items():
        add(fam, "missing input", head + ["nothere.mp4", "-o", "o.mp4"], "o.mp4")
        add(fam, "empty file", head + ["empty.mp4", "-o", "o.mp4"], "o.mp4")
        add(fam, "text as video", head + ["notes.txt", "-o", "o.mp4"], "o.mp4")
        add(fam, "truncated video", head + ["truncated.mp4", "-o", "o.mp4"], "o.mp4")
        add(fam, "still as a clip", head + ["photo.jpg", "-o", "o.mp4"], "o.mp4")
        add(fam, "folder as output", head + ["clip.mp4", "-o", "folder.mp4"])
        add(fam, "output is the input", head + ["clip.mp4", "-o", "clip.mp4"])
        add(fam, "unknown extension", head + ["clip.mp4", "-o", "o.gif"], "o.gif")
        add(fam, "output under a file", head + ["clip.mp4", "-o", "notes.txt/o.mp4"])
        add(fam, "crf 255", head + ["clip.mp4", "-o", "o.mp4", "--crf", "255"], "o.mp4")
        add(fam, "video to /dev/null", head + ["clip.mp4", "-o", "/dev/null", "--codec", "h264"])
        add(fam, "SIGINT mid-run", head + ["long.mp4", "-o", "o.mp4"], "o.mp4", (signal.SIGINT, 1.5))
        add(fam, "SIGTERM mid-run", head + ["long.mp4", "-o", "o.mp4"], "o.mp4", (signal.SIGTERM, 1.5))
    add("join", "seconds nan", ["join", "clip.mp4", "clip.mp4", "--seconds", "nan", "-o", "o.mp4"], "o.mp4")
    add("join", "seconds 0", ["join", "clip.mp4", "clip.mp4", "--seconds", "0", "-o", "o.mp4"], "o.mp4")
    add("join", "transition longer than a clip", ["join", "clip.mp4", "clip.mp4", "--seconds", "5", "-o", "o.mp4"], "o.mp4")
    add("join", "size 0x0", ["join", "clip.mp4", "clip.mp4", "--size", "0x0", "-o", "o.mp4"], "o.mp4")
    add("join", "fps 0", ["join", "clip.mp4", "clip.mp4", "--fps", "0", "-o", "o.mp4"], "o.mp4")
    add("join", "frames into a used folder", ["concat", "clip.mp4", "clip.mp4", "-o", "frames"])
    add("trim", "range past the end", ["trim", "clip.mp4", "--from", "500f", "-o", "o.mp4"], "o.mp4")
    add("trim", "range backwards", ["trim", "clip.mp4", "--from", "2", "--to", "1", "-o", "o.mp4"], "o.mp4")
    add("retime", "speed nan", ["retime", "clip.mp4", "--speed", "nan", "-o", "o.mp4"], "o.mp4")
    add("retime", "fps 1e9", ["retime", "clip.mp4", "--fps", "1e9", "-o", "o.mp4"], "o.mp4")
    # Clips with a model, on the small random folders.
    restyle = ["restyle", "--prompt", "claymation", "--model", "wan", "--size", "48x32", "--steps", "2", "--window", "5", "--overlap", "2"]
    i2v_clip = ["--model", "wan-i2v", "--size", "64x64", "--steps", "1"]
    heads = {
        "restyle": restyle,
        "extend": ["extend", "--seconds", "0.2"] + i2v_clip,
        "bridge": ["bridge", "clip.mp4"] + i2v_clip,
    }
    for fam, head in heads.items():
        add(fam, "missing input", head + ["nothere.mp4", "-o", "o.mp4"], "o.mp4")
        add(fam, "text as video", head + ["notes.txt", "-o", "o.mp4"], "o.mp4")
        add(fam, "truncated video", head + ["truncated.mp4", "-o", "o.mp4"], "o.mp4")
        add(fam, "still as a clip", head + ["photo.jpg", "-o", "o.mp4"], "o.mp4")
        add(fam, "output is the input", head + ["clip.mp4", "-o", "clip.mp4"])
        add(fam, "folder as output", head + ["clip.mp4", "-o", "folder.mp4"])
    add("restyle", "SIGINT mid-run", ["restyle", "long.mp4", "--prompt", "claymation", "--model", "wan", "--size", "256x256", "--steps", "200", "-o", "o.mp4"], "o.mp4",
        (signal.SIGINT, 1.5))
    add("extend", "SIGTERM mid-run", ["extend", "clip.mp4", "--seconds", "2", "--model", "wan-i2v", "--size", "256x256", "--steps", "200", "-o", "o.mp4"], "o.mp4",
        (signal.SIGTERM, 1.5))
    add("extend", "seconds 0", heads["extend"][:1] + ["--seconds", "0"] + i2v_clip + ["clip.mp4", "-o", "o.mp4"], "o.mp4")
    add("extend", "text-to-video model", ["extend", "clip.mp4", "--seconds", "1", "--model", "wan", "--size", "48x32", "-o", "o.mp4"], "o.mp4")
    add("bridge", "seconds 0", ["bridge", "clip.mp4", "clip.mp4", "--seconds", "0"] + i2v_clip + ["-o", "o.mp4"], "o.mp4")
    animate = ["animate", "photo.jpg", "--prompt", "her hair moves", "--model", "wan", "--size", "48x32", "--frames", "5", "--steps", "1"]
    add("animate", "click outside the image", animate + ["--click", "100000,5", "-o", "o.mp4"], "o.mp4")
    add("animate", "mask of another size", animate + ["--mask", "seq/frame_000000.png", "-o", "o.mp4"], "o.mp4")
    add("animate", "text as the image", ["animate", "notes.txt", "--click", "1,1", "--prompt", "x", "--model", "wan", "-o", "o.mp4"], "o.mp4")
    add("animate", "preview over the image", animate + ["--click", "5,5", "--preview-mask", "photo.jpg"])
    add("faces", "json to /dev/stdout", ["faces", "analyze", "clip.mp4", "--json", "/dev/stdout"])
    add("swap", "no consent recorded", ["swap", "clip.mp4", "--photo", "photo.jpg", "-o", "o.mp4"])
    add("swap", "consent check without a reason", ["swap", "clip.mp4", "--photo", "photo.jpg", "-o", "o.mp4", "--no-consent-check", ""])
    add("swap", "output over the photo", ["swap", "clip.mp4", "--photo", "photo.jpg", "-o", "photo.jpg"])
    add("swap", "not a model", ["swap", "clip.mp4", "--model", "folder.mp4", "-o", "o.mp4"])

    fa = "faces"
    add(fa, "missing input", ["faces", "analyze", "nothere.mp4", "--json", "f.json"], "f.json")
    add(fa, "text as video", ["faces", "analyze", "notes.txt", "--json", "f.json"], "f.json")
    add(fa, "truncated video", ["faces", "analyze", "truncated.mp4", "--json", "f.json"], "f.json")
    add(fa, "folder as json", ["faces", "analyze", "clip.mp4", "--json", "folder.mp4"])
    add(fa, "json is the input", ["faces", "analyze", "clip.mp4", "--json", "clip.mp4"])
    add(fa, "json and preview alike", ["faces", "analyze", "clip.mp4", "--json", "a.mp4", "--preview", "a.mp4"])
    add(fa, "json to /dev/full", ["faces", "analyze", "clip.mp4", "--json", "/dev/full"])
    add(fa, "json to /dev/null", ["faces", "analyze", "clip.mp4", "--json", "/dev/null"])
    add(fa, "preview .webm", ["faces", "analyze", "clip.mp4", "--preview", "p.webm"], "p.webm")
    add(fa, "max faces 0", ["faces", "analyze", "clip.mp4", "--max-faces", "0"])
    add(fa, "min score nan", ["faces", "analyze", "clip.mp4", "--min-score", "nan"])
    add(fa, "video to a still", ["faces", "analyze", "clip.mp4", "--preview", "p.png"], "p.png")
    add(fa, "SIGTERM mid-run", ["faces", "analyze", "long.mp4", "--json", "f.json", "--preview", "p.mp4"],
        "f.json,p.mp4", (signal.SIGTERM, 1.5))

    tr = "train"
    for lr in ["nan", "inf", "1e30", "-1"]:
        add(tr, f"learning rate {lr}", ["train", "--src", "a", "--dst", "b", "-o", "m", f"--learning-rate={lr}"])
    add(tr, "missing face sets", ["train", "--src", "nothere", "--dst", "nothere2", "-o", "m"])
    add(tr, "face set is a text file", ["train", "--src", "notes.txt", "--dst", "notes.txt", "-o", "m"])
    add(tr, "empty face set", ["train", "--src", "frames", "--dst", "frames", "-o", "m"])
    add(tr, "resolution 50", ["train", "--src", "a", "--dst", "b", "-o", "m", "--resolution", "50"])
    add(tr, "batch 0", ["train", "--src", "a", "--dst", "b", "-o", "m", "--batch", "0"])
    add(tr, "save minutes nan", ["train", "--src", "a", "--dst", "b", "-o", "m", "--save-minutes", "nan"])
    add(tr, "output is a source", ["train", "--src", "frames", "--dst", "frames", "-o", "frames"])
    add(tr, "model folder is a file", ["train", "--src", "frames", "--dst", "frames", "-o", "notes.txt"])
    add(tr, "pretrain with a pair", ["train", "--pretrain", "frames", "--src", "frames", "--dst", "frames", "-o", "m"])
    add(tr, "pretrain set missing", ["train", "--pretrain", "nothere", "-o", "m"])
    add(tr, "start from a missing model", ["train", "--src", "frames", "--dst", "frames", "-o", "m", "--start-from", "nothere"])
    add(tr, "gan power nan", ["train", "--src", "frames", "--dst", "frames", "-o", "m", "--gan-power", "nan"])
    add(tr, "start from a text file", ["train", "--src", "frames", "--dst", "frames", "-o", "m", "--start-from", "notes.txt"])

    fs = "faceset"
    add(fs, "missing input", ["faceset", "extract", "nothere.mp4", "-o", "set"], "set")
    add(fs, "text as video", ["faceset", "extract", "notes.txt", "-o", "set"], "set")
    add(fs, "truncated video", ["faceset", "extract", "truncated.mp4", "-o", "set"], "set")
    add(fs, "margin nan", ["faceset", "extract", "clip.mp4", "-o", "set", "--margin", "nan"], "set")
    add(fs, "size 10", ["faceset", "extract", "clip.mp4", "-o", "set", "--size", "10"], "set")
    add(fs, "every 0", ["faceset", "extract", "clip.mp4", "-o", "set", "--every", "0"], "set")
    add(fs, "max yaw -5", ["faceset", "extract", "clip.mp4", "-o", "set", "--max-yaw=-5"], "set")
    add(fs, "output is a file", ["faceset", "extract", "clip.mp4", "-o", "notes.txt"])
    add(fs, "output under a file", ["faceset", "extract", "clip.mp4", "-o", "notes.txt/set"])
    add(fs, "stats of a missing set", ["faceset", "stats", "nothere"])
    add(fs, "stats of a text file", ["faceset", "stats", "notes.txt"])
    add(fs, "SIGINT mid-run", ["faceset", "extract", "long.mp4", "-o", "set"], "set", (signal.SIGINT, 1.0))

    ca = "cast"
    add(ca, "missing target", ["cast", "--target", "nothere.jpg", "photo.jpg"])
    add(ca, "text target", ["cast", "--target", "notes.txt", "photo.jpg"])
    add(ca, "cut photo", ["cast", "--target", "cut.jpg", "photo.jpg"])
    add(ca, "samples 0", ["cast", "--target", "photo.jpg", "clip.mp4", "--samples", "0"])
    add(ca, "sheet over the target", ["cast", "--target", "photo.jpg", "clip.mp4", "--sheet", "photo.jpg"])
    add(ca, "sheet over a candidate", ["cast", "--target", "photo.jpg", "clip.mp4", "--sheet", "clip.mp4"])
    add(ca, "sheet into a folder", ["cast", "--target", "photo.jpg", "clip.mp4", "--sheet", "folder.mp4"])
    add(ca, "sheet under a file", ["cast", "--target", "photo.jpg", "clip.mp4", "--sheet", "notes.txt/s.png"])
    add(ca, "candidate is a folder", ["cast", "--target", "photo.jpg", "frames"])
    add(ca, "candidate without a face", ["cast", "--target", "photo.jpg", "notes.txt"])
    add(ca, "sheet to /dev/full", ["cast", "--target", "photo.jpg", "clip.mp4", "--sheet", "/dev/full"])
    add(ca, "SIGINT mid-run", ["cast", "--target", "photo.jpg", "long.mp4", "long.mp4", "--samples", "60"],
        None, (signal.SIGINT, 1.5))

    fi = "film"
    add(fi, "check a missing story", ["film", "check", "nothere.toml"])
    add(fi, "check a text file", ["film", "check", "notes.txt"])
    add(fi, "check a broken story", ["film", "check", "broken.toml"])
    add(fi, "render a broken story", ["film", "render", "broken.toml", "--audio", "sound.wav", "-o", "f.mp4"], "f.mp4")
    add(fi, "render without audio", ["film", "render", "story.toml", "--audio", "nothere.wav", "-o", "f.mp4"], "f.mp4")
    add(fi, "render over the story", ["film", "render", "story.toml", "--audio", "sound.wav", "-o", "story.toml"])
    add(fi, "render over the audio", ["film", "render", "story.toml", "--audio", "sound.wav", "-o", "sound.wav"])
    add(fi, "render over a picture", ["film", "render", "story.toml", "--audio", "sound.wav", "-o", "photo.jpg"])
    add(fi, "log over the film", ["film", "render", "story.toml", "--audio", "sound.wav", "-o", "f.mp4", "--log", "f.mp4"])
    add(fi, "render into a folder", ["film", "render", "story.toml", "--audio", "sound.wav", "-o", "folder.mp4"])
    add(fi, "size 5x5", ["film", "render", "story.toml", "--audio", "sound.wav", "-o", "f.mp4", "--size", "5x5"])
    add(fi, "SIGTERM mid-render", ["film", "render", "long.toml", "--audio", "long.mp4", "-o", "f.mp4"],
        "f.mp4,f.decisions.json", (signal.SIGTERM, 4.0))

    st = "style"
    add(st, "missing input", ["style", "nothere.wav"])
    add(st, "text as audio", ["style", "notes.txt"])
    add(st, "video without audio", ["style", "photo.jpg"])
    add(st, "json over the input", ["style", "sound.wav", "--json", "sound.wav"])
    add(st, "json into a folder", ["style", "sound.wav", "--json", "folder.mp4"])
    add(st, "json under a file", ["style", "sound.wav", "--json", "notes.txt/s.json"])
    add(st, "json to /dev/full", ["style", "sound.wav", "--json", "/dev/full"])
    add(st, "missing recogniser", ["style", "sound.wav", "--recogniser", "nothere.json"])
    add(st, "recogniser is text", ["style", "sound.wav", "--recogniser", "notes.txt"])
    add(st, "no input", ["style"])
    add(st, "broken MIDI", ["style", "notes.mid"])
    add(st, "SIGINT mid-run", ["style", "minute.wav"], None, (signal.SIGINT, 1.0))

    sy = "synth"
    add(sy, "seconds inf", ["synth", "piece.mid", "--seconds", "inf", "-o", "o.wav"], "o.wav")
    add(sy, "seconds 1e9", ["synth", "piece.mid", "--seconds", "1e9", "-o", "o.wav"], "o.wav")
    add(sy, "seconds nan", ["synth", "piece.mid", "--seconds", "nan", "-o", "o.wav"])
    add(sy, "start nan", ["synth", "piece.mid", "--start", "nan", "-o", "o.wav"])
    add(sy, "start past the end", ["synth", "piece.mid", "--start", "1e6", "-o", "o.wav"], "o.wav")
    add(sy, "not MIDI", ["synth", "notes.txt", "-o", "o.wav"])
    add(sy, "missing input", ["synth", "nothere.mid", "-o", "o.wav"])
    add(sy, "output over the input", ["synth", "piece.mid", "-o", "piece.mid"])
    add(sy, "mp3 output", ["synth", "piece.mid", "-o", "o.mp3"])
    add(sy, "output into a folder", ["synth", "piece.mid", "-o", "folder.mp4"])
    add(sy, "output under a file", ["synth", "piece.mid", "-o", "notes.txt/o.wav"])
    add(sy, "SIGINT mid-run", ["synth", "piece.mid", "-o", "o.wav"], "o.wav", (signal.SIGINT, 0.5))

    tc = "transcribe"
    add(tc, "missing input", ["transcribe", "nothere.wav"])
    add(tc, "text as audio", ["transcribe", "notes.txt"])
    add(tc, "json over the input", ["transcribe", "sound.wav", "--json", "sound.wav"])
    add(tc, "midi over the input", ["transcribe", "piece.mid", "--midi", "piece.mid"])
    add(tc, "json and midi alike", ["transcribe", "sound.wav", "--json", "x.out", "--midi", "x.out"])
    add(tc, "json into a folder", ["transcribe", "sound.wav", "--json", "folder.mp4"])
    add(tc, "json under a file", ["transcribe", "sound.wav", "--json", "notes.txt/n.json"])
    add(tc, "json to /dev/full", ["transcribe", "sound.wav", "--json", "/dev/full"])
    add(tc, "json through a link", ["transcribe", "sound.wav", "--json", "link.jpg"], "link.jpg,photo.jpg")
    add(tc, "json into a named pipe", ["transcribe", "sound.wav", "--json", "pipe.json"], "pipe.json",
        None, 90, {"__FIFO__": "pipe.json"})
    add(tc, "threshold nan", ["transcribe", "sound.wav", "--onset-threshold", "nan"])
    add(tc, "photo as audio", ["transcribe", "photo.jpg"])
    add(tc, "SIGINT mid-run", ["transcribe", "minute.wav"], None, (signal.SIGINT, 1.0))

    se = "setup"
    add(se, "unknown option", ["setup", "--bogus"])
    add(se, "samples folder", ["setup", "--print-samples-dir"])
    nowhere = {"REEL_ONNXRUNTIME": "/nonexistent/libonnxruntime.so"}
    add(se, "REEL_ONNXRUNTIME nowhere", ["faces", "analyze", "clip.mp4"], None, None, 90, nowhere)
    add(se, "REEL_MODELS empty", ["faces", "analyze", "clip.mp4"], None, None, 90, {"REEL_MODELS": "frames"})
    add(se, "REEL_MODELS a file", ["beauty", "clip.mp4", "-o", "o.mp4"], None, None, 90, {"REEL_MODELS": "notes.txt"})
    add(se, "no recogniser", ["style", "sound.wav"], None, None, 90, {"REEL_MODELS": "frames"})
    add(se, "no soundfont", ["synth", "piece.mid", "-o", "o.wav"], None, None, 90, {"REEL_MODELS": "frames"})
    add(se, "no transcriber", ["transcribe", "sound.wav"], None, None, 90, {"REEL_MODELS": "frames"})
    add(se, "no face models for swap", ["swap", "clip.mp4", "--photo", "photo.jpg", "-o", "o.mp4"], None, None, 90, {"REEL_MODELS": "frames"})
    add(se, "no identity model", ["cast", "--target", "photo.jpg", "clip.mp4"], None, None, 90, {"REEL_MODELS": "frames"})
    add(se, "samples elsewhere", ["bench", "faces", "--frames", "10", "--no-reference"], None, None, 90, {"REEL_SAMPLES": "frames"})
    add(se, "no subcommand", [])
    expect(3, "missing", "empty file", "text as", "truncated", "cut photo", "check a", "render a",
           "render without", "video without", "broken MIDI", "not MIDI", "photo as audio",
           "face set is a text", "stats of", "candidate without", "samples elsewhere")
    expect(2, "folder as", "frames into", "output is the input", "output links", "unknown extension",
           "crf", "strength", "years", "beauty nan", "photo without",
           "output over", "not a model", "json is", "json and", "preview .webm", "max faces",
           "min score", "video to a still", "learning rate", "resolution", "batch", "save minutes",
           "output is a source", "margin", "size", "every", "max yaw", "samples 0", "sheet over",
           "sheet into", "candidate is", "render over", "log over", "render into", "json over",
           "json into", "midi over", "no input", "seconds nan", "start nan", "mp3", "threshold",
           "unknown option", "no subcommand", "compare sheet", "empty face set", "model folder is")
    expect(5, "output under", "sheet under", "json under", "json to /dev/full", "sheet to /dev/full",
           "output is a file")
    expect(4, "REEL_", "no recogniser", "no soundfont", "no transcriber", "no face models",
           "no identity", "recogniser is text")
    expect(2, "frames over their own input")
    expect(0, "video to /dev/null", "json to /dev/stdout", "json into a named pipe", "json to /dev/null", "json through a link", "seconds inf", "seconds 1e9",
           "start past", "samples folder")
    expect(3, "text target", "photo without a face", "no model index")
    expect(2, "empty prompt", "noise file of", "image for a", "image-to-video model without")
    expect(2, "no consent", "consent check")
    expect(0, "path starting")
    expect(2, "output into a folder")
    expect(2, "still as a clip", "seconds 0", "transition longer", "fps", "range", "speed")
    expect(2, "click outside", "mask of another size", "preview over", "text-to-video model")
    expect(130, "SIGINT")
    expect(143, "SIGTERM")
    return c


def expected(what):
    """The documented exit code of a try, by the longest matching start of its description."""
    best = None
    for start, code in EXPECTED.items():
        if what.startswith(start) and (best is None or len(start) > len(best[0])):
            best = (start, code)
    return best[1] if best else None


def snapshot(dir):
    out = {}
    for root, dirs, files in os.walk(dir):
        for name in files + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            p = os.path.join(root, name)
            rel = os.path.relpath(p, dir)
            if os.path.islink(p):
                out[rel] = "link:" + os.readlink(p)
            elif not stat.S_ISREG(os.stat(p).st_mode):
                out[rel] = "special"  # a named pipe: opening it would wait for a writer
            else:
                try:
                    with open(p, "rb") as f:
                        out[rel] = hashlib.sha256(f.read()).hexdigest()
                except OSError:
                    out[rel] = "unreadable"
    return out


def children_of(pid):
    try:
        out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
        return [int(x) for x in out.split()]
    except OSError:
        return []


def sweep(reel, only):
    base = tempfile.mkdtemp(prefix="reel-sweep-")
    user = os.path.join(base, "user")
    os.makedirs(user)
    make_user_files(user)
    rows = []
    failures = 0
    for family, what, args, output, sig, timeout, extra_env in cases():
        if only and family != only:
            continue
        dir = os.path.join(base, "try")
        if os.path.exists(dir):
            os.chmod(os.path.join(dir, "readonly"), 0o755)
            shutil.rmtree(dir)
        shutil.copytree(user, dir, symlinks=True)
        os.chmod(os.path.join(dir, "readonly"), 0o555)
        fifo = extra_env.pop("__FIFO__", None)
        reader = None
        if fifo:
            os.mkfifo(os.path.join(dir, fifo))
            reader = subprocess.Popen(["cat", os.path.join(dir, fifo)], stdout=subprocess.PIPE)
        before = snapshot(dir)
        start = time.time()
        env = dict(os.environ, RUST_BACKTRACE="0", REEL_DATA=os.path.join(base, "data"))
        env.update(extra_env)
        p = subprocess.Popen([reel, "--quiet"] + args, cwd=dir, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=env, start_new_session=True)
        kids = []
        hung = False
        signalled = False
        try:
            if sig:
                try:
                    p.wait(timeout=sig[1])
                except subprocess.TimeoutExpired:
                    kids = children_of(p.pid)
                    p.send_signal(sig[0])
                    signalled = True
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            hung = True
            os.killpg(p.pid, signal.SIGKILL)
            out, err = p.communicate()
        seconds = time.time() - start
        time.sleep(0.2)
        if reader:
            try:
                got = reader.communicate(timeout=5)[0]
            except subprocess.TimeoutExpired:
                reader.kill()
                got = b""
            still_fifo = stat.S_ISFIFO(os.stat(os.path.join(dir, fifo)).st_mode)
            if not still_fifo or b'"notes"' not in got:
                hung = hung or not got
                partial_extra = ["the pipe was replaced or got nothing"]
            else:
                partial_extra = []
        else:
            partial_extra = []
        left_children = [k for k in kids if os.path.exists(f"/proc/{k}")]
        for k in left_children:
            os.kill(k, signal.SIGKILL)
        after = snapshot(dir)
        named = set(output.split(",")) if output else set()
        changed = sorted(
            f for f in set(before) | set(after)
            if before.get(f) != after.get(f)
            and f not in named
            and not any(f.startswith(n + "/") for n in named)
            and not (f.startswith("m/") or f.startswith("set/"))  # folders the command makes
            and f not in ("x.out",)
        )
        # Files the command was not asked to write, made anyway (besides its folders).
        partial = sorted(f for f in after if ".partial-" in f or ".soundtrack-" in f or f.endswith(".reel-lock")) + partial_extra
        stderr = err.decode(errors="replace")
        panicked = "panicked" in stderr
        message = next((l for l in stderr.splitlines() if l.startswith("error:")), "")
        want = expected(what)
        if sig and not signalled:
            # It finished before the signal was due: no signal was tested (the table says so).
            want = None
            what = what + " (ended before the signal)"
        wrong_code = want is not None and not hung and p.returncode != want
        ok = not (panicked or hung or changed or partial or left_children or wrong_code)
        failures += not ok
        code = "hang" if hung else str(p.returncode)
        if wrong_code:
            code += f" (documented {want})"
        rows.append((family, what, code, panicked,
                     ", ".join(changed) or "-", ", ".join(partial + [f"pid {k}" for k in left_children]) or "-",
                     f"{seconds:.1f}", message[7:110], ok))
        print(f"{'ok ' if ok else 'BAD'} {family:<10} {what:<28} exit {rows[-1][2]:>4} "
              f"{seconds:5.1f}s {message[:90]}", file=sys.stderr)
    os.chmod(os.path.join(base, "try", "readonly"), 0o755)
    os.chmod(os.path.join(user, "readonly"), 0o755)
    shutil.rmtree(base)
    return rows, failures


def table(rows):
    lines = ["| family | bad input | exit | panic | user files changed | left behind | seconds | message |",
             "|---|---|---|---|---|---|---|---|"]
    for family, what, code, panicked, changed, partial, seconds, message, ok in rows:
        msg = message.replace("|", "\\|")
        lines.append(f"| {family} | {what} | {code} | {'yes' if panicked else 'no'} | {changed} | "
                     f"{partial} | {seconds} | {msg} |")
    return "\n".join(lines) + "\n"


def main():
    global SAMPLES
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reel", default=os.path.join(os.path.dirname(__file__), "..", "target", "release", "reel"))
    ap.add_argument("--only")
    ap.add_argument("--table")
    a = ap.parse_args()
    reel = os.path.abspath(a.reel)
    SAMPLES = subprocess.run([reel, "setup", "--print-samples-dir"], capture_output=True,
                             text=True, check=True).stdout.strip()
    rows, failures = sweep(reel, a.only)
    text = table(rows)
    if a.table:
        with open(a.table, "w") as f:
            f.write(text)
    print(text)
    counts = {}
    for r in rows:
        counts[r[0]] = counts.get(r[0], 0) + 1
    print(f"{len(rows)} tries over {len(counts)} families; {failures} missed a bar", file=sys.stderr)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
