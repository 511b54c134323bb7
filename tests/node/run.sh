#!/usr/bin/env bash
# CTest driver of msgpack_client.mjs: serves tests/node/pvs.json with `pvwire serve --isolated`
# (loopback, ephemeral ports), runs the Node.js client against its msgpack WebSocket endpoint,
# and always stops the server.
#   run.sh PVWIRE_BINARY
# Needs node and tests/node/node_modules (`npm ci --prefix tests/node`, which scripts/test and
# .ci/run do). Without them: exit 77 (CTest's SKIP_RETURN_CODE) on a developer's machine, a
# failure when CI=true, where a skipped test would pass without having checked anything.
set -u
pvwire=${1:?usage: run.sh PVWIRE_BINARY}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# shellcheck source=../support/precondition.sh
source "$here/../support/precondition.sh"
command -v node >/dev/null || missing "node is not installed (scripts/setup installs it)"
for m in ws @msgpack/msgpack; do
    [ -d "$here/node_modules/$m" ] || missing "tests/node/node_modules/$m is missing (run: npm ci --prefix tests/node)"
done

work=$(mktemp -d)
server_pid=
cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null
    fi
    rm -rf "$work"
}
trap cleanup EXIT

timeout 120 "$pvwire" serve --isolated --pvs "$here/pvs.json" >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
for _ in $(seq 50); do
    grep -q "running" "$work/server.out" 2>/dev/null && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
url=$(sed -n 's|.*msgpack+ws://\([^ ]*\)/msgpack.*|ws://\1/msgpack|p' "$work/server.out")
if [ -z "$url" ]; then
    echo "FAIL: pvwire serve printed no msgpack WebSocket address"
    cat "$work/server.out" "$work/server.err"
    exit 1
fi
echo "server: $url"

# The values pvs.json serves, as the client must see them.
node "$here/msgpack_client.mjs" "$url" node:tick \
    'node:doubles=[1.5, -2.25, 1e300, 0, 3.141592653589793]' \
    'node:ints=[7, -8, 2147483647, -2147483648]'
status=$?
if [ "$status" -ne 0 ]; then
    echo "--- server stderr:"
    cat "$work/server.err"
fi
exit "$status"
