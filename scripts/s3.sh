#!/usr/bin/env bash
# A private, throwaway S3-compatible server for tests (s3rver from npm, pinned in scripts/s3/package-lock.json).
#
#   scripts/s3.sh start DIR PORT   # one server on 127.0.0.1:PORT keeping its objects under DIR; prints its URL last
#   scripts/s3.sh stop DIR         # stops the server started under DIR and deletes DIR
#
# Its credentials are s3rver's fixed pair, S3RVER / S3RVER. Buckets are not made here: Lenta creates its own at start.
set -euo pipefail
HERE=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)

usage() { echo "usage: $0 start DIR PORT | stop DIR" >&2; exit 2; }

install_s3rver() {
  "$HERE/ensure-packages.sh" "nodejs=node" "npm=npm"
  [ -x "$HERE/s3/node_modules/.bin/s3rver" ] && return 0
  echo "s3.sh: installing s3rver from npm..." >&2
  (cd "$HERE/s3" && npm ci --no-audit --no-fund --loglevel=error >&2)
}

stop_server() {
  local dir=$1 pid
  [ -d "$dir" ] || return 0
  pid=$(cat "$dir/s3rver.pid" 2>/dev/null || true)
  # Only a live s3rver (a pid file left by a killed run may name another process by now).
  if [ -n "$pid" ] && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -q 's3rver'; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -rf -- "$dir"
}

cmd=${1:-}; dir=${2:-}
[ -n "$dir" ] || usage
dir=$(realpath -m -- "$dir")
[ "$dir" != / ] || usage
case "$cmd" in
  start)
    [ $# -eq 3 ] || usage
    port=$3
    install_s3rver; stop_server "$dir"
    mkdir -p "$dir/data"
    # Its own session, output detached: a caller reading this script's output is not held open by the server.
    # The shell writes its own pid, then becomes the server: the pid file names node itself. s3rver makes the
    # continuation tokens of truncated listings with DES, which OpenSSL 3 keeps in its legacy provider.
    (cd / && setsid -f sh -c 'echo $$ >"$1/s3rver.pid"; shift; exec node --openssl-legacy-provider "$@"' sh "$dir" \
      "$HERE/s3/node_modules/.bin/s3rver" --directory "$dir/data" --address 127.0.0.1 --port "$port" \
      --silent --no-vhost-buckets >"$dir/s3rver.log" 2>&1 </dev/null)
    for _ in $(seq 1 150); do
      if curl -fsS -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null; then
        echo "http://127.0.0.1:$port"
        exit 0
      fi
      [ -s "$dir/s3rver.pid" ] && ! kill -0 "$(cat "$dir/s3rver.pid")" 2>/dev/null && break
      sleep 0.1
    done
    echo "s3.sh: s3rver on port $port did not start; log:" >&2
    cat "$dir/s3rver.log" >&2 || true
    stop_server "$dir"
    exit 1
    ;;
  stop)
    [ $# -eq 2 ] || usage
    stop_server "$dir"
    ;;
  *) usage ;;
esac
