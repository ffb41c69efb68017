#!/usr/bin/env bash
# Installs the Debian packages that are missing:  scripts/ensure-packages.sh "package=probe" ...
# A probe is a command on PATH or a file glob that exists once the package is installed. All missing
# packages are installed together, after one apt-get update.
set -euo pipefail
missing=()
for dep in "$@"; do
  pkg=${dep%%=*} probe=${dep#*=}
  if [[ $probe == */* ]]; then compgen -G "$probe" >/dev/null || missing+=("$pkg")
  else command -v "$probe" >/dev/null || missing+=("$pkg"); fi
done
[ ${#missing[@]} -gt 0 ] || exit 0
echo "installing Debian packages: ${missing[*]}" >&2
[ "$(id -u)" -eq 0 ] || { echo "run as root, or first: apt-get install ${missing[*]}" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
