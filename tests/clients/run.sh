#!/usr/bin/env bash
# Client-library tests: drive a built Lenta server (started on a throw-away data folder by scripts/test-server.sh)
# with real Mastodon client libraries from npm (node's built-in test runner): megalodon, and masto for streaming.
#
#   dotnet build src/Lenta.Server -c Release && bash tests/clients/run.sh
#
# Builds nothing. Env:
#   LENTA_SERVER_DLL  the built server (default src/Lenta.Server/bin/Release/net10.0/Lenta.Server.dll)
#   PORT              where the server listens on 127.0.0.1 (default 18090)
#   LENTA_BASE_URL    test a Lenta that is running already (e.g. a cluster's nginx front) instead of starting one
# Exit code = node's exit code; the server is stopped and its data folder removed whatever happens.
set -euo pipefail
ROOT=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
cd "$ROOT"
export PORT=${PORT:-18090}

# masto 8 needs Node 22; Debian 12's is older (scripts/node22.sh brings one from npm when so).
PATH=$(scripts/node22.sh):$PATH
export PATH
for cmd in node npm; do
  command -v "$cmd" >/dev/null || { echo "run.sh: '$cmd' not found" >&2; exit 2; }
done
if [[ ! -d tests/clients/node_modules ]] || [[ tests/clients/package-lock.json -nt tests/clients/node_modules ]]; then
  (cd tests/clients && npm ci --no-audit --no-fund)
fi

# The test files are named explicitly: node 20 searches a directory argument for tests, newer
# nodes take glob patterns instead; a list of files means the same to both.
shopt -s nullglob
TESTS=(tests/clients/*.test.mjs)
if [[ ${#TESTS[@]} == 0 ]]; then echo "run.sh: no tests/clients/*.test.mjs" >&2; exit 1; fi
if [[ -n ${LENTA_BASE_URL:-} ]]; then
  echo "run.sh: testing the running Lenta at $LENTA_BASE_URL"
  LENTA_URL=${LENTA_BASE_URL%/} exec node --test "${TESTS[@]}"
fi
exec scripts/test-server.sh node --test "${TESTS[@]}"
