#!/bin/sh
# docs-page.sh -- the /docs page of the test stack's nginx in headless
# Chromium: the page loads from nginx alone (Swagger UI over
# docs/openapi.yaml) and renders every path of the document; a screenshot
# is left as docs-page.png in the stack's directory. Skipped (77) without
# chromium or without a stack (ROOST_TEST_URL; ./dev test sets it).
set -eu
srcdir=$(cd "${srcdir:-.}" && pwd)
url=${ROOST_TEST_URL:-}
[ -n "$url" ] || { echo "SKIP: no ROOST_TEST_URL (run through ./dev test)"; exit 77; }
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "SKIP: no chromium (apt-get install chromium)"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

# nginx serves the page and the document itself.
code=$(curl -s -o /dev/null -w '%{http_code}' "$url/docs/openapi.yaml")
[ "$code" = 200 ] || fail "GET /docs/openapi.yaml: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "$url/docs")
[ "$code" = 301 ] || fail "GET /docs: $code, want 301 to /docs/"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
shot=${ROOST_TEST_RUN_DIR:-$tmp}/docs-page.png
flags="--headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
       --user-data-dir=$tmp/profile --virtual-time-budget=15000 --window-size=1280,2400"
# shellcheck disable=SC2086
timeout 90 "$browser" $flags --dump-dom "$url/docs/" > "$tmp/dom.html" 2> "$tmp/chromium.log" ||
    { tail -n 20 "$tmp/chromium.log"; fail "chromium --dump-dom failed"; }
# shellcheck disable=SC2086
timeout 90 "$browser" $flags --screenshot="$shot" "$url/docs/" >/dev/null 2>&1 ||
    echo "note: no screenshot"

# Every path of the document (a line "  /path:" under paths:) must be
# rendered as an operation's path.
paths=$(sed -n '/^paths:/,/^[a-z]/s|^  \(/[^:]*\):$|\1|p' "$srcdir/docs/openapi.yaml")
[ -n "$paths" ] || fail "no paths read from docs/openapi.yaml"
n=0
for p in $paths; do
    grep -q "data-path=\"$p\"" "$tmp/dom.html" || fail "the page does not render $p"
    n=$((n + 1))
done
ops=$(grep -o 'class="opblock opblock-[a-z]*' "$tmp/dom.html" | wc -l)
echo "Chromium rendered /docs/: all $n paths, $ops operations; screenshot $shot"
echo "PASS: docs page"
