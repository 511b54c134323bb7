#!/usr/bin/env bash
# `pvwire beacons` and `pvwire list` share the server's UDP port (as pvxvct and pvxlist do) and
# must never take searches away from the servers of the host:
#   discovery_neighbours.sh PVWIRE_BINARY PV_FILE
# With each tool running on the port of an isolated `pvwire serve`, a second client searching
# 20 times (a new process, so a new source port, each time) must connect 20 times of 20; and
# `pvwire list` must find the server 20 times of 20. Linux hands each unicast datagram to one
# of the sockets sharing a port, so without forwarding about half the searches are lost.
set -u
pvwire=${1:?usage: discovery_neighbours.sh PVWIRE_BINARY PV_FILE}
pvfile=${2:?usage: discovery_neighbours.sh PVWIRE_BINARY PV_FILE}

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
start_server --pvs "$pvfile" || exit 1
export EPICS_PVA_BROADCAST_PORT=$udp_port

# searches_while NAME: 20 `pvwire get` processes (a new source port each), one after the
# other, while a tool runs; all must connect
searches_while() {
    local ok
    ok=$(successes 20 "$pvwire" get -w 1 demo:mode)
    verdict "$1: a second client connected $ok times of 20" "$(test "$ok" -eq 20; echo $?)"
}

# 1. pvwire beacons on the server's port; it must also print every one of those searches
"$pvwire" beacons -S -p "$udp_port" >"$work/beacons.out" 2>"$work/beacons.err" &
tool=$!
for _ in $(seq 50); do grep -q listening "$work/beacons.err" && break; sleep 0.1; done
searches_while "pvwire beacons running"
kill -INT "$tool"
wait "$tool"
seen=$(grep -c 'Searching for: "demo:mode"' "$work/beacons.out")
verdict "pvwire beacons printed $seen searches for demo:mode (at least 20)" "$(test "$seen" -ge 20; echo $?)"
# a forwarded copy comes from the shared port; the searcher is the reply address inside it
named=$(grep -c " 127\.0\.0\.1:[0-9]* Searching for: \"demo:mode\"" "$work/beacons.out")
forwarder=$(grep -c " 127\.0\.0\.1:$udp_port Searching" "$work/beacons.out")
verdict "pvwire beacons names the searcher, not the process that forwarded" \
    "$(test "$named" -eq "$seen" -a "$forwarder" -eq 0; echo $?)" "$forwarder of $seen name port $udp_port"

# 2. pvwire list in discovery mode on the server's port
timeout 60 "$pvwire" list -w 40 >"$work/list.out" 2>&1 &
tool=$!
sleep 0.3
searches_while "pvwire list running"
kill -INT "$tool"
wait "$tool"
check "pvwire list saw the server meanwhile" 0 "^127\.0\.0\.1:$tcp_port guid" -- cat "$work/list.out"

# 3. pvwire list finds the local server every time
found=$(successes 20 sh -c '"$0" list -w 0.6 | grep -q "^127\.0\.0\.1:$1 guid"' "$pvwire" "$tcp_port")
verdict "pvwire list found the server $found times of 20" "$(test "$found" -eq 20; echo $?)"
finish
