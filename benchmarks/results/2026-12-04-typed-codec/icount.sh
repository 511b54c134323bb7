#!/bin/bash
cd /tmp/typed-bench
ir() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null | grep -o "Collected : [0-9]*" | awk '{print $3}'; }
echo "msg,order,op,path,bin,ir_per_iter"
for msg in MonitorNTScalar MonitorArray1k GetNTScalar; do for order in LE BE; do for op in Encode Decode; do
  for pair in "old Variant" "new Variant" "new Typed"; do set -- $pair
    a=$(ir ./icount_$1 $msg $order $op $2 1000); b=$(ir ./icount_$1 $msg $order $op $2 6000)
    echo "$msg,$order,$op,$2,$1,$(( (b - a) / 5000 ))"
  done
done; done; done
