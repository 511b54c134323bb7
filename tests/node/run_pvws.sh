#!/usr/bin/env bash
# CTest driver of pvws_client.mjs: two `pvwire serve --isolated` of tests/node/pvs.json, one
# with --web-write and no throttle, one with the defaults (writes refused, 1000 ms throttle);
# the Node.js client speaks PVWS JSON to both /pvws/pv endpoints. Also checks the HTTP routes
# (/metrics, /api/config, /api/pvs, static files, 404, path traversal) with curl-free node.
#   run_pvws.sh PVWIRE_BINARY
# Without node or tests/node/node_modules: exit 77 (skip), or a failure when CI=true.
set -u
pvwire=${1:?usage: run_pvws.sh PVWIRE_BINARY}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# shellcheck source=../support/precondition.sh
source "$here/../support/precondition.sh"
command -v node >/dev/null || missing "node is not installed (scripts/setup installs it)"
[ -d "$here/node_modules/ws" ] || missing "tests/node/node_modules/ws is missing (run: npm ci --prefix tests/node)"

work=$(mktemp -d)
cleanup() {
    # serve() runs in a command substitution (a subshell): it leaves its server's pid in a file
    for f in "$work"/*.pid; do [ -e "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/web/assets"
echo '<!doctype html><title>pvwire test page</title>' >"$work/web/index.html"
echo 'console.log(1)' >"$work/web/assets/app.js"
echo 'secret' >"$work/secret.txt"

# serve NAME ARGS...: starts a server, waits for it, prints its /pvws/pv URL
serve() {
    local name=$1
    shift
    timeout 120 "$pvwire" serve --isolated --pvs "$here/pvs.json" "$@" >"$work/$name.out" 2>"$work/$name.err" &
    echo $! >"$work/$name.pid"
    for _ in $(seq 50); do
        grep -q "running" "$work/$name.out" 2>/dev/null && break
        sleep 0.1
    done
    sed -n 's|.*PVWS at \(ws://[^;]*\);.*|\1|p' "$work/$name.out"
}
write_url=$(serve write --web-write --pvws-throttle-ms 0 --web-root "$work/web" --http-user-header X-Remote-User)
read_url=$(serve read --web-root "$work/web")
if [ -z "$write_url" ] || [ -z "$read_url" ]; then
    echo "FAIL: pvwire serve printed no PVWS address"
    cat "$work"/*.out "$work"/*.err
    exit 1
fi
echo "servers: $write_url $read_url"

node "$here/pvws_client.mjs" "$write_url" "$read_url" && node "$here/http_routes.mjs" "${write_url%/pvws/pv}" "${read_url%/pvws/pv}"
status=$?
if [ "$status" -ne 0 ]; then
    echo "--- server stderr:"
    cat "$work"/*.err
fi
exit "$status"
