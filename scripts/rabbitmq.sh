#!/usr/bin/env bash
# Private, throwaway RabbitMQ node for tests.
#
#   scripts/rabbitmq.sh start DIR PORT   # prints the AMQP URI as the last line
#   scripts/rabbitmq.sh restart DIR      # stops the node and starts it again on the same data (a broker restart)
#   scripts/rabbitmq.sh stop DIR         # stops the node (and its epmd) and deletes DIR
#
# The node is an Erlang node of its own (lenta-test-PORT@localhost) with everything under DIR: its data (mnesia),
# logs, configuration, Erlang cookie (HOME=DIR) and an epmd of its own. It listens on 127.0.0.1 only, with no plugins
# (no management UI). Every port it uses sits just above PORT, below the kernel's ephemeral range (32768-60999), so no
# client socket can hold one: AMQP on PORT, epmd on PORT+1, Erlang distribution on PORT+2 and the CLI tools'
# distribution on PORT+3..PORT+9 (RabbitMQ would otherwise put distribution at PORT+20000 and the CLI at +30000).
set -euo pipefail

usage() { echo "usage: $0 start DIR PORT | stop DIR" >&2; exit 2; }

# The Debian wrappers in /usr/sbin switch to the rabbitmq user and its /var/lib/rabbitmq; the scripts they wrap run
# as whoever calls them, with everything taken from the environment below.
BIN=/usr/lib/rabbitmq/bin

install_rabbitmq() {
  [ -x "$BIN/rabbitmq-server" ] && return 0
  [ "$(id -u)" -eq 0 ] || { echo "rabbitmq.sh: RabbitMQ is missing; run as root or: apt-get install rabbitmq-server" >&2; exit 1; }
  echo "rabbitmq.sh: installing RabbitMQ from Debian..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends rabbitmq-server >&2
  # The package starts a system node on 5672 (and its epmd on 4369); tests never use it.
  systemctl disable --now rabbitmq-server >/dev/null 2>&1 || service rabbitmq-server stop >/dev/null 2>&1 || true
}

# node_env DIR PORT: the environment of this node's server and of the CLI tools that talk to it.
node_env() {
  local dir=$1 port=$2
  export HOME=$dir/home   # the Erlang cookie the server and rabbitmqctl share
  export RABBITMQ_NODENAME=lenta-test-$port@localhost
  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=$port
  export ERL_EPMD_PORT=$((port + 1)) ERL_EPMD_ADDRESS=127.0.0.1
  export RABBITMQ_DIST_PORT=$((port + 2))
  export RABBITMQ_CTL_DIST_PORT_MIN=$((port + 3)) RABBITMQ_CTL_DIST_PORT_MAX=$((port + 9))
  export RABBITMQ_MNESIA_BASE=$dir/mnesia RABBITMQ_LOG_BASE=$dir/log
  export RABBITMQ_CONF_ENV_FILE=$dir/rabbitmq-env.conf RABBITMQ_CONFIG_FILE=$dir/rabbitmq.conf
  export RABBITMQ_ADVANCED_CONFIG_FILE=$dir/advanced.config RABBITMQ_ENABLED_PLUGINS_FILE=$dir/enabled_plugins
  export RABBITMQ_PLUGINS_EXPAND_DIR=$dir/plugins-expand
}


start_node() {
  local dir=$1 port=$2
  mkdir -p "$dir/home" "$dir/mnesia" "$dir/log"
  node_env "$dir" "$port"
  echo "$port" >"$dir/port"
  head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$HOME/.erlang.cookie"
  chmod 400 "$HOME/.erlang.cookie"
  : >"$RABBITMQ_CONF_ENV_FILE"   # not /etc/rabbitmq/rabbitmq-env.conf
  echo '[].' >"$RABBITMQ_ENABLED_PLUGINS_FILE"
  echo '[].' >"$RABBITMQ_ADVANCED_CONFIG_FILE"
  cat >"$RABBITMQ_CONFIG_FILE" <<EOF
listeners.tcp.default = 127.0.0.1:$port
loopback_users = none
log.console = false
log.file.level = warning
EOF
  # An epmd of its own, so that the node registers nowhere else; relaxed so that `epmd -kill` stops it later.
  epmd -port "$ERL_EPMD_PORT" -address 127.0.0.1 -daemon -relaxed_command_check >/dev/null 2>&1 </dev/null
  # Forked off into a session of its own, holding none of this script's descriptors (callers read its output to the end).
  (cd / && setsid -f "$BIN/rabbitmq-server" >"$dir/log/stdout.log" 2>&1 </dev/null)
  # await_startup fails at once while the node is not yet registered with epmd, then waits for its boot to finish.
  local started=$SECONDS
  until (cd / && "$BIN/rabbitmqctl" -n "$RABBITMQ_NODENAME" await_startup --timeout 60 >/dev/null 2>&1); do
    if [ $((SECONDS - started)) -ge 120 ]; then
      echo "rabbitmq.sh: node on port $port did not start; log:" >&2
      tail -n 50 "$dir"/log/*.log >&2 || true
      exit 1
    fi
    sleep 0.5
  done
  echo "rabbitmq.sh: node on port $port started in $((SECONDS - started)) s" >&2
}

# stop_vm DIR: stops the node's VM and its epmd, keeping DIR (its data) as it is.
stop_vm() {
  local dir=$1 port pid
  port=$(cat "$dir/port" 2>/dev/null) || return 0
  node_env "$dir" "$port"
  # The node's VM, found by its home (DIR) and epmd port: its node name is not on its command line.
  pid=$(pgrep -f "beam.smp.* -home $HOME -epmd_port $ERL_EPMD_PORT " | head -n1 || true)
  if [ -n "$pid" ]; then
    (cd / && timeout 30 "$BIN/rabbitmqctl" -n "$RABBITMQ_NODENAME" stop >/dev/null 2>&1) || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  # The node's helpers (erl_child_setup, inet_gethost) die with it; its epmd does not.
  epmd -port "$ERL_EPMD_PORT" -kill >/dev/null 2>&1 || true
  for pid in $(pgrep -f "^epmd -port $ERL_EPMD_PORT " || true); do kill -9 "$pid" 2>/dev/null || true; done
}

stop_node() {
  local dir=$1
  [ -d "$dir" ] || return 0
  stop_vm "$dir"
  rm -rf -- "$dir"
}

cmd=${1:-}; dir=${2:-}
[ -n "$dir" ] || usage
dir=$(realpath -m -- "$dir")
[ "$dir" != / ] || usage
case "$cmd" in
  start)
    [ $# -eq 3 ] || usage
    [ "$3" -lt 32758 ] || { echo "rabbitmq.sh: PORT must be below 32758 (its neighbours serve epmd and distribution)" >&2; exit 2; }
    install_rabbitmq; stop_node "$dir"
    start_node "$dir" "$3"
    echo "amqp://guest:guest@127.0.0.1:$3/"
    ;;
  restart)
    [ $# -eq 2 ] || usage
    port=$(cat "$dir/port" 2>/dev/null) || { echo "rabbitmq.sh: no node in $dir" >&2; exit 1; }
    stop_vm "$dir"
    start_node "$dir" "$port"   # same data (mnesia): durable queues and persistent messages come back
    echo "amqp://guest:guest@127.0.0.1:$port/"
    ;;
  stop)
    [ $# -eq 2 ] || usage
    stop_node "$dir"
    ;;
  *) usage ;;
esac
