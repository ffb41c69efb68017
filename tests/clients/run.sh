#!/usr/bin/env bash
# Client-library tests: start a built Lenta server on a throw-away data folder and drive it with real
# Mastodon client libraries from npm (node's built-in test runner): megalodon, and masto for streaming.
#
#   dotnet build src/Lenta.Server -c Release && bash tests/clients/run.sh
#
# Builds nothing. Env:
#   LENTA_SERVER_DLL  the built server (default src/Lenta.Server/bin/Release/net10.0/Lenta.Server.dll)
#   PORT              where the server listens on 127.0.0.1 (default 18090)
# Exit code = node's exit code; the server is stopped and its data folder removed whatever happens.
set -euo pipefail
ROOT=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
cd "$ROOT"

DLL=${LENTA_SERVER_DLL:-src/Lenta.Server/bin/Release/net10.0/Lenta.Server.dll}
PORT=${PORT:-18090}
URL=http://127.0.0.1:$PORT

if [[ ! -f $DLL ]]; then
  echo "run.sh: $DLL not found; build it first: dotnet build src/Lenta.Server -c Release" >&2
  exit 2
fi
# masto 8 needs Node 22; Debian 12's is older (scripts/node22.sh brings one from npm when so).
PATH=$(scripts/node22.sh):$PATH
export PATH
for cmd in node npm dotnet curl; do
  command -v "$cmd" >/dev/null || { echo "run.sh: '$cmd' not found" >&2; exit 2; }
done

if [[ ! -d tests/clients/node_modules ]] || [[ tests/clients/package-lock.json -nt tests/clients/node_modules ]]; then
  (cd tests/clients && npm ci --no-audit --no-fund)
fi

DATA=$(mktemp -d "${TMPDIR:-/tmp}/lenta-clients.XXXXXX")
LOG=$DATA.log
SERVER_PID=
cleanup() {
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf -- "$DATA" "$LOG"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ASPNETCORE_URLS=$URL \
Lenta__DataPath=$DATA \
Lenta__RateLimits__Enabled=false \
Lenta__LogFormat=text \
DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 \
  dotnet "$DLL" >"$LOG" 2>&1 &
SERVER_PID=$!

ready=0
for _ in $(seq 1 120); do   # 120 × 0.5 s = 60 s
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "run.sh: the server exited during start-up; its log:" >&2
    cat "$LOG" >&2
    exit 1
  fi
  if [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$URL/health/ready" || true) == 200 ]]; then
    ready=1
    break
  fi
  sleep 0.5
done
if [[ $ready != 1 ]]; then
  echo "run.sh: $URL/health/ready did not answer 200 within 60 s; server log:" >&2
  cat "$LOG" >&2
  exit 1
fi
echo "run.sh: Lenta is ready at $URL (data in $DATA)"

# The test files are named explicitly: node 20 searches a directory argument for tests, newer
# nodes take glob patterns instead; a list of files means the same to both.
shopt -s nullglob
TESTS=(tests/clients/*.test.mjs)
if [[ ${#TESTS[@]} == 0 ]]; then echo "run.sh: no tests/clients/*.test.mjs" >&2; exit 1; fi
rc=0
LENTA_URL=$URL node --test "${TESTS[@]}" || rc=$?
if [[ $rc != 0 ]]; then
  echo "run.sh: node --test failed ($rc); last lines of the server log:" >&2
  tail -n 60 "$LOG" >&2
fi
exit "$rc"
