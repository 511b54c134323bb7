#!/usr/bin/env bash
# Three `pvwire serve --store redis://...` replicas sharing one real redis-server (append-only
# file, appendfsync always), driven by pvwire's own clients:
#   scale_out.sh PVWIRE_BINARY
# - channels made with `pvwire store create` are served by every replica within a second;
# - a put through one replica reaches monitors on the other two;
# - a replica killed -9 under a stream of puts and restarted: its monitor reconnects, and no
#   acknowledged put is lost;
# - redis-server killed -9 under puts: gets show INVALID "store unreachable", puts fail at once,
#   and after the restart the stored value is the last acknowledged put (or a put whose answer
#   the kill took: in doubt, counted);
# - `pvwire store delete` stops every replica serving the channel.
# Without redis-server the script skips (77), or fails when CI=true.
set -u
pvwire=${1:?usage: scale_out.sh PVWIRE_BINARY}

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
if ! command -v redis-server >/dev/null; then
    [ "${CI:-}" = true ] && { echo "FAIL: redis-server is missing (CI=true)"; exit 1; }
    echo "SKIP: redis-server is missing (scripts/setup installs it)"
    exit 77
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
declare -A replica_pid replica_port
redis_pid=
background=()
stop_all() {
    for p in "${replica_pid[@]}" $redis_pid "${background[@]}"; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    cleanup
}
trap stop_all EXIT

redis_port=$(free_port)
start_redis() {
    redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$work" --appendonly yes --appendfsync always \
        --save "" --daemonize no >>"$work/redis.log" 2>&1 &
    redis_pid=$!
    for _ in $(seq 100); do
        [ "$(redis-cli -p "$redis_port" ping 2>/dev/null)" = PONG ] && return 0
        sleep 0.05
    done
    echo "FAIL: redis-server did not start"
    cat "$work/redis.log"
    exit 1
}
export PVWIRE_STORE="redis://127.0.0.1:$redis_port"

# start_replica N: pvwire serve on loopback, TCP port fixed per replica (kept across restarts)
start_replica() {
    local n=$1
    [ -n "${replica_port[$n]:-}" ] || replica_port[$n]=$(free_port)
    EPICS_PVAS_INTF_ADDR_LIST=127.0.0.1 EPICS_PVAS_SERVER_PORT=${replica_port[$n]} EPICS_PVAS_BROADCAST_PORT=0 \
        EPICS_PVAS_BEACON_ADDR_LIST=127.0.0.1 EPICS_PVAS_AUTO_BEACON_ADDR_LIST=NO PVWIRE_BUSY_POLL_US=0 \
        PVWIRE_REPLICA="replica-$n" "$pvwire" serve --msgpack -1 --http -1 >"$work/r$n.out" 2>>"$work/r$n.err" &
    replica_pid[$n]=$!
    for _ in $(seq 100); do
        grep -q "running" "$work/r$n.out" 2>/dev/null && return 0
        sleep 0.05
    done
    echo "FAIL: replica $n did not start"
    cat "$work/r$n.out" "$work/r$n.err"
    exit 1
}
at() { echo "127.0.0.1:${replica_port[$1]}"; }
# wait_for FILE REGEX SECONDS: until FILE has a line matching REGEX
wait_for() {
    local deadline=$((SECONDS + $3))
    while [ $SECONDS -le $deadline ]; do
        grep -qE -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

start_redis
check "store create" 0 '^so:counter: created' '^so:arr: created' -- \
    "$pvwire" store create --pv so:counter=double:0 --pv 'so:arr=int32[]:1,2,3'
check "store create again keeps the channel" 0 '^so:counter: exists already' -- \
    "$pvwire" store create --pv so:counter=double:5
check "store create with another type is refused" 1 'so:counter.*another type' -- \
    "$pvwire" store create --pv so:counter=string:x
for n in 1 2 3; do start_replica "$n"; done
check "store list" 0 '^so:arr$' '^so:counter$' -- "$pvwire" store list
check "list -i names the replica" 0 'version="pvwire [0-9.]+ \(replica replica-2, host ' -- "$pvwire" list -i "$(at 2)"
for n in 1 2 3; do
    check "get on replica $n" 0 '^    value double = 0$' -- "$pvwire" get -w 3 --server "$(at "$n")" so:counter
done

for n in 1 2 3; do
    "$pvwire" monitor --server "$(at "$n")" so:counter >"$work/m$n.out" 2>&1 &
    background+=($!)
done
wait_for "$work/m3.out" 'value double = 0$' 5
check "put on replica 1" 0 '^    value double = 42$' -- "$pvwire" put -w 3 --server "$(at 1)" so:counter 42
for n in 2 3; do
    wait_for "$work/m$n.out" 'value double = 42$' 3
    verdict "a put on replica 1 reaches the monitor on replica $n" $?
done

# a channel created now is served by every replica within a second
"$pvwire" store create --pv so:new=int32:5 >/dev/null
t0=$(date +%s%N)
served=1
for _ in $(seq 40); do
    if "$pvwire" get -w 1 --server "$(at 3)" so:new 2>/dev/null | grep -q 'value int32_t = 5'; then served=0; break; fi
    sleep 0.025
done
ms=$((($(date +%s%N) - t0) / 1000000))
verdict "a channel created by pvwire store is served by replica 3 (after $ms ms)" "$( [ $served -eq 0 ] && [ $ms -le 1000 ]; echo $?)"

# put_stream FILE FIRST REPLICA: puts FIRST, FIRST+1, ... through REPLICA until $work/stop
# exists, one line per put: "VALUE ok", "VALUE doubt" (answer lost) or "VALUE refused"
put_stream() {
    local i=$2
    while [ ! -e "$work/stop" ]; do
        if out=$("$pvwire" put -w 2 --server "$(at "$3")" so:counter "$i" 2>&1); then echo "$i ok"
        elif grep -q 'may have been applied\|not confirmed' <<<"$out"; then echo "$i doubt"
        else echo "$i refused"; fi
        i=$((i + 1))
    done >"$1"
}
last_acked() { awk '$2 == "ok" { v = $1 } END { print v }' "$1"; }
# check_no_loss NAME FILE: the stored value is the last acknowledged put or a later one in doubt
check_no_loss() {
    local last stored later_doubt acked doubt refused
    last=$(last_acked "$2")
    acked=$(grep -c ' ok$' "$2"); doubt=$(grep -c ' doubt$' "$2"); refused=$(grep -c ' refused$' "$2")
    stored=$("$pvwire" get -w 3 --server "$(at 3)" so:counter | sed -n 's/^    value double = //p')
    later_doubt=$(awk -v s="$stored" -v l="$last" '$2 == "doubt" && $1 == s && $1 > l { print "yes" }' "$2")
    echo "$1: $acked puts acknowledged (last $last), $doubt in doubt, $refused refused; stored value $stored"
    verdict "$1: no acknowledged put lost" "$( { [ "$stored" = "$last" ] || [ -n "$later_doubt" ]; }; echo $?)"
}
# start_stream FILE FIRST REPLICA: put_stream in the background, once its first 10 puts are in
start_stream() {
    rm -f "$work/stop"
    put_stream "$@" &
    background+=($!)
    wait_for "$1" "^$(($2 + 10)) ok\$" 20
}
# stop_stream NAME FILE: after a second of acknowledged puts, stops the stream and checks it
stop_stream() {
    wait_for "$2" '^[0-9]+ ok$' 10
    sleep 1
    touch "$work/stop"
    wait "${background[-1]}"
    check_no_loss "$1" "$2"
}

# replica 1 killed -9 under puts through it, then restarted on its port
start_stream "$work/puts1" 1000 1
kill -9 "${replica_pid[1]}"
wait "${replica_pid[1]}" 2>/dev/null
sleep 0.5
start_replica 1
stop_stream "replica killed -9" "$work/puts1"
wait_for "$work/m1.out" "value double = $(last_acked "$work/puts1")\$" 10
verdict "the monitor on replica 1 reconnected after its restart" $?

# redis-server killed -9 under puts through replica 2, then restarted from its AOF
start_stream "$work/puts2" 5000 2
kill -9 "$redis_pid"
wait "$redis_pid" 2>/dev/null
sleep 0.5
check "while redis is down, gets show INVALID" 0 'alarm\.severity int32_t = 3' 'store unreachable' -- \
    "$pvwire" get -w 3 --server "$(at 3)" so:counter
check "while redis is down, puts fail at once" 1 'store unreachable' -- \
    "$pvwire" put -w 3 --server "$(at 3)" so:counter 1
start_redis
for _ in $(seq 100); do [ "$(tail -n 1 "$work/puts2" | cut -d' ' -f2)" = ok ] && break; sleep 0.1; done
stop_stream "redis killed -9" "$work/puts2"
check "after redis is back, gets show no alarm" 0 'alarm\.severity int32_t = 0' -- \
    "$pvwire" get -w 3 --server "$(at 2)" so:counter

check "store delete" 0 '^so:new: deleted$' -- "$pvwire" store delete so:new
sleep 0.5
check "a deleted channel is no longer served" 1 'Timeout|no such|not found' -- \
    "$pvwire" get -w 1 --server "$(at 2)" so:new
for n in 1 2 3; do
    kill -0 "${replica_pid[$n]}" 2>/dev/null
    verdict "replica $n is still running" $?
done
# SIGTERM stops a replica cleanly and soon (it leaves the replica set and closes its sockets)
for n in 1 2 3; do
    kill -TERM "${replica_pid[$n]}"
    for _ in $(seq 60); do kill -0 "${replica_pid[$n]}" 2>/dev/null || break; sleep 0.05; done
    ! kill -0 "${replica_pid[$n]}" 2>/dev/null
    verdict "replica $n exits on SIGTERM within 3 s" $?
done
finish
