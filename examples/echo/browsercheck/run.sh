#!/usr/bin/env bash
# Checks examples/echo in a real browser: installs Debian's Chromium and
# playwright-core if missing, starts the example twice and runs check.js:
# over HTTP/1.1, and over HTTPS with WebSockets as HTTP/2 streams
# (RFC 8441), which the example allows with GODEBUG=http2xconnect=1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
if ! command -v chromium >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
work=$(mktemp -d)
pids=()
# shellcheck disable=SC2317 # invoked by the trap
cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
(cd "$work" && npm init -y >/dev/null && npm install --silent playwright-core@1 >/dev/null)
cd "$root"
go build -o "$work/echo" ./examples/echo

# wait_port PORT: waits up to 5 s for a listener on 127.0.0.1:PORT.
wait_port() {
  for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "run.sh: nothing listens on port $1" >&2
  return 1
}

echo "== over HTTP/1.1"
"$work/echo" -addr 127.0.0.1:18089 >"$work/http1.log" 2>&1 &
pids+=("$!")
wait_port 18089
NODE_PATH="$work/node_modules" node "$here/check.js" http://127.0.0.1:18089/
cat "$work/http1.log"

echo "== over HTTP/2 (RFC 8441)"
GODEBUG=http2xconnect=1 "$work/echo" -tls -addr 127.0.0.1:18090 >"$work/http2.log" 2>&1 &
pids+=("$!")
wait_port 18090
NODE_PATH="$work/node_modules" node "$here/check.js" https://127.0.0.1:18090/ "HTTP/2.0 (CONNECT)"
cat "$work/http2.log"
# The server's log says so too: each WebSocket of the page came over HTTP/2.
grep -q 'connected to /push over HTTP/2.0' "$work/http2.log"
