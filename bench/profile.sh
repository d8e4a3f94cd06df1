# shellcheck shell=bash
# bench/profile.sh -- `./dev bench --profile NAME`: where the CPU goes in
# one scenario (docs/PERFORMANCE.md). Sourced by bench/bench.sh.
#
# (Pipelines that end in head are followed by `|| true`: head closing the
# pipe early is not a failure, whatever pipefail thinks.)
#
# Two views, both written to run/bench/profile/report.txt:
#   1. perf (software clock sampling: this VM has no hardware counters),
#      system-wide while wrk drives the scenario at full load: the share of
#      the CPU each program takes (nginx, roostd, redis, mariadbd, wrk, and
#      whatever else runs on the machine), then the top symbols of roostd
#      and of nginx;
#   2. callgrind on one roostd worker: roostd is restarted with workers = 1
#      under valgrind --tool=callgrind, driven with a light load for a few
#      seconds, stopped (the worker exits cleanly and dumps its profile),
#      then the worker's top functions are listed, inclusive and exclusive.
#      roostd is started again normally afterwards.

BENCH_PROFILE_PERF_S=5
BENCH_PROFILE_CALLGRIND_S=10

bench_perf_usable() {
    command -v perf >/dev/null && perf stat -e cpu-clock -o /dev/null true >/dev/null 2>&1
}

bench_profile_perf() {
    local name=$1 dir=$2 wrk_pid
    if ! bench_perf_usable; then
        echo "perf: not usable here (install linux-perf; check kernel.perf_event_paranoid); skipped"
        return 0
    fi
    bench_wrk "$name" $(( BENCH_PROFILE_PERF_S + 4 )) >"$dir/perf-wrk.txt" &
    wrk_pid=$!
    sleep 2
    perf record -q -e cpu-clock -F 1999 -a -g -o "$dir/perf.data" -- sleep "$BENCH_PROFILE_PERF_S" \
        >/dev/null 2>&1 9>&- || warn "perf record failed"
    wait "$wrk_pid" || true
    echo "== perf: CPU share per program, system-wide, during $name ($(bench_perf_rps "$dir/perf-wrk.txt") req/s) =="
    perf report -i "$dir/perf.data" --no-children --sort comm -g none --stdio 2>/dev/null |
        grep -E '^ +[0-9]' | head -n 12 || true
    local comm
    for comm in roostd nginx; do
        echo
        echo "== perf: top symbols of $comm (share of all samples) =="
        perf report -i "$dir/perf.data" --no-children --comm "$comm" --sort dso,sym -g none --stdio 2>/dev/null |
            grep -E '^ +[0-9]' | head -n 25 || true
    done
}

bench_perf_rps() {
    awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^rps=/) { sub(/rps=/, "", $i); printf "%.0f", $i } }' "$1"
}

bench_profile_callgrind() {
    local name=$1 dir=$2 cfg out biggest
    if ! command -v valgrind >/dev/null; then
        echo "callgrind: valgrind is not installed (apt-get install valgrind); skipped"
        return 0
    fi
    cfg=$dir/roost-1worker.conf
    sed -E 's/^workers[[:space:]]*=.*/workers = 1/' "${CONF:?}" >"$cfg"
    rm -f "$dir"/callgrind.*.out
    svc_stop roostd
    rm -f "$SOCK_ROOSTD"
    launch roostd env -u NOTIFY_SOCKET -u LISTEN_FDS -u LISTEN_PID -u LISTEN_FDNAMES \
        valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.%p.out" \
        "$ROOSTD_BIN" -c "$cfg"
    wait_ready roostd 60 roostd_ready
    sleep 2
    # A light load: one worker under callgrind runs some 50 times slower.
    local threads=$BENCH_THREADS conns=$BENCH_CONNS
    BENCH_THREADS=1 BENCH_CONNS=2
    bench_wrk "$name" 2 >/dev/null
    bench_wrk "$name" "$BENCH_PROFILE_CALLGRIND_S" >"$dir/callgrind-wrk.txt"
    BENCH_THREADS=$threads BENCH_CONNS=$conns
    svc_stop roostd
    svc_start roostd
    # The worker's file is the one with the most instructions.
    biggest=$(for out in "$dir"/callgrind.*.out; do
                  printf '%s %s\n' "$(awk '/^summary:/ { print $2 }' "$out")" "$out"
              done | sort -n | tail -n 1 | cut -d' ' -f2)
    [[ -n $biggest ]] || { echo "callgrind: no profile was written"; return 0; }
    local reqs
    reqs=$(awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^requests=/) { sub(/requests=/, "", $i); print $i } }' \
        "$dir/callgrind-wrk.txt")
    echo
    echo "== callgrind: one roostd worker serving $name ($reqs requests in the measured part; $biggest) =="
    echo "-- inclusive (a function and everything it calls), top 30"
    callgrind_annotate --inclusive=yes "$biggest" 2>/dev/null | sed -n '/^Ir/,$p' | grep -v '^-' | head -n 32 || true
    echo "-- exclusive (the function's own instructions), top 30"
    callgrind_annotate --inclusive=no "$biggest" 2>/dev/null | sed -n '/^Ir/,$p' | grep -v '^-' | head -n 32 || true
}

bench_profile() {
    local name=$1 dir=$RUN/profile
    mkdir -p "$dir"
    say "profiling $name: perf system-wide, then callgrind on one roostd worker"
    {
        echo "profile of $name, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(bench_cpu)"
        echo
        bench_profile_perf "$name" "$dir"
        bench_profile_callgrind "$name" "$dir"
    } | tee "$dir/report.txt"
    say "profile: $dir/report.txt (perf.data and callgrind.*.out beside it)"
}
