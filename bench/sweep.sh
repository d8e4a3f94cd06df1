# shellcheck shell=bash
# bench/sweep.sh -- `./dev bench --sweep [--quick] [--keep]`: the worker
# count sweep behind docs/OPERATIONS.md's sizing guide. On the bench stack
# (bench.sh's functions: stack, dataset, request lists, bench_wrk) it sets
# the pools' `workers` in run/bench/roost.conf, reloads roostd (SIGHUP)
# and waits until the pool has that many serving workers, then measures
# each scenario with wrk: the fast pool at 2 4 8 16 32 workers with a
# Redis-served read, a MariaDB-served read (Redis stopped) and a write;
# the slow pool at 1 2 4 with sign-ins. At the default counts (main 4,
# slow 2) `roostctl advise` watches the measured run, and its advice is
# set against the count the sweep found best. Sourced by bench.sh only
# for --sweep, so the rest of ./dev bench does not change.

SWEEP_FAST_COUNTS=(2 4 8 16 32)
SWEEP_SLOW_COUNTS=(1 2 4)
SWEEP_FAST_SCENARIOS=(product-redis product-mariadb tweet-post)
SWEEP_SLOW_SCENARIOS=(signin)
SWEEP_ADVISE_FAST=4            # the counts advise watches (the defaults)
SWEEP_ADVISE_SLOW=2
SWEEP_NEAR=0.95                # "best": the fewest workers within 5 % of the top req/s

sweep_usage() {
    cat <<'EOF'
usage: ./dev bench --sweep [--quick] [--keep]

  Measures req/s and p99 per worker count: the main pool at 2 4 8 16 32
  workers (product-redis, product-mariadb, tweet-post; wrk with 32
  connections), the slow pool at 1 2 4 (signin; workers + 4 connections,
  within its listen backlog). roostctl advise watches the run at main 4 /
  slow 2 and its advice is compared with the best count. The table goes to
  stdout and run/bench/sweep/latest.txt. About 3 minutes (5 s a point);
  --quick: 3 s a point on the small dataset (about 2 minutes).
  --keep leaves the bench stack running.
EOF
}

# sweep_set_workers MAIN SLOW: rewrites both pools' workers and reloads.
sweep_set_workers() {
    local main=$1 slow=$2 tmp
    tmp=$(mktemp)
    awk -v m="$main" -v s="$slow" '
        /^\[/ { sec = $0 }
        /^[ \t]*workers[ \t]*=/ && sec == "[roostd]"     { print "workers = " m; next }
        /^[ \t]*workers[ \t]*=/ && sec == "[pool slow]"  { print "workers = " s; next }
        { print }' "$CONF" >"$tmp" && cat "$tmp" >"$CONF"
    rm -f "$tmp"
    svc_running roostd || die "sweep: roostd is not running"
    kill -HUP "$PID"
    sweep_wait_workers "$main" "$slow"
}

# A pool's figure from /metrics: sweep_gauge POOL STATE.
sweep_gauge() {
    curl -s --max-time 3 "$URL/metrics" |
        awk -v want="roost_workers{pool=\"$1\",state=\"$2\"}" '$1 == want { print $2; exit }'
}

# Until both pools serve with exactly the wanted workers and none drains.
sweep_wait_workers() {
    local main=$1 slow=$2 i
    for (( i = 0; i < 150; i++ )); do
        if [[ $(sweep_gauge main total) == "$main" && $(sweep_gauge slow total) == "$slow" &&
              $(sweep_gauge main exiting) == 0 && $(sweep_gauge slow exiting) == 0 ]]; then
            return 0
        fi
        sleep 0.2
    done
    die "sweep: roostd did not reach main=$main slow=$slow workers in 30 s (see $LOGDIR/roostd.log)"
}

# sweep_point NAME POOL COUNT: one warm-up and one measured wrk run;
# appends "name pool count rps p99_ms errors" to SWEEP_RESULTS. At the
# advise counts, roostctl advise watches the measured run.
sweep_point() {
    local name=$1 pool=$2 count=$3 res adv="" advise_pid=""
    local BENCH_CONNS=$BENCH_CONNS
    [[ $pool == slow ]] && BENCH_CONNS=$(( count + 4 ))
    if (( BENCH_REDIS_DOWN[$name] )); then bench_redis_down; fi
    bench_wrk "$name" 1 >/dev/null
    if { [[ $pool == main ]] && (( count == SWEEP_ADVISE_FAST )); } ||
       { [[ $pool == slow ]] && (( count == SWEEP_ADVISE_SLOW )); }; then
        adv=$SWEEP_DIR/advise-$name.txt
        ( sleep 0.5; roostctl advise --window "$(( SWEEP_SECONDS - 1 ))s" >"$adv" 2>&1 ) &
        advise_pid=$!
    fi
    res=$(bench_wrk "$name" "$SWEEP_SECONDS")
    if [[ -n $advise_pid ]]; then wait "$advise_pid" || warn "sweep: roostctl advise failed ($adv)"; fi
    if (( BENCH_REDIS_DOWN[$name] )); then bench_redis_up; fi
    awk -v n="$name" -v p="$pool" -v c="$count" '
        { for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] } }
        END { printf "%s %s %d %.1f %.2f %d\n", n, p, c, f["rps"], f["p99_us"] / 1000,
              f["status_errors"] + f["connect"] + f["read"] + f["write"] + f["timeout"] }' \
        <<<"$res" | tee -a "$SWEEP_RESULTS" |
        awk '{ printf "  %-16s %-5s %3d workers %9.1f req/s  p99 %8.2f ms  errors %d\n", $1, $2, $3, $4, $5, $6 }' >&2
}

# advise's recommended max_children for POOL in FILE, or "-".
sweep_advised() {
    awk -v p="$2" '$1 == "pool" { on = ($2 == p) } on && $1 == "recommend:" { print $4; found = 1; exit }
                   END { if (!found) print "-" }' "$1" 2>/dev/null || echo "-"
}

# The table: one row per scenario and count, then per scenario the best
# count and advise's, and whether they are within one step of each other.
sweep_report() {
    local name pool counts adv at
    printf '\n%-16s %-5s %7s %10s %9s %7s\n' SCENARIO POOL WORKERS REQ/S "P99 ms" ERRORS
    awk '{ printf "%-16s %-5s %7d %10.1f %9.2f %7d\n", $1, $2, $3, $4, $5, $6 }' "$SWEEP_RESULTS"
    printf '\n%-16s %-5s %6s %8s %8s %s\n' SCENARIO POOL BEST "ADVISE" "AT" "WITHIN ONE STEP"
    for name in "${SWEEP_FAST_SCENARIOS[@]}" "${SWEEP_SLOW_SCENARIOS[@]}"; do
        pool=main counts="${SWEEP_FAST_COUNTS[*]}" at=$SWEEP_ADVISE_FAST
        if [[ " ${SWEEP_SLOW_SCENARIOS[*]} " == *" $name "* ]]; then
            pool=slow counts="${SWEEP_SLOW_COUNTS[*]}" at=$SWEEP_ADVISE_SLOW
        fi
        adv=$(sweep_advised "$SWEEP_DIR/advise-$name.txt" "$pool")
        awk -v n="$name" -v p="$pool" -v adv="$adv" -v at="$at" -v counts="$counts" -v near="$SWEEP_NEAR" '
            $1 == n { rps[$3] = $4; if ($4 > top) top = $4 }
            END {
                k = split(counts, c, " ")
                for (i = 1; i <= k; i++) if (rps[c[i]] >= near * top) { best = c[i]; bi = i; break }
                # advise may name a count between the swept ones: its step is the nearest swept.
                ai = 0
                if (adv != "-") for (i = 1; i <= k; i++) if (ai == 0 || (c[i] - adv) ^ 2 < (c[ai] - adv) ^ 2) ai = i
                ok = adv == "-" ? "-" : ((ai - bi) ^ 2 <= 1 ? "yes" : "no")
                printf "%-16s %-5s %6s %8s %8s %s\n", n, p, best, adv, at, ok
            }' "$SWEEP_RESULTS"
    done
    printf '\n(best: the fewest workers within %.0f%% of the top req/s; ADVISE: roostctl advise watching the run at AT workers)\n' \
        "$(awk -v n="$SWEEP_NEAR" 'BEGIN { print (1 - n) * 100 }')"
}

cmd_bench_sweep() {
    local quick=0 keep=0 t0 n
    while (( $# )); do
        case $1 in
            --quick) quick=1;;
            --keep)  keep=1;;
            -h|--help) sweep_usage; return 0;;
            *) sweep_usage >&2; exit 2;;
        esac
        shift
    done
    # shellcheck source=bench/scenarios.sh
    source "$ROOT/bench/scenarios.sh"
    for n in "${SWEEP_FAST_SCENARIOS[@]}" "${SWEEP_SLOW_SCENARIOS[@]}"; do
        [[ -n ${BENCH_KIND[$n]:-} ]] || die "sweep: bench/scenarios.sh has no scenario '$n'"
    done
    SWEEP_SECONDS=5
    (( quick )) && SWEEP_SECONDS=3
    t0=$(now_ms)

    prepare_binaries "$ROOT/build"
    stack_use bench fresh "$BUILD" 0
    stack_lock
    # The small dataset unless the full one is loaded: worker counts, not
    # data sizes, are what the sweep varies.
    bench_plan_dataset quick
    if (( BENCH_LOAD == 2 )); then bench_wipe_data; fi
    # shellcheck disable=SC2064  # $keep is meant to expand now
    trap "bench_redis_up; (( $keep )) || { stack_lock; stack_stop; }" EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM HUP
    stack_prepare
    stack_start
    roostctl migrate >"$LOGDIR/migrate.log" 2>&1 || { cat "$LOGDIR/migrate.log" >&2; die "roostctl migrate failed"; }
    (( BENCH_LOAD == 0 )) || bench_load_dataset
    bench_fetch_lists
    for n in "${SWEEP_FAST_SCENARIOS[@]}" "${SWEEP_SLOW_SCENARIOS[@]}"; do
        if (( ! BENCH_REDIS_DOWN[$n] )); then bench_check "$n"; fi
    done

    SWEEP_DIR=$RUN/sweep
    mkdir -p "$SWEEP_DIR"
    rm -f "$SWEEP_DIR"/advise-*.txt
    SWEEP_RESULTS=$SWEEP_DIR/results.txt
    : >"$SWEEP_RESULTS"
    say "sweep: main ${SWEEP_FAST_COUNTS[*]} x ${SWEEP_FAST_SCENARIOS[*]}; slow ${SWEEP_SLOW_COUNTS[*]} x ${SWEEP_SLOW_SCENARIOS[*]}; 1 s + $SWEEP_SECONDS s a point"
    local c
    for c in "${SWEEP_FAST_COUNTS[@]}"; do
        sweep_set_workers "$c" 2
        for n in "${SWEEP_FAST_SCENARIOS[@]}"; do sweep_point "$n" main "$c"; done
    done
    for c in "${SWEEP_SLOW_COUNTS[@]}"; do
        sweep_set_workers 4 "$c"
        for n in "${SWEEP_SLOW_SCENARIOS[@]}"; do sweep_point "$n" slow "$c"; done
    done
    sweep_set_workers 4 2
    {
        echo "roost worker-count sweep, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), dataset $BENCH_DATASET, $SWEEP_SECONDS s a point"
        sweep_report
    } | tee "$SWEEP_DIR/latest.txt"
    say "sweep took $(elapsed "$t0"); advise's reports: $SWEEP_DIR/advise-*.txt"
}
