#!/usr/bin/env bash
# `pvwire serve --acf FILE --pvlist FILE` enforces the access rules for the pvwire clients, and
# SIGHUP reads them again without dropping clients:  serve_acf.sh PVWIRE_BINARY
#  - a read is allowed, a put over TCP is denied with the ASG and its line; the same put over
#    the UNIX socket is allowed (the peer's groups are its roles there);
#  - a name the pattern list denies is not found;
#  - SIGHUP with rules that take read away ends a live monitor, which prints why; a monitor of
#    another PV keeps running;
#  - SIGHUP with a broken file is refused (FILE:LINE:COL logged) and the rules in use stay.
set -u
pvwire=${1:?usage: serve_acf.sh PVWIRE_BINARY}
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# wait_for FILE REGEX: until $work/FILE matches REGEX (5 s at most)
wait_for() {
    for _ in $(seq 50); do
        grep -qE -- "$2" "$work/$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

group=$(id -gn)
cat >"$work/pvs.json" <<JSON
{"pvs": [{"name": "acl:pump", "type": "NTScalar", "value": 1.5, "asg": "ops"},
         {"name": "acl:open", "type": "NTScalar", "value": 2.5},
         {"name": "acl:hidden1", "type": "NTScalar", "value": 3.5}]}
JSON
cat >"$work/site.acf" <<ACF
UAG(local) { "role/$group" }
ASG(DEFAULT) { RULE(1, READ) }
ASG(ops) {
    RULE(1, READ)
    RULE(1, WRITE, TRAPWRITE) { UAG(local) }
}
ACF
printf '.* ALLOW\nacl:hidden.* DENY\n' >"$work/site.pvlist"
sock="$work/pv.sock"
export PVWIRE_LOG=pvwire.server.access=INFO
start_server --pvs "$work/pvs.json" --acf "$work/site.acf" \
    --pvlist "$work/site.pvlist" --unix "$sock" || exit 1
unset PVWIRE_LOG
# the server itself (start_server runs it under `timeout`, which passes on one SIGHUP only)
serve_pid=$(pgrep -P "$server_pid" | head -1)

check "a read is allowed" 0 'value double = 1\.5' -- "$pvwire" get acl:pump
check "a put over TCP is denied, naming the ASG and its line" 1 \
    'put denied by ASG\(ops\) at .*site\.acf:3: no RULE grants WRITE at ASL 0 to user ' -- "$pvwire" put acl:pump 7
check "the same put over the UNIX socket is allowed (the peer's groups are its roles)" 0 'value double = 7' -- \
    "$pvwire" put --server "pva+unix://$sock" acl:pump 7
sleep 0.2
verdict "the TRAPWRITE put is logged with client and PV" \
    "$(grep -qE 'put to acl:pump by user ".*" at 127\.0\.0\.1' "$work/server.err"; echo $?)"
check "a name the pattern list denies is not found" 1 'acl:hidden1: Timeout' -- "$pvwire" get -w 1 acl:hidden1

timeout 30 "$pvwire" monitor acl:pump >"$work/mon_pump.out" 2>&1 &
mon_pump=$!
timeout 30 "$pvwire" monitor acl:open >"$work/mon_open.out" 2>&1 &
mon_open=$!
wait_for mon_pump.out value && wait_for mon_open.out value
# ASG(ops) on line 2 now grants nobody anything
printf 'ASG(DEFAULT) { RULE(1, READ) }\nASG(ops) { RULE(1, WRITE) { UAG(nobody) } }\nUAG(nobody) { nobody }\n' >"$work/site.acf"
kill -HUP "$serve_pid"
wait_for mon_pump.out denied
verdict "SIGHUP: the server read the rules again" "$(grep -q 'access rules read again' "$work/server.err"; echo $?)"
verdict "SIGHUP: the monitor that lost read access ended, saying why" \
    "$(grep -qE 'acl:pump Finished: read denied by ASG\(ops\) at .*site\.acf:2' "$work/mon_pump.out"; echo $?)" \
    "$(cat "$work/mon_pump.out")"
verdict "SIGHUP: the other monitor keeps running" "$(kill -0 "$mon_open" 2>/dev/null; echo $?)"
check "SIGHUP: the new rules hide the value" 1 'read denied by ASG\(ops\)' -- "$pvwire" get acl:pump

printf 'ASG(DEFAULT) { RULE(1, READ) }\nASG(ops) { RULE(1, WRITE) { UAG(typo) } }\n' >"$work/site.acf"
kill -HUP "$serve_pid"
wait_for server.err 'not changed'
verdict "SIGHUP with a broken file: refused, the error logged with FILE:LINE:COL" \
    "$(grep -qE 'access rules not changed: .*site\.acf:2:[0-9]+: unknown UAG typo' "$work/server.err"; echo $?)" \
    "$(cat "$work/server.err")"
check "SIGHUP with a broken file: the rules in use stay" 1 'read denied by ASG\(ops\) at .*site\.acf:2' -- \
    "$pvwire" get acl:pump
check "SIGHUP with a broken file: the server goes on" 0 'value double = 2\.5' -- "$pvwire" get acl:open
verdict "the other monitor is still running" "$(kill -0 "$mon_open" 2>/dev/null; echo $?)"
kill "$mon_open" "$mon_pump" 2>/dev/null
wait "$mon_open" "$mon_pump" 2>/dev/null

check "serve --acf with a broken file does not start" 2 'site\.acf:2:[0-9]+: unknown UAG typo' -- \
    "$pvwire" serve --isolated --pvs "$work/pvs.json" --acf "$work/site.acf"
check "serve --pvlist without --acf is refused" 2 '--pvlist needs --acf' -- \
    "$pvwire" serve --isolated --pvs "$work/pvs.json" --pvlist "$work/site.pvlist"
finish
