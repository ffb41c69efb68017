#!/usr/bin/env bash
# Start the Lenta server on its embedded defaults:  ./run.sh [extra args for the server]
# Listens on http://127.0.0.1:8080 with text logs unless ASPNETCORE_URLS / Lenta__LogFormat are set.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"

if ! command -v dotnet >/dev/null; then
  echo "run.sh: 'dotnet' not found. Install the .NET 10 SDK (https://dotnet.microsoft.com/download);" \
       "Debian 12 has no package for it." >&2
  exit 1
fi

# Debian packages the server needs at runtime, as "package=what-proves-it-is-installed" (a command
# on PATH or a file glob). One line per dependency; missing ones are installed with one apt-get update.
APT_DEPS=(
  "ffmpeg=ffmpeg"    # video transcoding / thumbnails
)
missing=()
for dep in "${APT_DEPS[@]}"; do
  pkg=${dep%%=*} probe=${dep#*=}
  if [[ $probe == */* ]]; then compgen -G "$probe" >/dev/null || missing+=("$pkg")
  else command -v "$probe" >/dev/null || missing+=("$pkg"); fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "run.sh: installing Debian packages: ${missing[*]}" >&2
  [ "$(id -u)" -eq 0 ] || { echo "run.sh: run as root, or first: apt-get install ${missing[*]}" >&2; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

export ASPNETCORE_URLS=${ASPNETCORE_URLS:-http://127.0.0.1:8080}
export Lenta__LogFormat=${Lenta__LogFormat:-text}
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
exec dotnet run --project src/Lenta.Server -c Release -- "$@"
