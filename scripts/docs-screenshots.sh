#!/usr/bin/env bash
# Copies the README's screenshots from the last browser-test run (tests/web/artifacts, see tests/web/run.sh) into
# docs/screenshots, each reduced to a 256-colour PNG with ffmpeg (a third to a quarter of the size).
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
SHOTS=(home-desktop home-phone profile-desktop profile-phone composer-desktop composer-phone home-dark-desktop profile-dark-phone photo-desktop)
mkdir -p docs/screenshots
for n in "${SHOTS[@]}"; do
  [[ -f tests/web/artifacts/$n.png ]] || { echo "docs-screenshots.sh: tests/web/artifacts/$n.png missing; run tests/web/run.sh first" >&2; exit 1; }
  ffmpeg -hide_banner -loglevel error -y -i "tests/web/artifacts/$n.png" \
    -vf "split[a][b];[a]palettegen=max_colors=256:reserve_transparent=0[p];[b][p]paletteuse=dither=none" \
    -pred mixed -compression_level 100 "docs/screenshots/$n.png"
done
du -ch docs/screenshots/*.png | tail -n1
