#!/usr/bin/env bash
# The client subcommands on a chosen server, without search (--server), over every transport
# `pvwire serve` offers: TCP, a UNIX socket (--unix) and WebSockets (--http).
#   direct_server.sh PVWIRE_BINARY PV_FILE
# The clients get no EPICS_PVA_* variables at all: nothing could find the server by search.
set -u
pvwire=${1:?usage: direct_server.sh PVWIRE_BINARY PV_FILE}
pvfile=${2:?usage: direct_server.sh PVWIRE_BINARY PV_FILE}

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
sock="$work/pv.sock"
start_server --pvs "$pvfile" --unix "$sock" --http 0 -d || exit 1
ws=$(sed -n 's/.*--server \(pva+ws:[^ ]*\).*/\1/p' "$work/server.out")
[ -n "$ws" ] || { echo "FAIL: serve printed no WebSocket address"; exit 1; }
unset EPICS_PVA_ADDR_LIST EPICS_PVA_AUTO_ADDR_LIST EPICS_PVA_SERVER_PORT
export EPICS_PVA_AUTO_ADDR_LIST=NO  # and no broadcast either

for server in "127.0.0.1:$tcp_port" "pva+unix://$sock" "$ws"; do
    check "get on $server" 0 '^    value double = 1\.5$' -- "$pvwire" get -w 3 --server "$server" demo:setpoint
    check "put on $server" 0 '^    value double = 2\.25$' -- "$pvwire" put -w 3 --server "$server" demo:setpoint 2.25
    check "put refused on $server" 1 'outside the limits' -- "$pvwire" put -w 3 --server "$server" demo:setpoint 99
    check "info on $server" 0 'double value' -- "$pvwire" info -w 3 --server "$server" demo:setpoint
    literal=$(sed 's/[.+]/\\&/g' <<<"$server")
    check "monitor on $server" 0 "demo:counter Connected to $literal\$" '^    value uint32_t = ' -- \
        "$pvwire" monitor -w 1.5 --server "$server" demo:counter
    "$pvwire" put -w 3 --server "$server" demo:setpoint 1.5 >/dev/null
done
check "call the server PV of a chosen server" 0 'demo:waveform' -- \
    "$pvwire" call -w 3 --server "127.0.0.1:$tcp_port" server op=channels
check "a transport nobody serves is a clear error" 1 'no connector for the transport "bogus"' -- \
    "$pvwire" get -w 3 --server pva+bogus://host demo:setpoint
check "a bad address is a clear error" 1 'bad port' -- "$pvwire" get -w 3 --server 127.0.0.1:99999 demo:setpoint
check "no search: without --server nothing is found" 1 'Timeout with 1 outstanding' -- \
    "$pvwire" get -w 1 demo:setpoint
# list HOST closes only after the server confirmed DESTROY_CHANNEL: a close while the
# confirmation is under way resets the connection, which PVXS logs as an error
check "list HOST" 0 'demo:waveform' -- "$pvwire" list "127.0.0.1:$tcp_port"
sleep 0.3
resets=$(grep -c 'reset by peer' "$work/server.err")
verdict "list HOST closes without a reset" "$( [ "$resets" -eq 0 ]; echo $?)" "$resets connection(s) reset"
finish
