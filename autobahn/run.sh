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
# Time: not measured with this script (it was last changed on a machine without Docker).
# Other projects' runs of the real suite take 15-30 minutes per mode with the
# permessage-deflate sections 12 and 13 (216 cases of a thousand messages, compressed by
# the suite in Python) and a minute or two without them, so allow up to an hour for both
# modes. The Go-native suite (go test ./autobahn) replays the same catalogue far faster.
# The test client closes a case that has not ended after 1020 s (its -case-timeout; the
# suite's longest case, 9.5.x and 9.6.x, waits 1000 s for its echo), so a case that hangs
# costs that long, not the whole run.
#
# The image is pinned (--image overrides it) and pulled only if it is not present. The
# container runs as the invoking user, so its reports belong to that user and the next
# run can delete them. The image needs no root: with --spec given, wstest writes only its
# reports, to the spec's outdir, which from the image's working directory / is the
# mounted /reports.
#
# The container uses host networking, so on Docker Desktop enable host networking
# (Linux hosts need nothing).
set -euo pipefail

# 25.10.1 is the tag the suite's own README (github.com/crossbario/autobahn-testsuite,
# v25.10.1, November 2025) tells users to run, and the one its justfile publishes to Docker
# Hub; the image before it was 0.8.2 (2021).
image="crossbario/autobahn-testsuite:25.10.1"
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
		sed -n '2,32p' "$0"
		exit 0
		;;
	*)
		echo "run.sh: unknown argument $1" >&2
		exit 2
		;;
	esac
	shift
done
case "$only" in
"" | client | server) ;;
*)
	echo "run.sh: --only takes client or server, not $only" >&2
	exit 2
	;;
esac

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

# clear_reports DIR: deletes an earlier run's reports. Those of a run.sh that
# ran the container as root belong to root; say so rather than fail in rm.
clear_reports() {
	if [[ -e "$1" && ! -w "$1" ]]; then
		echo "run.sh: cannot delete $1 (written as root by an older run.sh?); delete it first" >&2
		exit 1
	fi
	rm -rf "$1"
}

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
if ! docker image inspect "$image" >/dev/null 2>&1; then
	docker pull --quiet "$image" >/dev/null
fi

ran=()
if [[ "$only" != "server" ]]; then
	clear_reports "$reports/servers"
	ran+=(servers)
	"$bin/echoserver" -addr 127.0.0.1:9002 &
	pids+=("$!")
	wait_port 127.0.0.1 9002
	docker run --rm --network host --user "$(id -u):$(id -g)" \
		-v "$root/autobahn:/config:ro" -v "$reports:/reports" \
		"$image" wstest -m fuzzingclient -s /config/fuzzingclient.json
fi

if [[ "$only" != "client" ]]; then
	clear_reports "$reports/clients"
	ran+=(clients)
	container="$(docker run -d --rm --network host --user "$(id -u):$(id -g)" \
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
