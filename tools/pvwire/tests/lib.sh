# Shared by the pvwire CLI test scripts (sourced, not run). Needs $pvwire set.
#   start_server ARGS...   `pvwire serve --isolated ARGS` in the background (loopback, ephemeral
#                          ports); sets server_pid, tcp_port, udp_port and exports the client
#                          environment that reaches it. Returns 1 if it did not start.
#   wait_running PID OUT ERR  waits for "running" in $work/OUT (see below).
#   check NAME STATUS REGEX... -- COMMAND...   runs COMMAND (bounded), expects exit STATUS and
#                          each REGEX (grep -E) in its stdout+stderr; counts failures.
#   verdict, successes, finish: see below.
# The EXIT trap kills the server and removes $work.

work=$(mktemp -d)
server_pid=
failures=0
cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# Nothing from the caller's EPICS environment may leak in.
unset EPICS_PVA_NAME_SERVERS EPICS_PVA_INTF_ADDR_LIST EPICS_PVAS_INTF_ADDR_LIST EPICS_PVA_ADDR_LIST \
      EPICS_PVAS_BEACON_ADDR_LIST EPICS_PVA_SERVER_PORT EPICS_PVAS_SERVER_PORT EPICS_PVA_BROADCAST_PORT \
      EPICS_PVAS_BROADCAST_PORT

# wait_running PID OUT ERR: waits (5 s at most) until process PID printed "running" in
# $work/OUT, then prints OUT; else prints OUT and $work/ERR and returns 1.
wait_running() {
    for _ in $(seq 50); do
        grep -q "running" "$work/$2" 2>/dev/null && break
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    if ! grep -q "running" "$work/$2"; then
        echo "FAIL: $2: did not start"
        cat "$work/$2" "$work/$3" 2>/dev/null
        return 1
    fi
    cat "$work/$2"
}

start_server() {
    timeout 300 "$pvwire" serve --isolated "$@" >"$work/server.out" 2>"$work/server.err" &
    server_pid=$!
    wait_running "$server_pid" server.out server.err || return 1
    local addr_list
    addr_list=$(sed -n 's/.*EPICS_PVA_ADDR_LIST=\([^ ]*\).*/\1/p' "$work/server.out")
    tcp_port=$(sed -n 's/.*EPICS_PVA_SERVER_PORT=\([0-9]*\).*/\1/p' "$work/server.out")
    udp_port=${addr_list##*:}
    if [ -z "$addr_list" ] || [ -z "$tcp_port" ]; then
        echo "FAIL: no client environment in the server's output"
        return 1
    fi
    export EPICS_PVA_ADDR_LIST=$addr_list EPICS_PVA_AUTO_ADDR_LIST=NO EPICS_PVA_SERVER_PORT=$tcp_port
}

check() {
    local name=$1 want=$2 regexes=() regex missing=
    shift 2
    while [ "$1" != "--" ]; do regexes+=("$1"); shift; done
    shift
    local out status
    out=$(timeout 20 "$@" 2>&1)
    status=$?
    for regex in "${regexes[@]}"; do grep -qE -- "$regex" <<<"$out" || missing="$missing $regex"; done
    if [ "$status" -ne "$want" ] || [ -n "$missing" ]; then
        echo "FAIL: $name (status $status, wanted $want; output should match:$missing)"
        echo "  command: $*"
        sed 's/^/  | /' <<<"$out"
        failures=$((failures + 1))
    else
        echo "ok: $name"
    fi
}

# verdict NAME OK [WHY]: counts a failure unless OK is 0 (a status, or the result of `test`)
verdict() {
    if [ "$2" -ne 0 ]; then
        echo "FAIL: $1${3:+ ($3)}"
        failures=$((failures + 1))
    else
        echo "ok: $1"
    fi
}

# successes N COMMAND...: runs COMMAND N times (each bounded) and prints how often it exited 0
successes() {
    local n=$1 ok=0
    shift
    for _ in $(seq "$n"); do
        if timeout 10 "$@" >/dev/null 2>&1; then ok=$((ok + 1)); fi
    done
    echo "$ok"
}

# finish: the summary line and the exit status
finish() {
    if [ "$failures" -ne 0 ]; then
        echo "$failures check(s) failed"
        exit 1
    fi
    echo "all checks passed"
    exit 0
}
