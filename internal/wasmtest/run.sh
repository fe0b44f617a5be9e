#!/usr/bin/env bash
# Runs the browser test of conn and client (GOOS=js GOARCH=wasm) in
# headless Chromium: installs Debian's Chromium if missing and
# playwright-core into a temporary directory, then runs TestBrowser with
# WASMTEST_NODE_MODULES pointing at it. The test builds the wasm program,
# serves it on 127.0.0.1:0 and kills the browser it starts; everything
# here is removed on exit.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ ! -x /usr/bin/chromium ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm init -y >/dev/null && timeout 300 npm install --silent playwright-core@1 >/dev/null)
cd "$here"
WASMTEST_NODE_MODULES="$work/node_modules" timeout 300 go test -count=1 -run 'TestJSBuild|TestBrowser' -v . "$@"
