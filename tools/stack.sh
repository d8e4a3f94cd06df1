# shellcheck shell=bash
# tools/stack.sh -- private roost stacks for development and tests.
#
# Sourced by ./dev (which sets ROOT and `set -euo pipefail`). A stack is two
# MariaDB primaries (db1, db2), one GTID replica of each (db1r, db2r), Redis,
# roostd and nginx, all on loopback, with every file under run/STACK/:
#
#   run/STACK/stack.env          ports and build dir the stack was set up with
#   run/STACK/roost.conf         roostd/roostctl configuration
#   run/STACK/secrets/           secret (token key), db_password (mode 600)
#   run/STACK/db1/ db2/          my.cnf, data/, binlog/
#   run/STACK/db1r/ db2r/        the replicas: my.cnf, data/
#   run/STACK/db3/               the test stack's spare primary (no replica),
#                                in no roost.conf until a test appends
#                                run/STACK/shard-c.conf (server c)
#   run/STACK/redis/             redis.conf and its (unused) dump dir; the test
#                                stack also redis2.conf (a replica) and
#                                sent1..3.conf (three Redis Sentinels)
#   run/STACK/nginx/             nginx.conf, roost-site.conf, cache/, tmp/
#   run/STACK/sock/              unix sockets (db1, db2, roostd), unless the
#                                path is too long: then /tmp/roost-STACK-HASH/
#   run/STACK/log/               every log file
#   run/STACK/NAME.pid           pid (line 1) and start time (line 2) of each
#                                service we started; processes are stopped by
#                                this pid only, never by name.
#
# Each service is started in its own session (setsid), so Ctrl-C in a shell
# does not reach it and everything it forks can be found by its session id.

STACK_SERVICES=(db1 db2 db1r db2r redis roostd nginx)   # start order; stop is reversed
STACK_PRIMARIES=(db1 db2)                               # started in parallel
# The test stack's Redis is highly available: a replica (redis2) and three
# sentinels watching the master (roostd asks them where it is).
HA_SERVICES=(redis2 sent1 sent2 sent3)

say()  { printf 'dev: %s\n' "$*" >&2; }
warn() { printf 'dev: warning: %s\n' "$*" >&2; }
die()  { printf 'dev: error: %s\n' "$*" >&2; exit 1; }

now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $(( t / 1000 )); }
elapsed() { local ms=$(( $(now_ms) - $1 )); printf '%d.%01d s' $(( ms / 1000 )) $(( ms % 1000 / 100 )); }

# ---------------------------------------------------------------- processes

# proc_field PID INDEX: a field of /proc/PID/stat counted from the state
# field (0 = state, 1 = ppid, 2 = pgrp, 3 = session, 19 = start time).
# The command name before it may hold spaces, so split after its ')'.
proc_field() {
    local stat rest
    { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
    rest=${stat##*) }
    # shellcheck disable=SC2206
    local fields=($rest)
    printf '%s\n' "${fields[$2]}"
}

# proc_alive PID: the process exists and is not a zombie.
proc_alive() {
    local st
    st=$(proc_field "$1" 0) || return 1
    [[ $st != Z && $st != X ]]
}

# session_members SID: pids of live processes in session SID.
session_members() {
    local p sid
    for p in /proc/[0-9]*; do
        p=${p#/proc/}
        [[ $p == "$1" ]] && continue
        sid=$(proc_field "$p" 3) || continue
        [[ $sid == "$1" ]] && proc_alive "$p" && echo "$p"
    done
    return 0
}

# children_of PID: "pid:start-time" of each live child of PID -- a worker
# that left its parent's session (roostd's low-priority pool does, for a
# scheduling group of its own) is found by this and not by session_members.
children_of() {
    local p
    for p in /proc/[0-9]*; do
        p=${p#/proc/}
        [[ $(proc_field "$p" 1 2>/dev/null) == "$1" ]] && proc_alive "$p" &&
            echo "$p:$(proc_field "$p" 19)"
    done
    return 0
}

# still_alive "pid:start-time"...: the pids among them that still run (the
# start time tells a reused pid apart).
still_alive() {
    local e
    for e in "$@"; do
        proc_alive "${e%%:*}" && [[ $(proc_field "${e%%:*}" 19) == "${e#*:}" ]] && echo "${e%%:*}"
    done
    return 0
}

# wait_gone PID SECONDS: 0 once PID is gone, 1 on time-out.
wait_gone() {
    local pid=$1 deadline=$(( $(now_ms) + $2 * 1000 ))
    while proc_alive "$pid"; do
        (( $(now_ms) < deadline )) || return 1
        sleep 0.1
    done
    wait "$pid" 2>/dev/null || true   # reap it if it is our own child
    return 0
}

# port_open PORT: something accepts connections on 127.0.0.1:PORT.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ---------------------------------------------------------------- the stack

# stack_use STACK fresh [BUILD_DIR [SANITIZE]] | stack_use STACK existing
# Sets the variables that describe STACK. `fresh` takes ports from the
# environment (ROOST_PORT, ROOST_TEST_PORT, ROOST_BENCH_PORT for nginx;
# ROOST_PORT_SHIFT moves every port of the stack by that much, so two
# checkouts can run their stacks side by side) and the build dir from the
# arguments; `existing` reuses what the stack was last set up with.
stack_use() {
    STACK=$1
    local mode=$2
    case $STACK in
        dev)  PORT_NGINX=${ROOST_PORT:-8080};  PORT_DB1=18306; PORT_DB2=18307
              PORT_REDIS=18379; SERVER_ID1=1;  SERVER_ID2=2 ;;
        test) PORT_NGINX=${ROOST_TEST_PORT:-28080}; PORT_DB1=28306; PORT_DB2=28307
              PORT_REDIS=28379; SERVER_ID1=11; SERVER_ID2=12 ;;
        bench) PORT_NGINX=${ROOST_BENCH_PORT:-38080}; PORT_DB1=38306; PORT_DB2=38307
              PORT_REDIS=38379; SERVER_ID1=21; SERVER_ID2=22 ;;
        *)    die "unknown stack '$STACK' (stacks: dev, test, bench)" ;;
    esac
    local shift=${ROOST_PORT_SHIFT:-0}
    [[ $shift =~ ^[0-9]+$ ]] && (( shift < 20000 )) || die "bad ROOST_PORT_SHIFT '$shift'"
    PORT_NGINX=$((PORT_NGINX + shift)); PORT_DB1=$((PORT_DB1 + shift))
    PORT_DB2=$((PORT_DB2 + shift)); PORT_REDIS=$((PORT_REDIS + shift))
    # The replicas: 10 above their primaries (db1 18306 -> db1r 18316).
    PORT_DB1R=$((PORT_DB1 + 10)); PORT_DB2R=$((PORT_DB2 + 10))
    # The test stack's spare server db3, next to db2: no replica, named in
    # no roost.conf until a test adds it (the section is in shard-c.conf).
    PORT_DB3=$((PORT_DB1 + 2)); SERVER_ID3=$((SERVER_ID1 + 2))
    # The test stack's second roostd host (roostd2): its pools listen on
    # these ports at its own address, in a network namespace of its own.
    PORT_ROOSTD2=$((PORT_NGINX + 10))
    # Redis HA (test stack): the replica next to the master, sentinels 100 up.
    PORT_REDIS2=$((PORT_REDIS + 1))
    PORT_SENT1=$((PORT_REDIS + 100)); PORT_SENT2=$((PORT_REDIS + 101)); PORT_SENT3=$((PORT_REDIS + 102))
    if [[ $STACK == test ]]; then
        STACK_SERVICES=(db1 db2 db3 db1r db2r redis "${HA_SERVICES[@]}" roostd roostd2 nginx)
        STACK_PRIMARIES=(db1 db2 db3)
    else
        STACK_PRIMARIES=(db1 db2)
        STACK_SERVICES=(db1 db2 db1r db2r redis roostd nginx)
    fi
    RUN=$ROOT/run/$STACK
    BUILD_DIR=$ROOT/build
    SANITIZE=0
    # db2's address (tools/netns.sh: the test stack may run it in a
    # network namespace of its own); stack.env says what a stack uses.
    DB2_NETNS=""
    HOST_DB2=127.0.0.1
    HOST_PEER=""
    if [[ $mode == fresh ]]; then
        BUILD_DIR=${3:-$BUILD_DIR}
        SANITIZE=${4:-0}
    elif [[ -f $RUN/stack.env ]]; then
        # shellcheck disable=SC1091
        source "$RUN/stack.env"
    fi
    [[ $PORT_NGINX =~ ^[0-9]+$ ]] || die "bad nginx port '$PORT_NGINX'"
    LOGDIR=$RUN/log
    CONF=$RUN/roost.conf
    SECRETS=$RUN/secrets
    SOCKDIR=$(stack_sockdir)
    CACHEDIR=$(stack_cachedir)
    SOCK_DB1=$SOCKDIR/db1.sock
    SOCK_DB2=$SOCKDIR/db2.sock
    SOCK_ROOSTD=$SOCKDIR/roostd.sock
    SOCK_ROOSTD_SLOW=$SOCKDIR/roostd-slow.sock
    ROOSTD_BIN=$BUILD_DIR/app/roostd/roostd
    ROOSTCTL_BIN=$BUILD_DIR/app/roostctl/roostctl
    ADMIN_USER=$(id -un)
    # shellcheck disable=SC2034  # used by ./dev
    URL=http://127.0.0.1:$PORT_NGINX
}

# Unix socket paths must stay under 100 characters (sun_path is 108). A
# deep checkout puts the sockets in /tmp/roost-STACK-<hash of the repo path>.
stack_sockdir() {
    local d=$RUN/sock
    if (( ${#d} + 12 < 100 )); then   # 12 = length of "/roostd.sock"
        echo "$d"
    else
        local h
        h=$(printf '%s' "$ROOT" | sha256sum)
        echo "/tmp/roost-$STACK-${h:0:12}"
    fi
}

# nginx's micro-cache files: on tmpfs (/dev/shm) when there is one, as the
# shipped site keeps them under /run (docs/PERFORMANCE.md: creating a
# file per stored answer on ext4 cost more than the answer saved). One
# directory per checkout and stack, removed with the stack's data.
stack_cachedir() {
    if [[ -d /dev/shm && -w /dev/shm ]]; then
        local h
        h=$(printf '%s' "$ROOT" | sha256sum)
        echo "/dev/shm/roost-cache-$(id -u)-$STACK-${h:0:12}"
    else
        echo "$RUN/nginx/cache"
    fi
}

# The paths go into nginx, MariaDB and INI files unquoted: refuse a checkout
# whose path would need quoting there.
stack_check_path() {
    [[ $ROOT =~ ^[A-Za-z0-9_./+@%,=-]+$ ]] ||
        die "the repository path '$ROOT' holds spaces or special characters; clone it to a plain path"
}

stack_mksockdir() {
    mkdir -p "$SOCKDIR"
    chmod 700 "$SOCKDIR"
    [[ -O $SOCKDIR && ! -L $SOCKDIR ]] || die "$SOCKDIR is not a directory owned by $(id -un)"
}

# put FILE [MODE]: write stdin to FILE only when the content differs, so a
# file's mtime tells when it last changed. Adds FILE to CHANGED when it did.
CHANGED=()
put() {
    local f=$1 mode=${2:-644} tmp
    tmp=$(mktemp "$f.XXXXXX")
    cat >"$tmp"
    chmod "$mode" "$tmp"
    if [[ -f $f ]] && cmp -s "$tmp" "$f"; then
        rm -f "$tmp"
    else
        mv -f "$tmp" "$f"
        CHANGED+=("$f")
    fi
}

# random_alnum N: N random letters and digits.
random_alnum() {
    local s=""
    while (( ${#s} < $1 )); do
        s+=$(head -c 256 /dev/urandom | LC_ALL=C tr -dc 'A-Za-z0-9')
    done
    printf '%s' "${s:0:$1}"
}

# Creates the directories, secrets and configuration files of the stack
# (secrets once; configuration files rewritten only when they change).
stack_prepare() {
    stack_check_path
    mkdir -p "$RUN" "$LOGDIR" "$RUN/db1" "$RUN/db2" "$RUN/db1r" "$RUN/db2r" "$RUN/redis" \
             "$RUN/nginx/tmp" "$CACHEDIR" "$SECRETS"
    chmod 700 "$SECRETS"
    stack_mksockdir
    if [[ ! -s $SECRETS/secret ]]; then
        (umask 077; od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$SECRETS/secret")
    fi
    if [[ ! -s $SECRETS/db_password ]]; then
        (umask 077; random_alnum 32 >"$SECRETS/db_password")
    fi
    chmod 600 "$SECRETS/secret" "$SECRETS/db_password"
    # Chosen once, with the data: db2r replicates from db2's address.
    [[ -f $RUN/stack.env ]] || netns_choose

    put "$RUN/stack.env" <<EOF
# written by ./dev: what stack '$STACK' was last set up with
PORT_NGINX=$PORT_NGINX
PORT_DB1=$PORT_DB1
PORT_DB2=$PORT_DB2
PORT_REDIS=$PORT_REDIS
BUILD_DIR=$BUILD_DIR
SANITIZE=$SANITIZE
DB2_NETNS=$DB2_NETNS
HOST_DB2=$HOST_DB2
HOST_PEER=$HOST_PEER
EOF
    db_write_cnf db1 "$PORT_DB1" "$SOCK_DB1" "$SERVER_ID1"
    db_write_cnf db2 "$PORT_DB2" "$SOCK_DB2" "$SERVER_ID2"
    db_write_cnf db1r "$PORT_DB1R" "$(db_sock db1r)" "$((SERVER_ID1 + 100))"
    db_write_cnf db2r "$PORT_DB2R" "$(db_sock db2r)" "$((SERVER_ID2 + 100))"
    if [[ $STACK == test ]]; then
        mkdir -p "$RUN/db3"
        db_write_cnf db3 "$PORT_DB3" "$(db_sock db3)" "$SERVER_ID3"
        shard_c_write_conf
    fi
    redis_write_conf
    [[ $STACK == test ]] && redis_ha_write_conf
    roost_write_conf
    nginx_write_conf
}

# ---------------------------------------------------------------- MariaDB

db_sock() { echo "$SOCKDIR/$1.sock"; }

# db_is_replica NAME: db1r and db2r replicate db1 and db2.
db_is_replica() { [[ $1 == *r ]]; }
db_primary_of() { echo "${1%r}"; }

# The replication part of a server's my.cnf: a primary writes a binary log
# with GTIDs; a replica (db1r, db2r) is read-only for everyone but its SQL
# thread, applies in order, and resumes replicating when it is restarted.
db_cnf_role() {
    local name=$1 dir=$RUN/$1
    if db_is_replica "$name"; then
        cat <<EOF
# A GTID replica of $(db_primary_of "$name") (set up by ./dev on its first start).
read_only             = 1
gtid_strict_mode      = 1
relay_log             = $dir/relay/$name-relay
EOF
    else
        cat <<EOF
# Binary log with GTIDs (for a replica, $(db_primary_of "$name")r on db1 and db2).
log_bin               = $dir/binlog/$name-bin
binlog_format         = ROW
gtid_strict_mode      = 1
log_slave_updates     = 1
expire_logs_days      = 1
EOF
    fi
}

db_write_cnf() {
    local name=$1 port=$2 sock=$3 id=$4 dir=$RUN/$1 bind=127.0.0.1
    [[ $name == db2 ]] && bind=$HOST_DB2
    put "$dir/my.cnf" <<EOF
# $dir/my.cnf -- written by ./dev for stack '$STACK' ($name). Do not edit.
[mariadbd]
user                  = $ADMIN_USER
datadir               = $dir/data
socket                = $sock
pid-file              = $dir/mariadbd.pid
log-error             = $LOGDIR/$name.err
# Own temporary directory: servers sharing /tmp can collide on temp names.
tmpdir                = $dir/tmp
bind-address          = $bind
port                  = $port
skip-name-resolve
max_connections       = 300
character-set-server  = utf8mb4
collation-server      = utf8mb4_unicode_ci
performance_schema    = OFF
# Small: several stacks may run on one machine.
innodb_buffer_pool_size        = 128M
innodb_log_file_size           = 64M
# Durability as in production: an acknowledged write is on disk.
innodb_flush_log_at_trx_commit = 1
sync_binlog                    = 1
server_id             = $id
$(db_cnf_role "$name")

[client]
socket                = $sock
port                  = $port
EOF
}

# Initialises the data directory once (a half-done one is started over).
db_init() {
    local name=$1 dir=$RUN/$1
    [[ -f $dir/data/.roost-initialized ]] && return 0
    rm -rf "$dir/data" "$dir/binlog" "$dir/tmp" "$dir/relay"
    mkdir -p "$dir/data" "$dir/binlog" "$dir/tmp" "$dir/relay"
    local t0 user_opt=()
    t0=$(now_ms)
    (( EUID == 0 )) && user_opt=(--user=root)
    if ! mariadb-install-db --no-defaults --datadir="$dir/data" "${user_opt[@]}" \
            --auth-root-authentication-method=socket \
            --auth-root-socket-user="$ADMIN_USER" \
            --skip-test-db --skip-name-resolve --tmpdir="$dir/tmp" \
            >"$LOGDIR/$name-install.log" 2>&1; then
        sed -n '1,/^Installation of system tables failed/p' "$LOGDIR/$name-install.log" | head -n 20 >&2
        die "$name: mariadb-install-db failed (log: $LOGDIR/$name-install.log)"
    fi
    touch "$dir/data/.roost-initialized"
    say "$name: data directory initialised in $(elapsed "$t0")"
}

db_ping() {
    mariadb-admin --no-defaults --socket="$(db_sock "$1")" -u"$ADMIN_USER" \
        --connect-timeout=2 ping >/dev/null 2>&1
}

# Creates the databases and the `roost` user (idempotent: runs on every
# start, so the password always matches secrets/db_password).
db_setup() {
    local name=$1 pw dbs=(roost_shard) db host sql=""
    pw=$(cat "$SECRETS/db_password")
    [[ $name == db1 ]] && dbs=(roost_catalog roost_shard)
    for db in "${dbs[@]}"; do
        sql+="CREATE DATABASE IF NOT EXISTS $db CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"$'\n'
    done
    # (HOST_PEER: the host's end of db2's veth pair, when it has one.)
    for host in 127.0.0.1 localhost $HOST_PEER; do
        sql+="CREATE USER IF NOT EXISTS 'roost'@'$host' IDENTIFIED BY '$pw';"$'\n'
        sql+="ALTER USER 'roost'@'$host' IDENTIFIED BY '$pw';"$'\n'
        sql+="GRANT ALL PRIVILEGES ON roost_catalog.* TO 'roost'@'$host';"$'\n'
        sql+="GRANT ALL PRIVILEGES ON roost_shard.* TO 'roost'@'$host';"$'\n'
        # roostd reads its replicas' lag with SHOW SLAVE STATUS.
        sql+="GRANT SLAVE MONITOR ON *.* TO 'roost'@'$host';"$'\n'
        # The replica's IO thread signs in as roost_repl.
        sql+="CREATE USER IF NOT EXISTS 'roost_repl'@'$host' IDENTIFIED BY '$pw';"$'\n'
        sql+="ALTER USER 'roost_repl'@'$host' IDENTIFIED BY '$pw';"$'\n'
        sql+="GRANT REPLICATION SLAVE ON *.* TO 'roost_repl'@'$host';"$'\n'
    done
    printf '%s' "$sql" | mariadb --no-defaults --socket="$(db_sock "$name")" -u"$ADMIN_USER" ||
        die "$name: could not create the databases and the roost user"
}

db_start() {
    local name=$1
    db_init "$name"
    mkdir -p "$RUN/$name/tmp" "$RUN/$name/relay"
    rm -f "$(db_sock "$name")"
    netns_prefix "$name"
    launch "$name" "${NETNS_CMD[@]}" mariadbd --defaults-file="$RUN/$name/my.cnf"
    wait_ready "$name" 60 db_ping "$name"
    if db_is_replica "$name"; then
        db_replica_setup "$name"
    else
        db_setup "$name"
    fi
}

# db_sql NAME: runs the SQL on stdin as the stack's admin on server NAME.
db_sql() { mariadb --no-defaults --socket="$(db_sock "$1")" -u"$ADMIN_USER" "${@:2}"; }

# A replica's first start: the roost user (as on a primary), a consistent
# copy of its primary's databases taken with the primary's GTID position
# (mariadb-dump --gtid --master-data), then replication from that position
# over TCP as roost_repl. Later starts find it set up and replicating (the
# server resumes by itself). The primary must be running.
db_replica_setup() {
    local name=$1 primary pw port host=127.0.0.1 dbs=(roost_shard)
    [[ -f $RUN/$name/data/.roost-replica ]] && return 0
    primary=$(db_primary_of "$name")
    db_ping "$primary" || die "$name: its primary $primary is not running"
    pw=$(cat "$SECRETS/db_password")
    [[ $primary == db1 ]] && dbs=(roost_catalog roost_shard)
    port=$PORT_DB1; [[ $primary == db2 ]] && port=$PORT_DB2 host=$HOST_DB2
    local t0
    t0=$(now_ms)
    db_setup "$name"
    {
        mariadb-dump --no-defaults --socket="$(db_sock "$primary")" -u"$ADMIN_USER" \
            --single-transaction --gtid --master-data=1 --databases "${dbs[@]}" ||
            echo "SELECT 'the dump failed' FROM no_such_table;"
    } | db_sql "$name" || die "$name: could not copy $primary's databases"
    db_sql "$name" <<EOF || die "$name: could not start replicating from $primary"
CHANGE MASTER TO MASTER_HOST = '$host', MASTER_PORT = $port,
    MASTER_USER = 'roost_repl', MASTER_PASSWORD = '$pw',
    MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1;
START SLAVE;
EOF
    touch "$RUN/$name/data/.roost-replica"
    say "$name: replicating from $primary (set up in $(elapsed "$t0"))"
}

# ---------------------------------------------------------------- Redis

redis_write_conf() {
    put "$RUN/redis/redis.conf" <<EOF
# $RUN/redis/redis.conf -- written by ./dev for stack '$STACK'. Do not edit.
bind 127.0.0.1
protected-mode yes
port $PORT_REDIS
daemonize no
dir $RUN/redis
logfile $LOGDIR/redis.log
# A cache only: nothing is saved to disk. A replica loads what its master
# sends straight into memory (no dump file a restarted master would then
# load: the test stack's replica once left one, and Redis came back with
# the data from before its outage), and each server has a file name of
# its own all the same.
save ""
appendonly no
repl-diskless-load swapdb
# A unix socket too: the test stack's second roostd host, in a network
# namespace of its own, reaches Redis by it (loopback is not shared).
unixsocket $SOCKDIR/redis.sock
unixsocketperm 700
dbfilename redis.rdb
maxmemory 256mb
maxmemory-policy allkeys-lru
EOF
}

# The replica and the sentinels of the test stack. A sentinel rewrites its
# own file (what it learnt: replicas, other sentinels, failovers), so it is
# written only once, when missing. The sentinels wait 60 s before failing a
# master over, so that the tests which stop Redis see Redis down; the
# failover test lowers that at run time (SENTINEL SET).
redis_ha_write_conf() {
    sed -e "s/^port .*/port $PORT_REDIS2/" -e "s|^logfile .*|logfile $LOGDIR/redis2.log|" \
        -e "s|^dbfilename .*|dbfilename redis2.rdb|" -e "s|^unixsocket .*|unixsocket $SOCKDIR/redis2.sock|" \
        -e "s|redis.conf -- written|redis2.conf (a replica) -- written|" "$RUN/redis/redis.conf" |
        { cat; echo "replicaof 127.0.0.1 $PORT_REDIS"; } | put "$RUN/redis/redis2.conf"
    local n port
    for n in 1 2 3; do
        port=$(svc_port "sent$n")
        [[ -f $RUN/redis/sent$n.conf ]] && continue
        put "$RUN/redis/sent$n.conf" <<EOF
# $RUN/redis/sent$n.conf -- written by ./dev for stack '$STACK'; the sentinel
# rewrites it from then on.
bind 127.0.0.1
port $port
daemonize no
dir $RUN/redis
logfile $LOGDIR/sent$n.log
sentinel monitor roost 127.0.0.1 $PORT_REDIS 2
sentinel down-after-milliseconds roost 60000
sentinel failover-timeout roost 10000
sentinel parallel-syncs roost 1
EOF
    done
}

redis_ping() {
    [[ $(redis-cli -h 127.0.0.1 -p "${1:-$PORT_REDIS}" ping 2>/dev/null) == PONG ]]
}

redis_start() {
    case $1 in
        redis)  launch redis redis-server "$RUN/redis/redis.conf";;
        redis2) launch redis2 redis-server "$RUN/redis/redis2.conf";;
        *)      launch "$1" redis-sentinel "$RUN/redis/$1.conf";;
    esac
    wait_ready "$1" 20 redis_ping "$(svc_port "$1")"
}

# ---------------------------------------------------------------- roostd

# roost_conf HOST: the roost.conf of roostd host 1 (run/STACK/roost.conf)
# or, on the test stack, host 2 (run/test/host2/roost.conf): the same map,
# pools and limits; host 2's pools listen on TCP at its namespace's
# address, it mints with generators 512 and up, and it reaches Redis and
# MariaDB by their unix sockets (its namespace has a loopback of its own;
# the Sentinels, which name Redis by a loopback address, are not its).
roost_conf() {
    local host=$1 conf=$CONF listen=$SOCK_ROOSTD listen_slow=$SOCK_ROOSTD_SLOW gen=0
    local slowlog=$LOGDIR/roostd-slow.log
    if (( host == 2 )); then
        netns_names "$PORT_ROOSTD2"
        conf=$RUN/host2/roost.conf listen=$NETNS_NS_IP:$PORT_ROOSTD2
        listen_slow=$NETNS_NS_IP:$((PORT_ROOSTD2 + 1)) gen=512 slowlog=$LOGDIR/roostd2-slow.log
    fi
    # The test stack recycles workers often, so that every test run also
    # exercises draining (a recycle must never fail a request).
    local max_requests=10000
    [[ $STACK == test ]] && max_requests=300
    # A low fan-out threshold on the test stack, so that a celebrity (an
    # author read-time merged) takes four test accounts, not ten thousand.
    local fanout_max=10000
    [[ $STACK == test ]] && fanout_max=3
    # The test stack's slow log and request kill come early, so tests can
    # reach them with a request that sleeps (the slow-request failpoint).
    local slowlog_timeout=5 slow_terminate=30
    [[ $STACK == test ]] && slowlog_timeout=1 slow_terminate=2
    # The test stack lets a replica lag by 10 s and still serve reads (the
    # read-your-writes test needs one that does).
    local max_lag=5
    [[ $STACK == test ]] && max_lag=15
    cat <<EOF
; $conf -- written by ./dev for stack '$STACK'. Do not edit:
; ./dev rewrites it. The format is described in systemd/roost.conf.example.

[roostd]
listen = $listen
workers = 4
max_requests = $max_requests
request_slowlog_timeout = $slowlog_timeout
slowlog = $slowlog
generator_base = $gen
log_level = info

; The Argon2id routes (nginx sends them here): one request a worker at a
; time, a short queue, so a full pool answers 503 at once.
[pool slow]
listen = $listen_slow
listen_backlog = 8
workers = 2
max_conns_per_worker = 1
max_requests = $max_requests
request_terminate_timeout = $slow_terminate
; Below the fast pool, in a scheduling group of its own (autogroup): a
; hashing worker cannot take a core from the fast workers.
process_priority = 10

[roostctl]
migrations_dir = $ROOT/migrations

[security]
secret_file = $SECRETS/secret

[redis]
$(redis_addr "$host")
prefix = roost:

[timeline]
fanout_max_followers = $fanout_max

[replication]
max_replica_lag = $max_lag

[catalog]
$(db_addr db1 "$host")
user = roost
password_file = $SECRETS/db_password
database = roost_catalog

[shards]
count = 4096
$( (( host == 2 )) && printf '; Several hosts: this one follows the map roostctl shard move writes to the\n; catalog (host 1 follows its file, which the move edits).\nmap = catalog\n' )

[shard a]
range = 0-2047
$(db_addr db1 "$host")
user = roost
password_file = $SECRETS/db_password
database = roost_shard

[shard b]
range = 2048-4095
$(db_addr db2 "$host")
user = roost
password_file = $SECRETS/db_password
database = roost_shard
EOF
}

# redis_addr HOST: where roostd host HOST finds Redis (see roost_conf).
redis_addr() {
    if (( $1 == 2 )); then
        echo "socket = $SOCKDIR/redis.sock"
        return
    fi
    printf 'host = 127.0.0.1\nport = %s\n' "$PORT_REDIS"
    [[ $STACK == test ]] && printf 'sentinels = 127.0.0.1:%s 127.0.0.1:%s 127.0.0.1:%s\nsentinel_master = roost\n' \
        "$PORT_SENT1" "$PORT_SENT2" "$PORT_SENT3"
    return 0
}

# db_addr PRIMARY HOST: the address and replica lines of db1 or db2 for
# roostd host HOST (see roost_conf).
db_addr() {
    local name=$1 host=$2 addr=127.0.0.1 port=$PORT_DB1 rport=$PORT_DB1R
    [[ $name == db2 ]] && addr=$HOST_DB2 port=$PORT_DB2 rport=$PORT_DB2R
    if (( host == 2 )); then
        printf 'socket = %s\nreplica = %s\n' "$(db_sock "$name")" "$(db_sock "${name}r")"
    else
        printf 'host = %s\nport = %s\nreplica = 127.0.0.1:%s\n' "$addr" "$port" "$rport"
    fi
}

roost_write_conf() {
    put "$CONF" < <(roost_conf 1)
    if [[ $STACK == test ]]; then
        mkdir -p "$RUN/host2"
        put "$RUN/host2/roost.conf" < <(roost_conf 2)
    fi
}

# The section that adds the test stack's spare server db3 as shard server
# c, holding no logical shard (OPERATIONS.md §4.3, step 2): the shard move
# test and the chaos run append it to roost.conf, migrate and reload.
shard_c_write_conf() {
    put "$RUN/shard-c.conf" <<EOF

; The third shard server (db3), added by a test: no range until a move.
[shard c]
host = 127.0.0.1
port = $PORT_DB3
user = roost
password_file = $SECRETS/db_password
database = roost_shard
EOF
    # The same server for the second roostd host, by its socket.
    mkdir -p "$RUN/host2"
    put "$RUN/host2/shard-c.conf" <<EOF

; The third shard server (db3), added by a test: no range until a move.
[shard c]
socket = $(db_sock db3)
user = roost
password_file = $SECRETS/db_password
database = roost_shard
EOF
}

# Sanitizer builds: no leak checks yet; reports go to log/sanitizer.PID.
sanitizer_env() {
    if [[ $SANITIZE == 1 ]]; then
        echo "ASAN_OPTIONS=detect_leaks=0:abort_on_error=0:log_path=$LOGDIR/sanitizer"
        echo "UBSAN_OPTIONS=print_stacktrace=1:log_path=$LOGDIR/sanitizer"
    fi
}

roostd_ready() { [[ -S $SOCK_ROOSTD && -S $SOCK_ROOSTD_SLOW ]]; }

roostd_start() {
    [[ -x $ROOSTD_BIN ]] || die "roostd: $ROOSTD_BIN is not built (run ./dev up)"
    rm -f "$SOCK_ROOSTD" "$SOCK_ROOSTD_SLOW"
    local envs
    mapfile -t envs < <(sanitizer_env)
    # The test stack lets a request arm the failpoints its tests use
    # (app/api/app.c); no other stack, and no installed roostd, does.
    if [[ $STACK == test ]]; then envs+=(ROOST_FAILPOINTS=write-reply-lost,kill-between-halves,breaker-open,slow-request,down-after-commit,outcome-unknowable); fi
    # Not under systemd here: keep roostd from notifying or taking sockets
    # meant for someone else.
    launch roostd env -u NOTIFY_SOCKET -u LISTEN_FDS -u LISTEN_PID -u LISTEN_FDNAMES \
        "${envs[@]}" "$ROOSTD_BIN" -c "$CONF"
    wait_ready roostd 20 roostd_ready
}

# tcp_open IP PORT: something accepts connections there.
tcp_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

roostd2_ready() {
    netns_names "$PORT_ROOSTD2"
    tcp_open "$NETNS_NS_IP" "$PORT_ROOSTD2" && tcp_open "$NETNS_NS_IP" "$((PORT_ROOSTD2 + 1))"
}

# The test stack's second roostd host: the same binary on host2/roost.conf
# inside the namespace roost-test-PORT (tools/netns.sh), then added to
# nginx's upstreams beside the first (run/test/nginx/hosts.d/).
roostd2_start() {
    [[ $STACK == test ]] || die "roostd2: only the test stack has a second roostd host"
    [[ -x $ROOSTD_BIN ]] || die "roostd2: $ROOSTD_BIN is not built (run ./dev up)"
    netns_setup "$PORT_ROOSTD2" ||
        die "roostd2: no network namespace for it here (needs root and iproute2)"
    local envs ns=$NETNS ip=$NETNS_NS_IP
    mapfile -t envs < <(sanitizer_env)
    envs+=(ROOST_FAILPOINTS=slow-request)
    launch roostd2 ip netns exec "$ns" env -u NOTIFY_SOCKET -u LISTEN_FDS -u LISTEN_PID \
        -u LISTEN_FDNAMES "${envs[@]}" "$ROOSTD_BIN" -c "$RUN/host2/roost.conf"
    wait_ready roostd2 20 roostd2_ready
    hosts_include roostd2 "$ip:$PORT_ROOSTD2" "$ip:$((PORT_ROOSTD2 + 1))"
}

# hosts_include NAME MAIN SLOW | hosts_include NAME: a roostd host's pools
# in nginx's upstreams (two addresses), or out of them (none); nginx, if
# it runs, reloads.
hosts_include() {
    local name=$1 dir=$RUN/nginx/hosts.d
    mkdir -p "$dir"
    if (( $# == 3 )); then
        echo "server $2;   # ./dev: roostd host $name" | put "$dir/main-$name.conf"
        echo "server $3;   # ./dev: roostd host $name" | put "$dir/slow-$name.conf"
    else
        rm -f "$dir/main-$name.conf" "$dir/slow-$name.conf"
    fi
    if svc_running nginx; then
        nginx_test
        kill -HUP "$PID"
        sleep 0.3                        # the new workers take over
    fi
}

# roostctl ARGS...: runs the stack's roostctl (sanitizer settings included).
roostctl() {
    [[ -x $ROOSTCTL_BIN ]] || die "roostctl: $ROOSTCTL_BIN is not built (run ./dev up)"
    local envs
    mapfile -t envs < <(sanitizer_env | sed 's/:log_path=[^:]*//')
    env "${envs[@]}" "$ROOSTCTL_BIN" -c "$CONF" "$@"
}

# ---------------------------------------------------------------- nginx

nginx_write_conf() {
    local site=$ROOT/nginx/roost-site.conf.in user_line="" nofile
    [[ -f $site ]] || die "missing $site"
    # The bench stack serves its floors (bench/) from the same server block:
    # its rendered site gets one include of run/bench/nginx/bench.d/*.conf
    # after the first server_name (a glob, so nothing has to be there). It
    # logs no access lines either: a log write per request at 100 000 req/s
    # costs CPU and disk the figures should not pay for. Other stacks are
    # rendered as before. The peers' upstream blocks (http-level) come from
    # run/bench/nginx/bench-http.d/*.conf, included before the site.
    local access_log="access_log $LOGDIR/nginx-access.log roost;" extra="" http_extra=""
    if [[ $STACK == bench ]]; then
        mkdir -p "$RUN/nginx/bench.d" "$RUN/nginx/bench-http.d"
        access_log="access_log off;"
        http_extra="include $RUN/nginx/bench-http.d/*.conf;   # ./dev bench: the peers' upstreams"$'\n    '
        extra="0,/^[[:space:]]*server_name[[:space:]]/{
            /^[[:space:]]*server_name[[:space:]]/a\\
\    include $RUN/nginx/bench.d/*.conf;   # ./dev bench: the floors and the peers
            }"
    fi
    # Placeholders are filled outside comments only, so the rendered file
    # keeps the template's explanation. A private stack listens on
    # 127.0.0.1 only: its IPv6 listen line is dropped.
    # The test stack's upstreams take more roostd hosts from hosts.d/ (a
    # glob: nothing need be there; roostd2_start puts its pools there).
    local hosts=""
    if [[ $STACK == test ]]; then
        mkdir -p "$RUN/nginx/hosts.d"
        hosts="s|^\([[:space:]]*\)server unix:@ROOSTD_SOCKET@;|&\\n\\1include $RUN/nginx/hosts.d/main-*.conf;|
        s|^\([[:space:]]*\)server unix:@ROOSTD_SLOW_SOCKET@;|&\\n\\1include $RUN/nginx/hosts.d/slow-*.conf;|"
    fi
    put "$RUN/nginx/roost-site.conf" < <(sed -e "/^[[:space:]]*#/!{
        $hosts
        /@LISTEN6@/d
        s|@LISTEN@|127.0.0.1:$PORT_NGINX|g
        s|@ROOSTD_SOCKET@|$SOCK_ROOSTD|g
        s|@ROOSTD_SLOW_SOCKET@|$SOCK_ROOSTD_SLOW|g
        s|@CACHE_DIR@|$CACHEDIR|g
        s|@DOCS_DIR@|$ROOT/docs/swagger-ui|g
        }" "$site" | sed -e "$extra")
    if grep -n '^[^#]*@[A-Z_]*@' "$RUN/nginx/roost-site.conf" >&2; then
        die "nginx/roost-site.conf.in has a placeholder ./dev does not fill"
    fi
    if [[ $STACK == bench ]] && ! grep -q "include $RUN/nginx/bench.d/" "$RUN/nginx/roost-site.conf"; then
        die "nginx/roost-site.conf.in: no server_name line to hang the bench include on"
    fi
    # As root, nginx would run its workers as `nobody`, who may not reach
    # the checkout; a private stack runs them as the invoking user.
    (( EUID == 0 )) && user_line="user root root;"
    nofile=$(ulimit -Hn)
    [[ $nofile == unlimited || $nofile -gt 16384 ]] && nofile=16384
    put "$RUN/nginx/nginx.conf" <<EOF
# $RUN/nginx/nginx.conf -- written by ./dev for stack '$STACK'. Do not edit.
# The site itself is nginx/roost-site.conf.in, rendered beside this file.
daemon off;
$user_line
worker_processes auto;
worker_rlimit_nofile $nofile;
pid $RUN/nginx/nginx.pid;
error_log $LOGDIR/nginx-error.log warn;

events {
    worker_connections 4096;
}

http {
    client_body_temp_path $RUN/nginx/tmp/client_body;
    fastcgi_temp_path     $RUN/nginx/tmp/fastcgi;
    proxy_temp_path       $RUN/nginx/tmp/proxy;
    scgi_temp_path        $RUN/nginx/tmp/scgi;
    uwsgi_temp_path       $RUN/nginx/tmp/uwsgi;

    log_format roost '\$remote_addr [\$time_iso8601] "\$request" \$status '
                     '\$body_bytes_sent rid=\$request_id rt=\$request_time '
                     'urt=\$upstream_response_time cache=\$upstream_cache_status';
    $access_log

    sendfile on;
    tcp_nodelay on;
    keepalive_timeout 65s;

    ${http_extra}include $RUN/nginx/roost-site.conf;
}
EOF
}

nginx_cmd() { nginx -e "$LOGDIR/nginx-error.log" -p "$RUN/nginx/" -c "$RUN/nginx/nginx.conf" "$@"; }

nginx_test() {
    local out
    out=$(nginx_cmd -t -q 2>&1) || { printf '%s\n' "$out" >&2; die "nginx: configuration test failed"; }
}

nginx_ready() { port_open "$PORT_NGINX"; }

nginx_start() {
    nginx_test
    launch nginx nginx -e "$LOGDIR/nginx-error.log" -p "$RUN/nginx/" -c "$RUN/nginx/nginx.conf"
    wait_ready nginx 20 nginx_ready
}

# ---------------------------------------------------------------- services

svc_pidfile() { echo "$RUN/$1.pid"; }

svc_port() {
    case $1 in
        db1) echo "$PORT_DB1";; db2) echo "$PORT_DB2";; redis) echo "$PORT_REDIS";;
        db1r) echo "$PORT_DB1R";; db2r) echo "$PORT_DB2R";; db3) echo "$PORT_DB3";;
        redis2) echo "$PORT_REDIS2";; sent1) echo "$PORT_SENT1";; sent2) echo "$PORT_SENT2";;
        sent3) echo "$PORT_SENT3";;
        nginx) echo "$PORT_NGINX";; *) echo "";;
    esac
}

svc_log() {
    case $1 in
        db[0-9]|db[0-9]r) echo "$LOGDIR/$1.err";; redis|redis2|sent?) echo "$LOGDIR/$1.log";;
        nginx) echo "$LOGDIR/nginx-error.log";; roostd|roostd2) echo "$LOGDIR/$1.log";;
    esac
}

svc_check_name() {
    local n
    for n in "${STACK_SERVICES[@]}"; do [[ $n == "$1" ]] && return 0; done
    die "unknown service '$1' (services of stack '$STACK': ${STACK_SERVICES[*]})"
}

# svc_running NAME: 0 when the pid file names a live process that started
# when the file says (so a recycled pid is not taken for ours); sets PID.
svc_running() {
    local f pid start
    f=$(svc_pidfile "$1")
    PID=""
    [[ -f $f ]] || return 1
    { read -r pid; read -r start; } <"$f" || true
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    proc_alive "$pid" || return 1
    [[ -z $start || $(proc_field "$pid" 19) == "$start" ]] || return 1
    PID=$pid
}

# launch NAME CMD...: starts CMD in its own session, output appended to
# log/NAME.out (roostd, which logs to stderr: log/roostd.log), and records
# its pid and start time.
launch() {
    local name=$1 out=$LOGDIR/$1.out; shift
    [[ $name == roostd || $name == roostd2 ]] && out=$LOGDIR/$name.log
    # fd 9 is ./dev's lock: the service must not inherit it.
    setsid "$@" </dev/null >>"$out" 2>&1 9>&- &
    local pid=$!
    printf '%s\n%s\n' "$pid" "$(proc_field "$pid" 19 || true)" >"$(svc_pidfile "$name")"
}

# wait_ready NAME SECONDS CHECK...: waits until CHECK succeeds; fails with
# the end of the service's log if the process dies or time runs out.
wait_ready() {
    local name=$1 secs=$2; shift 2
    local deadline=$(( $(now_ms) + secs * 1000 ))
    svc_running "$name" || true
    local pid=$PID
    until "$@"; do
        if [[ -z $pid ]] || ! proc_alive "$pid"; then
            wait "$pid" 2>/dev/null || true
            svc_fail "$name" "exited while starting"
        fi
        (( $(now_ms) < deadline )) || svc_fail "$name" "not ready after ${secs}s"
        sleep 0.1
    done
}

svc_fail() {
    local name=$1 why=$2 f
    for f in $(printf '%s\n' "$(svc_log "$name")" "$LOGDIR/$name.out" | sort -u); do
        [[ -s $f ]] || continue
        printf -- '--- last lines of %s\n' "$f" >&2
        tail -n 20 "$f" >&2
    done
    die "$name: $why (see $LOGDIR/)"
}

svc_start() {
    local name=$1 t0 port
    svc_check_name "$name"
    if svc_running "$name"; then
        say "$name: already running (pid $PID)"
        return 0
    fi
    port=$(svc_port "$name")
    if [[ -n $port ]] && port_open "$port"; then
        die "$name: port $port is already taken by another program (see: ss -ltnp 'sport = :$port')"
    fi
    t0=$(now_ms)
    case $name in
        db[0-9]|db[0-9]r) db_start "$name";;
        redis|redis2|sent?) redis_start "$name";;
        roostd)  roostd_start;;
        roostd2) roostd2_start;;
        nginx)   nginx_start;;
    esac
    svc_running "$name" || true
    say "$name: started (pid $PID${port:+, port $port}) in $(elapsed "$t0")"
}

svc_stop() {
    local name=$1 secs=15 left p children
    svc_check_name "$name"
    if ! svc_running "$name"; then
        rm -f "$(svc_pidfile "$name")"
        say "$name: not running"
        return 0
    fi
    local pid=$PID
    case $name in db[0-9]|db[0-9]r) secs=120;; roostd|roostd2) secs=10;; esac
    # Out of nginx's upstreams first, so no new request goes to it.
    [[ $name == roostd2 ]] && hosts_include roostd2
    children=$(children_of "$pid")
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_gone "$pid" "$secs"; then
        warn "$name (pid $pid) still running after ${secs}s: sending SIGKILL"
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
        wait_gone "$pid" 5 || warn "$name (pid $pid) survived SIGKILL"
    fi
    # Whatever it forked (workers) must go with it.
    # shellcheck disable=SC2086
    left=$(session_members "$pid"; still_alive $children)
    if [[ -n $left ]]; then
        sleep 1
        # shellcheck disable=SC2086
        left=$(session_members "$pid"; still_alive $children)
        for p in $left; do
            warn "$name: pid $p was left behind by $name (pid $pid): killing it"
            kill -KILL "$p" 2>/dev/null || true
        done
    fi
    rm -f "$(svc_pidfile "$name")"
    case $name in roostd) rm -f "$SOCK_ROOSTD" "$SOCK_ROOSTD_SLOW";; esac
    say "$name: stopped (pid $pid)"
}

# After a start of a running stack: apply configuration that changed.
svc_refresh() {
    local f
    for f in "${CHANGED[@]}"; do
        case $f in
            "$RUN/nginx/"*)
                if svc_running nginx; then
                    nginx_test
                    kill -HUP "$PID"
                    say "nginx: configuration changed, reloaded"
                fi;;
            "$RUN/db"*/my.cnf)
                local r=${f%/my.cnf}; r=${r##*/}
                svc_running "$r" && say "$r: my.cnf changed; apply with: ./dev svc $STACK restart $r";;
            "$RUN/redis/redis.conf") svc_running redis && say "redis: redis.conf changed; apply with: ./dev svc $STACK restart redis";;
        esac
    done
    return 0
}

# ---------------------------------------------------------------- whole stack

# Starts every service that is not running; db1 and db2 in parallel.
# Services already running are left alone, except that nginx reloads a
# changed configuration and roostd is restarted when its binary or its
# configuration is newer than the running process.
# The stacks' ports lie inside Linux's ephemeral range (32768-60999 by
# default): an outgoing connection that happens to take 38306 as its local
# port (even one in TIME-WAIT) makes the bench stack's db1 fail to bind.
# Reserving the ports keeps the kernel from handing them out; root only,
# and a failure is only a warning.
stack_reserve_ports() {
    local f=/proc/sys/net/ipv4/ip_local_reserved_ports cur want p
    [[ -w $f ]] || return 0
    cur=$(cat "$f")
    want=$cur
    for p in "$PORT_NGINX" "$PORT_DB1" "$PORT_DB2" "$PORT_DB3" "$PORT_DB1R" "$PORT_DB2R" "$PORT_REDIS" \
             "$PORT_REDIS2" "$PORT_SENT1" "$PORT_SENT2" "$PORT_SENT3"; do
        if ! grep -qE "(^|,)$p(,|$)" <<<"$cur"; then want=${want:+$want,}$p; fi
    done
    [[ $want == "$cur" ]] || echo "$want" >"$f" 2>/dev/null ||
        warn "could not reserve the stack's ports in $f"
}

# svc_start_parallel NAME...: starts those not running at once (each
# waits for its server: in parallel the waits overlap); fails if any did.
svc_start_parallel() {
    local name p pids=() rc=0
    for name in "$@"; do
        if svc_running "$name"; then
            say "$name: already running (pid $PID)"
        else
            ( svc_start "$name" ) &
            pids+=($!)
        fi
    done
    for p in "${pids[@]}"; do wait "$p" || rc=1; done
    return "$rc"
}

stack_start() {
    local t0 name
    t0=$(now_ms)
    stack_reserve_ports
    svc_refresh
    if svc_running roostd && [[ $ROOSTD_BIN -nt $(svc_pidfile roostd) || $CONF -nt $(svc_pidfile roostd) ]]; then
        say "roostd: binary or configuration changed since it started: restarting it"
        svc_stop roostd
    fi
    svc_start_parallel "${STACK_PRIMARIES[@]}" || die "the databases did not start"
    # The replicas copy their primaries on a first start: after them.
    svc_start_parallel db1r db2r || die "the replicas did not start"
    svc_start redis
    if [[ $STACK == test ]]; then
        for name in "${HA_SERVICES[@]}"; do svc_start "$name"; done
    fi
    svc_start roostd
    svc_start nginx
    say "stack '$STACK' is up in $(elapsed "$t0")"
}

stack_stop() {
    local i
    for (( i = ${#STACK_SERVICES[@]} - 1; i >= 0; i-- )); do
        svc_stop "${STACK_SERVICES[i]}"
    done
    # Nothing in the micro-cache outlives its second: with nginx stopped,
    # its tmpfs directory only holds memory.
    if [[ $CACHEDIR == /dev/shm/roost-cache-* ]] && ! svc_running nginx; then rm -rf "$CACHEDIR"; fi
}

stack_status() {
    local name port
    printf '%-7s %-8s %-8s %s\n' SERVICE STATE PID WHERE
    for name in "${STACK_SERVICES[@]}"; do
        port=$(svc_port "$name")
        local where=${port:+127.0.0.1:$port}
        [[ $name == db2 ]] && where=$HOST_DB2:$port
        case $name in db[0-9]|db[0-9]r) where+=" $(db_sock "$name")";; roostd) where=$SOCK_ROOSTD;;
            roostd2) netns_names "$PORT_ROOSTD2"; where="$NETNS_NS_IP:$PORT_ROOSTD2 (netns $NETNS)";; esac
        if svc_running "$name"; then
            printf '%-7s %-8s %-8s %s\n' "$name" running "$PID" "$where"
        else
            printf '%-7s %-8s %-8s %s\n' "$name" stopped - "$where"
        fi
    done
}

# Stops the stack and removes all its data (the test stack, each run).
stack_wipe() {
    stack_stop
    # (Fresh mode has not read stack.env: whatever namespace it had goes.)
    if [[ $STACK == test ]]; then netns_teardown; netns_teardown "$PORT_ROOSTD2"; fi
    rm -rf "$RUN"
    [[ $CACHEDIR == /dev/shm/roost-cache-* ]] && rm -rf "$CACHEDIR"
    [[ $SOCKDIR == /tmp/roost-* ]] && rm -rf "$SOCKDIR"
    return 0
}

# Serialises commands that start or stop services of one stack.
stack_lock() {
    mkdir -p "$ROOT/run"
    exec 9>"$ROOT/run/.$STACK.lock"
    flock -w 300 9 || die "stack '$STACK' is busy (another ./dev holds $ROOT/run/.$STACK.lock)"
}
stack_unlock() { exec 9>&-; }
