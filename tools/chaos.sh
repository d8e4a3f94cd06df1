# shellcheck shell=bash
# tools/chaos.sh -- ./dev chaos: scripted faults under a mixed load, with an
# accounting of every write (sourced by ./dev, after tools/stack.sh).
#
# The load, the accounting and the table are tests/chaos/chaos.c: `chaos
# load` runs clients that read, sign in, post, follow and add to carts,
# logging every request and every write's answer; this file applies the
# faults one after another while it runs, writing "name start end
# recovered" (ms) to DIR/faults; then `chaos check` reads every write back
# (an acknowledged one missing is lost, one present twice a duplicate) and
# `chaos report` prints the table. Loopback only: every fault is to the
# stack's own processes.

# The faults, in order. Each is chaos_fault_NAME; docs/RELIABILITY.md says
# what each should cost.
CHAOS_FAULTS=(worker-kill9 reload redis-restart redis-flush shard-restart
              mariadb-kill9 partition master-kill9 slow-pool-fill shard-move)

# The master's children: its workers.
chaos_workers() {
    local master=$1
    cat "/proc/$master/task/$master/children" 2>/dev/null || true
}

chaos_fault_worker-kill9() {
    svc_running roostd || return 0
    local w n=0
    for w in $(chaos_workers "$PID"); do
        (( n++ < 2 )) && kill -KILL "$w" 2>/dev/null
    done
    sleep 1
}

chaos_fault_reload() {
    svc_running roostd && kill -HUP "$PID"
    sleep 2
}

chaos_fault_redis-restart() {
    svc_stop redis >/dev/null
    sleep 2
    svc_start redis >/dev/null
}

chaos_fault_redis-flush() {
    redis-cli -h 127.0.0.1 -p "$PORT_REDIS" flushall >/dev/null
    sleep 1
}

chaos_fault_shard-restart() {
    svc_stop db2 >/dev/null
    sleep 1
    svc_start db2 >/dev/null
}

chaos_fault_mariadb-kill9() {
    if svc_running db2; then
        kill -KILL "$PID"
        wait_gone "$PID" 10 || true
    fi
    sleep 1
    svc_start db2 >/dev/null
}

# roostd cut off from db2 for 4 s (tools/netns.sh): packets dropped, not
# refused, so what waits on db2 waits for its timeouts (connect 1 s,
# query 2 s) -- the replica db2r loses its primary too. Skipped (1) where
# db2 has no namespace.
chaos_fault_partition() {
    [[ -n $DB2_NETNS ]] || return 1
    netns_cut || return 1
    sleep 4
    netns_mend
}

chaos_fault_master-kill9() {
    if svc_running roostd; then
        kill -KILL "$PID"
        wait_gone "$PID" 10 || true
    fi
    svc_start roostd >/dev/null
}

# Forty sign-ins at once against the slow pool: the ones its queue cannot
# hold are answered 503 with Retry-After.
chaos_fault_slow-pool-fill() {
    local i pids=()
    for i in $(seq 1 40); do
        curl -s -o /dev/null -m 10 -H 'Accept: application/json' -H 'Content-Type: application/json' \
            -d "{\"name\":\"nobody$i\",\"password\":\"wrong password\"}" "$URL/users/SignIn" &
        pids+=($!)
    done
    wait "${pids[@]}" 2>/dev/null || true
}

# Growing from two shard servers to three and back, under the load
# (OPERATIONS.md §4.3): the stack's spare server db3 is added as server c
# (run/test/shard-c.conf appended to roost.conf, migrated, roostd
# reloaded), the upper half of server b's logical shards (3072-4095)
# moves to c and back with roostctl shard move -- each time copied,
# fenced, caught up, verified, switched and cleaned up: writes to those
# shards answer 503 while fenced, and every acknowledged one must be
# there afterwards -- and c is taken out again. The output goes to
# DIR/shard-move.log; a failed move is left as it is, for a look.
#
# The moves' run (./dev chaos --moves, and ./dev test after the quick run)
# stops roostctl in each move, as a crash would: after each step in turn
# (ROOST_MOVE_STOP_AFTER, roostctl exits 3), after the switch but before
# its journal entry, and with kill -9 during the copy; each is resumed
# (--resume) under the same load. The fault's row is then named
# shard-move/STOP+STOP.
CHAOS_MOVE_STOPS=(planned copied fenced caught_up verified switched unfenced switched-unrecorded kill9)
CHAOS_MOVE_WITH_STOPS=0
CHAOS_MOVE_K=0

# chaos_move TO [STOP]: one move of 3072-4095 to server TO, stopped at
# STOP and resumed when STOP is given.
chaos_move() {
    local to=$1 stop=${2:-} rc=0 pid
    case $stop in
        "")
            roostctl shard move 3072-4095 --to "$to"
            return;;
        kill9)
            # Directly, not through the roostctl function: $! is roostctl.
            "$ROOSTCTL_BIN" -c "$CONF" shard move 3072-4095 --to "$to" &
            pid=$!
            sleep 0.3
            kill -KILL "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
            echo "chaos: roostctl killed -9 0.3 s into the move";;
        *)
            ROOST_MOVE_STOP_AFTER=$stop roostctl shard move 3072-4095 --to "$to" || rc=$?
            (( rc == 3 )) || { echo "chaos: roostctl stopped after $stop exited $rc, not 3"; return 1; };;
    esac
    # Killed before the journal had the move: nothing to resume, move it.
    if roostctl shards | grep -q ', after step '; then
        roostctl shard move --resume
    else
        roostctl shard move 3072-4095 --to "$to"
    fi
}

chaos_fault_shard-move() {
    local log=$CHAOS_DIR/shard-move.log before=$CHAOS_DIR/roost.conf.before s1="" s2="" from=0
    [[ -f $log ]] && from=$(wc -l <"$log")
    if (( CHAOS_MOVE_WITH_STOPS )); then
        s1=${CHAOS_MOVE_STOPS[CHAOS_MOVE_K++]:-}
        s2=${CHAOS_MOVE_STOPS[CHAOS_MOVE_K++]:-}
        CHAOS_FAULT_LABEL=shard-move/${s1:-none}+${s2:-none}
    fi
    cp "$CONF" "$before"
    grep -q '^\[shard c\]' "$CONF" || cat "$RUN/shard-c.conf" >>"$CONF"
    if { roostctl migrate && chaos_fault_reload && chaos_move c "$s1" && chaos_move b "$s2"; } >>"$log" 2>&1; then
        cp "$before" "$CONF"
        chaos_fault_reload
    else
        warn "chaos: shard-move: roostctl failed (see $log)"
        CHAOS_MOVE_FAILED=1
        roostctl shard move --resume >>"$log" 2>&1 || true
    fi
    # This fault's moves only (a move resumed after its unfence has none).
    tail -n +"$(( from + 1 ))" "$log" | grep 'the fence held' | sed 's/^ */chaos: shard-move: /' >&2 || true
}

# Ready again: /readyz answers 200 (every dependency up) and a sign-in
# reaches the slow pool.
chaos_ready() {
    [[ $(curl -s -o /dev/null -m 2 -w '%{http_code}' -H 'Accept: application/json' "$URL/readyz") == 200 ]]
}

chaos_fault() {
    local name=$1 dir=$2 start end rec
    start=$(now_ms)
    stack_lock
    if ! "chaos_fault_$name"; then
        stack_unlock
        echo "$name db2 has no network namespace here (tools/netns.sh)" >>"$dir/skipped"
        say "chaos: $name: skipped (db2 has no network namespace here)"
        return 0
    fi
    stack_unlock
    end=$(now_ms)
    name=${CHAOS_FAULT_LABEL:-$name}
    CHAOS_FAULT_LABEL=""
    local deadline=$(( end + 60000 ))
    until chaos_ready; do
        (( $(now_ms) < deadline )) || { warn "chaos: $name: not ready 60 s after the fault"; break; }
        sleep 0.1
    done
    rec=$(now_ms)
    echo "$name $start $end $rec" >>"$dir/faults"
    [[ -t 1 ]] && say "chaos: $name: recovered $(( (rec - end) ))ms after the fault ended"
    sleep 2                              # calm between faults: the next "before"
}

# chaos_run BUILD_DIR OUT_DIR CLIENTS ROUNDS [FAULT...]: the whole
# exercise on the running stack (the faults: CHAOS_FAULTS unless named);
# 0 when no write was lost or duplicated and no error was one its fault
# does not explain.
chaos_run() {
    local bdir=$1 dir=$2 clients=$3 rounds=$4 bin=$1/tests/chaos/chaos rc=0
    shift 4
    local faults=("$@")
    (( ${#faults[@]} )) || faults=("${CHAOS_FAULTS[@]}")
    [[ -x $bin ]] || die "chaos: $bin is not built"
    rm -rf "$dir"
    mkdir -p "$dir"
    CHAOS_DIR=$dir CHAOS_MOVE_FAILED=0 CHAOS_MOVE_K=0
    local n=$(( ${#faults[@]} * rounds )) k=0 r f t0
    t0=$(now_ms)
    say "chaos: $clients clients, $n faults (${faults[*]}) x $rounds"
    "$bin" load "$URL" "$dir" "$clients" 1800 &
    local load=$!
    # Warm up: the clients sign up and in, then load for a few seconds.
    sleep 5
    for (( r = 0; r < rounds; r++ )); do
        for f in "${faults[@]}"; do
            k=$(( k + 1 ))
            if [[ -t 1 ]]; then
                local spent=$(( $(now_ms) - t0 ))
                say "chaos: fault $k/$n: $f (ETA $(( spent * (n - k + 1) / k / 1000 )) s)"
            fi
            chaos_fault "$f" "$dir"
        done
    done
    touch "$dir/stop"
    wait "$load" || { warn "chaos: the load ended with an error"; rc=1; }
    say "chaos: reading every write back"
    "$bin" check "$URL" "$dir" | tee "$dir/check.txt" | grep -v '^writes:' || true
    "$bin" report "$dir" | tee "$dir/report.md" || rc=1
    (( ${CHAOS_MOVE_FAILED:-0} == 0 )) || { warn "chaos: a shard move failed (see $dir/shard-move.log)"; rc=1; }
    (( rc == 0 )) && say "chaos: passed ($(elapsed "$t0"))" || warn "chaos: FAILED (see $dir)"
    return "$rc"
}
