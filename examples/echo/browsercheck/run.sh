#!/usr/bin/env bash
# Checks examples/echo in a real browser: installs Debian's Chromium and
# playwright-core if missing, starts the example, and runs check.js.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
if ! command -v chromium >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
work=$(mktemp -d)
trap 'kill "${pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
(cd "$work" && npm init -y >/dev/null && npm install --silent playwright-core@1 >/dev/null)
cd "$root"
go build -o "$work/echo" ./examples/echo
"$work/echo" -addr 127.0.0.1:18089 >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 50); do
  (exec 3<>/dev/tcp/127.0.0.1/18089) 2>/dev/null && break
  sleep 0.1
done
NODE_PATH="$work/node_modules" node "$here/check.js" http://127.0.0.1:18089/
cat "$work/server.log"
