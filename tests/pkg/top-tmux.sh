#!/bin/sh
# top-tmux.sh -- `roostctl top`'s live view in a real terminal: tmux runs
# it against the test stack under a wrk (or curl) load; capture-pane reads
# the screen; send-keys sorts, picks pools and quits; SIGTERM ends it too.
# Either way the terminal must be back in cooked mode (icanon, echo). The
# last screen is left as top-capture.txt in the stack's directory. Skipped
# (77) without tmux or without a stack (./dev test sets ROOST_TEST_URL).
set -eu
url=${ROOST_TEST_URL:-}
[ -n "$url" ] || { echo "SKIP: no ROOST_TEST_URL (run through ./dev test)"; exit 77; }
command -v tmux >/dev/null || { echo "SKIP: no tmux (apt-get install tmux)"; exit 77; }
ctl=${ROOST_TEST_ROOSTCTL:?} conf=${ROOST_TEST_CONF:?}
fail() { echo "FAIL: $*"; [ -f "$tmp/screen" ] && cat "$tmp/screen"; exit 1; }

tmp=$(mktemp -d)
sock=roost-top-$$                          # a tmux server of our own
load=""
cleanup() {
    tmux -L "$sock" kill-server 2>/dev/null || true
    rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$sock"   # a killed server leaves its socket
    [ -z "$load" ] || kill "$load" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

# Load: wrk on the products list (Redis-served), else a curl loop.
if command -v wrk >/dev/null; then
    wrk -t1 -c4 -d40s -H 'Accept: application/json' -H 'Authorization: Bearer x' \
        "$url/products?limit=2" >/dev/null 2>&1 &
else
    (end=$(( $(date +%s) + 40 )); while [ "$(date +%s)" -lt "$end" ]; do
        curl -s -o /dev/null -H 'Accept: application/json' "$url/products?limit=2"; done) &
fi
load=$!

session=top1
screen() { tmux -L "$sock" capture-pane -p -t "$session" > "$tmp/screen"; }
# wait_for TEXT [SECONDS]: until the screen shows TEXT.
wait_for() {
    i=0
    while [ "$i" -lt "$(( ${2:-5} * 10 ))" ]; do
        screen
        grep -qF -- "$1" "$tmp/screen" && return 0
        sleep 0.1; i=$((i + 1))
    done
    fail "the screen never showed '$1'"
}
# start SESSION: top in a new session whose shell reports the exit status
# and the terminal's mode afterwards (earlier sessions stay: killing the
# last one would end the tmux server under the next new-session).
start() {
    session=$1
    tmux -L "$sock" new-session -d -s "$session" -x 150 -y 45 \
        "'$ctl' -c '$conf' top; echo EXIT=\$?; stty -a | tr ' ;' '\n\n' | grep -x -e icanon -e -icanon -e echo -e -echo | tr '\n' ' '; echo; sleep 60"
}
cooked() {
    wait_for "icanon"                      # the stty line, -icanon or icanon
    line=$(grep -A1 'EXIT=' "$tmp/screen" | tail -n 1)
    echo " $line " | grep -q ' icanon ' && echo " $line " | grep -q ' echo ' ||
        fail "terminal not restored: $line"
}

start top1
wait_for "products.list" 8
wait_for "sort: pid"
grep -q '^main ' "$tmp/screen" || fail "no main pool line"
grep -q '^slow ' "$tmp/screen" || fail "no slow pool line"
grep -q 'DEPENDENCIES' "$tmp/screen" || fail "no dependencies"
grep -q 'q quit' "$tmp/screen" || fail "no key help"
# The main pool's req/s (10th column) is above 0 under the load.
rps=$(awk '$1 == "main" { print $10; exit }' "$tmp/screen")
awk -v r="$rps" 'BEGIN { exit !(r > 0) }' || fail "main pool req/s is '$rps' under load"
sleep 2; screen
cp "$tmp/screen" "${ROOST_TEST_RUN_DIR:-$tmp}/top-capture.txt" 2>/dev/null || true

tmux -L "$sock" send-keys -t "$session" s
wait_for "sort: state"
tmux -L "$sock" send-keys -t "$session" p
wait_for "pool: main"
tmux -L "$sock" send-keys -t "$session" 2
wait_for "pool: slow"
tmux -L "$sock" send-keys -t "$session" 0
wait_for "pool: all"
tmux -L "$sock" send-keys -t "$session" q
wait_for "EXIT=0"
cooked
echo "ok: live view, keys s p 2 0 q, terminal restored after q"

# SIGTERM to roostctl (the pane's shell's child): it ends with 143 and
# restores the terminal.
start top2
wait_for "q quit" 8
shell=$(tmux -L "$sock" list-panes -t top2 -F '#{pane_pid}')
kid=$(cat "/proc/$shell/task/$shell/children" 2>/dev/null | awk '{ print $1 }')
[ -n "$kid" ] || fail "no roostctl under the pane's shell $shell"
kill -TERM "$kid"
wait_for "EXIT=143"
cooked
echo "ok: SIGTERM ends top with 143, terminal restored"
