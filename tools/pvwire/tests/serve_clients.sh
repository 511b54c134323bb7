#!/usr/bin/env bash
# End-to-end test of the pvwire client subcommands against `pvwire serve`:
#   serve_clients.sh PVWIRE_BINARY PV_FILE
# Starts `pvwire serve --isolated --pvs PV_FILE` (loopback only, ephemeral ports) in the
# background, reads the client environment it prints, runs get/put/monitor/info/call/list
# against it and checks their output and exit status. The server is always killed at the end.
set -u
pvwire=${1:?usage: serve_clients.sh PVWIRE_BINARY PV_FILE}
pvfile=${2:?usage: serve_clients.sh PVWIRE_BINARY PV_FILE}

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

# Nothing from the caller's EPICS environment may leak in.
unset EPICS_PVA_NAME_SERVERS EPICS_PVA_INTF_ADDR_LIST EPICS_PVAS_INTF_ADDR_LIST EPICS_PVA_ADDR_LIST \
      EPICS_PVAS_BEACON_ADDR_LIST EPICS_PVA_SERVER_PORT EPICS_PVAS_SERVER_PORT

timeout 120 "$pvwire" serve --isolated --pvs "$pvfile" >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
for _ in $(seq 50); do
    grep -q "running" "$work/server.out" 2>/dev/null && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
if ! grep -q "running" "$work/server.out"; then
    echo "FAIL: pvwire serve did not start"
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
export EPICS_PVA_ADDR_LIST=$addr_list EPICS_PVA_AUTO_ADDR_LIST=NO EPICS_PVA_SERVER_PORT=$tcp_port

failures=0
# check NAME STATUS REGEX -- COMMAND...: runs COMMAND (bounded), expects exit STATUS and
# REGEX (grep -E) in its stdout+stderr.
check() {
    local name=$1 want=$2 regex=$3
    shift 4
    local out status
    out=$(timeout 20 "$@" 2>&1)
    status=$?
    if [ "$status" -ne "$want" ] || ! grep -qE -- "$regex" <<<"$out"; then
        echo "FAIL: $name (status $status, wanted $want; output should match: $regex)"
        echo "  command: $*"
        sed 's/^/  | /' <<<"$out"
        failures=$((failures + 1))
    else
        echo "ok: $name"
    fi
}

check "get a scalar" 0 'double value 1\.5' -- "$pvwire" get demo:setpoint
check "get two PVs" 0 'string value "hello from pvwire"' -- "$pvwire" get demo:setpoint demo:message
check "get --json table" 0 '"value":\{"id":\[1,2,3\],"tag":\["alpha","beta","gamma"\]\}' -- "$pvwire" get --json demo:table
check "get -# 2" 0 '\[0, 0\.5, \.\.\.\] \(8 elements\)' -- "$pvwire" get -# 2 demo:waveform
check "get -F delta" 0 '^    double value 1\.5$' -- "$pvwire" get -F delta demo:setpoint
check "get -r field(value)" 0 'double value 1\.5' -- "$pvwire" get -r 'field(value)' demo:setpoint
check "get timeout" 1 '^Timeout with 1 outstanding$' -- "$pvwire" get -w 1 demo:setpoint no:such:pv
check "get -v prints the configuration" 0 'EPICS_PVA_ADDR_LIST=' -- "$pvwire" get -v demo:setpoint

check "put a negative number" 0 'double value -3\.25' -- "$pvwire" put demo:setpoint -3.25
check "put -- negative" 0 'double value -4\.5' -- "$pvwire" put demo:setpoint -- -4.5
check "put fields" 0 '"value":2\.0,"alarm":\{"severity":0,"status":0,"message":"hi"\}' -- \
    "$pvwire" put --json demo:setpoint value=2 alarm.message=hi
check "put outside the limits" 1 'outside the limits \[-10, 10\]' -- "$pvwire" put demo:setpoint 11
check "put read-only" 1 'read-only' -- "$pvwire" put demo:counter 5
check "put enum by name" 0 'int index 2' -- "$pvwire" put demo:mode On
check "put enum bad name" 1 'not a choice' -- "$pvwire" put demo:mode Bogus
check "put array" 0 '"value":\[1\.0,2\.0,3\.5\]' -- "$pvwire" put --json demo:waveform '[1,2,3.5]'
check "put table" 0 '"id":\[7,8\],"tag":\["x","y"\]' -- "$pvwire" put --json demo:table 'value={"id":[7,8],"tag":["x","y"]}'
check "put table rows must match" 1 'same number of rows' -- "$pvwire" put demo:table 'value.id=[1]'
check "put string" 0 'string value "info"' -- "$pvwire" put demo:message info
check "put bad number" 1 'not a number' -- "$pvwire" put demo:setpoint abc

check "info" 0 'int\[\] id' -- "$pvwire" info demo:table
check "info from" 0 "^demo:mode from 127\.0\.0\.1:$tcp_port$" -- "$pvwire" info demo:mode
check "call returns the value" 0 'structure epics:nt/NTEnum:1.0' -- "$pvwire" call demo:mode
check "call writes its arguments" 0 'double value 3\.5' -- "$pvwire" call demo:setpoint value=3.5
check "call refused" 1 'outside the limits' -- "$pvwire" call demo:setpoint value=30
check "list the PVs of a server" 0 'demo:waveform' -- "$pvwire" list -s "127.0.0.1:$tcp_port"
check "list servers" 0 "^127\.0\.0\.1:$tcp_port guid [0-9a-f]{24} \(search reply\)" -- "$pvwire" list -w 1.5

# monitor for 2.5 s: connection, the first full update and at least one tick
out=$(timeout 20 "$pvwire" monitor -w 2.5 demo:counter demo:mode 2>&1)
status=$?
updates=$(grep -c '^    uint value ' <<<"$out")
if [ "$status" -ne 0 ] || ! grep -q "^demo:counter Connected to 127.0.0.1:$tcp_port" <<<"$out" ||
   ! grep -q '^    int value.index 2$' <<<"$out" || [ "$updates" -lt 2 ]; then
    echo "FAIL: monitor -w 2.5 (status $status, $updates counter updates)"
    sed 's/^/  | /' <<<"$out"
    failures=$((failures + 1))
else
    echo "ok: monitor -w 2.5 ($updates counter updates)"
fi

# monitor --json sees a put
timeout 20 "$pvwire" monitor --json -w 3 demo:setpoint >"$work/mon.json" 2>&1 &
mon=$!
sleep 1
timeout 10 "$pvwire" put -q demo:setpoint 7.25
wait "$mon"
status=$?
if [ "$status" -ne 0 ] || ! grep -q '"event":"connected"' "$work/mon.json" ||
   ! grep -q '"value":7.25.*"changed":\["value","timeStamp' "$work/mon.json"; then
    echo "FAIL: monitor --json (status $status)"
    sed 's/^/  | /' "$work/mon.json"
    failures=$((failures + 1))
else
    echo "ok: monitor --json sees a put"
fi

# Ctrl-C ends a monitor with status 0
"$pvwire" monitor demo:counter >"$work/mon.txt" 2>&1 &
mon=$!
sleep 1.5
kill -INT "$mon"
wait "$mon"
status=$?
if [ "$status" -ne 0 ] || ! grep -q '^    uint value ' "$work/mon.txt"; then
    echo "FAIL: monitor Ctrl-C (status $status)"
    sed 's/^/  | /' "$work/mon.txt"
    failures=$((failures + 1))
else
    echo "ok: monitor stops on Ctrl-C with status 0"
fi

# Ctrl-C stops the server with status 0
kill -INT "$server_pid"
wait "$server_pid"
status=$?
server_pid=
if [ "$status" -ne 0 ]; then
    echo "FAIL: pvwire serve exited with $status on SIGINT"
    failures=$((failures + 1))
else
    echo "ok: serve stops on Ctrl-C with status 0"
fi

if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed"
    exit 1
fi
echo "all checks passed"
