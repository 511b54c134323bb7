#!/usr/bin/env bash
# The example programs do what examples/README.md says:
#   test_examples.sh EXAMPLES_BIN_DIR PVWIRE_BINARY
# --help and bad arguments of the larger programs; 04_serve (on loopback, a random UDP port,
# an ephemeral TCP port) flushes its "serving" line and refuses puts of 100 or more; 01_get and
# 02_put say an error once.
set -u
bin=${1:?usage: test_examples.sh EXAMPLES_BIN_DIR PVWIRE_BINARY}
pvwire=${2:?usage: test_examples.sh EXAMPLES_BIN_DIR PVWIRE_BINARY}
. "$(dirname "${BASH_SOURCE[0]}")/../tools/pvwire/tests/lib.sh"

for program in channel-server echo-server echo-client multi-client; do
    check "$program --help" 0 "^usage: $program " -- "$bin/$program" --help
    check "$program refuses an unknown argument" 2 "^usage: $program " -- "$bin/$program" --bogus
done

# 04_serve from the environment, kept on loopback
udp_port=$((20000 + RANDOM % 20000))
EPICS_PVAS_INTF_ADDR_LIST=127.0.0.1 EPICS_PVAS_SERVER_PORT=0 EPICS_PVAS_BROADCAST_PORT=$udp_port \
EPICS_PVAS_BEACON_ADDR_LIST=127.0.0.1 EPICS_PVAS_AUTO_BEACON_ADDR_LIST=NO \
    timeout 60 "$bin/04_serve" tutorial:value >"$work/serve.out" 2>&1 &
server_pid=$!
for _ in $(seq 50); do grep -q "serving" "$work/serve.out" && break; sleep 0.1; done
check "04_serve flushes its serving line" 0 '^serving tutorial:value on TCP port [0-9]+ for 30 s$' -- cat "$work/serve.out"
export EPICS_PVA_ADDR_LIST=127.0.0.1:$udp_port EPICS_PVA_AUTO_ADDR_LIST=NO EPICS_PVA_BROADCAST_PORT=$udp_port
check "04_serve accepts 50" 0 '^    value double = 5[0-9]$' -- "$pvwire" put tutorial:value 50
check "04_serve refuses 200" 1 '^tutorial:value: Error: too big$' -- "$pvwire" put tutorial:value 200
check "02_put says the server's reason once" 1 '^tutorial:value: too big$' -- "$bin/02_put" tutorial:value 100
check "01_get says a timeout once" 1 '^no:such:pv: timeout \(not connected\)$' -- "$bin/01_get" no:such:pv
finish
