#!/usr/bin/env bash
# IPv6 multicast search, as PVXS spells it: `pvwire serve` in one network namespace listens on
# the group ff02::42:1 of its veth end (EPICS_PVAS_INTF_ADDR_LIST="[ff02::42:1]@IF"), `pvwire
# get` in another searches that group through its end (EPICS_PVA_ADDR_LIST="[ff02::42:1]@IF",
# a hop limit of 1), is answered from the server's link, connects over IPv6 and gets values.
#   ipv6_multicast.sh PVWIRE_BINARY PV_FILE
# Loopback has no IFF_MULTICAST, hence the namespaces and the veth pair (made and removed here:
# needs root and iproute2's `ip`; without them the test is skipped, or fails when CI=true).
set -u
pvwire=${1:?usage: ipv6_multicast.sh PVWIRE_BINARY PV_FILE}
pvfile=${2:?usage: ipv6_multicast.sh PVWIRE_BINARY PV_FILE}

here=$(dirname "${BASH_SOURCE[0]}")
. "$here/../../../tests/support/precondition.sh"
command -v ip >/dev/null || missing "iproute2's ip (apt-get install iproute2)"
[ "$(id -u)" -eq 0 ] || missing "root, to create network namespaces"

. "$here/lib.sh"
tag=$$
ns_server=pvw6s$tag ns_client=pvw6c$tag
if_server=v6s$tag if_client=v6c$tag
remove_namespaces() {
    ip netns del "$ns_server" 2>/dev/null
    ip netns del "$ns_client" 2>/dev/null  # the veth pair goes with them
}
trap 'cleanup; remove_namespaces' EXIT

if ! ip netns add "$ns_server" 2>"$work/ip.err" || ! ip netns add "$ns_client" 2>>"$work/ip.err" ||
    ! ip link add "$if_server" netns "$ns_server" type veth peer name "$if_client" netns "$ns_client" 2>>"$work/ip.err"; then
    cat "$work/ip.err"
    missing "network namespaces and veth pairs (ip netns add, ip link add type veth)"
fi
set -e
for side in "$ns_server $if_server fd00:42::1" "$ns_client $if_client fd00:42::2"; do
    read -r ns dev addr <<<"$side"
    ip -n "$ns" link set lo up
    ip -n "$ns" -6 addr add "$addr/64" dev "$dev" nodad
    ip -n "$ns" link set "$dev" up
done
set +e

# The server: searches on the group only (its TCP then takes 0.0.0.0 and [::]); beacons there too.
ip netns exec "$ns_server" env EPICS_PVAS_INTF_ADDR_LIST="[ff02::42:1]@$if_server" \
    EPICS_PVAS_BEACON_ADDR_LIST="[ff02::42:1]@$if_server" EPICS_PVA_AUTO_ADDR_LIST=NO \
    timeout 120 "$pvwire" serve --pvs "$pvfile" >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
wait_running "$server_pid" server.out server.err || exit 1

# the client: searches the group through its end, hop limit 1, and nothing else
client=(ip netns exec "$ns_client" env EPICS_PVA_ADDR_LIST="[ff02::42:1],1@$if_client" EPICS_PVA_AUTO_ADDR_LIST=NO)
check "get through the IPv6 group" 0 '^    value double = 1\.5$' -- "${client[@]}" "$pvwire" get -w 5 demo:setpoint
check "put through the IPv6 group" 0 '^    value double = 2\.25$' -- "${client[@]}" "$pvwire" put -w 5 demo:setpoint 2.25
check "the configuration names the group's interface and hop limit" 0 "ff02::42:1%$if_client\]:5076 hops 1" -- \
    "${client[@]}" "$pvwire" get -v -w 5 demo:setpoint
check "an unknown name times out" 1 'Timeout' -- "${client[@]}" "$pvwire" get -w 1 no:such:pv
# nothing reaches a client that searches another group
check "another group finds nothing" 1 'Timeout' -- ip netns exec "$ns_client" env EPICS_PVA_ADDR_LIST="[ff02::42:2]@$if_client" \
    EPICS_PVA_AUTO_ADDR_LIST=NO "$pvwire" get -w 1 demo:setpoint
finish
