#!/bin/sh
# nginx-site.sh -- the nginx site as the package installs it (make's
# nginx/roost-site.conf: port 8080 on IPv4 and IPv6), put into a copy of
# Debian's stock /etc/nginx with the default site still enabled, the way
# roost-nginx does: `nginx -t` passes, and a running nginx answers roost's
# JSON on roost's port whatever the Host header, on 127.0.0.1 and [::1],
# while the default site keeps its own port. Skipped (77) without nginx or
# when this machine's nginx.conf or default site are not Debian's stock
# files (dpkg's checksums). Run by `make check` from the build directory.
set -eu
srcdir=$(cd "${srcdir:-.}" && pwd)
command -v nginx >/dev/null 2>&1 || { echo "SKIP: no nginx"; exit 77; }
command -v curl >/dev/null 2>&1 || { echo "SKIP: no curl"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

# Debian's stock files, unchanged (dpkg records their checksums).
stock() {
    want=$(dpkg-query -W -f='${Conffiles}\n' nginx-common 2>/dev/null | awk -v f="$1" '$1 == f { print $2 }')
    [ -n "$want" ] && [ "$(md5sum < "$1" | cut -d' ' -f1)" = "$want" ]
}
for f in /etc/nginx/nginx.conf /etc/nginx/sites-available/default; do
    stock "$f" || { echo "SKIP: $f is not Debian's stock file"; exit 77; }
done
site=nginx/roost-site.conf
[ -f "$site" ] || fail "$site was not built"

# Ports: beside the test stack's nginx port (ROOST_TEST_URL), never 80.
base=$(printf '%s' "${ROOST_TEST_URL:-http://127.0.0.1:28080}" | sed -n 's|.*:\([0-9]*\)$|\1|p')
p_default=$((base + 10)); p_roost=$((base + 11))

tmp=$(mktemp -d)
chmod 755 "$tmp"    # nginx workers (www-data) use the cache under it
pid=""
cleanup() {
    [ -z "$pid" ] || kill "$pid" 2>/dev/null || true
    [ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
# The whole of /etc/nginx, its absolute paths moved into $tmp; the default
# site as shipped but for its port; roost's site but for its port, socket
# and cache directory, enabled beside it.
cp -a /etc/nginx "$tmp/etc"
sed -i -e "s|/etc/nginx/|$tmp/etc/|g" -e "s|^pid .*|pid $tmp/nginx.pid;|" \
    -e "s|/var/log/nginx/|$tmp/|g" "$tmp/etc/nginx.conf"
ln -sf "$tmp/etc/sites-available/default" "$tmp/etc/sites-enabled/default"
sed -i "s|listen \(\[::\]:\)\{0,1\}80 default_server|listen \1$p_default default_server|" \
    "$tmp/etc/sites-available/default"
sed -e "s|listen 8080 |listen $p_roost |" -e "s|listen \[::\]:8080 |listen [::]:$p_roost |" \
    -e "s|unix:/run/roost/roostd.sock|unix:$tmp/no-roostd.sock|" \
    -e "s|fastcgi_cache_path [^ ]*|fastcgi_cache_path $tmp/cache|" "$site" > "$tmp/etc/sites-available/roost"
ln -s "$tmp/etc/sites-available/roost" "$tmp/etc/sites-enabled/roost"
grep -q "listen \[::\]:$p_roost " "$tmp/etc/sites-available/roost" || fail "the site has no IPv6 listen line"

out=$(nginx -t -c "$tmp/etc/nginx.conf" -g "error_log $tmp/error.log;" 2>&1) || fail "nginx -t: $out"
echo "nginx -t with Debian's nginx.conf, the default site and roost's: ok"

nginx -c "$tmp/etc/nginx.conf" -g "error_log $tmp/error.log;" || fail "nginx did not start: $(cat "$tmp/error.log")"
for i in 1 2 3 4 5 6 7 8 9 10; do [ -s "$tmp/nginx.pid" ] && break; sleep 0.2; done
pid=$(cat "$tmp/nginx.pid")

# roost's port: roost's JSON (no roostd behind it: its 502), any Host.
for url in "http://127.0.0.1:$p_roost/products" "http://[::1]:$p_roost/products"; do
    for host in example.com localhost; do
        body=$(curl -s -H "Host: $host" -H 'Accept: application/json' "$url") || fail "no answer from $url"
        case $body in
            *'"code":"upstream_unavailable"'*) ;;
            *) fail "$url (Host: $host) was not answered by roost's site: $body" ;;
        esac
    done
done
echo "roost's site answers on 127.0.0.1:$p_roost and [::1]:$p_roost for any Host"
# The default site still has its own port.
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p_default/") || true
case $code in 200|403|404) ;; *) fail "the default site answered $code" ;; esac
echo "Debian's default site still answers on its port ($code)"
echo "PASS: nginx site"
