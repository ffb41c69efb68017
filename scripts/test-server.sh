#!/usr/bin/env bash
# Runs a command against a built Lenta server started for it on a throw-away data folder:
#
#   scripts/test-server.sh COMMAND [ARG...]
#
# The server (embedded defaults, rate limits off) listens on http://127.0.0.1:$PORT; COMMAND gets that address in
# LENTA_URL. The server is stopped and its data folder removed whatever happens; when COMMAND fails, the last lines
# of the server's log are printed. Used by tests/clients/run.sh and tests/web/run.sh. Builds nothing. Env:
#   LENTA_SERVER_DLL  the built server (default src/Lenta.Server/bin/Release/net10.0/Lenta.Server.dll)
#   PORT              where the server listens (required)
# Exit code = COMMAND's exit code (1 when the server did not start, 2 when something is missing).
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."

NAME=test-server.sh
DLL=${LENTA_SERVER_DLL:-src/Lenta.Server/bin/Release/net10.0/Lenta.Server.dll}
[[ -n ${PORT:-} ]] || { echo "$NAME: set PORT" >&2; exit 2; }
[[ $# -gt 0 ]] || { echo "$NAME: no command given" >&2; exit 2; }
URL=http://127.0.0.1:$PORT

if [[ ! -f $DLL ]]; then
  echo "$NAME: $DLL not found; build it first: dotnet build src/Lenta.Server -c Release" >&2
  exit 2
fi
for cmd in dotnet curl; do
  command -v "$cmd" >/dev/null || { echo "$NAME: '$cmd' not found" >&2; exit 2; }
done

DATA=$(mktemp -d "${TMPDIR:-/tmp}/lenta-test-server.XXXXXX")
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
    echo "$NAME: the server exited during start-up; its log:" >&2
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
  echo "$NAME: $URL/health/ready did not answer 200 within 60 s; server log:" >&2
  cat "$LOG" >&2
  exit 1
fi
echo "$NAME: Lenta is ready at $URL (data in $DATA)"

rc=0
LENTA_URL=$URL "$@" || rc=$?
if [[ $rc != 0 ]]; then
  echo "$NAME: '$*' failed ($rc); last lines of the server log:" >&2
  tail -n 60 "$LOG" >&2
fi
exit "$rc"
