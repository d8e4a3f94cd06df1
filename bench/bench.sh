# shellcheck shell=bash
# bench/bench.sh -- `./dev bench`: roost's figures beside the floors they
# are judged against, measured in the same run (docs/PERFORMANCE.md).
#
# Sourced by ./dev after tools/stack.sh. A run:
#   1. builds (like ./dev up), starts the private stack "bench" (nginx 38080,
#      db 38306/38307, redis 38379, files in run/bench/);
#   2. loads the benchmark dataset with `roostctl seed --bench` unless the
#      marker run/bench/db1/data/.roost-bench-dataset says it is there;
#   3. builds the floors (bench/floors/*.c) with gcc, starts them, and serves
#      them from the same nginx (run/bench/nginx/bench.d/floors.conf); the
#      peers (ROOST_PEERS_DIR, default ../shared/peers: what a user would
#      run instead of roost) likewise, when their runtime is there
#      (run/bench/nginx/bench.d/peers.conf, bench-http.d/peers.conf);
#   4. runs every scenario of bench/scenarios.sh with wrk, ROUNDS times,
#      interleaved (round 1: every scenario, round 2: ...), each a warm-up
#      then a measured run, and takes the median of each figure;
#   5. prints the table, the RSS of roostd's processes and the dataset, and
#      writes run/bench/latest.json (and a copy in run/bench/history/);
#   6. stops the floors, the peers and the stack (--keep leaves them running).
#
# The machine is shared and noisy: only ratios measured in one run mean
# anything, which is why the floors run in the same rounds.

BENCH_THREADS=2
BENCH_CONNS=32
BENCH_WARMUP_S=2
BENCH_TIMEOUT=5s
BENCH_WORKER_RSS_TARGET_MIB=8
BENCH_FLOORS=(hello redis mysql)
BENCH_PEERS=(fastify)

# ---------------------------------------------------------------- scenarios

BENCH_NAMES=()
declare -A BENCH_KIND BENCH_TARGET BENCH_METHOD BENCH_PATH BENCH_BODY \
           BENCH_HEADERS BENCH_REDIS_DOWN BENCH_NOTE BENCH_EXPECT BENCH_AUTH BENCH_LAG \
           BENCH_REPLICAS_DOWN BENCH_REPLICA_LAG \
           BENCH_PICK BENCH_TARGET_OF BENCH_P99_OF BENCH_BG BENCH_TRICKLE BENCH_CONNS_OF \
           BENCH_ROOST_CACHED BENCH_SKIP

# scenario NAME KIND TARGET METHOD PATH [OPTION...] (see bench/scenarios.sh)
scenario() {
    (( $# >= 5 )) || die "bench/scenarios.sh: scenario needs NAME KIND TARGET METHOD PATH: $*"
    local name=$1 kind=$2 target=$3 method=$4 path=$5 opt
    shift 5
    [[ $name =~ ^[a-z0-9][a-z0-9-]*$ ]] || die "bench/scenarios.sh: bad scenario name '$name'"
    [[ -z ${BENCH_KIND[$name]:-} ]] || die "bench/scenarios.sh: scenario '$name' defined twice"
    [[ $kind == floor || $kind == peer || $kind == scenario ]] ||
        die "bench/scenarios.sh: $name: KIND is floor, peer or scenario"
    if [[ $kind == peer ]] && ! bench_is_peer "$(bench_peer_of_path "$path")"; then
        die "bench/scenarios.sh: $name: a peer's PATH is /_peer/PEER/... with PEER one of: ${BENCH_PEERS[*]}"
    fi
    [[ $target == - || $target =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "bench/scenarios.sh: $name: bad TARGET '$target'"
    BENCH_NAMES+=("$name")
    BENCH_KIND[$name]=$kind
    BENCH_TARGET[$name]=$target
    BENCH_METHOD[$name]=$method
    BENCH_PATH[$name]=$path
    BENCH_BODY[$name]=""
    BENCH_HEADERS[$name]=""
    BENCH_REDIS_DOWN[$name]=0
    BENCH_NOTE[$name]=""
    BENCH_EXPECT[$name]=""
    BENCH_AUTH[$name]=""
    BENCH_LAG[$name]=0
    BENCH_REPLICAS_DOWN[$name]=0
    BENCH_REPLICA_LAG[$name]=0
    BENCH_PICK[$name]=""
    BENCH_TARGET_OF[$name]=""
    BENCH_P99_OF[$name]=""
    BENCH_BG[$name]=""
    BENCH_TRICKLE[$name]=0
    BENCH_CONNS_OF[$name]=""
    BENCH_ROOST_CACHED[$name]=""
    for opt in "$@"; do
        case $opt in
            body=*)       BENCH_BODY[$name]=${opt#body=}
                          BENCH_HEADERS[$name]+="Content-Type: application/json"$'\n';;
            header=*)     BENCH_HEADERS[$name]+=${opt#header=}$'\n';;
            bypass-cache) BENCH_HEADERS[$name]+="Authorization: Bearer x"$'\n';;
            auth=admin)   BENCH_AUTH[$name]=admin;;
            auth=owner)   BENCH_AUTH[$name]=owner;;
            lag-probe)    BENCH_LAG[$name]=1;;
            redis-down)   BENCH_REDIS_DOWN[$name]=1;;
            replicas-down) BENCH_REPLICAS_DOWN[$name]=1;;
            replica-lag)  BENCH_REPLICA_LAG[$name]=1;;
            expect=*)     BENCH_EXPECT[$name]=${opt#expect=};;
            note=*)       BENCH_NOTE[$name]=${opt#note=};;
            pick=uniform|pick=cycle)
                          BENCH_PICK[$name]=${opt#pick=};;
            pick=zipf:*)  [[ ${opt#pick=zipf:} =~ ^[0-9]+(\.[0-9]+)?$ ]] ||
                              die "bench/scenarios.sh: $name: bad Zipf exponent in '$opt'"
                          BENCH_PICK[$name]=${opt#pick=};;
            target-of=*)  [[ ${opt#target-of=} =~ ^[a-z0-9-]+:[0-9]+(\.[0-9]+)?$ ]] ||
                              die "bench/scenarios.sh: $name: target-of=NAME:RATIO, not '$opt'"
                          # Repeatable, and beside a TARGET: every one must be met.
                          BENCH_TARGET_OF[$name]+=${BENCH_TARGET_OF[$name]:+,}${opt#target-of=};;
            roost-cached=product|roost-cached=tweet|roost-cached=feed)
                          BENCH_ROOST_CACHED[$name]=${opt#roost-cached=};;
            p99-of=*)     [[ ${opt#p99-of=} =~ ^[a-z0-9-]+:[0-9]+(\.[0-9]+)?$ ]] ||
                              die "bench/scenarios.sh: $name: p99-of=NAME:FACTOR, not '$opt'"
                          BENCH_P99_OF[$name]=${opt#p99-of=};;
            background=*) [[ ${opt#background=} =~ ^[0-9]+\ [A-Z]+\ /[^\ ]*(\ body=.*)?$ ]] ||
                              die "bench/scenarios.sh: $name: background='CONNS METHOD PATH [body=TEXT]', not '$opt'"
                          BENCH_BG[$name]=${opt#background=};;
            conns=*)      [[ ${opt#conns=} =~ ^[1-9][0-9]*$ ]] ||
                              die "bench/scenarios.sh: $name: conns=CONNECTIONS, not '$opt'"
                          BENCH_CONNS_OF[$name]=${opt#conns=};;
            trickle=*)    [[ ${opt#trickle=} =~ ^[0-9]+$ ]] ||
                              die "bench/scenarios.sh: $name: trickle=CONNECTIONS, not '$opt'"
                          BENCH_TRICKLE[$name]=${opt#trickle=};;
            *)            die "bench/scenarios.sh: $name: unknown option '$opt'";;
        esac
    done
    if [[ -n ${BENCH_BG[$name]} ]]; then bench_bg_define "$name"; fi
}

# The background load of scenario $1 (background='CONNS METHOD PATH
# [body=TEXT]'): a second wrk, defined as the pseudo-scenario "$1--bg" (not
# in BENCH_NAMES: it only runs beside $1), with CONNS connections.
declare -A BENCH_BG_CONNS
bench_bg_define() {
    local name=$1 bg=$1--bg conns method path rest
    read -r conns method path rest <<<"${BENCH_BG[$name]}"
    BENCH_BG_CONNS[$name]=$conns
    BENCH_KIND[$bg]=background
    BENCH_TARGET[$bg]=-
    BENCH_METHOD[$bg]=$method
    BENCH_PATH[$bg]=$path
    BENCH_BODY[$bg]=""
    BENCH_HEADERS[$bg]=""
    BENCH_AUTH[$bg]=""
    BENCH_PICK[$bg]=""
    if [[ $rest == body=* ]]; then
        BENCH_BODY[$bg]=${rest#body=}
        BENCH_HEADERS[$bg]="Content-Type: application/json"$'\n'
    fi
}

# ---------------------------------------------------------------- helpers

bench_usage() {
    cat <<'EOF'
usage: ./dev bench [--quick] [--only NAME...] [--keep] [--list]
       ./dev bench --profile NAME [--keep]

  --quick        1 round of 5 s per scenario (default: 3 rounds of 10 s, each
                 after a 2 s warm-up) on the small dataset (a tenth), unless
                 the full dataset is already loaded
  --only NAME... only these scenarios (names or comma lists; `static` is
                 always run: every ratio is to it)
  --keep         leave the bench stack, the floors and the peers running
                 afterwards
  --list         list the scenarios and exit
  --profile NAME instead of the rounds: where the CPU goes in scenario NAME
                 (perf system-wide, then callgrind on one roostd worker);
                 report in run/bench/profile/report.txt

Stack "bench": nginx 127.0.0.1:${ROOST_BENCH_PORT:-38080}, db 38306/38307,
redis 38379, files in run/bench/. Results: run/bench/latest.json.

Peers (rows peer-*, what a user would run instead of roost) come from
$ROOST_PEERS_DIR (default ../shared/peers beside the checkout): the Node
Fastify peer needs node >= 20 and npm on PATH (npm ci once per
package-lock.json); without them its rows say "skipped (why)".
EOF
}

# A figure with 1 decimal, or "-".
bench_fmt() { awk -v v="$1" -v d="${2:-1}" 'BEGIN { if (v == "" || v == "-") print "-"; else printf "%.*f\n", d, v }'; }

bench_cpu() {
    local model
    model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
    printf '%s, %s cores, %s MiB RAM, Linux %s' "${model:-unknown CPU}" "$(nproc)" \
        "$(awk '/^MemTotal/ { printf "%d", $2 / 1024 }' /proc/meminfo)" "$(uname -r)"
}

# ---------------------------------------------------------------- dataset

BENCH_MARKER_NAME=.roost-bench-dataset

bench_marker() { echo "$RUN/db1/data/$BENCH_MARKER_NAME"; }

# The dataset wanted (full or quick) and what to do about it: sets
# BENCH_DATASET and BENCH_LOAD (0: loaded already, 1: load, 2: wipe + load).
bench_plan_dataset() {
    local want=$1 marker have=""
    marker=$(bench_marker)
    if [[ -f $marker ]]; then have=$(sed -n 's/^request=//p' "$marker"); fi
    BENCH_DATASET=$want
    if [[ $have == "$want" ]]; then
        BENCH_LOAD=0
    elif [[ $want == quick && $have == full ]]; then
        say "the full dataset is loaded: --quick uses it as it is"
        BENCH_DATASET=full
        BENCH_LOAD=0
    elif [[ -d $RUN/db1/data || -d $RUN/db2/data ]]; then
        BENCH_LOAD=2
    else
        BENCH_LOAD=1
    fi
}

# Empties the bench databases (a partial or other-sized dataset).
bench_wipe_data() {
    say "the bench databases hold another or a partial dataset: wiping them"
    stack_stop
    rm -rf "$RUN/db1" "$RUN/db2" "${CACHEDIR:?}"
}

bench_load_dataset() {
    local args=(seed --bench) t0 out line
    if [[ $BENCH_DATASET == quick ]]; then args+=(--quick); fi
    say "loading the $BENCH_DATASET benchmark dataset: roostctl ${args[*]}"
    t0=$(now_ms)
    out=$RUN/log/seed.log
    if ! roostctl "${args[@]}" 2>&1 | tee "$out" | sed 's/^/    /' >&2; then
        die "roostctl seed --bench failed (log: $out)"
    fi
    line=$(grep '^bench dataset: ' "$out" | tail -n 1)
    [[ -n $line ]] || die "roostctl seed --bench did not report the dataset (log: $out)"
    printf 'request=%s\n%s wall_seconds=%s loaded_at=%s\n' "$BENCH_DATASET" "$line" \
        "$(awk -v ms=$(( $(now_ms) - t0 )) 'BEGIN { printf "%.1f", ms / 1000 }')" \
        "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$(bench_marker)"
    say "dataset loaded in $(elapsed "$t0")"
}

# key=value pairs of the dataset marker's second line, one a line.
bench_dataset_fields() {
    sed -n 's/^bench dataset: //p' "$(bench_marker)" | tr ' ' '\n' | grep '='
}

# ---------------------------------------------------------------- floors

# bench_conf SECTION KEY: a value of the stack's roost.conf, so the
# floors and the peers are pointed at what roostd uses.
bench_conf() {
    awk -v s="[$1]" -v k="$2" '
        /^[ \t]*\[/ { sec = $0; gsub(/[ \t]/, "", sec); next }
        sec == s && index($0, "=") {
            key = substr($0, 1, index($0, "=") - 1); gsub(/[ \t]/, "", key)
            if (key != k) next
            v = substr($0, index($0, "=") + 1); gsub(/^[ \t]+|[ \t]+$/, "", v); val = v
        }
        END { print val }' "${CONF:?}"
}

bench_workers() {
    local n
    n=$(bench_conf roostd workers)
    echo "${n:-4}"
}

# Builds the floors into run/bench/floors/ when a source is newer.
bench_build_floors() {
    local dir=$RUN/floors f src bin pkgs
    mkdir -p "$dir"
    for f in "${BENCH_FLOORS[@]}"; do
        src=$ROOT/bench/floors/$f.c
        bin=$dir/fcgi-$f
        if [[ ! -x $bin || $src -nt $bin || $ROOT/bench/floors/prefork.h -nt $bin ]]; then
            case $f in hello) pkgs=fcgi;; redis) pkgs="fcgi hiredis";; mysql) pkgs="fcgi libmariadb";; esac
            # shellcheck disable=SC2046,SC2086
            gcc -std=gnu11 -O2 -Wall -Wextra -o "$bin" "$src" $(pkg-config --cflags --libs $pkgs) ||
                die "building the floor $src failed"
        fi
    done
}

bench_floor_sock() { echo "$SOCKDIR/floor-$1.sock"; }

bench_write_floor_conf() {
    local f
    {
        echo "# $RUN/nginx/bench.d/floors.conf -- written by ./dev bench. Do not edit."
        echo "# The floors of the benchmark (bench/floors/): served by the same server"
        echo "# as roost. The FastCGI ones use a new connection per request"
        echo "# (fastcgi_keep_conn off), as plain libfcgi responders need."
        echo "location = /_floor/static {"
        echo "    return 200 '{\"status\":\"ok\"}';"
        echo "}"
        for f in "${BENCH_FLOORS[@]}"; do
            echo "location = /_floor/$f {"
            echo "    fastcgi_pass unix:$(bench_floor_sock "$f");"
            echo "    fastcgi_keep_conn off;"
            echo "}"
        done
    } | put "$RUN/nginx/bench.d/floors.conf"
}

bench_floor_start() {
    local f=$1 name=floor-$1 sock workers args=()
    sock=$(bench_floor_sock "$f")
    workers=$(bench_workers)
    if svc_running "$name"; then
        bench_floor_stop "$f"
    fi
    case $f in
        hello) ;;
        redis) args=(127.0.0.1 "$PORT_REDIS" bench:floor:product);;
        mysql) args=(127.0.0.1 "$PORT_DB1" roost "$SECRETS/db_password" roost_catalog);;
    esac
    rm -f "$sock"
    launch "$name" "$RUN/floors/fcgi-$f" "$sock" "$workers" "${args[@]}"
    wait_ready "$name" 10 test -S "$sock"
}

# bench_proc_stop NAME SOCKET SECONDS: SIGTERM to a floor's or a peer's
# first process (which stops its workers), SIGKILL to it after SECONDS and
# to whatever is left of its session (by pid); its pid file and socket go.
bench_proc_stop() {
    local name=$1 pid p
    svc_running "$name" || { rm -f "$(svc_pidfile "$name")"; return 0; }
    pid=$PID
    kill -TERM "$pid" 2>/dev/null || true
    wait_gone "$pid" "$3" || kill -KILL "$pid" 2>/dev/null || true
    for p in $(session_members "$pid"); do kill -KILL "$p" 2>/dev/null || true; done
    rm -f "$(svc_pidfile "$name")" "$2"
}

bench_floor_stop() { bench_proc_stop "floor-$1" "$(bench_floor_sock "$1")" 5; }

bench_stop_floors() {
    local f
    for f in "${BENCH_FLOORS[@]}"; do
        if svc_running "floor-$f"; then
            bench_floor_stop "$f"
            say "floor-$f: stopped"
        fi
    done
}

# ---------------------------------------------------------------- peers

# What a user would run instead of roost (ROOST_PEERS_DIR/README.md), each
# behind the same nginx, on the same data, in the same rounds: yardsticks
# like the floors (scenarios of KIND peer, paths /_peer/PEER/...). A peer
# that cannot run here (no node >= 20, no folder, npm ci failed, it did not
# start) makes its rows "skipped (why)"; the run goes on without them.
declare -A BENCH_PEER_SKIP

bench_peers_dir() { echo "${ROOST_PEERS_DIR:-$ROOT/../shared/peers}"; }

bench_is_peer() {
    local p
    for p in "${BENCH_PEERS[@]}"; do if [[ $p == "$1" ]]; then return 0; fi; done
    return 1
}

# The peer a /_peer/PEER/... path goes to.
bench_peer_of_path() { local p=${1#/_peer/}; [[ $1 == /_peer/*/* ]] && echo "${p%%/*}"; return 0; }

bench_peer_sock() { echo "$SOCKDIR/peer-$1.sock"; }

# The peers' routes in the bench server block, each proxied over a unix
# socket with upstream keep-alive (an upstream block is http-level: it goes
# to bench-http.d/, which nginx.conf includes for the bench stack), the way
# the peers' README says their users deploy them. No cache in front: every
# request reaches the peer.
bench_write_peer_conf() {
    local p
    mkdir -p "$RUN/nginx/bench-http.d"
    {
        echo "# $RUN/nginx/bench-http.d/peers.conf -- written by ./dev bench. Do not edit."
        for p in "${BENCH_PEERS[@]}"; do
            echo "upstream bench_peer_$p {"
            echo "    server unix:$(bench_peer_sock "$p");"
            echo "    keepalive 32;"
            echo "}"
        done
    } | put "$RUN/nginx/bench-http.d/peers.conf"
    {
        echo "# $RUN/nginx/bench.d/peers.conf -- written by ./dev bench. Do not edit."
        echo "# The peers of the benchmark (\$ROOST_PEERS_DIR): /_peer/PEER/ROUTE is"
        echo "# the peer's own /ROUTE, over HTTP/1.1 keep-alive connections."
        for p in "${BENCH_PEERS[@]}"; do
            echo "location /_peer/$p/ {"
            echo "    proxy_pass http://bench_peer_$p/;"
            echo "    proxy_http_version 1.1;"
            echo "    proxy_set_header Connection \"\";"
            echo "}"
        done
    } | put "$RUN/nginx/bench.d/peers.conf"
}

# bench_peer_skip PEER WHY: the peer's rows will say "skipped (WHY)"; an
# instance an earlier --keep left running is stopped.
bench_peer_skip() {
    BENCH_PEER_SKIP[$1]=$2
    warn "peer $1: skipped ($2)"
    bench_peer_stop "$1"
}

# The runtime a peer needs: node >= 20 and npm on PATH.
bench_peer_runtime() {
    local peer=$1 ver major
    command -v node >/dev/null || { bench_peer_skip "$peer" "node is not on PATH"; return 1; }
    ver=$(node --version 2>/dev/null || true)
    major=${ver#v}; major=${major%%.*}
    if [[ ! $major =~ ^[0-9]+$ ]] || (( major < 20 )); then
        bench_peer_skip "$peer" "node ${ver:-of unknown version} on PATH, 20 or newer needed"
        return 1
    fi
    command -v npm >/dev/null || { bench_peer_skip "$peer" "npm is not on PATH"; return 1; }
}

# bench/peers/PEER-*.patch, applied to the copy in name order: fixes of the
# peer's correctness on roost's data and routes it lacks, never changes of
# its speed (the peers' README: "if you find it unfair, fix it and say
# why"). fastify-64bit-ids.patch: roost's ids are 64-bit (~2.2e17) and the
# peer parsed them as JavaScript numbers, exact only to 2^53 -- it looked
# up a rounded id and answered 404; ids now travel as strings (URL,
# mysql2's bigNumberStrings, the JSON schema). fastify-tweets.patch: the
# tweet reads issue 17 compares (GET /tweet/:id, GET /tweets page 1) on
# roost's Redis keys, in the peer's style (async routes, ioredis, the same
# round trips roostd makes). A patch that no longer applies (the peer
# changed) skips the peer.
bench_peer_fix() {
    local peer=$1 dir=$2 p
    for p in "$ROOT/bench/peers/$peer"-*.patch; do
        [[ -f $p ]] || continue
        patch -s -p1 -d "$dir" <"$p" >/dev/null 2>&1 ||
            { bench_peer_skip "$peer" "bench/peers/${p##*/} does not apply to its server.js"; return 1; }
    done
}

# A copy of the peer's folder in run/bench/peers/PEER/ with its
# node_modules: `npm ci` runs once per package-lock.json, whose modules are
# kept in run/bench/peers/.modules/PEER-HASH/ for the next runs.
bench_peer_prepare() {
    local peer=$1 src dir=$RUN/peers/$1 hash cache log=$LOGDIR/peer-$1-npm.log
    src=$(bench_peers_dir)/$peer
    [[ -d $src ]] || { bench_peer_skip "$peer" "no folder $src (ROOST_PEERS_DIR)"; return 1; }
    [[ -f $src/server.js && -f $src/package-lock.json ]] ||
        { bench_peer_skip "$peer" "$src has no server.js or package-lock.json"; return 1; }
    bench_peer_runtime "$peer" || return 1
    hash=$(sha256sum "$src/package-lock.json" | cut -c1-16)
    cache=$RUN/peers/.modules/$peer-$hash
    rm -rf "$dir"
    mkdir -p "$dir"
    tar -C "$src" --exclude=./node_modules -cf - . | tar -C "$dir" -xf - ||
        { bench_peer_skip "$peer" "cannot copy $src"; return 1; }
    chmod -R u+w "$dir"
    bench_peer_fix "$peer" "$dir" || return 1
    if [[ ! -d $cache/node_modules ]]; then
        say "peer $peer: npm ci (once for this package-lock.json)"
        if ! (cd "$dir" && npm ci --no-audit --no-fund) >"$log" 2>&1; then
            bench_peer_skip "$peer" "npm ci failed, log: $log"
            return 1
        fi
        rm -rf "$RUN/peers/.modules/$peer-"*        # an older lock's modules
        mkdir -p "$cache"
        mv "$dir/node_modules" "$cache/"
    fi
    ln -sfn "$cache/node_modules" "$dir/node_modules"
}

# The peer answers its health route on its socket.
bench_peer_ready() {
    curl -s --max-time 2 --unix-socket "$(bench_peer_sock "$1")" "http://peer/health" 2>/dev/null |
        grep -q '"ok":true'
}

# The same columns roostd returns for a product (lib/domain/products.c),
# named as the peer's response schema names them (it drops any other). The
# id parameter is cast: an id past 2^53 that comes as a string stays exact.
BENCH_PEER_COLUMNS="id AS pid, name, price, img, description, state, created_at AS insert_time, updated_at AS update_time"

# The peer's workers: one per core, as its README has it. Not roostd's
# count: on 2 cores, 4 Node workers served the Redis read 20-25 % slower
# than 2 (a new V8 heap and event loop each, all contending for the same
# cores), and a yardstick is never tuned down.
bench_peer_workers() { nproc; }

# Starts the peer on the stack's Redis (roostd's product keys) and
# catalog; waits up to 30 s for its health.
bench_peer_start() {
    local peer=$1 name=peer-$1 sock i pid
    sock=$(bench_peer_sock "$peer")
    if svc_running "$name"; then bench_peer_stop "$peer"; fi
    rm -f "$sock"
    case $peer in
        fastify)
            launch "$name" env FASTIFY_WORKERS="$(bench_peer_workers)" FASTIFY_SOCKET="$sock" \
                REDIS_HOST="$(bench_conf redis host)" REDIS_PORT="$(bench_conf redis port)" \
                REDIS_KEY_PREFIX="$(bench_conf redis prefix)product:" \
                REDIS_PREFIX="$(bench_conf redis prefix)" \
                MYSQL_HOST="$(bench_conf catalog host)" MYSQL_PORT="$(bench_conf catalog port)" \
                MYSQL_USER="$(bench_conf catalog user)" MYSQL_PASSWORD="$(cat "$SECRETS/db_password")" \
                MYSQL_DB="$(bench_conf catalog database)" \
                PEER_SQL_ONE="SELECT $BENCH_PEER_COLUMNS FROM products WHERE id = CAST(? AS UNSIGNED)" \
                PEER_SQL_LIST="SELECT $BENCH_PEER_COLUMNS FROM products ORDER BY id LIMIT 20" \
                node "$RUN/peers/$peer/server.js";;
    esac
    svc_running "$name" || true
    pid=$PID
    for (( i = 0; i < 300; i++ )); do
        if bench_peer_ready "$peer"; then
            say "peer $peer: started (pid $pid, $(bench_peer_workers) workers, unix:$sock)"
            return 0
        fi
        if [[ -z $pid ]] || ! proc_alive "$pid"; then break; fi
        sleep 0.1
    done
    bench_peer_stop "$peer"
    bench_peer_skip "$peer" "it did not start, log: $LOGDIR/$name.out"
    return 1
}

# SIGTERM to the primary stops its workers (10 s: Node closes its pools).
bench_peer_stop() { bench_proc_stop "peer-$1" "$(bench_peer_sock "$1")" 10; }

bench_stop_peers() {
    local p
    for p in "${BENCH_PEERS[@]}"; do
        if svc_running "peer-$p"; then
            bench_peer_stop "$p"
            say "peer-$p: stopped"
        fi
    done
}

# Starts the peers the run's scenarios use; BENCH_SKIP[NAME] is why a
# scenario cannot run (its peer could not).
bench_start_peers() {
    local n p
    declare -A peers=()
    for n in "${BENCH_RUN[@]}"; do
        if [[ ${BENCH_KIND[$n]} == peer ]]; then peers[$(bench_peer_of_path "${BENCH_PATH[$n]}")]=1; fi
    done
    for p in "${!peers[@]}"; do
        if bench_peer_prepare "$p"; then bench_peer_start "$p" || true; fi
    done
    for n in "${BENCH_RUN[@]}"; do
        [[ ${BENCH_KIND[$n]} == peer ]] || continue
        p=$(bench_peer_of_path "${BENCH_PATH[$n]}")
        if [[ -n ${BENCH_PEER_SKIP[$p]:-} ]]; then BENCH_SKIP[$n]=${BENCH_PEER_SKIP[$p]}; fi
    done
}

# The peers' RSS after the run, a line each (the primary and its workers,
# which share its session).
bench_peer_rss() {
    local p pid m
    for p in "${BENCH_PEERS[@]}"; do
        svc_running "peer-$p" || continue
        pid=$PID
        { bench_proc_line "$pid" primary
          for m in $(session_members "$pid"); do bench_proc_line "$m" worker; done; } |
            awk -v p="$p" '$2 == "primary" { pr = sprintf("%.1f", $3 / 1024) }
                $2 == "worker" { w = w sprintf("%s%.1f", w == "" ? "" : " ", $3 / 1024) }
                END { printf "peer %s RSS after the run: primary %s MiB; workers %s MiB\n", p, pr, w }'
    done
}

# "NAME=WHY;..." of the skipped scenarios, for the report's awk.
bench_skips() {
    local n
    for n in "${BENCH_RUN[@]}"; do
        # ; | = separate fields there; quotes would need escaping in the JSON.
        if [[ -n ${BENCH_SKIP[$n]:-} ]]; then printf '%s=%s;' "$n" "$(tr ';|"' ",/'" <<<"${BENCH_SKIP[$n]}" | tr -d '\134')"; fi
    done
}

# roost-cached=KIND (product or tweet): every bench object of that kind in
# Redis as roostd wrote it, with a minute at least to live, before a peer
# reads roostd's keys. The peer caches a product it misses in its own JSON
# for an hour, and roostd would then serve those bytes; a tweet it misses
# it answers 404 (roostd would read the shard). So keys that are missing,
# about to expire or not roostd's are dropped and read again through
# roostd (with a token: past the micro-cache), until none is left (roostd
# caches nothing while a worker's Redis breaker is still open after a
# redis-down row). Then waits for the peer to answer (after a Redis
# restart, ioredis reconnects within 2 s).
bench_roost_cached() {
    local name=$1 kind=${BENCH_ROOST_CACHED[$1]} i stale
    if [[ $kind == feed ]]; then bench_roost_feed "$name"; return; fi
    for (( i = 0; i < 20; i++ )); do
        stale=$(bench_stale_keys "$kind")
        [[ -n $stale ]] || break
        awk -v p="$(bench_conf redis prefix)$kind:" '{ print "UNLINK " p $1 }' <<<"$stale" |
            redis-cli -h 127.0.0.1 -p "$PORT_REDIS" >/dev/null || true
        awk -v u="$URL/$kind" '{ printf "url = \"%s/%s\"\n", u, $1 }' <<<"$stale" >"$RUN/wrk/$name.prime"
        curl -s --max-time 60 -H 'Accept: application/json' -H 'Authorization: Bearer x' \
            -K "$RUN/wrk/$name.prime" >/dev/null || true
        sleep 0.5
    done
    if [[ -n $stale ]]; then
        warn "$name: $(grep -c . <<<"$stale") ${kind}s are not in Redis as roostd writes them"
    fi
    for (( i = 0; i < 50; i++ )); do
        if [[ $(bench_probe "$name") == 2?? ]]; then return 0; fi
        sleep 0.1
    done
    warn "$name: the peer does not answer 2xx"
}

# roost-cached=feed: the global feed's sorted set in Redis (a restarted
# Redis is empty until a reader rebuilds it, and a peer reading it would
# answer empty pages fast), and its first page's tweets and names: one
# page read through roostd (which rebuilds the set) until the set holds a
# page and more.
bench_roost_feed() {
    local name=$1 i n=0
    for (( i = 0; i < 50; i++ )); do
        n=$(redis-cli -h 127.0.0.1 -p "$PORT_REDIS" ZCARD "$(bench_conf redis prefix)feed:ids" 2>/dev/null || echo 0)
        [[ $n =~ ^[0-9]+$ ]] && (( n > 20 )) && break
        curl -s -o /dev/null --max-time 10 -H 'Accept: application/json' -H 'Authorization: Bearer x' \
            "$URL/tweets?limit=20" || true
        sleep 0.2
    done
    (( n > 20 )) || warn "$name: the feed's sorted set holds $n ids: the peer answers short pages"
    curl -s -o /dev/null --max-time 10 -H 'Accept: application/json' -H 'Authorization: Bearer x' \
        "$URL/tweets?limit=20" || true
}

# The bench objects of KIND (product, tweet: the ids of run/bench/wrk/
# KIND.txt) whose Redis key is missing, has under 60 s to live or does not
# hold roostd's JSON (which starts {"id":), one id a line.
bench_stale_keys() {
    local f=$RUN/wrk/$1.txt
    awk -v p="$(bench_conf redis prefix)$1:" '{ print "TTL " p $1; print "GETRANGE " p $1 " 0 5" }' "$f" |
        redis-cli -h 127.0.0.1 -p "$PORT_REDIS" | paste - - | paste "$f" - |
        awk -F'\t' '$2 < 60 || $3 != "{\"id\":" { print $1 }' || true
}

# ---------------------------------------------------------------- requests

# Up to $2 rows of query $1 on roost_shard, from every shard server.
bench_shard_rows() {
    local sock
    for sock in "$SOCK_DB1" "$SOCK_DB2"; do
        mariadb --no-defaults --socket="$sock" -u"$ADMIN_USER" -N -B roost_shard -e "$1 LIMIT $2" ||
            die "cannot read from the shard server at $sock"
    done
}

# The feed's cursor at depth $1 (a multiple of 100), by walking it.
bench_feed_cursor() {
    local depth=$1 cur="" page
    for (( page = 0; page < depth / 100; page++ )); do
        cur=$(curl -s --max-time 10 -H 'Accept: application/json' -H 'Authorization: Bearer x' \
              "$URL/tweets?limit=100${cur:+&cursor=$cur}" | sed -n 's/.*"next_cursor":"\([^"]*\)".*/\1/p')
        [[ -n $cur ]] || die "the feed ends before depth $depth (page $page)"
    done
    echo "$cur"
}

# Tweet lists: a sample of tweet ids and of users with tweets from both
# shard servers, and the feed's cursor at depth 10 000.
bench_tweet_lists() {
    local dir=$1
    bench_shard_rows 'SELECT id FROM tweets WHERE id % 89 = 0' 2500 >"$dir/tweet.txt"
    [[ -s $dir/tweet.txt ]] || die "the dataset has no tweets"
    # {tweet100k}: 100 000 tweet ids (a tenth of them with --quick), half
    # from each shard server, interleaved so that a Zipf head of the list
    # lands on both.
    local want=50000
    if [[ $BENCH_DATASET == quick ]]; then want=5000; fi
    paste -d'\n' \
        <(mariadb --no-defaults --socket="$SOCK_DB1" -u"$ADMIN_USER" -N -B roost_shard \
              -e "SELECT id FROM tweets LIMIT $want") \
        <(mariadb --no-defaults --socket="$SOCK_DB2" -u"$ADMIN_USER" -N -B roost_shard \
              -e "SELECT id FROM tweets LIMIT $want") | grep . >"$dir/tweet100k.txt" ||
        die "cannot read tweet ids from the shard servers"
    bench_shard_rows 'SELECT id FROM users WHERE tweets_count > 0' 2500 >"$dir/tweet_user.txt"
    bench_feed_cursor 10000 >"$dir/feed_cursor.txt"
}

# Signs bench user $1 in (the seeder's password): echoes the token, or
# the start of the answer and fails.
bench_signin() {
    local body tok
    body=$(curl -s --max-time 10 -H 'Accept: application/json' -H 'Content-Type: application/json' \
           -d "{\"name\":\"$1\",\"password\":\"benchpass1\"}" "$URL/users/SignIn") || body=""
    tok=$(sed -n 's/^{"access_token":"\([^"]*\)".*/\1/p' <<<"$body")
    [[ -n $tok ]] || { echo "${body:0:200}"; return 1; }
    echo "$tok"
}

# Follower lists and timelines: the most-followed bench user ({celebrity}),
# the path of its followers' page at cursor depth 10 000
# ({followers_deep_path}, by walking it), and a sample of users following
# about 200 accounts, each signed in once ({reader}: reader.tokens).
bench_follow_lists() {
    local dir=$1 cur="" page uid name tok
    bench_shard_rows 'SELECT followers_count, id FROM users ORDER BY followers_count DESC' 1 |
        sort -rn | head -n 1 | cut -f2 >"$dir/celebrity.txt"
    [[ -s $dir/celebrity.txt ]] || die "the dataset has no users"
    for (( page = 0; page < 100; page++ )); do
        cur=$(curl -s --max-time 10 -H 'Accept: application/json' -H 'Authorization: Bearer x'               "$URL/followers/$(cat "$dir/celebrity.txt")?limit=100${cur:+&cursor=$cur}" |
              sed -n 's/.*"next_cursor":"\([^"]*\)".*/\1/p')
        [[ -n $cur ]] || { warn "the most-followed user has fewer than 10 000 followers"; break; }
    done
    printf '/followers/%s?limit=20%s\n' "$(cat "$dir/celebrity.txt")" "${cur:+&cursor=$cur}" \
        >"$dir/followers_deep_path.txt"
    bench_shard_rows 'SELECT id, name FROM users WHERE following_count BETWEEN 150 AND 250' 10 \
        >"$dir/reader.users"
    : >"$dir/reader.tokens"
    while IFS=$'\t' read -r uid name; do
        tok=$(bench_signin "$name") || die "timeline reader $name: sign-in failed: $tok"
        printf '%s\t%s\n' "$uid" "$tok" >>"$dir/reader.tokens"
    done <"$dir/reader.users"
    [[ -s $dir/reader.tokens ]] || warn "no bench user follows about 200 accounts: the timeline scenario will fail"
    bench_authors "$dir"
}

# Authors for the fan-out comparison, each signed in once: the 6 most
# followed users ({author_big}: tens of thousands of followers, above
# the fan-out threshold) and 6 with about 10 followers ({author_small}: fanned
# out on write). As many authors on each side, so that the contention on
# each author's counter row is the same and only the followers differ.
bench_authors() {
    local dir=$1 kind where uid name tok
    for kind in big small; do
        if [[ $kind == big ]]; then where='ORDER BY followers_count DESC'
        else where='WHERE followers_count BETWEEN 8 AND 12'; fi
        bench_shard_rows "SELECT followers_count, id, name FROM users $where" 6 |
            { if [[ $kind == big ]]; then sort -rn; else cat; fi; } | head -n 6 >"$dir/author_$kind.users" ||
            true                             # head closes the pipe early: not a failure
        : >"$dir/author_$kind.tokens"
        while IFS=$'\t' read -r _ uid name; do
            tok=$(bench_signin "$name") || die "author $name: sign-in failed: $tok"
            printf '%s\t%s\n' "$uid" "$tok" >>"$dir/author_$kind.tokens"
        done <"$dir/author_$kind.users"
    done
}

# The fan-out lag under load: while a scenario runs, one small author posts
# `n` tweets one after another and, for each, the time until it is in one of
# its followers' Redis timelines is measured (polled every 10 ms). Prints
# "p50_ms p99_ms max_ms missing".
bench_fanout_lag() {
    local n=$1 dir=$RUN/wrk uid tok follower t0 t1 id i k lags=()
    IFS=$'\t' read -r uid tok <"$dir/author_small.tokens"
    follower=$(curl -s -H 'Accept: application/json' -H 'Authorization: Bearer x' \
               "$URL/followers/$uid?limit=1" | sed -n 's/.*"items":\[{"id":"\([0-9]*\)".*/\1/p')
    [[ -n $follower ]] || { echo "- - - $n"; return 0; }
    # The follower's timeline must exist in Redis to be fanned into.
    curl -s -o /dev/null -H 'Accept: application/json' -H "Authorization: Bearer $tok" "$URL/timeline" || true
    curl -s -o /dev/null -H 'Accept: application/json' -H "Authorization: Bearer $(bench_signin \
        "$(mariadb_user_name "$follower")")" "$URL/timeline" || true
    local missing=0
    for (( i = 0; i < n; i++ )); do
        t0=$(now_ms)
        id=$(curl -s -H 'Accept: application/json' -H 'Content-Type: application/json' \
             -H "Authorization: Bearer $tok" -d '{"message":"lag probe"}' "$URL/tweets/$uid" |
             sed -n 's/.*"tweet":{"id":"\([0-9]*\)".*/\1/p')
        [[ -n $id ]] || { missing=$((missing + 1)); continue; }
        for (( k = 0; k < 300; k++ )); do
            if redis-cli -h 127.0.0.1 -p "$PORT_REDIS" ZSCORE "roost:tl:$follower" \
                   "$(printf '%020d:%020d' "$id" "$uid")" | grep -q .; then break; fi
            sleep 0.01
        done
        t1=$(now_ms)
        if (( k == 300 )); then missing=$((missing + 1)); else lags+=($((t1 - t0))); fi
    done
    printf '%s\n' "${lags[@]}" | sort -n | awk -v miss="$missing" '
        { a[NR] = $1 } END { if (NR == 0) { print "- - - " miss; exit }
          p50 = a[int((NR + 1) / 2)]; p99 = a[int(NR * 0.99 + 0.999)]; print p50, p99, a[NR], miss }'
}

# A user's name from the shards (for the lag probe's follower).
mariadb_user_name() {
    bench_shard_rows "SELECT name FROM users WHERE id = $1" 1 | head -n 1 || true
}

# The lists the templates draw from: product ids from the catalog, a sample
# of bench user names, the tweet lists, and the seeded carts.
bench_fetch_lists() {
    local dir=$RUN/wrk n
    mkdir -p "$dir"
    mariadb --no-defaults --socket="$SOCK_DB1" -u"$ADMIN_USER" -N -B \
        -e 'SELECT id FROM roost_catalog.products ORDER BY id' >"$dir/product.txt" ||
        die "cannot read the product ids from the catalog"
    [[ -s $dir/product.txt ]] || die "the catalog holds no products: is the dataset loaded?"
    head -n 1 "$dir/product.txt" >"$dir/first_product.txt"
    n=$(bench_dataset_fields | sed -n 's/^users=//p')
    awk -v n="${n:-0}" 'BEGIN { m = n < 5000 ? n : 5000; for (i = 0; i < m; i++) printf "bench%d\n", int(i * n / m) }' \
        >"$dir/user.txt"
    [[ -s $dir/user.txt ]] || die "the dataset has no users"
    bench_tweet_lists "$dir"
    bench_follow_lists "$dir"
    # Active cart items of the seeded carts, "user<TAB>item<TAB>product<TAB>
    # owner's name", from both shard servers; then the items of a sample of
    # BENCH_CART_OWNERS owners, each signed in once for its token (5th
    # field), so cart requests come from their owners as real ones do.
    local sock
    : >"$dir/cart.all"
    for sock in "$SOCK_DB1" "$SOCK_DB2"; do
        mariadb --no-defaults --socket="$sock" -u"$ADMIN_USER" -N -B -e \
            "SELECT c.user_id, c.id, c.product_id, u.name FROM roost_shard.cart_items c
             JOIN roost_shard.users u ON u.id = c.user_id WHERE c.state = 'active' ORDER BY c.id" \
            >>"$dir/cart.all" || die "cannot read the cart items from $sock"
    done
    [[ -s $dir/cart.all ]] || { warn "the dataset has no carts: cart scenarios will fail"; return 0; }
    bench_cart_owners "$dir"
}

BENCH_CART_OWNERS=${BENCH_CART_OWNERS:-100}

# cart.txt: the items of BENCH_CART_OWNERS owners spread over the list,
# each line with its owner's token.
bench_cart_owners() {
    local dir=$1 uid name tok
    awk -F'\t' '!seen[$1]++ { print $1 "\t" $4 }' "$dir/cart.all" |
        awk -v m="$BENCH_CART_OWNERS" '{ a[NR] = $0 } END { k = NR < m ? NR : m; for (i = 0; i < k; i++) print a[1 + int(i * NR / k)] }' \
        >"$dir/cart.owners"
    : >"$dir/cart.tokens"
    while IFS=$'\t' read -r uid name; do
        tok=$(bench_signin "$name") || die "cart owner $name: sign-in failed: $tok"
        printf '%s\t%s\n' "$uid" "$tok" >>"$dir/cart.tokens"
    done <"$dir/cart.owners"
    awk -F'\t' 'NR == FNR { tok[$1] = $2; next } ($1 in tok) { print $1 "\t" $2 "\t" $3 "\t" tok[$1] }' \
        "$dir/cart.tokens" "$dir/cart.all" >"$dir/cart.txt"
    say "cart scenarios: $(wc -l <"$dir/cart.txt") items of $(wc -l <"$dir/cart.owners") signed-in owners"
}

# A token of the bench admin (made once with roostctl), for auth=admin
# scenarios; signed in again when older than 20 minutes (tokens live 30).
bench_admin_token() {
    local f=$RUN/wrk/admin.token body
    if [[ -s $f && -z $(find "$f" -mmin +20 2>/dev/null) ]]; then
        cat "$f"
        return 0
    fi
    if ! roostctl user create --admin --name benchadmin --password-stdin \
            <<<"$BENCH_ADMIN_PASSWORD" >/dev/null 2>&1; then
        : # already there from an earlier run: sign in below tells
    fi
    body=$(curl -s --max-time 10 -H 'Accept: application/json' -H 'Content-Type: application/json' \
           -d "{\"name\":\"benchadmin\",\"password\":\"$BENCH_ADMIN_PASSWORD\"}" \
           "$URL/users/SignIn") || die "bench admin: sign-in failed"
    sed -n 's/^{"access_token":"\([^"]*\)".*/\1/p' <<<"$body" >"$f"
    [[ -s $f ]] || die "bench admin: no token in the sign-in answer: ${body:0:200}"
    cat "$f"
}
BENCH_ADMIN_PASSWORD=benchadmin-pass

# The headers of a scenario, one a line (auth=admin adds the token).
bench_headers() {
    printf '%s' "${BENCH_HEADERS[$1]}"
    if [[ ${BENCH_AUTH[$1]} == admin ]]; then
        printf 'Authorization: Bearer %s\n' "$(bench_admin_token)"
    fi
}

# bench_requests NAME: writes the scenario's request file and echoes its
# path, or echoes nothing when one fixed request will do.
bench_requests() {
    local name=$1 method=${BENCH_METHOD[$1]} path=${BENCH_PATH[$1]} body=${BENCH_BODY[$1]}
    local file=$RUN/wrk/$name.requests var="" v
    for v in product first_product user tweet tweet100k tweet_user feed_cursor celebrity followers_deep_path; do
        if [[ "$path$body" == *"{$v}"* ]]; then var=$v; fi
    done
    if [[ "$path$body" == *"{poster}"* ]]; then
        # {poster}: a signed-in cart owner (cart.tokens), with its token.
        awk -F'\t' -v m="$method" -v p="$path" -v b="$body" '
            function subst(s, val,    i, out) {
                out = ""
                while ((i = index(s, "{poster}")) > 0) { out = out substr(s, 1, i - 1) val; s = substr(s, i + 8) }
                return out s
            }
            { printf "%s\t%s\t%s\t%s\n", m, subst(p, $1), subst(b, $1), $2 }' "$RUN/wrk/cart.tokens" >"$file"
        echo "$file"
        return 0
    fi
    if [[ "$path$body" == *"{author_big}"* || "$path$body" == *"{author_small}"* ]]; then
        # {author_big}, {author_small}: one of the authors of bench_authors,
        # posting as itself.
        local kind=big
        [[ "$path$body" == *"{author_small}"* ]] && kind=small
        awk -F'\t' -v m="$method" -v p="$path" -v b="$body" -v var="{author_$kind}" '
            { q = p; i = index(q, var); if (i) q = substr(q, 1, i - 1) $1 substr(q, i + length(var))
              printf "%s\t%s\t%s\t%s\n", m, q, b, $2 }' "$RUN/wrk/author_$kind.tokens" >"$file"
        echo "$file"
        return 0
    fi
    if [[ "$path$body" == *"{reader}"* ]]; then
        # {reader}: a signed-in user following about 200 accounts, with
        # its token (the path needs no id: GET /timeline is the caller's).
        awk -F'\t' -v m="$method" -v p="${path//\{reader\}/}" '{ printf "%s\t%s\t\t%s\n", m, p, $2 }' \
            "$RUN/wrk/reader.tokens" >"$file"
        echo "$file"
        return 0
    fi
    if [[ "$path$body" == *"{follow_pair}"* ]]; then
        # {follow_pair}: a signed-in cart owner follows, then unfollows, a
        # user with tweets: two lines a pair, each owner its own followee.
        paste <(cut -f2 "$RUN/wrk/cart.tokens") <(head -n "$(wc -l <"$RUN/wrk/cart.tokens")" "$RUN/wrk/tweet_user.txt") |
            awk -F'\t' '{ printf "POST\t/followers/%s\t\t%s\nDELETE\t/followers/%s\t\t%s\n", $2, $1, $2, $1 }' >"$file"
        echo "$file"
        return 0
    fi
    if [[ "$path$body" == *"{cart_"* ]]; then
        # {cart_user}, {cart_item}, {cart_product}: the fields of one line
        # of cart.txt, so a request names an item and the cart it is in.
        awk -F'\t' -v m="$method" -v p="$path" -v b="$body" '
            function subst(s, var, val,    i, out) {
                out = ""
                while ((i = index(s, var)) > 0) { out = out substr(s, 1, i - 1) val; s = substr(s, i + length(var)) }
                return out s
            }
            function all(s) { return subst(subst(subst(s, "{cart_user}", $1), "{cart_item}", $2), "{cart_product}", $3) }
            { printf "%s\t%s\t%s", m, all(p), all(b); if (owner) printf "\t%s", $4; printf "\n" }' \
            owner="$([[ ${BENCH_AUTH[$name]} == owner ]] && echo 1)" "$RUN/wrk/cart.txt" >"$file"
        echo "$file"
        return 0
    fi
    if [[ -z $var && -z $body && $method == GET && $path != *"{unique}"* ]]; then
        return 0
    fi
    if [[ -z $var ]]; then
        printf '%s\t%s\t%s\n' "$method" "$path" "$body" >"$file"
    else
        awk -v m="$method" -v p="$path" -v b="$body" -v var="{$var}" '
            function subst(s, val,    i, out) {
                out = ""
                while ((i = index(s, var)) > 0) { out = out substr(s, 1, i - 1) val; s = substr(s, i + length(var)) }
                return out s
            }
            { printf "%s\t%s\t%s\n", m, subst(p, $0), subst(b, $0) }' "$RUN/wrk/$var.txt" >"$file"
    fi
    echo "$file"
}

# The first request of a scenario with curl: the status, then the headers
# in BENCH_CURL_HEAD and the body in BENCH_CURL_BODY.
bench_probe() {
    local name=$1 file method path body line h token
    local -a hdrs=(-H 'Accept: application/json')
    file=$(bench_requests "$name")
    method=${BENCH_METHOD[$name]}; path=${BENCH_PATH[$name]}; body=""
    if [[ -n $file ]]; then
        # cut, not read: tabs are IFS whitespace, and runs of them collapse.
        line=$(head -n 1 "$file")
        method=$(cut -f1 <<<"$line"); path=$(cut -f2 <<<"$line"); body=$(cut -f3 <<<"$line")
        token=$(cut -f4 <<<"$line")
        if [[ -n $token ]]; then hdrs+=(-H "Authorization: Bearer $token"); fi
    fi
    path=${path//\{unique\}/probe$$-$RANDOM}
    while IFS= read -r h; do if [[ -n $h ]]; then hdrs+=(-H "$h"); fi; done <<<"$(bench_headers "$name")"
    if [[ -n $body ]]; then hdrs+=(--data-binary "$body"); fi
    line=$(curl -s -o "$RUN/wrk/probe.body" -D "$RUN/wrk/probe.head" -w '%{http_code}' \
           --max-time 10 -X "$method" "${hdrs[@]}" "$URL$path" 2>/dev/null) || line=000
    BENCH_CURL_HEAD=$(cat "$RUN/wrk/probe.head" 2>/dev/null || true)
    BENCH_CURL_BODY=$(head -c 300 "$RUN/wrk/probe.body" 2>/dev/null || true)
    echo "$line"
}

# bench_check NAME: warns when the scenario's first request is not a 2xx,
# or when none of the next three has the header its expect= option names.
bench_check() {
    local name=$1 code want=${BENCH_EXPECT[$1]} got
    code=$(bench_probe "$name")
    # bench_probe ran in a subshell: its variables are gone, its files stay.
    if [[ $code != 2?? ]]; then
        warn "$name: the first request answered $code: $(head -c 200 "$RUN/wrk/probe.body" 2>/dev/null || true)"
        return 0
    fi
    [[ -n $want ]] || return 0
    # The micro-cache stores a key on its second request (min_uses 2): the
    # third is the first that can be a HIT.
    local i
    for (( i = 0; i < 3; i++ )); do
        bench_probe "$name" >/dev/null
        got=$(grep -i "^${want%%:*}:" "$RUN/wrk/probe.head" 2>/dev/null | tr -d '\r' || true)
        if grep -qix "${want}" <<<"$got"; then break; fi
    done
    if ! grep -qix "${want}" <<<"$got"; then
        warn "$name: the second request answered '${got:-no ${want%%:*} header}', not '$want'"
    fi
}

# bench_check_peer NAME: a peer row whose first request is not a 2xx is
# skipped (a yardstick that fails would only measure how fast it fails,
# and every target relative to it would be met for nothing).
bench_check_peer() {
    local name=$1 code
    code=$(bench_probe "$name")
    [[ $code != 2?? ]] || return 0
    BENCH_SKIP[$name]="its first request answered $code: $(head -c 80 "$RUN/wrk/probe.body" 2>/dev/null | tr -d '\n\t' || true)"
    warn "$name: skipped (${BENCH_SKIP[$name]})"
}

# ---------------------------------------------------------------- running

# bench_wrk NAME SECONDS: one wrk run; prints its BENCH_RESULT fields.
bench_wrk() {
    local name=$1 secs=$2 file h out
    local -a hdrs=(-H 'Accept: application/json')
    while IFS= read -r h; do if [[ -n $h ]]; then hdrs+=(-H "$h"); fi; done <<<"$(bench_headers "$name")"
    file=$(bench_requests "$name")
    out=$RUN/wrk/$name.out
    local conns=${BENCH_CONNS_OF[$name]:-$BENCH_CONNS}
    BENCH_REQUESTS=$file BENCH_PICK=${BENCH_PICK[$name]} wrk -t"$BENCH_THREADS" -c"$conns" -d"${secs}s" \
        --timeout "$BENCH_TIMEOUT" -s "$ROOT/bench/wrk/bench.lua" "${hdrs[@]}" \
        "$URL${BENCH_PATH[$name]%%\{*}" >"$out" 2>&1 9>&- </dev/null ||
        { cat "$out" >&2; die "wrk failed for $name"; }
    grep -m1 '^BENCH_RESULT ' "$out" | sed 's/^BENCH_RESULT //' ||
        { cat "$out" >&2; die "wrk printed no result for $name"; }
}

# bench_bg_wrk NAME SECONDS: the background load of NAME (one wrk thread).
bench_bg_wrk() {
    local BENCH_THREADS=1 BENCH_CONNS=${BENCH_BG_CONNS[$1]}
    bench_wrk "$1--bg" "$2"
}

BENCH_REDIS_STOPPED=0
BENCH_REPLICAS_STOPPED=0

# replicas-down: both MariaDB replicas stopped, so every read is the
# primaries'; started again after, and waited for until roostd uses them.
bench_replicas_down() {
    BENCH_REPLICAS_STOPPED=1
    svc_stop db1r
    svc_stop db2r
}

bench_replicas_up() {
    (( BENCH_REPLICAS_STOPPED )) || return 0
    svc_start db1r
    svc_start db2r
    BENCH_REPLICAS_STOPPED=0
    local i
    # A replica that was down is asked again within 8 s by each worker.
    for (( i = 0; i < 100; i++ )); do
        curl -s "$URL/metrics" | grep -q '^roost_replica_up{.*} 0$' || return 0
        sleep 0.2
    done
    warn "the replicas are not in use again 20 s after their start"
}

# The replication delay under load: every 200 ms, the time from reading a
# primary's GTID position until its replica has applied it
# (MASTER_GTID_WAIT), both shard servers in turn, for `secs` seconds.
# Prints "p50_ms p99_ms max_ms samples".
bench_replica_lag() {
    local secs=$1 end pos t0 t1 p lags=() sock_p sock_r
    end=$(( $(now_ms) + secs * 1000 ))
    while (( $(now_ms) < end )); do
        for p in 1 2; do
            if (( p == 1 )); then sock_p=$SOCK_DB1; sock_r=$SOCK_DB1R; else sock_p=$SOCK_DB2; sock_r=$SOCK_DB2R; fi
            t0=$(now_ms)
            pos=$(mariadb --no-defaults --socket="$sock_p" -u"$ADMIN_USER" -N -B -e 'SELECT @@gtid_binlog_pos') || continue
            mariadb --no-defaults --socket="$sock_r" -u"$ADMIN_USER" -N -B \
                -e "SELECT MASTER_GTID_WAIT('$pos', 30)" | grep -qx 0 || continue
            t1=$(now_ms)
            lags+=($((t1 - t0)))
        done
        sleep 0.2
    done
    printf '%s\n' "${lags[@]}" | sort -n | awk '
        { a[NR] = $1 } END { if (NR == 0) { print "- - - 0"; exit }
          p50 = a[int((NR + 1) / 2)]; p99 = a[int(NR * 0.99 + 0.999)]; print p50, p99, a[NR], NR }'
}

bench_redis_down() {
    BENCH_REDIS_STOPPED=1
    svc_stop redis
}

bench_redis_up() {
    (( BENCH_REDIS_STOPPED )) || return 0
    svc_start redis
    BENCH_REDIS_STOPPED=0
}

# bench_run_one NAME ROUND SECONDS: warm-up, then the measured run; appends
# "round name phase key=value..." lines to the results file.
bench_run_one() {
    local name=$1 round=$2 secs=$3 res lp50 lp99 lmax lmiss
    if (( BENCH_REDIS_DOWN[$name] )); then bench_redis_down; fi
    if (( BENCH_REPLICAS_DOWN[$name] )); then bench_replicas_down; fi
    if [[ -n ${BENCH_ROOST_CACHED[$name]} ]]; then bench_roost_cached "$name"; fi
    res=$(bench_wrk "$name" "$BENCH_WARMUP_S")
    printf '%s %s warmup %s\n' "$round" "$name" "$res" >>"$BENCH_RESULTS"
    local lag_pid=""
    if (( BENCH_LAG[$name] )); then
        ( sleep 1; bench_fanout_lag 30 >"$RUN/wrk/$name.lag.$round" ) &
        lag_pid=$!
    fi
    local rlag_pid=""
    if (( BENCH_REPLICA_LAG[$name] )); then
        ( sleep 1; bench_replica_lag $(( secs - 2 )) >"$RUN/wrk/$name.rlag.$round" ) &
        rlag_pid=$!
    fi
    local bg_pid="" bg_out=$RUN/wrk/$name--bg.result
    if [[ -n ${BENCH_BG[$name]} ]]; then
        # The background load starts a second before the measured run and
        # ends a second after it.
        bench_bg_wrk "$name" $(( secs + 2 )) >"$bg_out" &
        bg_pid=$!
        sleep 1
    fi
    local trickle_pid=""
    if (( BENCH_TRICKLE[$name] )); then
        # Slow clients (tests/chaos/chaos.c trickle): open a second before
        # the measured run, each sending a byte a second, closed after it.
        "$BUILD_DIR/tests/chaos/chaos" trickle 127.0.0.1 "$PORT_NGINX" "${BENCH_TRICKLE[$name]}" \
            $(( secs + 2 )) >"$RUN/wrk/$name.trickle.$round" &
        trickle_pid=$!
        sleep 1
    fi
    local hot0 hot1
    hot0=$(bench_hot_counts)
    res=$(bench_wrk "$name" "$secs")
    hot1=$(bench_hot_counts)
    if [[ -n $trickle_pid ]]; then
        wait "$trickle_pid" || die "the slow clients of $name failed"
        printf '  round %s  %s\n' "$round" "$(cat "$RUN/wrk/$name.trickle.$round")" >&2
    fi
    if [[ -n $bg_pid ]]; then
        wait "$bg_pid" || die "the background load of $name failed"
        res+=" $(awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "=")
                   if (kv[1] == "rps" || kv[1] == "p50_us" || kv[1] == "p99_us") printf "bg_%s ", $i } }' "$bg_out")"
        awk -v r="$round" -v bg="${BENCH_BG[$name]%% body=*}" '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] } }
            END { printf "  round %s  background %s: %.1f req/s, p50 %.1f ms, p99 %.1f ms\n", r, bg, f["rps"],
                  f["p50_us"] / 1000, f["p99_us"] / 1000 }' "$bg_out" >&2
    fi
    printf '%s %s measure %s\n' "$round" "$name" "$res" >>"$BENCH_RESULTS"
    if [[ -n $lag_pid ]]; then
        wait "$lag_pid" || true
        read -r lp50 lp99 lmax lmiss <"$RUN/wrk/$name.lag.$round" || true
        printf '  round %s  fan-out lag under %s: p50 %s ms, p99 %s ms, max %s ms (30 posts, %s missing)\n' \
            "$round" "$name" "${lp50:--}" "${lp99:--}" "${lmax:--}" "${lmiss:--}" >&2
    fi
    if [[ -n $rlag_pid ]]; then
        wait "$rlag_pid" || true
        read -r lp50 lp99 lmax lmiss <"$RUN/wrk/$name.rlag.$round" || true
        printf '  round %s  replica lag under %s: p50 %s ms, p99 %s ms, max %s ms (%s samples)\n' \
            "$round" "$name" "${lp50:--}" "${lp99:--}" "${lmax:--}" "${lmiss:--}" >&2
    fi
    if (( BENCH_REPLICAS_DOWN[$name] )); then bench_replicas_up; fi
    if (( BENCH_REDIS_DOWN[$name] )); then bench_redis_up; fi
    awk -v r="$round" -v n="$name" '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] } }
        END { printf "  round %s  %-21s %10.0f req/s  p50 %7.2f ms  p99 %7.2f ms  errors %d\n", r, n, f["rps"],
              f["p50_us"] / 1000, f["p99_us"] / 1000, f["status_errors"] + f["connect"] + f["read"] + f["write"] + f["timeout"] }' \
        <<<"$res" >&2
    # The workers' hot copies (lib/store/hotcache.h) during the measured run.
    awk -v r="$round" -v n="$name" -v a="$hot0" -v b="$hot1" 'BEGIN {
        split(a, x, " "); split(b, y, " "); h = y[1] - x[1]; m = y[2] - x[2]
        if (h + m > 0) printf "  round %s  %-21s hot copies: %d hits, %d misses (%.0f %% hits)\n", r, n, h, m, 100 * h / (h + m) }' >&2
}

# "hits misses" of the workers' hot copies so far (roostd's /metrics), or
# "0 0" when it does not answer.
bench_hot_counts() {
    curl -s --max-time 2 "$URL/metrics" 2>/dev/null | awk '
        $1 == "roost_hot_cache_hits_total" { h = $2 } $1 == "roost_hot_cache_misses_total" { m = $2 }
        END { printf "%d %d\n", h, m }'
}

# ---------------------------------------------------------------- roostd

# "pid role rss_kib hwm_kib" for the roostd master and each of its workers.
bench_roostd_procs() {
    local master p
    svc_running roostd || return 0
    master=$PID
    bench_proc_line "$master" master
    for p in /proc/[0-9]*; do
        p=${p#/proc/}
        if [[ $(proc_field "$p" 1 2>/dev/null) == "$master" ]]; then bench_proc_line "$p" worker; fi
    done
    return 0
}

bench_proc_line() {
    awk -v pid="$1" -v role="$2" '/^VmRSS:/ { rss = $2 } /^VmHWM:/ { hwm = $2 }
        END { if (rss != "") print pid, role, rss, hwm }' "/proc/$1/status" 2>/dev/null || true
}

# ---------------------------------------------------------------- report

# Medians per scenario from the results file: "name kind target rps p50_ms
# p99_ms errors rounds warmup_errors target-of p99-of bg_rps"; a skipped
# scenario has "-" for its figures.
bench_summarise() {
    local names="" n
    for n in "${BENCH_RUN[@]}"; do
        names+="$n ${BENCH_KIND[$n]} ${BENCH_TARGET[$n]} ${BENCH_TARGET_OF[$n]:--} ${BENCH_P99_OF[$n]:--};"
    done
    awk -v names="$names" -v skips="$(bench_skips)" '
        BEGIN { n = split(skips, sk, ";"); for (i = 1; i < n; i++) skip[substr(sk[i], 1, index(sk[i], "=") - 1)] = 1 }
        function med(list,    a, n, i, j, t) {
            n = split(list, a, " ")
            for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
            if (n == 0) return ""
            return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
        }
        {
            delete f
            for (i = 4; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
            err = f["status_errors"] + f["connect"] + f["read"] + f["write"] + f["timeout"]
            if ($3 == "warmup") { werr[$2] += err; next }
            rps[$2] = rps[$2] " " f["rps"]; p50[$2] = p50[$2] " " f["p50_us"] / 1000
            p99[$2] = p99[$2] " " f["p99_us"] / 1000; errs[$2] += err; rounds[$2]++
            if ("bg_rps" in f) bg[$2] = bg[$2] " " f["bg_rps"]
        }
        END {
            n = split(names, list, ";")
            for (i = 1; i < n; i++) {
                split(list[i], w, " ")
                if (w[1] in skip) { printf "%s %s %s - - - 0 0 0 %s %s -\n", w[1], w[2], w[3], w[4], w[5]; continue }
                if (!(w[1] in rounds)) continue
                printf "%s %s %s %.2f %.3f %.3f %d %d %d %s %s %s\n", w[1], w[2], w[3], med(rps[w[1]]),
                       med(p50[w[1]]), med(p99[w[1]]), errs[w[1]], rounds[w[1]], werr[w[1]] + 0,
                       w[4], w[5], w[1] in bg ? sprintf("%.2f", med(bg[w[1]])) : "-"
            }
        }' "$BENCH_RESULTS"
}

# The latency rule of every roost scenario (not the floors): p99 at most
# BENCH_P99_MAX_MS and at most BENCH_P99_OVER_P50 times its p50.
BENCH_P99_MAX_MS=20
BENCH_P99_OVER_P50=5

# Verdicts from the summary, one line a scenario, tab-separated: name kind
# rps p50 p99 errors ratio-to-static target-text met(1/0/-/skipped (why))
# latency(ok or what is wrong) p99-of-text p99-of-met(1/0/-) background-rps
# rounds more-targets skipped(why, or -). A plain TARGET is a ratio to
# static; each target-of=NAME:R a ratio to NAME's req/s and p99-of=NAME:F a
# bound on p99 of F times NAME's p99, all medians of the same run. The first
# target is in target-text and met; the others in more-targets, as
# "text|met;text|met". A target on a skipped scenario (a peer that could
# not run) is neither met nor not: its met says "skipped (why)".
bench_verdicts() {
    awk -v s="$1" -v pmax="$BENCH_P99_MAX_MS" -v pover="$BENCH_P99_OVER_P50" -v skips="$(bench_skips)" '
        BEGIN {
            n = split(skips, sk, ";")
            for (i = 1; i < n; i++) skip[substr(sk[i], 1, index(sk[i], "=") - 1)] = substr(sk[i], index(sk[i], "=") + 1)
        }
        # target-of NAME:R for a scenario at req/s r: sets T (text) and M (met).
        function target_of(spec, r,    t, q) {
            split(spec, t, ":")
            T = sprintf(">= %.2fx %s", t[2], t[1]); M = "-"
            if (t[1] in skip) M = "skipped (" skip[t[1]] ")"
            else if (t[1] in rps && rps[t[1]] > 0) {
                q = r / rps[t[1]]
                T = T sprintf(" (%.2f)", int(q * 100) / 100); M = int(q * 100) / 100 >= t[2] ? 1 : 0
            } else T = T " (not run)"
        }
        NR == FNR { if (!($1 in skip)) { rps[$1] = $4; p99[$1] = $6 }; next }
        $1 in skip {
            printf "%s\t%s\t-\t-\t-\t0\t0\t-\t-\t-\t-\t-\t-\t0\t-\t%s\n", $1, $2, skip[$1]
            next
        }
        {
            ratio = s > 0 ? $4 / s : 0
            k = 0
            if ($3 != "-") {
                # Truncated, not rounded: 0.2497 shows as 0.249, never as a
                # "0.250 NOT met" beside a 0.25 target.
                k++; tt[k] = sprintf(">= %.2f", $3); tm[k] = int(ratio * 1000) / 1000 >= $3 ? 1 : 0
            }
            if ($10 != "-") {
                m = split($10, specs, ",")
                for (j = 1; j <= m; j++) { target_of(specs[j], $4); k++; tt[k] = T; tm[k] = M }
            }
            tgt = k ? tt[1] : "-"; met = k ? tm[1] : "-"; more = ""
            for (j = 2; j <= k; j++) more = more (more == "" ? "" : ";") tt[j] "|" tm[j]
            lat = "-"
            if ($2 == "scenario") {
                lat = ""
                if ($6 > pmax) lat = lat sprintf("p99>%dms ", pmax)
                if ($5 > 0 && $6 > pover * $5) lat = lat sprintf("p99>%dxp50 ", pover)
                lat = lat == "" ? "ok" : substr(lat, 1, length(lat) - 1)
            }
            p99t = "-"; p99m = "-"
            if ($11 != "-") {
                split($11, t, ":")
                p99t = sprintf("p99 <= %gx %s", t[2], t[1])
                if (t[1] in p99 && p99[t[1]] > 0) {
                    p99t = p99t sprintf(" (%.2fx)", $6 / p99[t[1]]); p99m = $6 <= t[2] * p99[t[1]] ? 1 : 0
                } else p99t = p99t " (not run)"
            }
            printf "%s\t%s\t%s\t%s\t%s\t%s\t%.4f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t-\n", $1, $2, $4, $5, $6, $7,
                   ratio, tgt, met, lat, p99t, p99m, $12, $8, more == "" ? "-" : more
        }' <(printf '%s\n' "$2") <(printf '%s\n' "$2")
}

# Prints the table from the summary; writes latest.json.
bench_report() {
    local summary=$1 procs=$2 json=$RUN/latest.json static
    static=$(awk '$1 == "static" { print $4 }' <<<"$summary")
    echo
    echo "== roost benchmark ($BENCH_MODE: $BENCH_ROUNDS_DONE round(s) x ${BENCH_SECONDS} s after ${BENCH_WARMUP_S} s warm-up, wrk -t$BENCH_THREADS -c$BENCH_CONNS) =="
    echo "machine: $(bench_cpu); load average $BENCH_LOAD_START at the start, $BENCH_LOAD_END at the end"
    echo
    local verdicts
    verdicts=$(bench_verdicts "$static" "$summary")
    awk -F'\t' '
        BEGIN { printf "%-21s %-8s %10s %8s %8s %7s %8s  %-36s %-8s %s\n", "scenario", "kind", "req/s", "p50 ms",
                       "p99 ms", "errors", "x static", "target", "", "latency" }
        $16 != "-" { printf "%-21s %-8s %10s  skipped (%s)\n", $1, $2, "-", $16; next }
        {
            met = $9 == "-" ? "" : $9 ~ /^skipped/ ? "skipped" : ($9 ? "met" : "NOT met")
            printf "%-21s %-8s %10.0f %8.2f %8.2f %7d %8.3f  %-36s %-8s %s\n", $1, $2, $3, $4, $5, $6,
                   int($7 * 1000) / 1000, $8, met, $10
        }' <<<"$verdicts"
    awk -F'\t' '
        function verdict(m) { return m == "-" ? "-" : m ~ /^skipped/ ? m : (m ? "met" : "NOT met") }
        $9 ~ /^skipped/ { printf "%s: %s: %s\n", $1, $8, $9 }
        $15 != "-" { n = split($15, more, ";")
                     for (i = 1; i <= n; i++) { split(more[i], t, "|"); printf "%s: %s: %s\n", $1, t[1], verdict(t[2]) } }
        $11 != "-" { printf "%s: %s: %s\n", $1, $11, verdict($12) }
        $13 != "-" { printf "%s: background load %.1f req/s\n", $1, $13 }' <<<"$verdicts"
    echo "latency rule of every scenario: p99 <= $BENCH_P99_MAX_MS ms and p99 <= ${BENCH_P99_OVER_P50}x p50 (ok, or which part fails)"
    local rss_line worker_max
    worker_max=$(awk '$2 == "worker" { m = $3 > m ? $3 : m } END { printf "%.1f", m / 1024 }' <<<"$procs")
    rss_line=$(awk '$2 == "master" { printf "master %.1f MiB; ", $3 / 1024 }
                    $2 == "worker" { w = w sprintf("%s%.1f", w == "" ? "" : " ", $3 / 1024); h = h sprintf("%s%.1f", h == "" ? "" : " ", $4 / 1024) }
                    END { printf "workers %s MiB (peak %s)", w, h }' <<<"$procs")
    echo
    printf 'roostd RSS after the run: %s; target: every worker <= %d MiB: %s\n' "$rss_line" \
        "$BENCH_WORKER_RSS_TARGET_MIB" \
        "$(awk -v m="$worker_max" -v t="$BENCH_WORKER_RSS_TARGET_MIB" 'BEGIN { print (m > 0 && m <= t) ? "met" : "NOT met" }')"
    bench_peer_rss
    local ds
    ds=$(bench_dataset_fields | grep -v '^password=' | tr '\n' ' ')
    printf 'dataset (%s): %s db_mib=%s\n' "$BENCH_DATASET" "$ds" "$(bench_db_mib)"
    local n
    for n in "${BENCH_RUN[@]}"; do
        if [[ -n ${BENCH_NOTE[$n]} ]]; then printf '  %-21s %s\n' "$n" "${BENCH_NOTE[$n]}"; fi
    done
    awk '$9 > 0 { printf "warning: %s had %d error(s) during its warm-ups\n", $1, $9 }' <<<"$summary"
    bench_write_json "$summary" "$procs" "$static" >"$json.tmp"
    mv -f "$json.tmp" "$json"
    mkdir -p "$RUN/history"
    cp -f "$json" "$RUN/history/$(date -u +%Y%m%dT%H%M%SZ)-$BENCH_MODE.json"
    echo "results: $json"
}

bench_db_mib() {
    du -sm --exclude=binlog "$RUN/db1/data" "$RUN/db2/data" 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'
}

bench_write_json() {
    local summary=$1 procs=$2 static=$3
    printf '{\n  "generated_at": "%s",\n  "mode": "%s",\n  "rounds": %s,\n  "seconds": %s,\n  "warmup_seconds": %s,\n' \
        "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$BENCH_MODE" "$BENCH_ROUNDS_DONE" "$BENCH_SECONDS" "$BENCH_WARMUP_S"
    printf '  "wrk": {"threads": %s, "connections": %s},\n' "$BENCH_THREADS" "$BENCH_CONNS"
    printf '  "machine": "%s",\n' "$(bench_cpu | sed 's/["\\]//g')"
    printf '  "loadavg": {"start": %s, "end": %s},\n' "$BENCH_LOAD_START" "$BENCH_LOAD_END"
    echo '  "scenarios": ['
    # "target" and "met" are the first target; "targets" has every one,
    # with "skipped" (why) when the scenario it is relative to was skipped.
    bench_verdicts "$static" "$summary" | awk -F'\t' '
        function js(v) { gsub(/["\\]/, "", v); return v == "-" ? "null" : "\"" v "\"" }
        function jb(v) { return v == "-" || v ~ /^skipped/ ? "null" : (v ? "true" : "false") }
        function jskip(v) { return v ~ /^skipped \(/ ? js(substr(v, 10, length(v) - 10)) : "null" }
        function jn(v, fmt) { return v == "-" ? "null" : sprintf(fmt, v) }
        function targets(    out, n, more, i, t) {
            if (f[8] == "-") return "[]"
            out = sprintf("{\"target\": %s, \"met\": %s, \"skipped\": %s}", js(f[8]), jb(f[9]), jskip(f[9]))
            n = f[15] == "-" ? 0 : split(f[15], more, ";")
            for (i = 1; i <= n; i++) {
                split(more[i], t, "|")
                out = out sprintf(", {\"target\": %s, \"met\": %s, \"skipped\": %s}", js(t[1]), jb(t[2]), jskip(t[2]))
            }
            return "[" out "]"
        }
        { row[NR] = $0 }
        END {
            for (i = 1; i <= NR; i++) {
                split(row[i], f, "\t")
                printf "    {\"scenario\": \"%s\", \"kind\": \"%s\", \"skipped\": %s, \"rps\": %s, \"p50_ms\": %s, \"p99_ms\": %s, \"errors\": %d, \"ratio\": %s, \"target\": %s, \"met\": %s, \"targets\": %s, \"latency\": %s, \"p99_target\": %s, \"p99_met\": %s, \"background_rps\": %s, \"rounds\": %d}%s\n",
                       f[1], f[2], js(f[16]), jn(f[3], "%.2f"), jn(f[4], "%.3f"), jn(f[5], "%.3f"), f[6],
                       f[16] == "-" ? sprintf("%.4f", f[7]) : "null", js(f[8]), jb(f[9]), targets(),
                       js(f[10]), js(f[11]), jb(f[12]), f[13] == "-" ? "null" : f[13], f[14], i < NR ? "," : ""
            }
        }'
    echo '  ],'
    local master
    master=$(awk '$2 == "master" { printf "%.2f", $3 / 1024 }' <<<"$procs")
    printf '  "master_rss_mib": %s,\n' "${master:-null}"
    printf '  "worker_rss_mib": [%s],\n' "$(awk '$2 == "worker" { printf "%s%.2f", n++ ? ", " : "", $3 / 1024 }' <<<"$procs")"
    printf '  "worker_peak_rss_mib": [%s],\n' "$(awk '$2 == "worker" { printf "%s%.2f", n++ ? ", " : "", $4 / 1024 }' <<<"$procs")"
    printf '  "worker_rss_target_mib": %s,\n' "$BENCH_WORKER_RSS_TARGET_MIB"
    printf '  "dataset": {"name": "%s"' "$BENCH_DATASET"
    bench_dataset_fields | grep -v '^password=' | awk -F= '{
        v = $2; if (v !~ /^[0-9]+(\.[0-9]+)?$/) v = "\"" v "\""
        k = $1 == "seconds" ? "seed_seconds" : $1
        printf ", \"%s\": %s", k, v }'
    printf ', "db_mib": %s}\n}\n' "$(bench_db_mib)"
}

# ---------------------------------------------------------------- logs

# Offsets of the logs at the start, so the end can show what the run added.
bench_log_mark() {
    local f
    BENCH_LOG_MARKS=()
    for f in "$LOGDIR/roostd.log" "$LOGDIR/nginx-error.log"; do
        BENCH_LOG_MARKS+=("$(stat -c %s "$f" 2>/dev/null || echo 0)")
    done
}

bench_log_news() {
    local f i=0 added bad
    for f in "$LOGDIR/roostd.log" "$LOGDIR/nginx-error.log"; do
        added=$(tail -c +"$(( BENCH_LOG_MARKS[i] + 1 ))" "$f" 2>/dev/null || true)
        i=$(( i + 1 ))
        if [[ $f == */roostd.log ]]; then
            # syslog priorities: <4> warning, <3> error, <2> and less worse.
            bad=$(grep -E '^<[0-4]>' <<<"$added" || true)
            printf 'roostd.log during the run: %s worker recycles (max_requests), %s warning/error lines\n' \
                "$(grep -c 'recycling' <<<"$added" || true)" "$(grep -c . <<<"$bad" || true)"
            bad=$(sed -E 's/^<[0-9]>\[[0-9]+\] //; s/request [0-9a-f]{32}/request …/; s/[0-9]+(\.[0-9]+)? ms$/N ms/' <<<"$bad")
        else
            bad=$(grep -E '\[(warn|error|crit|alert|emerg)\]' <<<"$added" || true)
            printf 'nginx-error.log during the run: %s warning/error lines\n' "$(grep -c . <<<"$bad" || true)"
            bad=$(sed -E 's/^[0-9/]+ [0-9:]+ //; s/[0-9]+#[0-9]+: \*[0-9]+ //; s/request: "[A-Z]+ [^"]*"/request: "…"/' <<<"$bad")
        fi
        if [[ -n $bad ]]; then
            sort <<<"$bad" | uniq -c | sort -rn | head -n 8 | cut -c1-260 | sed 's/^/    /' || true
        fi
    done
}

# ---------------------------------------------------------------- main

bench_cleanup() {
    local keep=$1
    set +e
    bench_replicas_up
    bench_redis_up
    if (( keep )); then
        say "--keep: the bench stack, the floors and the peers stay up ($URL; ./dev down bench stops them)"
        return 0
    fi
    bench_stop_peers
    bench_stop_floors
    stack_lock
    stack_stop
}

cmd_bench() {
    local quick=0 keep=0 list=0 a only=() profile=""
    while (( $# )); do
        case $1 in
            --sweep) shift   # worker counts: bench/sweep.sh
                     # shellcheck source=bench/sweep.sh
                     source "$ROOT/bench/sweep.sh"
                     cmd_bench_sweep "$@"
                     return;;
            --quick) quick=1;;
            --keep)  keep=1;;
            --list)  list=1;;
            --profile)
                (( $# >= 2 )) || die "--profile needs a scenario name (./dev bench --list)"
                profile=$2
                shift;;
            --only)
                shift
                while (( $# )) && [[ $1 != --* ]]; do
                    IFS=',' read -r -a a <<<"$1"
                    only+=("${a[@]}")
                    shift
                done
                (( ${#only[@]} )) || die "--only needs scenario names (./dev bench --list)"
                continue;;
            -h|--help) bench_usage; return 0;;
            *) bench_usage >&2; exit 2;;
        esac
        shift
    done
    # shellcheck source=bench/scenarios.sh
    source "$ROOT/bench/scenarios.sh"
    [[ -n ${BENCH_KIND[static]:-} ]] || die "bench/scenarios.sh must define the static floor"
    if (( list )); then
        local n
        for n in "${BENCH_NAMES[@]}"; do
            printf '%-21s %-8s %-5s %s %s\n' "$n" "${BENCH_KIND[$n]}" "${BENCH_TARGET[$n]}" \
                "${BENCH_METHOD[$n]}" "${BENCH_PATH[$n]}"
        done
        return 0
    fi
    BENCH_RUN=()
    local n o want
    if [[ -n $profile ]]; then
        [[ -n ${BENCH_KIND[$profile]:-} ]] || die "no scenario '$profile' (./dev bench --list)"
        only=("$profile")
    fi
    for o in "${only[@]}"; do
        [[ -n ${BENCH_KIND[$o]:-} ]] || die "no scenario '$o' (./dev bench --list)"
    done
    for n in "${BENCH_NAMES[@]}"; do
        want=$(( ${#only[@]} == 0 ))
        if [[ $n == static ]]; then want=1; fi
        for o in "${only[@]}"; do if [[ $o == "$n" ]]; then want=1; fi; done
        if (( want )); then BENCH_RUN+=("$n"); fi
    done
    local rounds=3 t0
    BENCH_SECONDS=10
    BENCH_MODE=full
    if (( quick )); then rounds=1; BENCH_SECONDS=5; BENCH_MODE=quick; fi
    t0=$(now_ms)

    prepare_binaries "$ROOT/build"
    # The slow clients of trickle= scenarios.
    make -C "$BUILD" -s tests/chaos/chaos >/dev/null || die "building tests/chaos/chaos failed"
    stack_use bench fresh "$BUILD" 0
    stack_lock
    bench_plan_dataset "$BENCH_MODE"
    if (( BENCH_LOAD == 2 )); then bench_wipe_data; fi
    # shellcheck disable=SC2064  # $keep is meant to expand now
    trap "bench_cleanup $keep" EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM HUP
    stack_prepare
    bench_build_floors
    bench_write_floor_conf
    bench_write_peer_conf
    stack_start
    say "roostctl migrate"
    roostctl migrate >"$LOGDIR/migrate.log" 2>&1 || { cat "$LOGDIR/migrate.log" >&2; die "roostctl migrate failed"; }
    (( BENCH_LOAD == 0 )) || bench_load_dataset
    local f
    for f in "${BENCH_FLOORS[@]}"; do bench_floor_start "$f"; done
    bench_start_peers
    bench_fetch_lists

    # One request of each first: a scenario that cannot answer 2xx would
    # only measure how fast it fails (it still runs; its errors show).
    for n in "${BENCH_RUN[@]}"; do
        if [[ -n ${BENCH_SKIP[$n]:-} ]] || (( BENCH_REDIS_DOWN[$n] )); then continue; fi
        if [[ -n ${BENCH_ROOST_CACHED[$n]} ]]; then bench_roost_cached "$n"; fi
        if [[ ${BENCH_KIND[$n]} == peer ]]; then bench_check_peer "$n"; else bench_check "$n"; fi
    done

    if [[ -n $profile ]]; then
        # shellcheck source=bench/profile.sh
        source "$ROOT/bench/profile.sh"
        if (( BENCH_REDIS_DOWN[$profile] )); then bench_redis_down; fi
        bench_profile "$profile"
        bench_redis_up
        say "bench --profile took $(elapsed "$t0")"
        return 0
    fi

    BENCH_RESULTS=$RUN/wrk/results.txt
    : >"$BENCH_RESULTS"
    bench_log_mark
    BENCH_LOAD_START=$(cut -d' ' -f1 /proc/loadavg)
    if awk -v l="$BENCH_LOAD_START" -v n="$(nproc)" 'BEGIN { exit !(l > n) }'; then
        warn "the machine is busy (load average $BENCH_LOAD_START on $(nproc) cores): absolute figures will be low and noisy; the ratios still compare runs of the same rounds"
    fi
    local r
    say "running ${#BENCH_RUN[@]} scenarios: $rounds round(s) of ${BENCH_WARMUP_S} s + ${BENCH_SECONDS} s each"
    for (( r = 1; r <= rounds; r++ )); do
        for n in "${BENCH_RUN[@]}"; do
            if [[ -z ${BENCH_SKIP[$n]:-} ]]; then bench_run_one "$n" "$r" "$BENCH_SECONDS"; fi
        done
    done
    BENCH_ROUNDS_DONE=$rounds
    BENCH_LOAD_END=$(cut -d' ' -f1 /proc/loadavg)
    local procs summary
    procs=$(bench_roostd_procs)
    summary=$(bench_summarise)
    bench_report "$summary" "$procs"
    bench_log_news
    say "bench run took $(elapsed "$t0")"
}
