#!/usr/bin/env bash
# Runs the official Autobahn testsuite (Docker image crossbario/autobahn-testsuite)
# against this library, in both of its modes:
#
#   fuzzingclient: the suite tests autobahn/cmd/echoserver (listening on 127.0.0.1:9002),
#                  with autobahn/fuzzingclient.json; reports in autobahn/reports/servers.
#   fuzzingserver: the suite listens on 127.0.0.1:9001 with autobahn/fuzzingserver.json and
#                  autobahn/cmd/testclient runs every case against it; reports in
#                  autobahn/reports/clients.
#
# Then it prints a summary of each index.json and exits non-zero if any case is FAILED or
# UNIMPLEMENTED, has a failed close judgement, or is NON-STRICT (unless --allow-non-strict).
#
# Usage: autobahn/run.sh [--allow-non-strict] [--only client|server] [--image IMAGE]
#
# The container uses host networking, so on Docker Desktop enable host networking
# (Linux hosts need nothing).
set -euo pipefail

image="crossbario/autobahn-testsuite"
allow_non_strict=false
only=""
while [[ $# -gt 0 ]]; do
	case "$1" in
	--allow-non-strict) allow_non_strict=true ;;
	--only)
		only="${2:?--only needs client or server}"
		shift
		;;
	--image)
		image="${2:?--image needs a name}"
		shift
		;;
	-h | --help)
		sed -n '2,18p' "$0"
		exit 0
		;;
	*)
		echo "run.sh: unknown argument $1" >&2
		exit 2
		;;
	esac
	shift
done

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
reports="$root/autobahn/reports"
bin="$(mktemp -d)"
pids=()
container=""

# shellcheck disable=SC2317 # invoked by the trap
cleanup() {
	local pid
	for pid in ${pids[@]+"${pids[@]}"}; do
		kill "$pid" 2>/dev/null || true
	done
	if [[ -n "$container" ]]; then
		docker stop "$container" >/dev/null 2>&1 || true
	fi
	rm -rf "$bin"
}
trap cleanup EXIT

# wait_port HOST PORT: waits up to 30 s for a TCP listener.
wait_port() {
	local i
	for ((i = 0; i < 300; i++)); do
		if (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	echo "run.sh: nothing listens on $1:$2" >&2
	return 1
}

go build -o "$bin/echoserver" ./autobahn/cmd/echoserver
go build -o "$bin/testclient" ./autobahn/cmd/testclient
go build -o "$bin/wstest" ./autobahn/cmd/wstest
mkdir -p "$reports"
docker pull --quiet "$image" >/dev/null

ran=()
if [[ "$only" != "server" ]]; then
	rm -rf "$reports/servers"
	ran+=(servers)
	"$bin/echoserver" -addr 127.0.0.1:9002 &
	pids+=("$!")
	wait_port 127.0.0.1 9002
	docker run --rm --network host \
		-v "$root/autobahn:/config:ro" -v "$reports:/reports" \
		"$image" wstest -m fuzzingclient -s /config/fuzzingclient.json
fi

if [[ "$only" != "client" ]]; then
	rm -rf "$reports/clients"
	ran+=(clients)
	container="$(docker run -d --rm --network host \
		-v "$root/autobahn:/config:ro" -v "$reports:/reports" \
		"$image" wstest -m fuzzingserver -s /config/fuzzingserver.json)"
	wait_port 127.0.0.1 9001
	"$bin/testclient" -url ws://127.0.0.1:9001 -agent rfc6455-websocket
	docker stop "$container" >/dev/null
	container=""
fi

status=0
flags=()
if [[ "$allow_non_strict" == true ]]; then
	flags+=(-allow-non-strict)
fi
# Only the modes that ran: an older report of the other mode says nothing
# about this run.
for mode in "${ran[@]}"; do
	index="$reports/$mode/index.json"
	if [[ ! -f "$index" ]]; then
		echo "run.sh: the suite wrote no $index" >&2
		status=1
		continue
	fi
	echo "== $mode ($index)"
	"$bin/wstest" -m report -index "$index" ${flags[@]+"${flags[@]}"} || status=1
done
exit "$status"
