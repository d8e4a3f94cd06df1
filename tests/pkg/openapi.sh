#!/bin/sh
# openapi.sh -- docs/openapi.yaml against the linter and the server:
# `redocly lint` (recommended rules) must pass, and every answer the API
# tests received in this run (ROOST_TEST_RECORD, written by
# tests/api/client.c; ./dev test sets it) must match the document: status,
# documented headers, body schema (tools/openapi/validate.js, built on
# openapi-backend). Skipped (77) without node or without the npm packages
# of tools/openapi (./dev test installs them when npm is there). Run by
# `make check` after the API tests.
set -eu
srcdir=$(cd "${srcdir:-.}" && pwd)
tools=$srcdir/tools/openapi
spec=$srcdir/docs/openapi.yaml
command -v node >/dev/null 2>&1 || { echo "SKIP: no node (apt-get install nodejs npm)"; exit 77; }
[ -x "$tools/node_modules/.bin/redocly" ] && [ -d "$tools/node_modules/openapi-backend" ] ||
    { echo "SKIP: no npm packages in $tools (npm ci --prefix $tools)"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

out=$("$tools/node_modules/.bin/redocly" lint --format=stylish "$spec" 2>&1) || { echo "$out"; fail "redocly lint"; }
printf '%s\n' "$out" | grep -v '^$' | tail -n 3
echo "redocly lint docs/openapi.yaml: passed"

rec=${ROOST_TEST_RECORD:-}
if [ -z "$rec" ]; then
    echo "no ROOST_TEST_RECORD (run through ./dev test): responses not validated"
    echo "PASS: openapi (lint only)"
    exit 0
fi
[ -s "$rec" ] || fail "$rec is empty: the API tests recorded nothing"
node "$tools/validate.js" "$spec" "$rec" || fail "answers that do not match docs/openapi.yaml (above)"
echo "PASS: openapi"
