#!/usr/bin/env bash
# Lenta as a cluster on one machine, behind nginx:
#
#   scripts/cluster.sh up [DIR]       # starts everything; prints the front's URL as the last line
#   scripts/cluster.sh down [DIR]     # stops everything started under DIR and deletes DIR
#   scripts/cluster.sh status [DIR]   # one line per process: running or not
#   scripts/cluster.sh kill9 NAME [DIR]   # SIGKILL one Lenta node (read1, read2, write, worker): fault drills
#   scripts/cluster.sh start NAME [DIR]   # starts that node again on the cluster's settings
#   scripts/cluster.sh stop NAME [DIR]    # stops that node (TERM: it drains as on a deploy)
#   scripts/cluster.sh restart postgres|redis|rabbitmq [DIR]   # restarts a store in place (Redis comes back empty)
#   scripts/cluster.sh front-up DIR PORT WRITE READ...   # only the nginx front, on PORT, for nodes already running on
#                                                        # 127.0.0.1:WRITE and :READ...; prints its URL (the test suite's front mode)
#   scripts/cluster.sh front-down DIR                    # stops that nginx and deletes DIR
#
# PostgreSQL, Redis, RabbitMQ and the S3-compatible server (the scripts beside this one), two read-api nodes, one
# write-api node and one worker (each its own Lenta__NodeId), and a private nginx (deploy/nginx/lenta.conf rendered for
# these ports, its own prefix, pid and temp folders, started by hand, never by systemd). Everything listens on 127.0.0.1.
#
# Environment:
#   LENTA_CLUSTER_PORT  base port (default 18200): nginx on it, read nodes +1 and +2, write node +3, worker +4,
#                       PostgreSQL +10, Redis +11, RabbitMQ +20..+29, s3rver +30
#   LENTA_CLUSTER_RABBITMQ_PORT  RabbitMQ's first port instead of base +20 (it and its next nine must be below 32768,
#                       the kernel's ephemeral range: a base above 32738 needs this)
#   LENTA_CLUSTER_DIR   default DIR (default ${TMPDIR:-/tmp}/lenta-cluster-<port>)
#   LENTA_SERVER_DLL    the built server (default src/Lenta.Server/bin/Release/net10.0/Lenta.Server.dll; built when missing)
#   LENTA_CLUSTER_CEILING  host:port of a bare endpoint (`lenta-bench ceiling`) that the front also proxies /bytes/ to,
#                       as it proxies to the nodes (same server block, same keepalive), so a benchmark measures its ceiling
#                       through the same nginx; unset, the front has no such location
#   Lenta__*            passed on to every node (e.g. Lenta__RateLimits__Enabled=false); the store settings are this script's
set -euo pipefail
HERE=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)

usage() { echo "usage: $0 up|down|status [DIR] | kill9|start|stop NAME [DIR] | restart postgres|redis|rabbitmq [DIR] | front-up DIR PORT WRITE READ... | front-down DIR" >&2; exit 2; }

BASE=${LENTA_CLUSTER_PORT:-18200}
NODES=(read1 read2 write worker)
declare -A ROLES=([read1]=read-api [read2]=read-api [write]=write-api [worker]=worker)
declare -A NODE_ID=([read1]=11 [read2]=12 [write]=21 [worker]=31)
declare -A NODE_PORT=([read1]=$((BASE + 1)) [read2]=$((BASE + 2)) [write]=$((BASE + 3)) [worker]=$((BASE + 4)))
PG_PORT=$((BASE + 10)) REDIS_PORT=$((BASE + 11)) RABBITMQ_PORT=${LENTA_CLUSTER_RABBITMQ_PORT:-$((BASE + 20))} S3_PORT=$((BASE + 30))
FRONT=http://127.0.0.1:$BASE

# Whether the process of PIDFILE is alive and its command line holds PATTERN (a pid file left by a killed run may name another process).
alive() {
  local pid
  pid=$(head -n1 "$1" 2>/dev/null || true)
  [ -n "$pid" ] && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "$2"
}

stop_pid() {   # stop_pid PIDFILE PATTERN: TERM, up to 10 s, then KILL
  local pid
  alive "$1" "$2" || return 0
  pid=$(cat "$1")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}

dll() {
  local d=${LENTA_SERVER_DLL:-$ROOT/src/Lenta.Server/bin/Release/net10.0/Lenta.Server.dll}
  if [ ! -f "$d" ]; then
    echo "cluster.sh: building the server..." >&2
    (cd "$ROOT" && DOTNET_NOLOGO=1 dotnet build src/Lenta.Server -c Release -v quiet >&2)
  fi
  readlink -f "$d"
}

start_node() {   # start_node DIR NAME
  local dir=$1 name=$2 port=${NODE_PORT[$2]}
  mkdir -p "$dir/$name"
  # shellcheck disable=SC1091
  source "$dir/stores.env"
  # Its own session, output to its log: a caller reading this script's output is not held open by the node.
  # Appended: after a restart (a drill), what the node wrote before stays in its log.
  (cd "$dir/$name" && \
    ASPNETCORE_URLS=http://127.0.0.1:$port \
    Lenta__Roles=${ROLES[$name]} Lenta__NodeId=${NODE_ID[$name]} Lenta__DataPath=$dir/$name/data \
    Lenta__PublicUrl=$FRONT Lenta__TrustedProxies=127.0.0.1 Lenta__LogFormat=${Lenta__LogFormat:-text} \
    Lenta__Database__Provider=postgres Lenta__Database__ConnectionString="$PG;Maximum Pool Size=40" \
    Lenta__Cache__Provider=redis Lenta__Cache__ConnectionString=$REDIS \
    Lenta__Queue__Provider=rabbitmq Lenta__Queue__ConnectionString=$AMQP \
    Lenta__ObjectStore__Provider=s3 Lenta__ObjectStore__ServiceUrl=$S3 \
    Lenta__ObjectStore__AccessKey=S3RVER Lenta__ObjectStore__SecretKey=S3RVER \
    DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 \
    setsid -f sh -c 'echo $$ >"$1"; shift; exec dotnet "$@"' sh "$dir/$name/pid" "$(cat "$dir/dll")" \
      >>"$dir/$name/log" 2>&1 </dev/null)
}

await_ready() {   # await_ready DIR NAME
  local dir=$1 name=$2 port=${NODE_PORT[$2]}
  for _ in $(seq 1 600); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/health/ready" || true)" = 200 ] && return 0
    if [ -s "$dir/$name/pid" ] && ! alive "$dir/$name/pid" Lenta.Server; then break; fi
    sleep 0.1
  done
  echo "cluster.sh: node $name (port $port) did not become ready; its log:" >&2
  tail -n 40 "$dir/$name/log" >&2 || true
  return 1
}

render_nginx() {   # render_nginx DIR PORT WRITE READ...: deploy/nginx/lenta.conf for these ports, inside a main config of its own
  local dir=$1 n=$1/nginx port=$2 write=$3 read="" p
  shift 3
  for p in "$@"; do read+="${read:+\n    }server 127.0.0.1:$p max_fails=1 fail_timeout=5s;"; done
  mkdir -p "$n/logs" "$n/temp" "$n/cache"
  awk -v read="$read" \
      -v write="server 127.0.0.1:$write max_fails=1 fail_timeout=5s;" \
      -v port="$port" -v cache="$n/cache" -v ceiling="${LENTA_CLUSTER_CEILING:-}" '
    /^upstream lenta_read/ { up = "read" } /^upstream lenta_write/ { up = "write" } /^}/ { up = "" }
    up != "" && $1 == "server" { if (!done[up]++) print "    " (up == "read" ? read : write); next }
    $1 == "listen" {
      print "    listen 127.0.0.1:" port ";"
      if (ceiling != "") print "\n    # The benchmark ceiling (LENTA_CLUSTER_CEILING), behind the same proxy settings as the nodes.\n    location /bytes/ {\n        proxy_pass http://lenta_ceiling;\n    }"
      next
    }
    $1 == "proxy_cache_path" { sub(/\/var\/cache\/nginx\/lenta/, cache) }
    { print }' "$ROOT/deploy/nginx/lenta.conf" >"$n/lenta.conf"
  cat >"$n/nginx.conf" <<EOF
# Generated by scripts/cluster.sh: a private nginx for the local cluster (deploy/nginx/lenta.conf rendered beside it).
worker_processes 2;
pid $n/nginx.pid;
error_log $n/logs/error.log warn;
events { worker_connections 1024; }
http {
    include /etc/nginx/mime.types;
    access_log $n/logs/access.log;
    client_body_temp_path $n/temp/body;
    proxy_temp_path $n/temp/proxy;
    fastcgi_temp_path $n/temp/fastcgi;
    uwsgi_temp_path $n/temp/uwsgi;
    scgi_temp_path $n/temp/scgi;
$([ -n "${LENTA_CLUSTER_CEILING:-}" ] && printf '    upstream lenta_ceiling {\n        server %s;\n        keepalive 64;\n    }\n' "$LENTA_CLUSTER_CEILING")
    include $n/lenta.conf;
}
EOF
}

install_nginx() {
  "$HERE/ensure-packages.sh" "nginx=/usr/sbin/nginx" >&2
  # The package may start a system nginx on port 80 where policy allows; the cluster never uses it.
  if [ -f /run/nginx.pid ] && [ ! -f /etc/nginx/.lenta-kept ]; then
    systemctl disable --now nginx >/dev/null 2>&1 || service nginx stop >/dev/null 2>&1 || true
  fi
}

up() {
  local dir=$1
  down "$dir"   # leftovers of a killed run
  install_nginx
  mkdir -p "$dir" && chmod 755 "$dir"   # the postgres OS user must reach its data dir inside
  dll >"$dir/dll"
  local pg redis amqp s3
  # RabbitMQ boots longest (20 s and more): once installed, it starts while the other stores do (installs, which
  # share apt's lock, run one after another).
  local rabbit=""
  if [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]; then
    "$HERE/rabbitmq.sh" start "$dir/rabbitmq" "$RABBITMQ_PORT" >"$dir/rabbitmq.uri" &
    rabbit=$!
  fi
  pg=$("$HERE/postgres.sh" start "$dir/pg" "$PG_PORT" | tail -n1)
  redis=$("$HERE/redis.sh" start "$dir/redis" "$REDIS_PORT" | tail -n1)
  s3=$("$HERE/s3.sh" start "$dir/s3" "$S3_PORT" | tail -n1)
  if [ -n "$rabbit" ]; then
    wait "$rabbit" || { echo "cluster.sh: RabbitMQ did not start" >&2; return 1; }
  else
    "$HERE/rabbitmq.sh" start "$dir/rabbitmq" "$RABBITMQ_PORT" >"$dir/rabbitmq.uri"
  fi
  amqp=$(tail -n1 "$dir/rabbitmq.uri")
  printf 'PG=%q\nREDIS=%q\nAMQP=%q\nS3=%q\n' "$pg" "$redis" "$amqp" "$s3" >"$dir/stores.env"
  # The write node first: it migrates the database; the others then find it migrated.
  start_node "$dir" write
  await_ready "$dir" write
  for name in read1 read2 worker; do start_node "$dir" "$name"; done
  for name in read1 read2 worker; do await_ready "$dir" "$name"; done
  render_nginx "$dir" "$BASE" "${NODE_PORT[write]}" "${NODE_PORT[read1]}" "${NODE_PORT[read2]}"
  start_nginx "$dir" "$FRONT"
}

start_nginx() {   # start_nginx DIR URL: the nginx render_nginx wrote under DIR, until URL answers; prints URL
  local dir=$1 front=$2
  # Daemonized (nginx's own double fork), holding none of this script's descriptors.
  if ! /usr/sbin/nginx -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -e "$dir/nginx/logs/error.log" </dev/null >"$dir/nginx/logs/start.log" 2>&1; then
    cat "$dir/nginx/logs/start.log" >&2
    return 1
  fi
  for _ in $(seq 1 50); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$front/api/v1/instance" || true)" = 200 ] && { echo "$front"; return 0; }
    sleep 0.1
  done
  echo "cluster.sh: nginx on $front does not answer; its log:" >&2
  cat "$dir/nginx/logs/error.log" >&2 || true
  return 1
}

stop_nginx() {   # stop_nginx DIR
  local dir=$1
  if alive "$dir/nginx/nginx.pid" nginx; then
    /usr/sbin/nginx -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -e "$dir/nginx/logs/error.log" -s quit 2>/dev/null || true
    for _ in $(seq 1 50); do alive "$dir/nginx/nginx.pid" nginx || break; sleep 0.1; done
    stop_pid "$dir/nginx/nginx.pid" nginx
  fi
}

front_up() {   # front_up DIR PORT WRITE READ...: nginx alone, for nodes someone else runs
  local dir=$1 port=$2
  front_down "$dir"
  install_nginx
  mkdir -p "$dir"
  render_nginx "$@"
  start_nginx "$dir" "http://127.0.0.1:$port"
}

front_down() {
  local dir=$1
  [ -d "$dir" ] || return 0
  stop_nginx "$dir"
  rm -rf -- "$dir"
}

down() {
  local dir=$1
  [ -d "$dir" ] || return 0
  stop_nginx "$dir"
  for name in "${NODES[@]}"; do stop_pid "$dir/$name/pid" Lenta.Server; done
  "$HERE/s3.sh" stop "$dir/s3" || true
  "$HERE/rabbitmq.sh" stop "$dir/rabbitmq" || true
  "$HERE/redis.sh" stop "$dir/redis" || true
  "$HERE/postgres.sh" stop "$dir/pg" || true
  rm -rf -- "$dir"
}

status() {
  local dir=$1 rc=0 state
  line() { printf '%-8s %-9s %s\n' "$1" "$2" "$3"; [ "$2" = running ] || rc=1; }
  alive "$dir/nginx/nginx.pid" nginx && state=running || state=stopped; line nginx "$state" "$FRONT"
  for name in "${NODES[@]}"; do
    alive "$dir/$name/pid" Lenta.Server && state=running || state=stopped
    line "$name" "$state" "http://127.0.0.1:${NODE_PORT[$name]} (${ROLES[$name]}, node ${NODE_ID[$name]})"
  done
  alive "$dir/pg/postmaster.pid" postgres && state=running || state=stopped; line postgres "$state" "127.0.0.1:$PG_PORT"
  alive "$dir/redis/$REDIS_PORT/redis.pid" redis-server && state=running || state=stopped; line redis "$state" "127.0.0.1:$REDIS_PORT"
  (exec 3<>"/dev/tcp/127.0.0.1/$RABBITMQ_PORT") 2>/dev/null && state=running || state=stopped; line rabbitmq "$state" "127.0.0.1:$RABBITMQ_PORT"
  alive "$dir/s3/s3rver.pid" s3rver && state=running || state=stopped; line s3rver "$state" "http://127.0.0.1:$S3_PORT"
  return $rc
}

cmd=${1:-}
case "$cmd" in
  up|down|status) dir=${2:-${LENTA_CLUSTER_DIR:-${TMPDIR:-/tmp}/lenta-cluster-$BASE}} ;;
  restart) case "${2:-}" in postgres|redis|rabbitmq) ;; *) usage ;; esac
           dir=${3:-${LENTA_CLUSTER_DIR:-${TMPDIR:-/tmp}/lenta-cluster-$BASE}} ;;
  kill9|start|stop) [ -n "${2:-}" ] && [ -n "${NODE_PORT[${2}]:-}" ] || usage
               dir=${3:-${LENTA_CLUSTER_DIR:-${TMPDIR:-/tmp}/lenta-cluster-$BASE}} ;;
  front-up) [ $# -ge 5 ] || usage
            dir=$(realpath -m -- "$2"); [ "$dir" != / ] || usage
            shift 2; front_up "$dir" "$@"; exit ;;
  front-down) [ $# -eq 2 ] || usage
              dir=$(realpath -m -- "$2"); [ "$dir" != / ] || usage
              front_down "$dir"; exit ;;
  *) usage ;;
esac
dir=$(realpath -m -- "$dir")
[ "$dir" != / ] || usage
case "$cmd" in
  up) up "$dir" ;;
  down) down "$dir" ;;
  status) status "$dir" ;;
  restart)
    case "$2" in
      postgres) "$HERE/postgres.sh" restart "$dir/pg" ;;
      redis) redis-cli -h 127.0.0.1 -p "$REDIS_PORT" flushall >/dev/null 2>&1 || true
             "$HERE/redis.sh" start "$dir/redis" "$REDIS_PORT" >/dev/null ;;
      rabbitmq) "$HERE/rabbitmq.sh" restart "$dir/rabbitmq" ;;
    esac ;;
  kill9) alive "$dir/$2/pid" Lenta.Server && kill -9 "$(cat "$dir/$2/pid")" ;;
  start) alive "$dir/$2/pid" Lenta.Server || { start_node "$dir" "$2"; await_ready "$dir" "$2"; } ;;
  stop) stop_pid "$dir/$2/pid" Lenta.Server ;;
esac
