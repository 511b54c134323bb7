#!/usr/bin/env bash
# Smoke test of pvwire-bench: smoke.sh PVWIRE_BENCH_BINARY
# Starts `pvwire-bench flood --isolated` (loopback only, ephemeral ports) in the background,
# reads the client environment it prints, runs `pvwire-bench monitor` against it and checks
# that updates were counted. The server is always killed at the end.
set -u
bench=${1:?usage: smoke.sh PVWIRE_BENCH_BINARY}

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

unset EPICS_PVA_NAME_SERVERS EPICS_PVA_INTF_ADDR_LIST EPICS_PVAS_INTF_ADDR_LIST EPICS_PVA_ADDR_LIST \
      EPICS_PVAS_BEACON_ADDR_LIST EPICS_PVA_SERVER_PORT EPICS_PVAS_SERVER_PORT EPICS_PVA_BROADCAST_PORT

timeout 30 "$bench" flood --isolated --prefix t: --count 4 --seconds 4 >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
for _ in $(seq 50); do
    grep -q "running" "$work/server.out" 2>/dev/null && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
if ! grep -q "running" "$work/server.out"; then
    echo "FAIL: pvwire-bench flood did not start"
    cat "$work/server.out" "$work/server.err"
    exit 1
fi
cat "$work/server.out"
addr_list=$(sed -n 's/.*EPICS_PVA_ADDR_LIST=\([^ ]*\).*/\1/p' "$work/server.out")
tcp_port=$(sed -n 's/.*EPICS_PVA_SERVER_PORT=\([0-9]*\).*/\1/p' "$work/server.out")
if [ -z "$addr_list" ] || [ -z "$tcp_port" ]; then
    echo "FAIL: no client environment in the server's output"
    exit 1
fi
export EPICS_PVA_ADDR_LIST=$addr_list EPICS_PVA_AUTO_ADDR_LIST=NO EPICS_PVA_BROADCAST_PORT=0 \
       EPICS_PVA_SERVER_PORT=$tcp_port

out=$(timeout 20 "$bench" monitor --prefix t: --count 4 --seconds 2 --connect-timeout 1.5 2>&1)
status=$?
echo "$out"
updates=$(sed -n 's/^pvwire-bench monitor: .* \([0-9]*\) updates, .*/\1/p' <<<"$out")
if [ "$status" -ne 0 ] || [ -z "$updates" ] || [ "$updates" -le 0 ]; then
    echo "FAIL: monitor status $status, updates '${updates}'"
    exit 1
fi
echo "PASS: $updates updates"
