# shellcheck shell=bash
# package.sh -- `./dev package` and `./dev package-test`, sourced by ./dev:
# the Debian packages built from a copy of the work tree with
# dpkg-buildpackage and checked by lintian, then installed with apt-get into
# a throwaway Debian 12 root made by mmdebstrap from this machine's own apt
# sources, where the files, the roost user, the secrets, `roostd -t` with
# systemd-style credentials, the units and the nginx site are checked.
# Everything lives under run/package/ (the apt cache survives, so a second
# run downloads nothing).

PKG_TOOLS=(debhelper dpkg-dev fakeroot lintian mmdebstrap)
PKG_DIR=$ROOT/run/package

# The version debian/changelog names (without the Debian revision).
pkg_upstream_version() {
    dpkg-parsechangelog -l "$ROOT/debian/changelog" -S Version | sed 's/-[^-]*$//'
}

# cmd_package: builds roost_*.deb and roost-nginx_*.deb in run/package/,
# then runs lintian on them; fails on any lintian error.
cmd_package() {
    (( $# == 0 )) || die "usage: ./dev package"
    local -a PACKAGES=("${PKG_TOOLS[@]}")
    install_packages
    local t0 ver src
    t0=$(now_ms)
    ver=$(pkg_upstream_version) || die "cannot read debian/changelog"
    src=$PKG_DIR/roost-$ver
    rm -rf "$src" "$PKG_DIR"/*.deb "$PKG_DIR"/*.changes "$PKG_DIR"/*.buildinfo
    mkdir -p "$src"
    # The tracked and new files of the work tree, as they are now (not the
    # build directories, not run/).
    (cd "$ROOT" && git ls-files -z -co --exclude-standard | tar --null -T - -cf -) |
        tar -xf - -C "$src" || die "cannot copy the work tree to $src"
    say "dpkg-buildpackage -us -uc -b in $src"
    (cd "$src" && dpkg-buildpackage -us -uc -b -j"$JOBS") > "$PKG_DIR/build.log" 2>&1 || {
        tail -n 40 "$PKG_DIR/build.log"
        die "dpkg-buildpackage failed (log: $PKG_DIR/build.log)"
    }
    say "built in $(elapsed "$t0"):"
    ls -l "$PKG_DIR"/*.deb >&2
    say "lintian"
    local changes rc=0
    changes=$(ls "$PKG_DIR"/roost_*.changes)
    lintian --fail-on error --display-info "$changes" || rc=$?
    (( rc == 0 )) || die "lintian reports errors"
    say "lintian: no errors"
}

# Commands run inside the throwaway root after apt-get installed the
# packages: each check prints one line, the first failure stops it.
pkg_checks_script() {
    cat <<'EOF'
set -eu
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $*"; }
for f in /usr/sbin/roostd /usr/sbin/roostctl /etc/roost/roost.conf \
         /lib/systemd/system/roostd.service /lib/systemd/system/roostd.socket \
         /lib/systemd/system/roostd-slow.socket \
         /usr/lib/sysusers.d/roost.conf /usr/lib/tmpfiles.d/roost.conf \
         /usr/share/roost/migrations/catalog/0001_products.sql \
         /usr/share/roost/migrations/shard/0001_users.sql \
         /usr/share/man/man8/roostd.8.gz /usr/share/man/man5/roost.conf.5.gz \
         /etc/nginx/sites-available/roost /usr/share/roost/docs/index.html \
         /usr/share/roost/docs/swagger-ui-bundle.js; do
    [ -e "$f" ] || fail "$f is missing"
done
ok "the files landed ($(dpkg -L roost roost-nginx | wc -l) paths)"
[ -f /usr/share/roost/docs/openapi.yaml ] && [ ! -L /usr/share/roost/docs/openapi.yaml ] ||
    fail "/usr/share/roost/docs/openapi.yaml is not a file"
grep -q 'alias /usr/share/roost/docs/;' /etc/nginx/sites-available/roost || fail "the site's /docs alias"
ok "the /docs page: /usr/share/roost/docs (Swagger UI, openapi.yaml), aliased by the site"
grep -qx /etc/roost/roost.conf /var/lib/dpkg/info/roost.conffiles || fail "roost.conf is not a conffile"
grep -qx /etc/nginx/sites-available/roost /var/lib/dpkg/info/roost-nginx.conffiles || fail "the site is not a conffile"
ok "conffiles: /etc/roost/roost.conf, /etc/nginx/sites-available/roost"
getent passwd roost >/dev/null || fail "no roost user"
ok "user: $(getent passwd roost)"
[ "$(stat -c '%U %a' /etc/roost/secret)" = "root 600" ] || fail "secret: $(stat -c '%U %a' /etc/roost/secret)"
[ "$(stat -c '%U %a' /etc/roost/db_password)" = "root 600" ] || fail "db_password not root 600"
ok "/etc/roost/secret and db_password: root, 0600"
roostctl --version
roostd -t -c /etc/roost/roost.conf || fail "roostd -t as root (credentials beside the config)"
# What systemd's LoadCredential= does: copies readable by User=roost only,
# named by $CREDENTIALS_DIRECTORY.
creds=/run/credentials/roostd.service
mkdir -p "$creds"
cp /etc/roost/secret "$creds/secret"
cp /etc/roost/db_password "$creds/db_password"
chown -R roost: "$creds"; chmod 500 "$creds"; chmod 400 "$creds"/*
runuser -u roost -- env CREDENTIALS_DIRECTORY="$creds" roostd -t -c /etc/roost/roost.conf ||
    fail "roostd -t as roost with the credentials"
if runuser -u roost -- roostd -t -c /etc/roost/roost.conf >/dev/null 2>&1; then
    fail "roost reads the root-only secret without credentials"
fi
ok "roostd -t as user roost: passes with \$CREDENTIALS_DIRECTORY, fails without (root-only files)"
[ "$(readlink /etc/nginx/sites-enabled/roost)" = ../sites-available/roost ] || fail "the site is not enabled"
[ -e /etc/nginx/sites-enabled/default ] || fail "Debian's default site is gone"
out=$(nginx -t 2>&1) || fail "nginx -t: $out"
ok "nginx -t with Debian's nginx.conf, its default site and roost's: $(echo "$out" | tail -n 1)"
if command -v systemd-analyze >/dev/null; then
    out=$(systemd-analyze verify --man=no /lib/systemd/system/roostd.socket /lib/systemd/system/roostd-slow.socket /lib/systemd/system/roostd.service 2>&1) ||
        fail "systemd-analyze verify: $out"
    [ -z "$out" ] || fail "systemd-analyze verify: $out"
    ok "systemd-analyze verify: clean"
    systemd-analyze security --offline=yes /lib/systemd/system/roostd.service | tail -n 1
fi
[ -L /etc/systemd/system/sockets.target.wants/roostd.socket ] || fail "roostd.socket is not enabled"
[ -L /etc/systemd/system/sockets.target.wants/roostd-slow.socket ] || fail "roostd-slow.socket is not enabled"
ok "roostd.socket, roostd-slow.socket and roostd.service enabled"
apt-get purge -y -q roost-nginx roost >/dev/null
[ ! -e /etc/nginx/sites-enabled/roost ] || fail "purge left the site enabled"
[ ! -e /etc/roost ] || fail "purge left /etc/roost: $(ls -A /etc/roost)"
nginx -t >/dev/null 2>&1 || fail "nginx -t fails after the purge"
ok "apt-get purge: site disabled, /etc/roost gone, nginx -t still passes"
echo "PASS: package installed and checked"
EOF
}

# cmd_package_test: ./dev package, then a fresh Debian 12 root (mmdebstrap,
# variant apt) in which `apt-get install ./roost_*.deb ./roost-nginx_*.deb`
# resolves the dependencies from the archive and the checks above run.
cmd_package_test() {
    (( $# == 0 )) || die "usage: ./dev package-test"
    (( EUID == 0 )) || die "package-test needs root (mmdebstrap --mode=root, chroot)"
    local t0 tb
    t0=$(now_ms)
    cmd_package
    tb=$(now_ms)
    local root=$PKG_DIR/root cache=$PKG_DIR/apt-cache sources
    sources=$(pkg_sources) || die "no Debian 12 apt source on this machine (/etc/apt/sources.list*)"
    local stage=$PKG_DIR/stage
    rm -rf "$root" "$stage"
    mkdir -p "$cache" "$stage"
    cp "$PKG_DIR"/roost_*.deb "$PKG_DIR"/roost-nginx_*.deb "$stage/"
    pkg_checks_script > "$stage/checks.sh"
    say "mmdebstrap bookworm (variant apt) into $root, then apt-get install the packages"
    # Hooks: the apt cache in and out (sync-in/sync-out), services kept from
    # starting (no systemd runs there anyway), our packages installed by
    # apt-get so that their dependencies come from the archive.
    local rc=0
    printf '%s\n' "$sources" | mmdebstrap --mode=root --variant=apt --skip=cleanup/apt/cache \
        --setup-hook='mkdir -p "$1"/var/cache/apt/archives' \
        --setup-hook="sync-in '$cache' /var/cache/apt/archives" \
        --customize-hook='printf "#!/bin/sh\nexit 101\n" > "$1"/usr/sbin/policy-rc.d; chmod 755 "$1"/usr/sbin/policy-rc.d' \
        --customize-hook="mkdir -p \"\$1\"/tmp/debs && cp '$stage'/* \"\$1\"/tmp/debs/" \
        --customize-hook='chroot "$1" sh -c "DEBIAN_FRONTEND=noninteractive apt-get install -y -q /tmp/debs/*.deb" > "$1"/tmp/debs/apt.log 2>&1 || { tail -n 20 "$1"/tmp/debs/apt.log; exit 1; }' \
        --customize-hook='grep -E "^(Setting up|Creating|The following NEW)" "$1"/tmp/debs/apt.log | tail -n 3' \
        --customize-hook="sync-out /var/cache/apt/archives '$cache'" \
        --customize-hook='chroot "$1" sh /tmp/debs/checks.sh' \
        bookworm "$root" - > "$PKG_DIR/package-test.log" 2>&1 || rc=$?
    grep -E '^(ok|FAIL|PASS|roostctl|roostd|nginx|→|Setting up roost)' "$PKG_DIR/package-test.log" || true
    rm -rf "$root" "$stage"
    if (( rc != 0 )); then
        tail -n 30 "$PKG_DIR/package-test.log"
        die "package-test failed (log: $PKG_DIR/package-test.log)"
    fi
    say "package-test passed in $(elapsed "$t0") (build and lintian $(elapsed_between "$t0" "$tb"), install test $(elapsed "$tb"))"
}

elapsed_between() {
    local ms=$(( $2 - $1 ))
    printf '%d.%01d s' $(( ms / 1000 )) $(( ms % 1000 / 100 ))
}

# This machine's Debian 12 apt sources (one-line format) for mmdebstrap:
# the main archive, its updates and security, whatever mirror they use.
pkg_sources() {
    local f out=""
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -f $f ]] || continue
        out+=$(grep -E '^deb[[:space:]].*[[:space:]]bookworm(-updates|-security)?[[:space:]]' "$f" || true)$'\n'
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -f $f ]] || continue
        out+=$(awk '
            /^[[:space:]]*$/ { flush(); next }
            /^URIs:/ { uris = $2 } /^Suites:/ { $1 = ""; suites = $0 }
            /^Components:/ { $1 = ""; comps = $0 } /^Types:/ { types = $2 }
            function flush() {
                if (types == "deb" && uris != "" && suites ~ /bookworm/) {
                    n = split(suites, s, " ")
                    for (i = 1; i <= n; i++) print "deb " uris " " s[i] comps
                }
                uris = suites = comps = types = ""
            }
            END { flush() }' "$f")$'\n'
    done
    out=$(grep -v '^$' <<<"$out" || true)
    [[ -n $out ]] || return 1
    printf '%s\n' "$out"
}
