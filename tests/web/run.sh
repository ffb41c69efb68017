#!/usr/bin/env bash
# Browser tests of the web client: a built Lenta server (with the client in its wwwroot), started on a throw-away
# data folder by scripts/test-server.sh, driven through Debian's Chromium with Playwright (node's built-in test runner).
#
#   scripts/build-web.sh && dotnet build src/Lenta.Server -c Release && PORT=18095 bash tests/web/run.sh
#
# Builds nothing. Env:
#   LENTA_SERVER_DLL  the built server (default src/Lenta.Server/bin/Release/net10.0/Lenta.Server.dll)
#   PORT              where the server listens on 127.0.0.1 (default 18095)
#   CHROMIUM          the browser (default /usr/bin/chromium, Debian's; Playwright downloads none)
# Screenshots (one per test, and the desktop/phone/dark ones the README uses) go to tests/web/artifacts.
# Exit code = node's exit code; the server is stopped and its data folder removed whatever happens.
set -euo pipefail
ROOT=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
cd "$ROOT"
export PORT=${PORT:-18095}

DLL=${LENTA_SERVER_DLL:-src/Lenta.Server/bin/Release/net10.0/Lenta.Server.dll}
if [[ -f $DLL && ! -f $(dirname "$DLL")/wwwroot/index.html ]]; then
  echo "run.sh: $(dirname "$DLL")/wwwroot/index.html not found; build the client first: scripts/build-web.sh" >&2
  exit 2
fi
export CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[[ -x $CHROMIUM ]] || { echo "run.sh: $CHROMIUM not found (apt-get install chromium)" >&2; exit 2; }
for cmd in node npm ffmpeg; do
  command -v "$cmd" >/dev/null || { echo "run.sh: '$cmd' not found" >&2; exit 2; }
done
if [[ ! -d tests/web/node_modules ]]; then
  (cd tests/web && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
fi

# The test files are named explicitly: node 20 searches a directory argument for tests, newer
# nodes take glob patterns instead; a list of files means the same to both.
shopt -s nullglob
TESTS=(tests/web/*.test.mjs)
if [[ ${#TESTS[@]} == 0 ]]; then echo "run.sh: no tests/web/*.test.mjs" >&2; exit 1; fi
exec scripts/test-server.sh node --test --test-concurrency=1 "${TESTS[@]}"
