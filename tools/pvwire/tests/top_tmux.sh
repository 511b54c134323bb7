#!/usr/bin/env bash
# `pvwire top` in a detached tmux session against `pvwire serve`:
#   top_tmux.sh PVWIRE_BINARY PV_FILE
# Starts `pvwire serve --isolated --pvs PV_FILE`, runs `pvwire top` in a 110x30 tmux pane
# (a private tmux server, -L), drives it with send-keys and reads it with capture-pane:
# the counter changes on screen, a put from the dashboard lands (read back with pvwire get),
# a refused put shows the server's message, the server view shows the status PVs, a resize to
# a narrow window keeps the layout (no line wider than the window, nothing stray), the rows
# of a lost server say DISCONN, q quits with status 0. Without tmux the script skips (77), or fails when CI=true.
set -u
pvwire=${1:?usage: top_tmux.sh PVWIRE_BINARY PV_FILE}
pvfile=${2:?usage: top_tmux.sh PVWIRE_BINARY PV_FILE}
here=$(dirname "${BASH_SOURCE[0]}")

if ! command -v tmux >/dev/null; then
    [ "${CI:-}" = true ] && { echo "FAIL: tmux is missing (CI=true; scripts/setup installs it)"; exit 1; }
    echo "SKIP: tmux is missing (scripts/setup installs it)"
    exit 77
fi

. "$here/lib.sh"
export LANG=C.UTF-8 LC_ALL=C.UTF-8  # tmux passes UTF-8 through, top draws Unicode sparklines

# The server view reads the status PVs `pvwire serve --status-prefix` publishes.
prefix=pvwire:toptest
start_server --pvs "$pvfile" --status-prefix "$prefix" || exit 1

check "top without PV names or --server says what it needs" 1 '^pvwire top: .*need the server to list: --server' -- \
    "$pvwire" top
check "top with a glob matching nothing" 1 "^pvwire top: no PV of 127.0.0.1:$tcp_port matches" -- \
    "$pvwire" top --server "127.0.0.1:$tcp_port" 'nothing:*'
check "top with a server that is not there" 1 '^pvwire top: cannot connect' -- \
    "$pvwire" top --server 127.0.0.1:1 'x:*'

sock=pvwire-top-test-$$
tmx() { tmux -L "$sock" -f /dev/null "$@"; }
cleanup_tmux() {
    tmx kill-server 2>/dev/null
    cleanup
}
trap cleanup_tmux EXIT

screen() { tmx capture-pane -p -t top; }
# wait_for REGEX [SECONDS]: until the screen shows REGEX (grep -E); false on timeout
wait_for() {
    local end=$((SECONDS + ${2:-10}))
    while [ "$SECONDS" -lt "$end" ]; do
        screen | grep -qE -- "$1" && return 0
        sleep 0.2
    done
    return 1
}
# the value column of a PV's row
value_of() { screen | awk -v pv="$1" '$1 == pv { print $2; exit }'; }

tmx new-session -d -s top -x 110 -y 30 \
    "\"$pvwire\" top --server 127.0.0.1:$tcp_port --status $prefix 'top:*'; echo \$? >\"$work/top.status\"; sleep 30"

wait_for '^top:counter +[0-9]+' 15
verdict "the dashboard shows the PVs" $? "$(screen)"
first=$(value_of top:counter)
sleep 1.5
second=$(value_of top:counter)
[ -n "$first" ] && [ -n "$second" ] && [ "$first" != "$second" ]
verdict "the counter changes on screen ($first, then $second)" $?
screen | grep -qE '^top:setpoint +1\.500 +V'
verdict "precision and units" $? "$(screen | grep setpoint)"
screen | grep -qE '^top:mode +Standby'
verdict "an enumeration shows its choice name" $?
screen | grep -qE '^top:waveform +\[6\] 0, 0\.5, 1, 0\.5'
verdict "an array shows its length and first elements" $?
wait_for '^top:counter .*[▁▂▃▄▅▆▇█]{3}' 5
verdict "the counter has a sparkline" $? "$(screen | grep counter)"
wait_for '^top:counter +[0-9]+ +[0-9.]+ ' 5
verdict "the counter has an update rate" $? "$(screen | grep counter)"

# sort by rate (5): the ticking counter comes first; r reverses; 1 sorts by name again
tmx send-keys -t top 5
wait_for 'sort HZ' 5 && [ "$(screen | sed -n 3p | awk '{print $1}')" = top:counter ]
verdict "5 sorts by rate, the busiest first" $? "$(screen | sed -n 1,4p)"
tmx send-keys -t top r
wait_for 'sort HZ \(rev\)' 5 && [ "$(screen | sed -n 3p | awk '{print $1}')" != top:counter ]
verdict "r reverses the order" $?
tmx send-keys -t top r 1
wait_for 'sort NAME \|' 5 && [ "$(screen | sed -n 3p | awk '{print $1}')" = top:counter ]
verdict "1 sorts by name again" $?

# p pauses the display (the counter stays), p again resumes it
tmx send-keys -t top p
wait_for '\| PAUSED' 5
paused=$(value_of top:counter)
sleep 1
[ "$(value_of top:counter)" = "$paused" ]
verdict "p pauses the display" $?
tmx send-keys -t top p
sleep 1
! screen | grep -q PAUSED && [ "$(value_of top:counter)" != "$paused" ]
verdict "p again resumes it" $?

# a put from the dashboard: filter to the PV, e, type the value, Enter, confirm with y
tmx send-keys -t top / setpoint Enter
wait_for 'filter setpoint' 5 && ! screen | grep -q '^top:counter'
verdict "the filter leaves the matching PV" $? "$(screen)"
tmx send-keys -t top e 4.25 Enter
wait_for 'put 4\.25 to top:setpoint\? \(y/n\)' 5
verdict "the put asks for a confirmation" $? "$(screen | tail -1)"
tmx send-keys -t top y
wait_for 'top:setpoint: put 4\.25 done' 5
verdict "the put is done" $? "$(screen | tail -1)"
check "the put from the dashboard landed" 0 '^    value double = 4\.25$' -- "$pvwire" get top:setpoint
wait_for '^top:setpoint +4\.250 ' 5
verdict "the dashboard shows the new value" $?

# a refused put shows the server's message
tmx send-keys -t top / Escape / counter Enter e 5 Enter y
wait_for 'top:counter: put refused: .*read-only' 5
verdict "a refused put shows the server's message" $? "$(screen | tail -1)"
tmx send-keys -t top / Escape
wait_for '^top:mode ' 5
verdict "Esc in the filter clears it" $?

# the server view: the status PVs under the prefix
tmx send-keys -t top Tab
wait_for "server $prefix" 5 && wait_for '^connections +[0-9]+' 10
verdict "the server view shows the status PVs" $? "$(screen)"
tmx send-keys -t top Tab
wait_for '^top:counter ' 5
verdict "Tab goes back to the PVs" $?

# layout_ok WIDTH: header line, column headers, every line at most WIDTH cells, and every other
# non-empty line a PV's row or the footer
layout_ok() {
    local width=$1 out lines bad
    out=$(screen)
    lines=$(wc -l <<<"$out")
    head -1 <<<"$out" | grep -q '^pvwire top |' || { echo "  no header line"; return 1; }
    sed -n 2p <<<"$out" | grep -q '^NAME' || { echo "  no column headers"; return 1; }
    bad=$(while IFS= read -r line; do [ "${#line}" -gt "$width" ] && echo "$line"; done <<<"$out")
    [ -z "$bad" ] || { echo "  lines wider than $width: $bad"; return 1; }
    bad=$(sed -n "3,$((lines - 1))p" <<<"$out" | grep -vE '^(top:[a-z]+ |$)')
    [ -z "$bad" ] || { echo "  stray lines: $bad"; return 1; }
    return 0
}
tmx resize-window -t top -x 50 -y 16
wait_for '^NAME' 5
sleep 0.5
why=$(layout_ok 50)
verdict "a narrow window (50x16) keeps the layout" $? "$why
$(screen)"
! screen | grep -qE 'UNITS|TREND'
verdict "the narrow window drops the sparkline and the units" $?
tmx resize-window -t top -x 110 -y 30
sleep 0.7
why=$(layout_ok 110)
verdict "a wide window again (110x30) keeps the layout" $? "$why
$(screen)"
screen | grep -q 'TREND'
verdict "the wide window shows the sparkline again" $?

# a lost server: every row turns grey and says so
kill "$server_pid"
wait "$server_pid" 2>/dev/null
server_pid=
wait_for '^top:counter .*DISCONN' 10 && wait_for '^top:setpoint .*DISCONN' 2
verdict "a lost server's PVs show DISCONN" $? "$(screen)"

# help, then quit
tmx send-keys -t top h
wait_for 'pvwire top keys' 5
verdict "h shows the help" $?
tmx send-keys -t top x q
for _ in $(seq 50); do [ -s "$work/top.status" ] && break; sleep 0.1; done
[ "$(cat "$work/top.status" 2>/dev/null)" = 0 ]
verdict "q quits with status 0" $? "status $(cat "$work/top.status" 2>/dev/null)"

finish
