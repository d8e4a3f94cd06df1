# shellcheck shell=bash
# tools/fuzz.sh -- `./dev fuzz`: builds the libFuzzer targets of tests/fuzz/
# in build-fuzz/ (clang-14, --enable-fuzzers) and runs each for a bounded
# time. Sourced by ./dev (say, die, build_tree and JOBS come from there).
#
# Each target reads its seed corpus, tests/fuzz/corpus/TARGET/ (committed,
# never written), and keeps what it finds in build-fuzz/corpus/TARGET/, so
# a second run starts where the first stopped. A crash leaves its input in
# build-fuzz/artifacts/ and fails the command. On a terminal libFuzzer's
# own progress lines show; otherwise (CI, a log) each target's output goes
# to build-fuzz/logs/TARGET.log and one line per target is printed.

FUZZ_CC=${ROOST_FUZZ_CC:-clang-14}

# Configures (once) and builds the libraries and the fuzz programs only:
# roostd, roostctl and the tests are not needed here.
build_tree_fuzz() {
    local bdir=$1 t0
    t0=$(now_ms)
    if [[ ! -x $ROOT/configure || $ROOT/configure -ot $ROOT/configure.ac ||
          ! -f $ROOT/Makefile.in || $ROOT/Makefile.in -ot $ROOT/Makefile.am ]]; then
        say "autoreconf -fi"
        (cd "$ROOT" && autoreconf -fi) || die "autoreconf failed"
    fi
    mkdir -p "$bdir"
    if [[ ! -f $bdir/config.status ]]; then
        (cd "$bdir" && CC=$FUZZ_CC "$ROOT/configure" --enable-fuzzers) ||
            die "configure failed (see $bdir/config.log)"
    fi
    say "make -j$JOBS fuzz-targets in $bdir"
    make -s -C "$bdir" -j"$JOBS" fuzz-targets || die "building the fuzz targets failed in $bdir"
    say "fuzz targets built in $(elapsed "$t0")"
}

fuzz_all_targets() {
    make -s --no-print-directory -C "$ROOT/build-fuzz" roost-print-fuzz-targets | tr ' ' '\n' |
        sed 's|.*/||'
}

# The last "#N ... cov: C ft: F" figures of a libFuzzer log, as "N C F".
fuzz_figures() {
    local line
    line=$(grep -Eo '#[0-9]+[[:space:]]+[A-Z]+[[:space:]]+cov: [0-9]+ ft: [0-9]+' "$1" | tail -n 1 || true)
    [[ -n $line ]] || { echo "0 0 0"; return; }
    # shellcheck disable=SC2001
    sed -E 's/#([0-9]+)[[:space:]]+[A-Z]+[[:space:]]+cov: ([0-9]+) ft: ([0-9]+)/\1 \2 \3/' <<<"$line"
}

# fuzz_run TARGET SECONDS: 0 when it ran its time without a crash.
fuzz_run() {
    local t=$1 secs=$2 bdir=$ROOT/build-fuzz
    local seeds=$ROOT/tests/fuzz/corpus/$t work=$bdir/corpus/$t log=$bdir/logs/$t.log
    mkdir -p "$work" "$bdir/artifacts" "$bdir/logs"
    [[ -d $seeds ]] || die "no seed corpus $seeds"
    local args=(-max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 -print_final_stats=1
                -artifact_prefix="$bdir/artifacts/$t-" "$work" "$seeds")
    local rc=0
    # stdin from /dev/null: nothing a target reads may wait on a terminal.
    if [[ -t 2 ]]; then
        "$bdir/tests/fuzz/$t" "${args[@]}" </dev/null 2>&1 | tee "$log" >&2 || rc=${PIPESTATUS[0]}
    else
        "$bdir/tests/fuzz/$t" "${args[@]}" </dev/null >"$log" 2>&1 || rc=$?
    fi
    local execs cov ft crashes
    read -r execs cov ft < <(fuzz_figures "$log")
    crashes=$(find "$bdir/artifacts" -name "$t-*" -newer "$log.start" 2>/dev/null | wc -l)
    printf 'fuzz: %-14s %4ss  execs %9s  cov %5s  ft %6s  crashes %s%s\n' "$t" "$secs" \
        "$execs" "$cov" "$ft" "$crashes" "$( (( rc )) && echo "  FAILED (exit $rc, see $log)")" >&2
    (( rc == 0 && crashes == 0 ))
}

cmd_fuzz() {
    local secs=${ROOST_FUZZ_TIME:-10} targets=() a
    while (( $# )); do
        case $1 in
            --time) [[ ${2:-} =~ ^[0-9]+$ ]] || die "usage: ./dev fuzz [--time S] [TARGET...]"
                    secs=$2; shift 2; continue;;
            --time=*) secs=${1#--time=}; [[ $secs =~ ^[0-9]+$ ]] || die "--time takes seconds";;
            -*) die "usage: ./dev fuzz [--time S] [TARGET...]";;
            *) targets+=("$1");;
        esac
        shift
    done
    install_packages
    build_tree_fuzz "$ROOT/build-fuzz"
    local all=()
    mapfile -t all < <(fuzz_all_targets)
    (( ${#targets[@]} )) || targets=("${all[@]}")
    for a in "${targets[@]}"; do
        printf '%s\n' "${all[@]}" | grep -qxF "$a" || die "no fuzz target '$a' (targets: ${all[*]})"
    done
    local failed=0 i=0
    for a in "${targets[@]}"; do
        i=$(( i + 1 ))
        say "fuzz [$i/${#targets[@]}] $a for ${secs}s"
        mkdir -p "$ROOT/build-fuzz/logs"
        : > "$ROOT/build-fuzz/logs/$a.log.start"   # artifacts newer than this are this run's
        fuzz_run "$a" "$secs" || failed=$(( failed + 1 ))
    done
    (( failed == 0 )) || die "$failed fuzz target(s) failed: inputs in build-fuzz/artifacts/"
    say "fuzz: ${#targets[@]} target(s), no crash"
}
