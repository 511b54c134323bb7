#!/usr/bin/env bash
# CTest driver of web_test.mjs: pvwire's web view in headless Chromium.
#   run.sh PVWIRE_BINARY WEB_DIST_DIR [--screenshot FILE]
# Needs node, Debian's chromium (or PVWIRE_CHROMIUM), tests/web/node_modules (npm ci --prefix
# tests/web) and the built page (CMake target pvwire_web, which also installs web/node_modules).
# Without them: exit 77 (CTest's SKIP_RETURN_CODE) on a developer's machine, a failure when
# CI=true, where a skipped test would pass without having checked anything.
set -u
pvwire=${1:?usage: run.sh PVWIRE_BINARY WEB_DIST_DIR [--screenshot FILE]}
dist=${2:?usage: run.sh PVWIRE_BINARY WEB_DIST_DIR [--screenshot FILE]}
shift 2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# shellcheck source=../support/precondition.sh
source "$here/../support/precondition.sh"
command -v node >/dev/null || missing "node is not installed (scripts/setup installs it)"
chromium=${PVWIRE_CHROMIUM:-/usr/bin/chromium}
[ -x "$chromium" ] || missing "$chromium is missing (apt-get install chromium; scripts/setup --browser)"
[ -d "$here/node_modules/playwright-core" ] || missing "tests/web/node_modules is missing (run: npm ci --prefix tests/web)"
[ -f "$dist/index.html" ] || missing "$dist/index.html is missing (build the pvwire_web target; PVWIRE_BUILD_WEB=ON)"
[ -d "$here/../../web/node_modules/@msgpack/msgpack" ] || missing "web/node_modules is missing (the pvwire_web target runs npm ci there)"

# The test may not leave Chromium or the server behind, whatever happens.
exec timeout -k 10 220 node "$here/web_test.mjs" --pvwire "$pvwire" --web-root "$dist" "$@"
