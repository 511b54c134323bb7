#!/usr/bin/env bash
# `pvwire serve` refuses bad PV files and --pv options with exit status 2 and a message naming
# the entry and the key:  serve_bad_file.sh PVWIRE_BINARY
set -u
pvwire=${1:?usage: serve_bad_file.sh PVWIRE_BINARY}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

failures=0
# expect NAME REGEX -- ARGS...: `pvwire serve ARGS` must exit 2 with REGEX on stderr
expect() {
    local name=$1 regex=$2
    shift 3
    local err status
    err=$(timeout 10 "$pvwire" serve --isolated "$@" 2>&1 >/dev/null)
    status=$?
    if [ "$status" -ne 2 ] || ! grep -qE -- "$regex" <<<"$err"; then
        echo "FAIL: $name (status $status, wanted 2; stderr should match: $regex)"
        sed 's/^/  | /' <<<"$err"
        failures=$((failures + 1))
    else
        echo "ok: $name: $err"
    fi
}
file() { printf '%s\n' "$2" >"$work/$1.json"; echo "$work/$1.json"; }

expect "integer element given a fraction" 'pvs\[0\] "a": "value": expected an integer for int32, got 3\.5' -- \
    --pvs "$(file int '{"pvs": [{"name": "a", "type": "NTScalar", "element": "int32", "value": 3.5}]}')"
expect "array element out of range" 'pvs\[1\] "b": "value": element 1: 300 does not fit uint8' -- \
    --pvs "$(file range '{"pvs": [{"name": "a", "type": "NTScalar"},
                                   {"name": "b", "type": "NTScalarArray", "element": "uint8", "value": [1, 300]}]}')"
expect "table columns of different lengths" 'pvs\[0\] "t": "value": columns must have the same length' -- \
    --pvs "$(file table '{"pvs": [{"name": "t", "type": "NTTable", "columns": [{"name": "id", "element": "int32"},
                          {"name": "tag", "element": "string"}], "value": {"id": [1, 2], "tag": ["a"]}}]}')"
expect "enum index" 'pvs\[0\] "e": "value.index": index 3 is not a choice' -- \
    --pvs "$(file enum '{"pvs": [{"name": "e", "type": "NTEnum", "value": {"index": 3, "choices": ["A", "B"]}}]}')"
expect "unknown type" 'pvs\[0\] "x": "type": unknown type "NTFoo"' -- \
    --pvs "$(file type '{"pvs": [{"name": "x", "type": "NTFoo"}]}')"
expect "unknown key" 'pvs\[0\] "x": "valu": unknown key' -- \
    --pvs "$(file key '{"pvs": [{"name": "x", "type": "NTScalar", "valu": 1}]}')"
expect "unknown element" '"element": unknown element "int9"' -- \
    --pvs "$(file element '{"pvs": [{"name": "x", "type": "NTScalar", "element": "int9"}]}')"
expect "initial value outside the limits" '"value": value 20 is outside the limits \[0, 10\]' -- \
    --pvs "$(file limits '{"pvs": [{"name": "x", "type": "NTScalar", "value": 20, "limits": {"low": 0, "high": 10}}]}')"
expect "duplicate name across a file and --pv" 'the PV name "x" is given twice: [^ ]*one\.json: pvs\[0\] and --pv x=double$' -- \
    --pvs "$(file one '{"pvs": [{"name": "x", "type": "NTScalar"}]}')" --pv x=double
expect "duplicate name across two files" 'the PV name "x" is given twice: [^ ]*one\.json: pvs\[0\] and [^ ]*two\.json: pvs\[1\]$' -- \
    --pvs "$work/one.json" --pvs "$(file two '{"pvs": [{"name": "y", "type": "NTScalar"}, {"name": "x", "type": "NTScalar"}]}')"
expect "duplicate name" 'pvs\[1\] "x": "name": "x" is already the name of pvs\[0\]' -- \
    --pvs "$(file dup '{"pvs": [{"name": "x", "type": "NTScalar"}, {"name": "x", "type": "NTScalar"}]}')"
expect "tick on a string" '"tick": only for numeric elements' -- \
    --pvs "$(file tick '{"pvs": [{"name": "x", "type": "NTScalar", "element": "string", "tick": {"period": 1}}]}')"
expect "missing name" 'pvs\[0\]: "name": required' -- \
    --pvs "$(file noname '{"pvs": [{"type": "NTScalar"}]}')"
expect "not JSON" 'not valid JSON: parse error at line 2' -- \
    --pvs "$(file syntax '{"pvs": [
  {"name": "x", "type": "NTScalar",}]}')"
expect "no pvs array" 'expected an array of PV entries' -- --pvs "$(file nopvs '{"pvs": {}}')"
expect "missing file" 'cannot open the file' -- --pvs "$work/does-not-exist.json"
expect "schema: a bad integer format, by path" \
    'pvs\[0\] "s": "schema": properties\.alarm\.properties\.severity: "format" "int33" is not an integer format' -- \
    --pvs "$(file schema '{"pvs": [{"name": "s", "schema": {"type": "object", "properties": {"alarm": {"type": "object",
                           "properties": {"severity": {"type": "integer", "format": "int33"}}}}}}]}')"
expect "pvtype: a misspelt type, by line and column" 'pvs\[0\] "p": "pvtype": 2:3: "doubel" is not a type' -- \
    --pvs "$(file pvtype '{"pvs": [{"name": "p", "pvtype": "struct {\n  doubel value\n}"}]}')"
expect "type and schema both given" 'pvs\[0\] "b": "schema": give only one of "type", "pvtype" and "schema" \("type" is given too\)' -- \
    --pvs "$(file both '{"pvs": [{"name": "b", "type": "NTScalar", "schema": {}}]}')"
expect "schema whose top is not a structure" 'pvs\[0\] "n": "schema": a PV.s type must be a structure, not double' -- \
    --pvs "$(file notstruct '{"pvs": [{"name": "n", "schema": {"type": "number"}}]}')"
expect "schema value with a field the type lacks" "pvs\\[0\\] \"v\": \"value\": field 'a\\.c': no such field" -- \
    --pvs "$(file value '{"pvs": [{"name": "v", "pvtype": "struct { struct { double b } a }", "value": {"a": {"c": 1}}}]}')"
expect "schema entry with an NT key" 'pvs\[0\] "k": "units": unknown key' -- \
    --pvs "$(file ntkey '{"pvs": [{"name": "k", "pvtype": "struct { double value }", "units": "mm"}]}')"
expect "schema nested absurdly deep" 'pvs\[0\] "d": "schema": nested more than 64 levels deep' -- \
    --pvs "$(file deep "{\"pvs\": [{\"name\": \"d\", \"schema\": $(printf '[%.0s' $(seq 300))$(printf ']%.0s' $(seq 300))}]}")"
expect "schema with a timeStamp that is not a time_t" 'pvs\[0\] "t": "pvtype": a member "timeStamp" must be a time_t structure' -- \
    --pvs "$(file stamp '{"pvs": [{"name": "t", "pvtype": "struct { double timeStamp }"}]}')"
expect "empty asg" 'pvs\[0\] "g": "asg": must not be empty' -- \
    --pvs "$(file asg '{"pvs": [{"name": "g", "type": "NTScalar", "asg": ""}]}')"
expect "asl out of range, after an entry with asg and asl accepted" 'pvs\[1\] "h": "asl": expected an integer 0\.\.255' -- \
    --pvs "$(file asl '{"pvs": [{"name": "g", "pvtype": "struct { double value }", "asg": "ops", "asl": 1},
                                 {"name": "h", "type": "NTScalar", "asl": 256}]}')"
expect "--pv unknown type" '--pv "x=foo:1": unknown type "foo"' -- --pv x=foo:1
expect "--pv value out of range" '--pv "x=int16:99999": "value": 99999 does not fit int16' -- --pv x=int16:99999
expect "nothing to serve" 'nothing to serve' --

if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed"
    exit 1
fi
echo "all checks passed"
