#!/usr/bin/env bash
# End-to-end test of `pvwire gateway` in front of `pvwire serve`:
#   gateway.sh PVWIRE_BINARY PV_FILE
# 1. pvwire serve --isolated upstream; a gateway (--isolated, HTTP on an ephemeral port) finds it
#    by search; clients reach the gateway over WebSockets (pva+ws://, msgpack+ws://): get, put,
#    monitor, a name outside --pvs refused, a glob name found on a retry; with --acf, a put the
#    rules deny is refused with the rule's words.
# 2. A gateway serving pvAccess (--pva) on the upstream's own UDP search port (as servers of one
#    host share 5076): clients searching there get answers; once upstream is gone, nobody
#    answers (the gateway never answers its own searches); upstream back, it answers again.
set -u
pvwire=${1:?usage: gateway.sh PVWIRE_BINARY PV_FILE}
pvfile=${2:?usage: gateway.sh PVWIRE_BINARY PV_FILE}

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
gw_pid=
up_pid=
trap 'for p in $gw_pid $up_pid; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; cleanup' EXIT

# start_gateway OUT ARGS...: `pvwire gateway ARGS` in the background, output in $work/OUT;
# waits for "running".
start_gateway() {
    local out=$1
    shift
    timeout 300 "$pvwire" gateway "$@" >"$work/$out" 2>"$work/$out.err" &
    gw_pid=$!
    wait_running "$gw_pid" "$out" "$out.err"
}

stop_gateway() {
    kill -INT "$gw_pid"
    wait "$gw_pid"
    local status=$?
    gw_pid=
    return $status
}

# ---- 1. web clients through the gateway -----------------------------------------------------
start_server --pvs "$pvfile" || exit 1
start_gateway gw.out --isolated --web-write --pvs demo:setpoint --pvs demo:counter --pvs demo:message \
    --pvs 'demo:w*' || exit 1
http=$(sed -n 's/.*pva+ws:\/\/127\.0\.0\.1:\([0-9]*\)\/pva.*/\1/p' "$work/gw.out")
verdict "the gateway prints its HTTP port" "$(test -n "$http"; echo $?)"
pva="pva+ws://127.0.0.1:$http/pva"
mp="msgpack+ws://127.0.0.1:$http/msgpack"

check "get through the gateway (pva+ws)" 0 '^    value double = 1\.5$' -- "$pvwire" get --server "$pva" demo:setpoint
check "get through the gateway (msgpack+ws)" 0 '^    value string = "hello from pvwire"$' -- \
    "$pvwire" get --server "$mp" demo:message
check "put through the gateway lands upstream" 0 '^    value double = 2\.75$' -- \
    sh -c '"$0" put -q --server "$1" demo:setpoint 2.75 && "$0" get demo:setpoint' "$pvwire" "$pva"
check "put (msgpack+ws, --web-write)" 0 '^    value double = -1\.5$' -- \
    sh -c '"$0" put -q --server "$1" demo:setpoint -- -1.5 && "$0" get demo:setpoint' "$pvwire" "$mp"
check "upstream's refusal comes back" 1 'outside the limits' -- "$pvwire" put --server "$pva" demo:setpoint 11
check "a name outside --pvs is refused" 1 'demo:mode' -- "$pvwire" get -w 2 --server "$pva" demo:mode
# a glob name: the first open starts the upstream connection, a retry finds it
successes 1 "$pvwire" get -w 1 --server "$pva" demo:waveform >/dev/null
sleep 1
check "a glob name is found once connected upstream" 0 '^    value double\[\] = \{8\}' -- \
    "$pvwire" get --server "$pva" demo:waveform

out=$(timeout 20 "$pvwire" monitor -w 2.5 --server "$pva" demo:counter 2>&1)
updates=$(grep -c '^    value uint32_t = ' <<<"$out")
verdict "monitor through the gateway sees the counter tick ($updates updates)" "$(test "$updates" -ge 2; echo $?)"

stop_gateway
verdict "gateway stops on Ctrl-C with status 0" $?

# ---- 1b. access rules at the gateway: reads pass, a put is denied naming the rule ------------
printf 'ASG(DEFAULT) {\n    RULE(1, READ)\n}\n' >"$work/gw.acf"
start_gateway gwacf.out --isolated --web-write --acf "$work/gw.acf" --pvs demo:setpoint || exit 1
http=$(sed -n 's/.*pva+ws:\/\/127\.0\.0\.1:\([0-9]*\)\/pva.*/\1/p' "$work/gwacf.out")
check "get through a gateway with --acf" 0 '^    value double = ' -- \
    "$pvwire" get --server "pva+ws://127.0.0.1:$http/pva" demo:setpoint
check "a put through it is denied by its rules, naming the ASG" 1 'put denied by ASG\(DEFAULT\) at .*gw\.acf:1' -- \
    "$pvwire" put --server "pva+ws://127.0.0.1:$http/pva" demo:setpoint 3
stop_gateway
kill "$server_pid"
wait "$server_pid" 2>/dev/null
server_pid=

# ---- 2. a pvAccess gateway on its upstream's search port -----------------------------------
# upstream_on UDP: pvwire serve on loopback, TCP any port, searches on UDP port UDP (0: any)
upstream_on() {
    EPICS_PVAS_INTF_ADDR_LIST=127.0.0.1 EPICS_PVAS_SERVER_PORT=0 EPICS_PVAS_BROADCAST_PORT=$1 \
        EPICS_PVAS_BEACON_ADDR_LIST=127.0.0.1 EPICS_PVA_AUTO_ADDR_LIST=NO \
        timeout 300 "$pvwire" serve --http -1 --msgpack -1 --pvs "$pvfile" >"$work/up.out" 2>"$work/up.out.err" &
    up_pid=$!
    wait_running "$up_pid" up.out up.out.err
}
upstream_on 0 || exit 1
udp=$(sed -n 's/.*EPICS_PVA_ADDR_LIST=127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/up.out")
export EPICS_PVA_ADDR_LIST=127.0.0.1:$udp EPICS_PVA_AUTO_ADDR_LIST=NO
unset EPICS_PVA_SERVER_PORT
EPICS_PVAS_INTF_ADDR_LIST=127.0.0.1 EPICS_PVAS_SERVER_PORT=0 EPICS_PVAS_BROADCAST_PORT=$udp \
    EPICS_PVAS_BEACON_ADDR_LIST=127.0.0.1 start_gateway gw2.out --pva --http -1 --pvs 'demo:*' || exit 1
gw_tcp=$(sed -n 's/.*pvAccess on TCP \([0-9]*\),.*/\1/p' "$work/gw2.out")

check "get by search, gateway and upstream on one port" 0 '^    value double = 1\.5$' -- "$pvwire" get demo:setpoint
sleep 1  # the gateway is connected upstream now: it answers too
check "get from the gateway's own TCP port" 0 '^    value double = 1\.5$' -- \
    "$pvwire" get --server "127.0.0.1:$gw_tcp" demo:setpoint

kill "$up_pid"
wait "$up_pid" 2>/dev/null
up_pid=
sleep 2  # the gateway's client searches again meanwhile, on the port its own server listens on
check "upstream gone: nobody answers, not even the gateway" 1 'Timeout' -- "$pvwire" get -w 1.5 demo:setpoint

upstream_on "$udp" || exit 1
sleep 1.5
check "upstream back: found again" 0 '^    value double = 1\.5$' -- "$pvwire" get -w 5 demo:setpoint
check "and through the gateway" 0 '^    value double = 1\.5$' -- \
    "$pvwire" get -w 5 --server "127.0.0.1:$gw_tcp" demo:setpoint
stop_gateway
verdict "the pvAccess gateway stops on Ctrl-C with status 0" $?

finish
