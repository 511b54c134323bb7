#!/usr/bin/env bash
# Issue 11's measurement of pub/sub against streams for RedisStore's change notices
# (benchmarks/RESULTS.md, "Scale out: pub/sub or streams"). For each appendfsync mode: a fresh
# redis-server, `pvwire-bench notify` (latency, throughput, ordering, catch-up; 3 interleaved
# rounds), the catch-up of 100,000 writes again with a stream long enough to hold them, the
# time of a snapshot of 1,000 to 100,000 channels (pub/sub's remedy for a lost connection), and
# redis-benchmark of both write scripts (3 interleaved rounds, no reader connected). Prints the
# RESULT lines, then medians and ranges.
#   [REPEAT=3] benchmarks/notify.sh BUILD/bin/pvwire-bench [PORT] [FSYNC-MODES...]
# benchmarks/notify_summary.py summarises (and pools) raw results files afterwards.
set -euo pipefail
repeat=${REPEAT:-3}
bench=${1:?usage: notify.sh PVWIRE-BENCH [PORT] [everysec always]}
port=${2:-16390}
shift $(( $# >= 2 ? 2 : 1 ))
modes=(everysec always)
[ $# -gt 0 ] && modes=("$@")
dir=$(mktemp -d /tmp/notify-redis.XXXXXX)  # Redis's files and the raw results (kept: printed at the end)
out=$dir/results.txt
redis_pid=
trap '[ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null; true' EXIT

start_redis() {  # $1: appendfsync mode
    rm -rf "$dir/data" && mkdir -p "$dir/data"
    redis-server --port "$port" --dir "$dir/data" --appendonly yes --appendfsync "$1" --save "" >"$dir/redis-$1.log" 2>&1 &
    redis_pid=$!
    for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && return; sleep 0.1; done
    echo "redis-server did not start" >&2; exit 1
}

# redis-benchmark of one transport's script: writes/s; checks every EVALSHA bumped the version
# (an error reply, e.g. GONE, would be counted by redis-benchmark as a request too).
script_bench() {  # $1: fsync mode, $2: pubsub|stream, $3: run
    # pay: the 16-byte change and leaf the notify program writes, in printable bytes because
    # redis-benchmark takes its arguments from the command line (the bytes cost Redis the same)
    local sha key=notify:rb:$2:ch upd=notify:rb:$2:updates pay=xxxxxxxxxxxxxxxx n=200000
    sha=$(redis-cli -p "$port" SCRIPT LOAD "$("$bench" notify --print-script "$2")")
    redis-cli -p "$port" DEL "$key" "$upd" >/dev/null
    redis-cli -p "$port" HSET "$key" '#inc' 0123456789abcdef '#ver' 0 >/dev/null
    local line
    line=$(redis-benchmark -p "$port" -c 3 -P 16 -n $n -q EVALSHA "$sha" 2 "$key" "$upd" bench:ch0 0123456789abcdef $pay value $pay \
        | tr '\r' '\n' | grep 'requests per second' | tail -1)
    local rps ver
    rps=$(sed -E 's/.*: ([0-9.]+) requests per second.*/\1/' <<<"$line")
    ver=$(redis-cli -p "$port" HGET "$key" '#ver')
    [ "$ver" = "$n" ] || { echo "redis-benchmark $2: version $ver after $n writes" >&2; exit 1; }
    echo "RESULT kind=notify fsync=$1 transport=$2 measure=evalsha run=$3 writes=$n writes_per_s=$rps"
}

for mode in "${modes[@]}"; do
    start_redis "$mode"
    "$bench" notify --redis "redis://127.0.0.1:$port" --repeat "$repeat" | sed "s/^RESULT kind=notify /RESULT kind=notify fsync=$mode /" | tee -a "$out"
    # a stream capped above K: how long catching up 100,000 changes takes when none was trimmed
    "$bench" notify --redis "redis://127.0.0.1:$port" --repeat "$repeat" --transports stream --measures catchup \
        --catchup 100000 --maxlen 200000 | grep RESULT \
        | sed "s/^RESULT kind=notify transport=stream /RESULT kind=notify fsync=$mode transport=stream-maxlen200k /" | tee -a "$out"
    # the pubsub remedy at scale: a snapshot of 1,000 to 100,000 channels of 10 leaves
    "$bench" notify --redis "redis://127.0.0.1:$port" --repeat "$repeat" --measures snapshot \
        --snapshot 1000 --snapshot 10000 --snapshot 100000 | grep RESULT \
        | sed "s/^RESULT kind=notify /RESULT kind=notify fsync=$mode /" | tee -a "$out"
    for run in $(seq "$repeat"); do
        for t in pubsub stream; do script_bench "$mode" "$t" "$run" | tee -a "$out"; done
    done
    kill "$redis_pid"; wait "$redis_pid" 2>/dev/null || true; redis_pid=
done

echo "== medians (min..max) of the runs"
python3 "$(dirname "$0")/notify_summary.py" "$out"
echo "raw results: $out"
