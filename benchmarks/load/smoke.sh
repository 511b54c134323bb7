#!/usr/bin/env bash
# Correctness test of the flood/monitor pair (counts, not timing): smoke.sh PVWIRE_BENCH_BINARY
#  1. `pvwire-bench flood` (loopback only, ephemeral ports) feeds 4 counters; `monitor`
#     with flow control must count updates with no gap and no squash.
#  2. The same with --skip-every 500 (every 500th counter value is never sent): the monitor
#     must report those gaps, one per 500 values.
# Servers are always killed at the end.
set -u
bench=${1:?usage: smoke.sh PVWIRE_BENCH_BINARY}

work=$(mktemp -d)
server_pid=
stop_server() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null
        server_pid=
    fi
}
trap 'stop_server; rm -rf "$work"' EXIT
fail() {
    echo "FAIL: $*"
    exit 1
}

unset EPICS_PVA_NAME_SERVERS EPICS_PVA_INTF_ADDR_LIST EPICS_PVAS_INTF_ADDR_LIST EPICS_PVA_ADDR_LIST \
      EPICS_PVAS_BEACON_ADDR_LIST EPICS_PVA_SERVER_PORT EPICS_PVAS_SERVER_PORT EPICS_PVA_BROADCAST_PORT

# start_server ARGS...: runs the flood server and exports the client environment it prints
start_server() {
    timeout 30 "$bench" flood --isolated --prefix t: --count 4 "$@" >"$work/server.out" 2>"$work/server.err" &
    server_pid=$!
    for _ in $(seq 50); do
        grep -q "running" "$work/server.out" 2>/dev/null && break
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    grep -q "running" "$work/server.out" || { cat "$work/server.out" "$work/server.err"; fail "flood did not start"; }
    local addr_list tcp_port
    addr_list=$(sed -n 's/.*EPICS_PVA_ADDR_LIST=\([^ ]*\).*/\1/p' "$work/server.out")
    tcp_port=$(sed -n 's/.*EPICS_PVA_SERVER_PORT=\([0-9]*\).*/\1/p' "$work/server.out")
    [ -n "$addr_list" ] && [ -n "$tcp_port" ] || fail "no client environment in the server's output"
    export EPICS_PVA_ADDR_LIST=$addr_list EPICS_PVA_AUTO_ADDR_LIST=NO EPICS_PVA_BROADCAST_PORT=0 \
           EPICS_PVA_SERVER_PORT=$tcp_port
}

# field NAME: a key of the monitor's RESULT line
field() { sed -n "s/^RESULT kind=monitor .*\b$1=\([0-9.]*\).*/\1/p" <<<"$out"; }

run_monitor() {
    out=$(timeout 20 "$bench" monitor --prefix t: --count 4 --queue 4 --pipeline --seconds 2 --connect-timeout 3 2>&1)
    status=$?
    echo "$out"
    [ "$status" -eq 0 ] || fail "monitor exit status $status"
    updates=$(field updates)
    skipped=$(field skipped)
    squashed=$(field squashed)
    [ -n "$updates" ] && [ "$updates" -gt 0 ] || fail "no updates counted"
}

start_server
run_monitor
[ "$skipped" -eq 0 ] || fail "$skipped counter values skipped without an injected gap"
[ "$squashed" -eq 0 ] || fail "$squashed updates squashed under flow control"
echo "ok: $updates updates, no gap, no squash"
stop_server

start_server --skip-every 500
run_monitor
# each PV skips one value in every 500 it counts through: about updates/499 in all, give or
# take one per PV at the edges of the measured interval
expected=$((updates / 499))
[ "$skipped" -ge $((expected - 4)) ] && [ "$skipped" -le $((expected + 4)) ] ||
    fail "injected gaps: skipped $skipped, expected about $expected"
echo "ok: $updates updates, $skipped injected gaps detected (expected about $expected)"
stop_server
echo PASS
