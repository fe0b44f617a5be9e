#!/usr/bin/env bash
# Interoperability checks of permessage-deflate (RFC 7692) against real
# peers: Node's ws as client and as server, and headless Chromium as
# client, with context takeover on, each no-context-takeover variant, and
# window-size limits, asked for by either side; the same against our echo
# server on package eventloop's event loops; our client against a
# Socket.IO server, with and without compression; and the ws command
# (cmd/ws) against the ws echo server. Needs Go, Node (20 or
# later) with npm, and apt-get if /usr/bin/chromium is missing. Builds and
# starts the Go (goroutine and event-loop) and ws echo servers on
# 127.0.0.1, runs every check, prints a summary table and exits non-zero
# if anything failed. Everything it starts is bounded in time and stopped
# on exit.
#
#   bash interop/run.sh
#
# INTEROP_GO_PORT, INTEROP_WS_PORT, INTEROP_SIO_PORT and
# INTEROP_EVENTLOOP_PORT (default 18100, 18101, 18102 and 18103) choose
# the ports; CHROMIUM the browser binary (default /usr/bin/chromium, which
# is installed from Debian's chromium package if missing).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
go_port=${INTEROP_GO_PORT:-18100}
ws_port=${INTEROP_WS_PORT:-18101}
sio_port=${INTEROP_SIO_PORT:-18102}
el_port=${INTEROP_EVENTLOOP_PORT:-18103}
export CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

# Every step after the Chromium install shares one time budget.
budget=170
start=$SECONDS
# left N prints the seconds a step may take: N, or less if the budget is
# nearly spent (at least 1, so that a late step fails by its timeout).
left() {
  local rest=$((budget - (SECONDS - start)))
  ((rest < 1)) && rest=1
  ((rest < $1)) && echo "$rest" || echo "$1"
}

step() { printf '== %s\n' "$*"; }

work=$(mktemp -d)
pids=()
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
trap 'exit 130' INT TERM

if [ "$CHROMIUM" = /usr/bin/chromium ] && [ ! -x /usr/bin/chromium ]; then
  step "installing Chromium (apt-get)"
  timeout 120 apt-get update -qq
  DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq chromium >/dev/null
  start=$SECONDS
fi

step "npm install (ws, socket.io, playwright-core)"
(cd "$here/node" && timeout "$(left 120)" npm install --no-audit --no-fund --loglevel=error >"$work/npm.log" 2>&1) || {
  cat "$work/npm.log"
  exit 1
}

step "go build"
(cd "$root" && timeout "$(left 120)" go build -o "$work/server" ./interop/server &&
  timeout "$(left 120)" go build -o "$work/client" ./interop/client &&
  timeout "$(left 120)" go build -o "$work/socketio" ./interop/socketio)

# serve NAME PORT CMD... starts a server that stops by itself after the
# budget, and waits until it listens.
serve() {
  local name=$1 port=$2
  shift 2
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port is already in use; set INTEROP_GO_PORT / INTEROP_WS_PORT / INTEROP_SIO_PORT / INTEROP_EVENTLOOP_PORT" >&2
    exit 1
  fi
  timeout "$((budget + 10))" "$@" >"$work/$name.log" 2>&1 &
  pids+=("$!")
  local pid=$!
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "$name did not start:" >&2
  cat "$work/$name.log" >&2
  exit 1
}

step "starting the Go echo server on 127.0.0.1:$go_port and the ws one on 127.0.0.1:$ws_port"
serve go-server "$go_port" "$work/server" -addr "127.0.0.1:$go_port"
serve ws-server "$ws_port" node "$here/node/server.js" "$ws_port"
# The same endpoints on the event loops: /takeover and the rest through
# eventloop.Server.Serve, /http/takeover and the rest through net/http and
# eventloop.Server.ServeHTTP.
step "starting the Go echo server on event loops on 127.0.0.1:$el_port"
serve go-eventloop "$el_port" "$work/server" -addr "127.0.0.1:$el_port" -eventloop
step "starting the Socket.IO server on 127.0.0.1:$sio_port"
serve socketio-server "$sio_port" node "$here/node/socketio-server.js" "$sio_port" "$((budget + 10))"

results=$work/results
: >"$results"

# record LOG PEER STATUS files the RESULT lines of a checker's log, and a
# FAIL line of its own if it failed without saying which case did.
record() {
  local log=$1 peer=$2 status=$3
  grep '^RESULT ' "$log" >>"$results" || true
  if [ "$status" -ne 0 ] && ! grep -q '^RESULT .* FAIL' "$log"; then
    echo "RESULT $peer - (checker) FAIL exited with status $status$([ "$status" -eq 124 ] && echo ', timed out')" >>"$results"
    cp "$log" "$work/crashed-$peer-$(date +%s%N).log"
  fi
}

step "the message mix is the same in Go and in JavaScript"
go_digest=$(timeout "$(left 20)" "$work/client" -mix-digest)
js_digest=$(cd "$here/node" && timeout "$(left 20)" node client.js --mix-digest)
if [ "$go_digest" = "$js_digest" ]; then
  echo "RESULT mix go=node digest ok ${go_digest:0:16}" >>"$results"
else
  echo "RESULT mix go=node digest FAIL go $go_digest, node $js_digest" >>"$results"
fi

# The Go client's cases: VARIANT|PATH|FLAGS|EXPECTED EXTENSIONS. First the
# server's own wishes (the paths of both echo servers) met with the
# default offer, then offers of the client's to /takeover, where the
# server has no wishes of its own and so grants the offer.
go_cases='off|/off||
takeover|/takeover||permessage-deflate
no-server-takeover|/no-server-takeover||permessage-deflate; server_no_context_takeover
no-client-takeover|/no-client-takeover||permessage-deflate; client_no_context_takeover
no-takeover|/no-takeover||permessage-deflate; server_no_context_takeover; client_no_context_takeover
server-window-9|/server-window-9||permessage-deflate; server_max_window_bits=9
client-window-10|/client-window-10||permessage-deflate; client_max_window_bits=10
window-8|/window-8||permessage-deflate; server_max_window_bits=8; client_max_window_bits=8
no-takeover-window-9|/no-takeover-window-9||permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=9
offer-none|/takeover|-off|
offer-no-server-takeover|/takeover|-no-server-takeover|permessage-deflate; server_no_context_takeover
offer-no-client-takeover|/takeover|-no-client-takeover|permessage-deflate; client_no_context_takeover
offer-no-takeover|/takeover|-no-server-takeover -no-client-takeover|permessage-deflate; server_no_context_takeover; client_no_context_takeover
offer-server-window-9|/takeover|-server-window 9|permessage-deflate; server_max_window_bits=9
offer-client-window-10|/takeover|-client-window 10|permessage-deflate; client_max_window_bits=10
offer-window-8|/takeover|-server-window 8 -client-window 8|permessage-deflate; server_max_window_bits=8; client_max_window_bits=8
client-level-1|/takeover|-level 1|permessage-deflate
client-level-9|/takeover|-level 9|permessage-deflate
client-default-threshold|/takeover|-threshold 0|permessage-deflate
client-default-threshold-no-takeover|/takeover|-threshold 0 -no-server-takeover -no-client-takeover|permessage-deflate; server_no_context_takeover; client_no_context_takeover'
# Endpoints only the Go server has: its compression levels and its
# default threshold.
go_server_only='level-1|/level-1||permessage-deflate
level-9|/level-9||permessage-deflate
default-threshold|/default-threshold||permessage-deflate
default-threshold-no-takeover|/default-threshold-no-takeover||permessage-deflate; server_no_context_takeover; client_no_context_takeover'

# go_client SERVER PORT CASES [PREFIX] runs the Go client through the
# cases, with PREFIX before every path and (without its slash) every
# variant's name.
go_client() {
  local server=$1 port=$2 cases=$3 prefix=${4:-} variant path flags expect status
  local -a flagv
  while IFS='|' read -r variant path flags expect; do
    read -ra flagv <<<"$flags"
    status=0
    timeout "$(left 90)" "$work/client" -url "ws://127.0.0.1:$port$prefix$path" "${flagv[@]}" -expect "$expect" \
      -label "go-client $server ${prefix:+${prefix#/}/}$variant" -timeout 60s >"$work/case.log" 2>&1 || status=$?
    cat "$work/case.log" >>"$work/go-client-$server.log"
    record "$work/case.log" "go-client" "$status"
  done <<<"$cases"
}

step "our client and our server (the baseline)"
go_client go-server "$go_port" "$go_cases
$go_server_only"

step "our client and our server on event loops, through Serve and through ServeHTTP (/http/...)"
go_client go-eventloop "$el_port" "$go_cases
$go_server_only"
go_client go-eventloop "$el_port" "$go_cases
$go_server_only" /http

# The ws client and Chromium meet the event loops both ways in; one
# browser, a page per server and way.
step "ws client against our servers"
status=0
(cd "$here/node" && timeout "$(left 120)" node client.js "ws://127.0.0.1:$go_port" \
  "go-eventloop=ws://127.0.0.1:$el_port" "go-eventloop=ws://127.0.0.1:$el_port/http") >"$work/ws-client.log" 2>&1 || status=$?
record "$work/ws-client.log" ws-client "$status"

step "Chromium against our servers"
status=0
(cd "$here/node" && timeout "$(left 120)" node browser.js "http://127.0.0.1:$go_port" \
  "go-eventloop=http://127.0.0.1:$el_port" "go-eventloop=http://127.0.0.1:$el_port/http") >"$work/chromium.log" 2>&1 || status=$?
record "$work/chromium.log" chromium "$status"

step "our client against the ws server"
go_client ws-server "$ws_port" "$go_cases"

step "cmd/ws against the ws server (go test -run Node ./cmd/ws)"
# The test starts node/server.js on a port of its own and runs the ws
# command against it; it skips without WS_NODE_MODULES, which is a
# failure here.
status=0
(cd "$root" && WS_NODE_MODULES=interop/node/node_modules timeout "$(left 120)" go test -count=1 -v -run Node ./cmd/ws) >"$work/cmd-ws.log" 2>&1 || status=$?
if [ "$status" -eq 0 ] && grep -q -- '--- PASS: TestNodeWS' "$work/cmd-ws.log"; then
  echo "RESULT cmd/ws ws-server go-test-Node ok" >>"$results"
else
  echo "RESULT cmd/ws ws-server go-test-Node FAIL exited with status $status$(grep -q -- '--- SKIP' "$work/cmd-ws.log" && echo ', skipped')" >>"$results"
fi

step "OnOpen, OnClose and Stats against ws and Chromium (go test -run Hooks ./interop/internal/check)"
# The tests start ws (node/hooks.js) and Chromium themselves; they skip
# without node_modules or Chromium, which is a failure here.
status=0
(cd "$root" && CHROMIUM="$CHROMIUM" timeout "$(left 120)" go test -count=1 -v -run Hooks ./interop/internal/check) >"$work/hooks.log" 2>&1 || status=$?
if [ "$status" -eq 0 ] && grep -q -- '--- PASS: TestHooksWithRealPeers' "$work/hooks.log" &&
  grep -q -- '--- PASS: TestClientHooksWithWS' "$work/hooks.log" && ! grep -q -- '--- SKIP' "$work/hooks.log"; then
  echo "RESULT hooks ws+chromium go-test-Hooks ok" >>"$results"
else
  echo "RESULT hooks ws+chromium go-test-Hooks FAIL exited with status $status$(grep -q -- '--- SKIP' "$work/hooks.log" && echo ', skipped')" >>"$results"
fi

step "our client against the Socket.IO server"
for variant in off deflate; do
  flags=()
  [ "$variant" = deflate ] && flags=(-deflate)
  status=0
  timeout "$(left 60)" "$work/socketio" -url "ws://127.0.0.1:$sio_port/socket.io/?EIO=4&transport=websocket" \
    "${flags[@]}" -label "go-client socketio $variant" >"$work/case.log" 2>&1 || status=$?
  cat "$work/case.log" >>"$work/go-client-socketio.log"
  record "$work/case.log" go-client "$status"
done

# The summary: one row per case, with the wire size over the payload size
# of the chat messages and of the 1.1 MiB binary, client→server/server→client.
echo
printf '%-10s %-12s %-41s %-5s %s\n' client server variant ok 'wire/payload c2s/s2c (or the failure)'
printf '%-10s %-12s %-41s %-5s %s\n' ------ ------ ------- -- -------------------------------------
awk '{ note = ""; for (i = 6; i <= NF; i++) note = note (i > 6 ? " " : "") $i;
       printf "%-10s %-12s %-41s %-5s %s\n", $2, $3, $4, $5, note }' "$results"
total=$(wc -l <"$results")
failed=$(awk '$5 == "FAIL"' "$results" | wc -l)
echo
echo "interop: $((total - failed)) passed, $failed failed"

if [ "$failed" -gt 0 ]; then
  for log in go-client-go-server go-client-go-eventloop ws-client chromium go-client-ws-server go-client-socketio; do
    [ -f "$work/$log.log" ] || continue
    if grep -q 'FAIL' "$work/$log.log"; then
      echo
      echo "== $log: the failing cases"
      awk '/^[a-z-]+ [a-z-]+ [a-z0-9/-]+: /{ block = "" } { block = block $0 "\n" }
           /^RESULT .* FAIL/{ printf "%s", block; block = "" }' "$work/$log.log"
    fi
  done
  if grep -q '^RESULT hooks .* FAIL' "$results"; then
    echo
    echo "== go test -run Hooks ./interop/internal/check (last 40 lines)"
    tail -n 40 "$work/hooks.log"
  fi
  if grep -q '^RESULT cmd/ws .* FAIL' "$results"; then
    echo
    echo "== go test -run Node ./cmd/ws (last 40 lines)"
    tail -n 40 "$work/cmd-ws.log"
  fi
  for log in "$work"/crashed-*.log; do
    [ -f "$log" ] || continue
    echo
    echo "== a checker that failed without a verdict (last 30 lines of its log)"
    tail -n 30 "$log"
  done
  for log in go-server go-eventloop ws-server socketio-server; do
    echo
    echo "== $log log (last 40 lines)"
    tail -n 40 "$work/$log.log"
  done
  exit 1
fi
