#!/usr/bin/env bash
# Private, throwaway PostgreSQL cluster for tests.
#
#   scripts/postgres.sh start DIR PORT   # prints the Npgsql connection string as the last line
#   scripts/postgres.sh restart DIR      # stops the server (fast: open sessions are cut) and starts it again on its data
#   scripts/postgres.sh stop DIR         # stops the server and deletes DIR
#
# We deliberately do not touch the Debian system cluster or systemd: tests get their
# own cluster in DIR (trust auth, TCP on 127.0.0.1 only, socket inside DIR), so runs
# are isolated, need no passwords and leave nothing behind.
set -euo pipefail

usage() { echo "usage: $0 start DIR PORT | restart DIR | stop DIR" >&2; exit 2; }

# PostgreSQL refuses to run as root, so as root we run its tools as the `postgres` user.
# `cd /` so it is never left in a directory it cannot read (e.g. /root).
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else (cd / && "$@"); fi
}

# Debian installs the server binaries outside PATH, under /usr/lib/postgresql/<version>/bin.
pg_bin() { compgen -G '/usr/lib/postgresql/*/bin/initdb' | sort -V | tail -n1 | xargs dirname; }

install_postgres() {
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null && return 0
  [ "$(id -u)" -eq 0 ] || { echo "postgres.sh: PostgreSQL is missing; run as root or: apt-get install postgresql" >&2; exit 1; }
  echo "postgres.sh: installing PostgreSQL from Debian..." >&2
  # We never use the packaged 'main' cluster, so ask postgresql-common not to create it.
  mkdir -p /etc/postgresql-common/createcluster.d
  echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.d/lenta-no-main.conf
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends postgresql >&2
}

stop_cluster() {
  local dir=$1
  [ -d "$dir" ] || return 0
  # Only ask pg_ctl to stop a postmaster that is really alive and serving DIR: after a killed
  # run the pid file is stale (pid gone, reused, or an unreaped zombie with an empty cmdline),
  # and pg_ctl would wait for its full timeout or signal the wrong process.
  local pid
  pid=$(head -n1 "$dir/postmaster.pid" 2>/dev/null || true)
  if [ -n "$pid" ] && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "-D $dir "; then
    # fast = abort open sessions and shut down cleanly; immediate as a last resort.
    as_pg "$(pg_bin)/pg_ctl" -D "$dir" -m fast -t 30 stop >&2 ||
      as_pg "$(pg_bin)/pg_ctl" -D "$dir" -m immediate stop >&2 || true
  fi
  rm -rf -- "$dir"
}

start_cluster() {
  local dir=$1 port=$2 bin
  install_postgres
  bin=$(pg_bin)
  stop_cluster "$dir"   # leftover from a killed previous run
  mkdir -p "$dir"
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; fi
  chmod 700 "$dir"
  as_pg test -w "$dir" || { echo "postgres.sh: user postgres cannot reach $dir (check parent dir permissions)" >&2; exit 1; }

  # C.UTF-8: deterministic code-point collation, but Unicode-aware lower()/ILIKE (Cyrillic etc.).
  as_pg "$bin/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  if ! as_pg "$bin/pg_ctl" -w -D "$dir" -l "$dir/log" \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=300" start >&2; then
    echo "postgres.sh: server failed to start (port $port busy?); log:" >&2
    cat "$dir/log" >&2 || true
    exit 1
  fi
  echo "Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres"
}

cmd=${1:-}; dir=${2:-}
[ -n "$dir" ] || usage
dir=$(realpath -m -- "$dir")   # absolute: the postgres tools run from /
[ "$dir" != / ] || usage       # never rm -rf /
case "$cmd" in
  start) [ $# -eq 3 ] || usage; start_cluster "$dir" "$3" ;;
  restart) [ $# -eq 2 ] || usage; as_pg "$(pg_bin)/pg_ctl" -w -D "$dir" -l "$dir/log" -m fast restart >&2 ;;
  stop)  [ $# -eq 2 ] || usage; stop_cluster "$dir" ;;
  *) usage ;;
esac
