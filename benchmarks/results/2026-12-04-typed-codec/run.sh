#!/bin/bash
# Interleaved: old, new, old, new, ... 5 runs each.
OLD=/tmp/typed-base/build/bin/codec_bench
NEW=/work/wt-typed/build/bin/codec_bench
for i in 1 2 3 4 5; do
  $OLD --benchmark_min_time=0.2 --benchmark_format=json --benchmark_out=codec_bench_json/old_$i.json --benchmark_out_format=json > /dev/null 2>&1
  $NEW --benchmark_min_time=0.2 --benchmark_format=json --benchmark_out=codec_bench_json/new_$i.json --benchmark_out_format=json > /dev/null 2>&1
  echo "round $i done $(date -u +%T)"
done
