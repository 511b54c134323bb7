#!/usr/bin/env bash
# Scale-out numbers (docs/scale-out.md), on loopback, in one run:
#   benchmarks/scale_out.sh [BUILD_DIR] [SECONDS]
# 1. relay latency: a put through replica 1 seen by a monitor on replica 2 (p50, p99);
# 2. sustained puts through 3 replicas (pvwire-bench get --put, 16 in flight each), against
#    redis-benchmark running the very write script the replicas run (EVALSHA, captured with
#    MONITOR; binary arguments replaced by printable ones of the same length) with the same
#    pipelining: that is the store's physical limit on this machine.
# Replicas run with PVWIRE_BUSY_POLL_US=0 (spinning takes the cores Redis needs; set it to
# compare). Redis runs with appendfsync always (APPENDFSYNC=everysec to compare): every write
# then waits for an fsync, the floor of the relay latency on a slow disk.
set -euo pipefail
build=${1:-build}
seconds=${2:-5}
pvwire="$build/bin/pvwire"
bench="$build/bin/pvwire-bench"
work=$(mktemp -d)
pids=()
trap 'kill -9 "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$work" --appendonly yes --appendfsync "${APPENDFSYNC:-always}" --save "" \
    >"$work/redis.log" 2>&1 &
pids+=($!)
until [ "$(redis-cli -p "$redis_port" ping 2>/dev/null)" = PONG ]; do sleep 0.05; done
export PVWIRE_STORE="redis://127.0.0.1:$redis_port" PVWIRE_BUSY_POLL_US=${PVWIRE_BUSY_POLL_US:-0}
"$pvwire" store create --pv bench:relay=double:0 --pv bench:w1=double:0 --pv bench:w2=double:0 --pv bench:w3=double:0 >/dev/null

ports=()
for n in 1 2 3; do
    port=$(free_port)
    ports+=("$port")
    EPICS_PVAS_INTF_ADDR_LIST=127.0.0.1 EPICS_PVAS_SERVER_PORT=$port EPICS_PVAS_BROADCAST_PORT=0 \
        EPICS_PVAS_BEACON_ADDR_LIST=127.0.0.1 EPICS_PVAS_AUTO_BEACON_ADDR_LIST=NO \
        "$pvwire" serve --msgpack -1 --http -1 >"$work/r$n.out" 2>&1 &
    pids+=($!)
done
for n in 1 2 3; do until grep -q running "$work/r$n.out" 2>/dev/null; do sleep 0.05; done; done

echo "== relay: put through replica 1, monitor on replica 2"
"$bench" relay --pv bench:relay --put-server "127.0.0.1:${ports[0]}" --monitor-server "127.0.0.1:${ports[1]}" --ops 3000

echo "== sustained puts through 3 replicas, 16 in flight each, ${seconds} s"
for n in 1 2 3; do
    "$bench" get --put --pv "bench:w$n" --server "127.0.0.1:${ports[$((n - 1))]}" --inflight 16 --ops 100000000 \
        --seconds "$seconds" >"$work/put$n.out" 2>&1 &
    putters+=($!)
done
wait "${putters[@]}"
total=0
for n in 1 2 3; do
    rate=$(sed -n 's/.* ops_per_s=\([0-9.]*\).*/\1/p' "$work/put$n.out")
    echo "replica $n: $rate puts/s"
    total=$(python3 -c "print($total + $rate)")
done
echo "RESULT kind=scale_out_puts replicas=3 inflight=16 puts_per_s=$total"

echo "== redis-benchmark: the same EVALSHA, 3 connections, pipeline 16"
redis-cli -p "$redis_port" monitor >"$work/monitor.out" &
monitor_pid=$!
sleep 0.3
"$pvwire" put --server "127.0.0.1:${ports[0]}" bench:w1 5 >/dev/null
sleep 0.3
kill "$monitor_pid"
args=$(python3 - "$work/monitor.out" <<'EOF'
import re, shlex, sys
for line in open(sys.argv[1], encoding="latin-1"):
    if '"EVALSHA"' in line and ':ch:' in line:  # the write script, not the heartbeat
        quoted = re.findall(r'"((?:[^"\\]|\\.)*)"', line)
        out = []
        for q in quoted:
            raw = re.sub(r'\\x[0-9a-f]{2}|\\.', "x", q)  # escapes -> one printable byte each
            out.append(raw)
        print(" ".join(shlex.quote(a) for a in out))
        break
EOF
)
[ -n "$args" ] || { echo "no EVALSHA captured"; exit 1; }
echo "command: $args"
eval "redis-benchmark -p $redis_port -c 3 -P 16 -n 300000 -q $args" | tr '\r' '\n' | tail -n 1 | tee "$work/rb.out"
rb=$(grep -oE '[0-9.]+ requests per second' "$work/rb.out" | cut -d' ' -f1)
echo "RESULT kind=scale_out_limit redis_benchmark_per_s=$rb pvwire_per_s=$total ratio=$(python3 -c "print(round($total / $rb, 3))")"
