#!/usr/bin/env bash
# Run all Lenta tests:  ./test.sh [extra `dotnet test` args, e.g. --filter "FullyQualifiedName~Feed"]
#
# Meant for a fresh Debian 12 machine (as root) that only has the .NET 10 SDK: it installs the
# Debian packages the tests need, starts a private PostgreSQL, a Redis server, a three-master
# Redis Cluster, a RabbitMQ node and an S3-compatible server (all on 127.0.0.1), runs the solution's tests, and ends
# with a one-line summary "N passed, N failed[, N skipped]". Exit code is non-zero on any failure
# or when no test ran at all.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"

scripts/require-dotnet.sh test.sh

# Debian packages the tests need, as "package=what-proves-it-is-installed" (a command on PATH
# or a file glob). One line per dependency; all missing ones are installed with one apt-get update.
APT_DEPS=(
  "postgresql=/usr/lib/postgresql/*/bin/initdb"
  "curl=curl"
  "ffmpeg=ffprobe"
  "chromium=/usr/bin/chromium"   # the web client's browser tests (tests/web), driven by Playwright
  "nginx=/usr/sbin/nginx"        # the front of the local cluster (scripts/cluster.sh, tests/Lenta.Tests/Cluster)
)
scripts/ensure-packages.sh "${APT_DEPS[@]}"

# The web client (web/) is built before the server, whose build copies it into its output (wwwroot).
scripts/build-web.sh

# Private PostgreSQL in a temp dir, always stopped and removed on exit, error or Ctrl-C.
# The dir is named after the port, so a run that was SIGKILLed (no trap) leaves a cluster
# that the next run on the same port finds and stops instead of failing on a busy port.
PG_PORT=${LENTA_TEST_PG_PORT:-25432}   # below the kernel's ephemeral range (32768–60999): no client socket can hold it
WORK=${TMPDIR:-/tmp}/lenta-test-$PG_PORT
mkdir -p "$WORK" && chmod 755 "$WORK"   # the postgres OS user must reach its data dir inside
PG_DIR=$WORK/pg
REDIS_DIR=$WORK/redis
# One Redis server here, a three-master cluster on the next three ports (scripts/redis.sh installs Redis from Debian).
REDIS_PORT=${LENTA_TEST_REDIS_PORT:-$((PG_PORT + 1000))}
# A RabbitMQ node of its own (scripts/rabbitmq.sh installs it from Debian); it also takes the next nine ports.
RABBITMQ_DIR=$WORK/rabbitmq
RABBITMQ_PORT=${LENTA_TEST_RABBITMQ_PORT:-$((PG_PORT + 2000))}
# A second node that the broker-restart tests start, restart and stop themselves (PrivateRabbitMq); its ports sit apart.
export LENTA_TEST_RABBITMQ_SCRIPT=$PWD/scripts/rabbitmq.sh LENTA_TEST_RABBITMQ_SPARE_DIR=$WORK/rabbitmq-spare
export LENTA_TEST_RABBITMQ_SPARE_PORT=$((RABBITMQ_PORT + 500))
# An S3-compatible server (s3rver, which scripts/s3.sh installs from npm) for the S3 object-store adapter.
S3_DIR=$WORK/s3
S3_PORT=${LENTA_TEST_S3_PORT:-$((PG_PORT + 3000))}
# The cluster suite starts the local cluster (scripts/cluster.sh) itself, once, on this base port and the next 30.
export LENTA_TEST_CLUSTER_PORT=${LENTA_TEST_CLUSTER_PORT:-$((PG_PORT + 4000))} LENTA_TEST_REQUIRE_CLUSTER=1
# Front mode (LENTA_TEST_FRONT=nginx, tests/Lenta.Tests/Infrastructure/Front.cs): each PostgreSQL fixture's nginx has its
# folder here, so that one left by a killed test run is stopped below.
export LENTA_TEST_FRONT_DIR=$WORK/front
# Their nginx ports: this one and the 999 after it, below the ephemeral range as every port of the run's own servers.
export LENTA_TEST_FRONT_PORT=${LENTA_TEST_FRONT_PORT:-$((PG_PORT + 5000))}
cleanup() {
  [ -z "${front_pid:-}" ] || kill -- "-$front_pid" 2>/dev/null || true   # the front run's dotnet and test host, if still running
  for d in "$LENTA_TEST_FRONT_DIR"/front-*; do [ -d "$d" ] && scripts/cluster.sh front-down "$d"; done || true
  scripts/postgres.sh stop "$PG_DIR" || true
  scripts/redis.sh stop "$REDIS_DIR" || true
  scripts/redis.sh stop "$REDIS_DIR-cluster" || true
  scripts/rabbitmq.sh stop "$RABBITMQ_DIR" || true
  scripts/rabbitmq.sh stop "$LENTA_TEST_RABBITMQ_SPARE_DIR" || true   # if a test died before stopping it
  scripts/s3.sh stop "$S3_DIR" || true
  LENTA_CLUSTER_PORT=$LENTA_TEST_CLUSTER_PORT scripts/cluster.sh down "${TMPDIR:-/tmp}/lenta-test-cluster-$LENTA_TEST_CLUSTER_PORT" || true   # if the suite died before
  LENTA_CLUSTER_PORT=$((LENTA_TEST_CLUSTER_PORT + 50)) scripts/cluster.sh down "$WORK/clients-cluster" || true
  rm -rf -- "$WORK"
}
trap cleanup EXIT   # INT/TERM exit through here too (bash runs them once dotnet returns)
trap 'exit 130' INT
trap 'exit 143' TERM

LENTA_TEST_POSTGRES=$(scripts/postgres.sh start "$PG_DIR" "$PG_PORT" | tail -n1)
export LENTA_TEST_POSTGRES LENTA_TEST_REQUIRE_POSTGRES=1
LENTA_TEST_REDIS=$(scripts/redis.sh start "$REDIS_DIR" "$REDIS_PORT" | tail -n1)
LENTA_TEST_REDIS_CLUSTER=$(scripts/redis.sh start-cluster "$REDIS_DIR-cluster" "$((REDIS_PORT + 1))" | tail -n1)
export LENTA_TEST_REDIS LENTA_TEST_REDIS_CLUSTER LENTA_TEST_REQUIRE_REDIS=1
LENTA_TEST_RABBITMQ=$(scripts/rabbitmq.sh start "$RABBITMQ_DIR" "$RABBITMQ_PORT" | tail -n1)
export LENTA_TEST_RABBITMQ LENTA_TEST_REQUIRE_RABBITMQ=1
LENTA_TEST_S3=$(scripts/s3.sh start "$S3_DIR" "$S3_PORT" | tail -n1)
export LENTA_TEST_S3 LENTA_TEST_REQUIRE_S3=1
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

# Results stay in ./artifacts/test-results (git-ignored) for inspection; cleared so that only
# this run's TRX files are counted.
RESULTS=$PWD/artifacts/test-results
rm -rf -- "$RESULTS" && mkdir -p "$RESULTS"
rc=0
dotnet test Lenta.slnx -c Release --logger "trx;LogFileName=results.trx" --results-directory "$RESULTS" "$@" || rc=$?

# The node suites against the Release server dotnet test just built: client libraries (megalodon) and the web
# client's browser tests (Playwright driving Chromium). Skipped when a --filter narrowed the run to some .NET tests.
node_pass=0 node_fail=0
node_suite() {  # node_suite NAME [TAP]: runs tests/NAME/run.sh, adds its TAP "# pass N" / "# fail N" to node_pass / node_fail
  local src=0 pass fail tap=$RESULTS/${2:-$1}.tap
  bash "tests/$1/run.sh" 2>&1 | tee "$tap" || src=$?
  pass=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$tap" | tail -n1)
  fail=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$tap" | tail -n1)
  pass=${pass:-0} fail=${fail:-0}
  if [ "$src" -ne 0 ]; then
    [ "$fail" -gt 0 ] || fail=1   # the runner itself failed (build missing, server did not start)
    [ "$rc" -ne 0 ] || rc=$src
  fi
  node_pass=$((node_pass + pass)) node_fail=$((node_fail + fail))
}
if [[ " $* " != *" --filter "* ]]; then
  # The HTTP API suite's PostgreSQL classes a second time, each through an nginx front with deploy/nginx/lenta.conf over a
  # write node, two read nodes and a worker (front mode; the classes marked [ThroughFront]), beside the node suites. In a
  # session of its own (setsid), so that the cleanup can end it and its test host together.
  front_start=$SECONDS
  LENTA_TEST_FRONT=nginx setsid dotnet test tests/Lenta.Tests -c Release --no-build --filter "Front=nginx" \
    --logger "trx;LogFileName=front.trx" --results-directory "$RESULTS/front" >"$RESULTS/front.log" 2>&1 &
  front_pid=$!
  node_suite clients
  # The same client-library tests through the nginx front of a local cluster (scripts/cluster.sh: two read nodes, a
  # write node, a worker on PostgreSQL, Redis, RabbitMQ and S3), started for them alone with rate limits off as the
  # single server above has them; counted like the above.
  CLUSTER_DIR=$WORK/clients-cluster
  if front=$(LENTA_CLUSTER_PORT=$((LENTA_TEST_CLUSTER_PORT + 50)) Lenta__RateLimits__Enabled=false \
      LENTA_SERVER_DLL=$PWD/src/Lenta.Server/bin/Release/net10.0/Lenta.Server.dll scripts/cluster.sh up "$CLUSTER_DIR" | tail -n1); then
    LENTA_BASE_URL=$front node_suite clients clients-nginx
  else
    node_fail=$((node_fail + 1)); [ "$rc" -ne 0 ] || rc=1
  fi
  LENTA_CLUSTER_PORT=$((LENTA_TEST_CLUSTER_PORT + 50)) scripts/cluster.sh down "$CLUSTER_DIR" || true
  node_suite web
  front_rc=0
  wait "$front_pid" || front_rc=$?
  front_pid=""
  grep -E '^ *(Failed|Passed!|Failed!) ' "$RESULTS/front.log" || tail -n 40 "$RESULTS/front.log"
  echo "front mode: the PostgreSQL classes through nginx took $((SECONDS - front_start)) s (log: $RESULTS/front.log)"
  [ "$front_rc" -eq 0 ] || [ "$rc" -ne 0 ] || rc=$front_rc
fi

# Summary from the <Counters .../> element of every TRX file, with plain awk (a fresh machine
# may have no python3). Errors, timeouts and aborts count as failures; not executed = skipped.
count() {  # count ATTR...: sum of these Counters attributes over all TRX files
  find "$RESULTS" -name '*.trx' -exec cat {} + | awk -v attrs="$*" '
    BEGIN { n = split(attrs, a, " ") }
    /<Counters / {
      c = substr($0, index($0, "<Counters")); c = substr(c, 1, index(c, ">"))
      for (i = 1; i <= n; i++)
        if (match(c, " " a[i] "=\"[0-9]+\"")) { v = substr(c, RSTART, RLENGTH); gsub(/[^0-9]/, "", v); s += v }
    }
    END { print s + 0 }'
}
total=$(count total) executed=$(count executed) passed=$(count passed)
failed=$(count failed error timeout aborted)
total=$((total + node_pass + node_fail)) executed=$((executed + node_pass + node_fail))
passed=$((passed + node_pass)) failed=$((failed + node_fail))
skipped=$((total - executed))

# The failures again at the very end, where a reader of only the last lines sees them: each failed .NET test with the
# first lines of its message, and each failed node test.
find "$RESULTS" -name '*.trx' -exec cat {} + | awk '
  /<UnitTestResult / && /outcome="(Failed|Error|Timeout|Aborted)"/ {
    name = $0; sub(/.*testName="/, "", name); sub(/".*/, "", name); print "FAILED " name; inmsg = 0; shown = 0; want = 1; next }
  /<UnitTestResult / { want = 0 }
  want && /<Message>/ { inmsg = 1; sub(/.*<Message>/, "") }
  want && inmsg { done = sub(/<\/Message>.*/, ""); if (shown < 6) { print "    " $0; shown++ }; if (done) { inmsg = 0; want = 0 } }'
for tap in "$RESULTS"/*.tap; do
  if [ -e "$tap" ]; then
    grep -E '^not ok ' "$tap" | sed "s|^|FAILED $(basename "$tap" .tap): |" || true
  fi
done
[ "$executed" -gt 0 ] || { echo "test.sh: no tests were executed" >&2; [ "$rc" -ne 0 ] || rc=1; }
[ "$failed" -eq 0 ] || [ "$rc" -ne 0 ] || rc=1
summary="$passed passed, $failed failed"
[ "$skipped" -eq 0 ] || summary+=", $skipped skipped"
echo "$summary"
exit "$rc"
