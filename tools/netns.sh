# shellcheck shell=bash
# tools/netns.sh -- the test stack's shard server db2 in a network
# namespace of its own (sourced by ./dev, after tools/stack.sh).
#
# Stopping a server is not a partition: its clients get a refused
# connection at once. A partition drops packets, so a query already sent
# waits for its read timeout and a new connection for its connect timeout.
# To cut roostd off from one shard server for real, the test stack runs
# db2 inside the namespace roost-STACK-PORT, joined to the host by a veth
# pair on a /30 of its own (10.213.x.y, derived from db2's port so two
# checkouts never share one); `ip link set ... down` on the host's end is
# the partition (tools/chaos.sh, fault "partition"). Everything else that
# talks to db2 from the host (./dev, roostctl, the replica db2r) uses that
# address too, or db2's unix socket, which no namespace hides.
#
# It needs root and iproute2; where a namespace cannot be made (a
# container without CAP_SYS_ADMIN), db2 stays on 127.0.0.1 and the chaos
# run reports the partition as skipped. ROOST_NETNS=0 turns it off.
#
# The same functions, given another port, make the namespace of the test
# stack's second roostd host (roostd2, tools/stack.sh): its own address on
# a pair of its own, nginx reaching it over TCP.

# netns_names [PORT]: NETNS, NETNS_HOST_IF, NETNS_NS_IF, NETNS_HOST_IP,
# NETNS_NS_IP of the namespace keyed by PORT (default: db2's).
netns_names() {
    local port=${1:-$PORT_DB2}
    local a=$(( (port / 64) % 256 )) b=$(( (port % 64) * 4 ))
    NETNS=roost-$STACK-$port
    NETNS_HOST_IF=rs${port}h
    NETNS_NS_IF=rs${port}n
    NETNS_HOST_IP=10.213.$a.$(( b + 1 ))
    NETNS_NS_IP=10.213.$a.$(( b + 2 ))
}

netns_exists() { ip netns list 2>/dev/null | grep -qE "^$NETNS( |$)"; }

# netns_setup [PORT]: the namespace, the pair and both addresses
# (idempotent: a reboot forgets them, stack.env does not); 1 if the
# machine cannot.
netns_setup() {
    netns_names "$@"
    command -v ip >/dev/null 2>&1 && (( EUID == 0 )) || return 1
    if ! netns_exists; then
        ip netns add "$NETNS" 2>/dev/null || return 1
    fi
    if ! ip link show "$NETNS_HOST_IF" >/dev/null 2>&1; then
        ip link add "$NETNS_HOST_IF" type veth peer name "$NETNS_NS_IF" netns "$NETNS" 2>/dev/null ||
            { netns_teardown "$@"; return 1; }
        ip addr add "$NETNS_HOST_IP/30" dev "$NETNS_HOST_IF" &&
            ip -n "$NETNS" addr add "$NETNS_NS_IP/30" dev "$NETNS_NS_IF" ||
            { netns_teardown "$@"; return 1; }
    fi
    ip link set "$NETNS_HOST_IF" up &&
        ip -n "$NETNS" link set lo up &&
        ip -n "$NETNS" link set "$NETNS_NS_IF" up ||
        { netns_teardown "$@"; return 1; }
}

# netns_teardown [PORT]: the namespace and the pair go (deleting the
# namespace deletes its end of the pair, and with it the host's).
netns_teardown() {
    netns_names "$@"
    if netns_exists; then ip netns del "$NETNS" 2>/dev/null || true; fi
    ip link del "$NETNS_HOST_IF" >/dev/null 2>&1 || true
}

# netns_choose: for a fresh test stack, put db2 in its namespace if the
# machine can (sets DB2_NETNS and HOST_DB2, which stack.env records).
netns_choose() {
    DB2_NETNS=""
    HOST_DB2=127.0.0.1
    HOST_PEER=""
    [[ $STACK == test && ${ROOST_NETNS:-1} != 0 ]] || return 0
    # Made, and usable: `ip netns exec` also needs to mount /sys, which a
    # container may forbid where `ip netns add` works.
    if netns_setup && ip netns exec "$NETNS" true 2>/dev/null &&
            netns_answers; then
        DB2_NETNS=$NETNS
        HOST_DB2=$NETNS_NS_IP
        HOST_PEER=$NETNS_HOST_IP
    else
        netns_teardown
        warn "no network namespace for db2 (needs root and iproute2; ROOST_NETNS=0 silences this): db2 stays on 127.0.0.1 and the chaos run skips the partition"
    fi
}

# The namespace's end answers from the host (the pair is really up).
netns_answers() {
    command -v ping >/dev/null 2>&1 || return 0
    ping -c 1 -W 2 "$NETNS_NS_IP" >/dev/null 2>&1
}

# netns_prefix NAME: sets NETNS_CMD to what runs a command inside db2's
# namespace when NAME is db2 (empty otherwise), making the namespace
# again if the machine forgot it.
netns_prefix() {
    NETNS_CMD=()
    [[ $1 == db2 && -n ${DB2_NETNS:-} ]] || return 0
    netns_setup || die "db2: its network namespace $DB2_NETNS cannot be set up again"
    NETNS_CMD=(ip netns exec "$DB2_NETNS")
}

# netns_cut / netns_mend: the partition and its end, on the host's side.
netns_cut()  { netns_names; ip link set "$NETNS_HOST_IF" down; }
netns_mend() { netns_names; ip link set "$NETNS_HOST_IF" up; }
