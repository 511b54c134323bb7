#!/usr/bin/env bash
# PVs of any type, defined by JSON Schema or the compact type text in the PV file, served by
# `pvwire serve` and read and written by the client subcommands:
#   serve_schema.sh PVWIRE_BINARY PV_FILE        (PV_FILE: tools/pvwire/tests/schema-pvs.json)
set -u
pvwire=${1:?usage: serve_schema.sh PVWIRE_BINARY PV_FILE}
pvfile=${2:?usage: serve_schema.sh PVWIRE_BINARY PV_FILE}

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
start_server --pvs "$pvfile" || exit 1

check "serve lists the schema PVs by their ids" 0 '^  schema:motor +structure demo:motor:1\.0 \(schema\)$' \
    '^  schema:camera +structure demo:camera:1\.0 \(pvtype\)$' '^  schema:plain +NTScalar double$' -- cat "$work/server.out"
check "schema PV: members in the file's order, initial value from the file" 0 \
    '"value":\{"position":2\.5,"moving":false,"limits":\{"low":-1\.0,"high":10\.0\},"mode":\{"index":1,"choices":\["Off","Jog","Move"\]\},"readback":\{"text":"homed"\},"points":\[\{"x":1\.0,"y":2\.0\},\{"x":3\.0,"y":4\.0\}\],"extra":42,"counts":\[1,2,3\]\}' \
    -- "$pvwire" get --json schema:motor
check "schema PV in tree form: ids, union, structure array, any, bounded array" 0 \
    '^    struct "demo:motor:1\.0" \{$' '^        union readback\.text string = "homed"$' '^            struct "point_t" \{$' \
    '^        any extra int64_t = 42$' '^        uint16_t\[\] counts = \{3\}\[1, 2, 3\]$' -- "$pvwire" get -F tree schema:motor
check "pvtype PV: nested structure, union and any" 0 \
    '"value":\{"frame":7,"size":\{"width":640,"height":480\},"pixels":\{"gray":\[0\.5,1\.5\]\},"meta":"hello"\}' \
    -- "$pvwire" get --json schema:camera
check "info shows the union's members" 0 '^        union pixels$' '^            ubyte\[\] rgb$' '^        any meta$' -- \
    "$pvwire" info schema:camera
check "info --pvtype: the compact text, union members included" 0 '^struct "demo:camera:1\.0" \{$' \
    '^    union \{$' '^        uint8_t\[\] rgb$' '^    \} pixels$' '^    any meta$' -- "$pvwire" info --pvtype schema:camera
# what info --pvtype prints serves again as a pvtype: the same type
"$pvwire" info --pvtype schema:motor | tail -n +2 >"$work/motor.pvtype"
python3 - "$work/motor.pvtype" "$work/again.json" <<'PY'
import json, sys
json.dump({"pvs": [{"name": "again:motor", "pvtype": open(sys.argv[1]).read()}]}, open(sys.argv[2], "w"))
PY
check "a served type read back by info --pvtype serves again" 0 '^  again:motor +structure demo:motor:1\.0 \(pvtype\)$' -- \
    sh -c 'timeout -s INT 2 "$0" serve --isolated --pvs "$1"; exit 0' "$pvwire" "$work/again.json"
check "put selects a union member" 0 '"readback":\{"counts":12\}' -- "$pvwire" put --json schema:motor 'readback={"counts": 12}'
check "put a structure array" 0 '"points":\[\{"x":5\.0,"y":6\.0\}\]' -- \
    "$pvwire" put --json schema:motor 'points=[{"x": 5, "y": 6}]'
check "put an enum by name" 0 '"mode":\{"index":2,' -- "$pvwire" put --json schema:motor mode=Move
check "put beyond the bounded array's bound" 1 'exceed the bound of' -- "$pvwire" put schema:motor 'counts=[1,2,3,4,5,6,7,8,9]'
check "get after the puts" 0 '"readback":\{"counts":12\}' '"points":\[\{"x":5\.0,"y":6\.0\}\]' -- \
    "$pvwire" get --json schema:motor

finish
