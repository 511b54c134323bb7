#!/bin/bash
cd /tmp/typed-bench
ir() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null | grep -o "Collected : [0-9]*" | awk '{print $3}'; }
echo "fixture,op,old,new,new/old"
for fx in NTScalar NTTable Deep15; do for op in EncodeValue DecodeValue EncodePartial DecodePartial MessageEncode MessageDecode; do
  if [ $fx = NTTable ]; then n1=20; n2=220; else n1=1000; n2=6000; fi
  o=$(( ($(ir ./icount2_old $fx $op $n2) - $(ir ./icount2_old $fx $op $n1)) / (n2 - n1) ))
  w=$(( ($(ir ./icount2_new $fx $op $n2) - $(ir ./icount2_new $fx $op $n1)) / (n2 - n1) ))
  echo "$fx,$op,$o,$w,$(python3 -c "print(round($w/$o,3))")"
done; done
