#!/usr/bin/env bash
# Checks examples/chat in a real browser, two nodes over NATS: builds the
# chat, devnats (NATS with JetStream in one process) and the Go client,
# starts NATS and two chat nodes on free loopback ports, runs a Go client
# on one node and check.js with four Chromium pages, two on each node, all
# in one room, and checks that everyone got every message once. Installs
# Debian's Chromium and playwright-core (in a temporary directory) if
# missing. Everything started is stopped at exit; each wait is bounded.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
chat=$(cd "$here/.." && pwd)
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
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
(cd "$work" && npm init -y >/dev/null && timeout 300 npm install --silent playwright-core@1 >/dev/null)
cd "$chat"
go build -o "$work/chat" .
go build -o "$work/devnats" ./devnats
go build -o "$work/goclient" ./browsercheck/goclient

# wait_for FILE PATTERN: waits up to 10 s for a line matching PATTERN in
# FILE and prints the first match.
wait_for() {
  for _ in $(seq 100); do
    if grep -m1 -o -E "$2" "$1" 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  echo "run.sh: no $2 in $1:" >&2
  cat "$1" >&2
  return 1
}

"$work/devnats" -port -1 >"$work/nats.out" 2>"$work/nats.log" &
pids+=("$!")
nats=$(wait_for "$work/nats.out" 'nats://[0-9.:]+')
echo "== NATS at $nats"
for node in a b; do
  "$work/chat" -addr 127.0.0.1:0 -nats "$nats" >"$work/$node.log" 2>&1 &
  pids+=("$!")
done
a=$(wait_for "$work/a.log" 'http://127\.0\.0\.1:[0-9]+')
b=$(wait_for "$work/b.log" 'http://127\.0\.0\.1:[0-9]+')
echo "== nodes at $a and $b"

room=browsercheck
each=5
"$work/goclient" -server "$b" -room "$room" -name goclient -send "$each" \
  -expect page1,page2,page3,page4 -each "$each" -timeout 60s >"$work/goclient.log" 2>&1 &
goclient=$!
pids+=("$goclient")
wait_for "$work/goclient.log" 'joined' >/dev/null

status=0
NODE_PATH="$work/node_modules" timeout 90 node "$here/check.js" "$room" "$each" goclient "$a/" "$a/" "$b/" "$b/" || status=$?
if [ "$status" -ne 0 ]; then
  kill "$goclient" 2>/dev/null || true
fi
wait "$goclient" || status=$?
cat "$work/goclient.log"
if [ "$status" -ne 0 ]; then
  echo "== logs"
  cat "$work/a.log" "$work/b.log"
  echo "run.sh: FAIL" >&2
  exit 1
fi
echo "run.sh: ok"
