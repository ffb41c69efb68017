#!/usr/bin/env bash
# Private, throwaway Redis servers for tests.
#
#   scripts/redis.sh start DIR PORT            # one server; prints its StackExchange.Redis configuration last
#   scripts/redis.sh start-cluster DIR PORT    # a three-master Redis Cluster on PORT, PORT+1, PORT+2; prints its configuration last
#   scripts/redis.sh stop DIR                  # stops every server started under DIR and deletes DIR
#
# Each server listens on 127.0.0.1 only, keeps nothing on disk (no RDB, no AOF), and runs at a bounded
# maxmemory with allkeys-lru and timelines kept as listpacks, as Lenta is documented to run: evicted keys are
# rebuilt from the database.
set -euo pipefail

usage() { echo "usage: $0 start DIR PORT | start-cluster DIR PORT | stop DIR" >&2; exit 2; }

MAXMEMORY=${LENTA_TEST_REDIS_MAXMEMORY:-512mb}

install_redis() {
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null && return 0
  [ "$(id -u)" -eq 0 ] || { echo "redis.sh: Redis is missing; run as root or: apt-get install redis-server" >&2; exit 1; }
  echo "redis.sh: installing Redis from Debian..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends redis-server redis-tools >&2
  # The package starts a system instance on 6379; tests never use it.
  systemctl disable --now redis-server >/dev/null 2>&1 || service redis-server stop >/dev/null 2>&1 || true
}

# start_one DIR PORT [extra redis-server args...]
start_one() {
  local dir=$1 port=$2; shift 2
  mkdir -p "$dir/$port"
  redis-server --bind 127.0.0.1 --port "$port" --dir "$dir/$port" --daemonize yes \
    --pidfile "$dir/$port/redis.pid" --logfile "$dir/$port/redis.log" \
    --save '' --appendonly no --maxmemory "$MAXMEMORY" --maxmemory-policy allkeys-lru \
    --zset-max-listpack-entries 1024 \
    --protected-mode yes "$@" >&2
  for _ in $(seq 1 100); do
    redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "redis.sh: server on port $port did not start; log:" >&2
  cat "$dir/$port/redis.log" >&2 || true
  exit 1
}

stop_all() {
  local dir=$1 pid
  [ -d "$dir" ] || return 0
  for pidfile in "$dir"/*/redis.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile" 2>/dev/null || true)
    # Only a live redis-server serving this DIR (a pid file left by a killed run may name another process).
    if [ -n "$pid" ] && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -q 'redis-server'; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
  rm -rf -- "$dir"
}

cmd=${1:-}; dir=${2:-}
[ -n "$dir" ] || usage
dir=$(realpath -m -- "$dir")
[ "$dir" != / ] || usage
case "$cmd" in
  start)
    [ $# -eq 3 ] || usage
    install_redis; stop_all "$dir"
    start_one "$dir" "$3"
    echo "127.0.0.1:$3,abortConnect=false"
    ;;
  start-cluster)
    [ $# -eq 3 ] || usage
    install_redis; stop_all "$dir"
    ports=("$3" "$(($3 + 1))" "$(($3 + 2))")
    for p in "${ports[@]}"; do
      # The cluster bus port defaults to port + 10000, inside the kernel's ephemeral range: keep it beside the port.
      start_one "$dir" "$p" --cluster-enabled yes --cluster-config-file "$dir/$p/nodes.conf" --cluster-node-timeout 5000 \
        --cluster-port "$((p + 100))"
    done
    redis-cli --cluster create "${ports[@]/#/127.0.0.1:}" --cluster-replicas 0 --cluster-yes >&2
    for _ in $(seq 1 100); do
      redis-cli -h 127.0.0.1 -p "$3" cluster info 2>/dev/null | grep -q 'cluster_state:ok' && break
      sleep 0.1
    done
    echo "127.0.0.1:${ports[0]},127.0.0.1:${ports[1]},127.0.0.1:${ports[2]},abortConnect=false"
    ;;
  stop)
    [ $# -eq 2 ] || usage
    stop_all "$dir"
    ;;
  *) usage ;;
esac
