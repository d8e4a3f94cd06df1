#!/bin/sh
# systemd-units.sh -- the shipped systemd files, checked with systemd's own
# tools: `systemd-analyze verify` says nothing about roostd.service and
# roostd.socket (man pages of Documentation= included), `systemd-analyze
# security --offline=yes` rates roostd.service at most 2.0, the sysusers.d
# entry makes the roost user in an empty root and the tmpfiles.d entry its
# runtime directory. Skipped (77) without systemd-analyze. Run by `make
# check` from the build directory ($srcdir is the source tree).
set -eu
srcdir=$(cd "${srcdir:-.}" && pwd)
command -v systemd-analyze >/dev/null 2>&1 || { echo "SKIP: no systemd-analyze"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# The unit make built names configure's paths, with no placeholder left.
built=systemd/roostd.service
[ -f "$built" ] || fail "$built was not built"
grep -n '@[a-z]*@' "$built" && fail "$built keeps a placeholder"
grep -q '^ExecStart=/.*/sbin/roostd -c /.*/roost/roost.conf$' "$built" || fail "ExecStart in $built: $(grep ^ExecStart= "$built")"

# verify needs the programs and the man pages where the unit says: the
# same template filled with this build's roostd and a man tree of ours.
sed -e "s|@sbindir@|$PWD/app/roostd|g" -e "s|@sysconfdir@|/etc|g" \
    "$srcdir/systemd/roostd.service.in" > "$tmp/roostd.service"
cp "$srcdir/systemd/roostd.socket" "$srcdir/systemd/roostd-slow.socket" "$tmp/"
mkdir -p "$tmp/man/man5" "$tmp/man/man8"
cp "$srcdir"/docs/man/*.8 "$tmp/man/man8/"
cp "$srcdir"/docs/man/*.5 "$tmp/man/man5/"
out=$(cd "$tmp" && MANPATH=$tmp/man systemd-analyze verify ./roostd.socket ./roostd-slow.socket ./roostd.service 2>&1) ||
    fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify is not clean: $out"
echo "systemd-analyze verify roostd.socket roostd-slow.socket roostd.service: clean"

sec=$(systemd-analyze security --offline=yes "$tmp/roostd.service" 2>&1) || fail "systemd-analyze security: $sec"
line=$(printf '%s\n' "$sec" | grep 'Overall exposure level') || fail "no exposure level in: $sec"
echo "$line"
score=$(printf '%s\n' "$line" | sed -n 's/.*: \([0-9]*\.[0-9]\).*/\1/p')
[ -n "$score" ] || fail "cannot read the score of: $line"
awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' || {
    printf '%s\n' "$sec" | grep '✗'
    fail "exposure $score is above 2.0"
}

# sysusers.d and tmpfiles.d, applied to an empty root.
if command -v systemd-sysusers >/dev/null 2>&1 && command -v systemd-tmpfiles >/dev/null 2>&1; then
    mkdir -p "$tmp/root/etc"
    systemd-sysusers --root="$tmp/root" "$srcdir/systemd/roost.sysusers" >/dev/null 2>&1 ||
        fail "systemd-sysusers refused systemd/roost.sysusers"
    grep -q '^roost:x:[0-9]*:[0-9]*:.*:/nonexistent:/usr/sbin/nologin$' "$tmp/root/etc/passwd" ||
        fail "no roost system user: $(cat "$tmp/root/etc/passwd")"
    if [ "$(id -u)" = 0 ]; then
        systemd-tmpfiles --root="$tmp/root" --create "$srcdir/systemd/roost.tmpfiles" ||
            fail "systemd-tmpfiles refused systemd/roost.tmpfiles"
        uid=$(sed -n 's/^roost:x:\([0-9]*\):.*/\1/p' "$tmp/root/etc/passwd")
        [ "$(stat -c %u "$tmp/root/run/roost")" = "$uid" ] || fail "/run/roost is not the roost user's"
    fi
    echo "sysusers.d: user roost made; tmpfiles.d: /run/roost"
fi
echo "PASS: systemd units"
