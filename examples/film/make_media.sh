#!/usr/bin/env bash
# Makes the pictures examples/film/story.toml names, from reel's sample media (run `reel setup`
# first), in DIR, and copies the story beside them.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dir="${1:?usage: make_media.sh DIR}"
reel="${REEL:-$here/../../target/release/reel}"
samples="$("$reel" setup --print-samples-dir)"
mkdir -p "$dir/media/neon" "$dir/media/candles"
ff() { ffmpeg -nostdin -v error -y "$@"; }
ff -i "$samples/grace_hopper.jpg" -vf "scale=640:480:force_original_aspect_ratio=decrease,pad=640:480:(ow-iw)/2:(oh-ih)/2" "$dir/media/title.png"
ff -i "$samples/talking_head.mp4" -t 5 -c:v libx264 -pix_fmt yuv420p -c:a aac "$dir/media/prelude.mp4"
ff -i "$samples/astronaut.png" -vf "scale=640:480:force_original_aspect_ratio=decrease,pad=640:480:(ow-iw)/2:(oh-ih)/2" "$dir/media/chapel.png"
ff -i "$samples/portrait.jpg" -vf "scale=640:480:force_original_aspect_ratio=decrease,pad=640:480:(ow-iw)/2:(oh-ih)/2" "$dir/media/saloon.png"
ff -i "$samples/portrait.jpg" -vf "scale=640:480:force_original_aspect_ratio=decrease,pad=640:480:(ow-iw)/2:(oh-ih)/2,hue=s=0" "$dir/media/quiet_room.png"
ff -i "$samples/speaker.mp4" -c:v libx264 -pix_fmt yuv420p -c:a aac "$dir/media/salon.mp4"
ff -i "$samples/speaker.mp4" -vf "hue=h=200" -c:v libx264 -pix_fmt yuv420p -c:a aac "$dir/media/club.mp4"
# Layers with alpha: a pulsing neon ring, and flickering warm light.
ff -f lavfi -i "color=c=black@0.0:s=640x480:r=25:d=2,format=rgba,geq=r='255*lt(abs(hypot(X-320,Y-240)-150-20*sin(T*6)),6)':g='40':b='255':a='230*lt(abs(hypot(X-320,Y-240)-150-20*sin(T*6)),6)'" "$dir/media/neon/%04d.png"
ff -f lavfi -i "color=c=black@0.0:s=640x480:r=25:d=2,format=rgba,geq=r='255':g='180':b='80':a='60*(1+sin(T*17+X/40))*lt(Y,120)'" "$dir/media/candles/%04d.png"
cp "$here/story.toml" "$dir/story.toml"
echo "$dir/story.toml"
