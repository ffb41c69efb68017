#!/usr/bin/env bash
# Start the Lenta server on its embedded defaults:  ./run.sh [extra args for the server]
# Listens on http://127.0.0.1:8080 with text logs unless ASPNETCORE_URLS / Lenta__LogFormat are set.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"

scripts/require-dotnet.sh run.sh

# Debian packages the server needs at runtime, as "package=what-proves-it-is-installed" (a command
# on PATH or a file glob). One line per dependency; missing ones are installed with one apt-get update.
APT_DEPS=(
  "ffmpeg=ffmpeg"    # video transcoding / thumbnails
)
scripts/ensure-packages.sh "${APT_DEPS[@]}"

# The web client at / (web/, built into web/dist and copied into the server's output); built once, when missing.
scripts/build-web.sh --if-missing

export ASPNETCORE_URLS=${ASPNETCORE_URLS:-http://127.0.0.1:8080}
export Lenta__LogFormat=${Lenta__LogFormat:-text}
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
exec dotnet run --project src/Lenta.Server -c Release -- "$@"
