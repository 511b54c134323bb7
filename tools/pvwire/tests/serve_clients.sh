#!/usr/bin/env bash
# End-to-end test of the pvwire client subcommands against `pvwire serve`:
#   serve_clients.sh PVWIRE_BINARY PV_FILE
# Starts `pvwire serve --isolated --pvs PV_FILE` (loopback only, ephemeral ports) in the
# background, reads the client environment it prints, runs get/put/monitor/info/call/list
# against it and checks their output and exit status (and its status PVs, docs/metrics.md). The server is always killed at the end.
set -u
pvwire=${1:?usage: serve_clients.sh PVWIRE_BINARY PV_FILE}
pvfile=${2:?usage: serve_clients.sh PVWIRE_BINARY PV_FILE}

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
start_server --pvs "$pvfile" --status-prefix demo:srv || exit 1

check "status PVs: the server's own numbers" 0 '^    value uint64_t = [0-9]+$' -- "$pvwire" get demo:srv:ops:get
check "status PVs: rates in B/s" 0 'string units = "B/s"' -- "$pvwire" get -F tree demo:srv:bytes_in_rate
check "status PVs are read-only" 1 'read-only' -- "$pvwire" put demo:srv:errors 0

check "get a scalar, PVXS's delta form" 0 '^demo:setpoint$' '^    struct "epics:nt/NTScalar:1\.0"$' '^    value double = 1\.5$' \
    '^    alarm\.severity int32_t = 0$' -- "$pvwire" get demo:setpoint
check "get -F tree, PVXS's tree form" 0 '^    struct "epics:nt/NTScalar:1\.0" \{$' '^        double value = 1\.5$' \
    '^        struct "alarm_t" \{$' '^            int32_t severity = 0$' '^        \} alarm$' '^    \}$' -- \
    "$pvwire" get -F tree demo:setpoint
check "get -F pvget, pvget's form" 0 '^    structure epics:nt/NTScalar:1\.0$' '^        double value 1\.5$' -- \
    "$pvwire" get -F pvget demo:setpoint
check "get -F tree: arrays and tables" 0 '^        string\[\] labels = \{2\}\["ID", "Tag"\]$' \
    '^            int32_t\[\] id = \{3\}\[1, 2, 3\]$' '^        \} value$' -- "$pvwire" get -F tree demo:table
check "get two PVs" 0 '^    value string = "hello from pvwire"$' -- "$pvwire" get demo:setpoint demo:message
check "get --json table" 0 '"value":\{"id":\[1,2,3\],"tag":\["alpha","beta","gamma"\]\}' -- "$pvwire" get --json demo:table
check "get -# 2" 0 '^    value double\[\] = \{8\}\[0, 0\.5, \.\.\.\]$' -- "$pvwire" get -# 2 demo:waveform
check "get -F pvget -# 2" 0 '\[0, 0\.5, \.\.\.\] \(8 elements\)' -- "$pvwire" get -F pvget -# 2 demo:waveform
check "get -F delta" 0 '^    value double = 1\.5$' -- "$pvwire" get -F delta demo:setpoint
check "get -r field(value) prints the value only" 0 '^    value double = 1\.5$' '^2 lines$' -- \
    sh -c 'out=$("$0" get -r "field(value)" demo:setpoint) && echo "$out" && echo "$(echo "$out" | wc -l) lines"' "$pvwire"
check "get timeout" 1 '^Timeout with 1 outstanding$' -- "$pvwire" get -w 1 demo:setpoint no:such:pv
check "get timeout names the PV" 1 '^no:such:pv: Timeout \(not connected\)$' -- "$pvwire" get -w 1 no:such:pv
check "info timeout" 1 '^no:such:pv: Timeout \(not connected\)$' '^Timeout with 1 outstanding$' -- "$pvwire" info -w 1 no:such:pv
check "put timeout" 1 '^no:such:pv: Timeout \(not connected\)$' '^Timeout with 1 outstanding$' -- "$pvwire" put -w 1 no:such:pv 1
check "call timeout" 1 '^no:such:pv: Timeout \(not connected\)$' '^Timeout with 1 outstanding$' -- "$pvwire" call -w 1 no:such:pv
check "get -v prints the configuration" 0 'EPICS_PVA_ADDR_LIST=' -- "$pvwire" get -v demo:setpoint

check "put a negative number" 0 '^    value double = -3\.25$' -- "$pvwire" put demo:setpoint -3.25
check "put -- negative" 0 '^    value double = -4\.5$' -- "$pvwire" put demo:setpoint -- -4.5
check "put fields" 0 '"value":2\.0,"alarm":\{"severity":0,"status":0,"message":"hi"\}' -- \
    "$pvwire" put --json demo:setpoint value=2 alarm.message=hi
check "put outside the limits, said once" 1 '^demo:setpoint: Error: value 11 is outside the limits \[-10, 10\]$' -- \
    "$pvwire" put demo:setpoint 11
check "put read-only" 1 'read-only' -- "$pvwire" put demo:counter 5
check "put enum by name" 0 '^    value\.index int32_t = 2$' -- "$pvwire" put demo:mode On
check "put enum bad name" 1 'not a choice' -- "$pvwire" put demo:mode Bogus
check "put array" 0 '"value":\[1\.0,2\.0,3\.5\]' -- "$pvwire" put --json demo:waveform '[1,2,3.5]'
check "put table" 0 '"id":\[7,8\],"tag":\["x","y"\]' -- "$pvwire" put --json demo:table 'value={"id":[7,8],"tag":["x","y"]}'
check "put table rows must match" 1 'same number of rows' -- "$pvwire" put demo:table 'value.id=[1]'
check "put string" 0 '^    value string = "info"$' -- "$pvwire" put demo:message info
check "put bad number, said once" 1 '^demo:setpoint: cannot put: field .value.: "abc" is not a number \(double\)$' -- \
    "$pvwire" put demo:setpoint abc
check "put option after the PV name" 2 '^pvwire put: options go before the PV name \(-q after demo:mode\)' -- \
    "$pvwire" put demo:mode Standby -q
check "call option after the PV name" 2 '^pvwire call: options go before the PV name \(--json after demo:mode\)' -- \
    "$pvwire" call demo:mode --json
check "put a value after --" 0 '^    value string = "-q"$' -- "$pvwire" put demo:message -- -q
check "put --help shows the positionals" 0 'Usage: .*put \[OPTIONS\] PV VALUE' -- "$pvwire" put --help
check "call --help shows the positionals" 0 'NAME=VALUE +Arguments' -- "$pvwire" call --help
check "get takes options after the PV names" 0 '^demo:setpoint$' -- "$pvwire" get demo:setpoint -w 3

check "info" 0 'int\[\] id' -- "$pvwire" info demo:table
check "info from" 0 "^demo:mode from 127\.0\.0\.1:$tcp_port$" -- "$pvwire" info demo:mode
check "call returns the value, as pvxcall in tree form" 0 '^    struct "epics:nt/NTEnum:1\.0" \{$' -- "$pvwire" call demo:mode
check "call writes its arguments" 0 '^        double value = 3\.5$' -- "$pvwire" call demo:setpoint value=3.5
check "call refused" 1 'outside the limits' -- "$pvwire" call demo:setpoint value=30
check "list the PVs of a server" 0 'demo:waveform' -- "$pvwire" list -s "127.0.0.1:$tcp_port"
check "list -i: the server's version, as pvxlist -i" 0 "^127\.0\.0\.1:$tcp_port version=\"pvwire [0-9.]+ \((replica [^,]+, )?host [^)]+\)\" lang=\"cpp\"$" -- \
    "$pvwire" list -i "127.0.0.1:$tcp_port"
check "list --json HOST has the port" 0 "^\{\"server\":\"127\.0\.0\.1:$tcp_port\",\"pvs\":\[" -- \
    "$pvwire" list --json 127.0.0.1
check "call server says what to do" 1 '^server: Timeout \(not connected\)$' '^  pvwire call --server HOST\[:PORT\] server op=channels +its PVs' -- \
    "$pvwire" call -w 1 server op=channels
check "list servers" 0 "^127\.0\.0\.1:$tcp_port guid [0-9a-f]{24} \(search reply\)" -- "$pvwire" list -w 1.5

# monitor for 2.5 s: connection, the first full update and at least one tick
out=$(timeout 20 "$pvwire" monitor -w 2.5 demo:counter demo:mode 2>&1)
status=$?
updates=$(grep -c '^    value uint32_t = ' <<<"$out")
if [ "$status" -ne 0 ] || ! grep -qE "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}\.[0-9]{9} demo:counter Connected to 127\.0\.0\.1:$tcp_port$" <<<"$out" ||
   ! grep -q '^    value\.index int32_t = 2$' <<<"$out" || [ "$updates" -lt 2 ]; then
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
if [ "$status" -ne 0 ] || ! grep -q '^    value uint32_t = ' "$work/mon.txt"; then
    echo "FAIL: monitor Ctrl-C (status $status)"
    sed 's/^/  | /' "$work/mon.txt"
    failures=$((failures + 1))
else
    echo "ok: monitor stops on Ctrl-C with status 0"
fi

# Ctrl-C stops the server promptly (under a second, a monitor connected) with status 0
"$pvwire" monitor demo:counter >/dev/null 2>&1 &
mon=$!
sleep 1
start=$(date +%s%N)
kill -INT "$server_pid"
wait "$server_pid"
status=$?
ms=$((($(date +%s%N) - start) / 1000000))
server_pid=
kill -INT "$mon" 2>/dev/null
wait "$mon"
verdict "serve stops on Ctrl-C with status 0" "$status" "status $status"
verdict "serve stops within 1 s of Ctrl-C ($ms ms)" "$(test "$ms" -lt 1000; echo $?)"

finish
