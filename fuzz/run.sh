#!/usr/bin/env bash
# Runs a fuzzing campaign over every fuzz target of the module (or those
# matching a pattern), each for a set time, and reports per target the
# executions and the new inputs that widened coverage. New corpus entries
# stay in Go's cache ($(go env GOCACHE)/fuzz), where the next campaign
# starts from them; with -keep N, the N smallest new entries of each target
# are also copied into its package's testdata/fuzz/, to be committed, so
# that every `go test` runs them as seeds.
#
# Usage: fuzz/run.sh [-t DURATION] [-j JOBS] [-keep N] [-o SUMMARY.md] [REGEXP]
#
#   -t     time per target (default 10m)
#   -j     targets run at once, each with one worker (default 1, with all
#          cores); two cores run two targets in about the time of one
#   -keep  entries to keep per target in testdata/fuzz (default 0)
#   -o     where to write the Markdown summary (default fuzz/campaign.md)
#   REGEXP picks targets by "package/Target" (default: all)
#
# A crash is reported, its input written to testdata/fuzz by go test, and
# the script exits 1. The logs of the runs stay in the directory it
# names. Expected time: the number of targets (17 today) times DURATION,
# divided by JOBS.
set -euo pipefail

duration=10m
jobs=1
keep=0
pattern=.
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/fuzz/campaign.md"
while [[ $# -gt 0 ]]; do
	case "$1" in
	-t) duration=${2:?}; shift ;;
	-j) jobs=${2:?}; shift ;;
	-keep) keep=${2:?}; shift ;;
	-o) out=${2:?}; shift ;;
	-h | --help) sed -n '2,22p' "$0"; exit 0 ;;
	-*) echo "run.sh: unknown flag $1" >&2; exit 2 ;;
	*) pattern=$1 ;;
	esac
	shift
done
cd "$root"
logs=$(mktemp -d)
echo "run.sh: logs in $logs"
cache=$(go env GOCACHE)/fuzz

targets=()
for pkg in $(go list ./...); do
	for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
		if [[ "$pkg/$target" =~ $pattern ]]; then
			targets+=("$pkg $target")
		fi
	done
done
echo "run.sh: ${#targets[@]} targets, $duration each, $jobs at a time"

parallel=""
if ((jobs > 1)); then
	parallel="-parallel 1"
fi

# run PKG TARGET: one target, its log in $logs.
run() {
	local pkg=$1 target=$2 log="$logs/${1//\//_}.$2.log"
	local start
	start=$(date +%s)
	# shellcheck disable=SC2086 # $parallel is empty or two words
	if go test -run '^$' -fuzz "^${target}\$" -fuzztime "$duration" $parallel "$pkg" >"$log" 2>&1; then
		echo ok >"$log.status"
	elif grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input written to' "$log"; then
		# golang/go#75804 (fixed in Go 1.27): the coordinator's deadline can
		# race the workers at the end of a -fuzztime duration.
		echo ok >"$log.status"
	else
		echo fail >"$log.status"
	fi
	echo $(($(date +%s) - start)) >"$log.seconds"
}

running=0
for t in "${targets[@]}"; do
	read -r pkg target <<<"$t"
	echo "-- $pkg $target"
	run "$pkg" "$target" &
	running=$((running + 1))
	if ((running >= jobs)); then
		wait -n
		running=$((running - 1))
	fi
done
wait

status=0
{
	echo "# Fuzzing campaign, $(date -u +%Y-%m-%d)"
	echo
	echo "\`fuzz/run.sh -t $duration -j $jobs\` on $(nproc) cores, $(go version | cut -d' ' -f3)."
	echo
	echo "| target | package | seconds | executions | per second | new interesting | corpus | result |"
	echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |"
} >"$out"
for t in "${targets[@]}"; do
	read -r pkg target <<<"$t"
	log="$logs/${pkg//\//_}.$target.log"
	last=$(grep 'fuzz: elapsed:' "$log" | tail -1 || true)
	execs=$(sed -n 's/.*execs: \([0-9]*\).*/\1/p' <<<"$last")
	newi=$(sed -n 's/.*new interesting: \([0-9]*\).*/\1/p' <<<"$last")
	total=$(sed -n 's/.*(total: \([0-9]*\)).*/\1/p' <<<"$last")
	secs=$(cat "$log.seconds")
	result=$(cat "$log.status")
	if [[ $result != ok ]]; then
		status=1
		echo "== $pkg $target failed:"
		tail -30 "$log"
	fi
	rate=0
	if [[ -n "$execs" && "$secs" -gt 0 ]]; then
		rate=$((execs / secs))
	fi
	echo "| $target | ${pkg#github.com/rfc6455/websocket/} | $secs | ${execs:-?} | $rate | ${newi:-?} | ${total:-?} | $result |" >>"$out"
	if ((keep > 0)) && [[ -d "$cache/$pkg/$target" ]]; then
		dir="$(go list -f '{{.Dir}}' "$pkg")/testdata/fuzz/$target"
		mkdir -p "$dir"
		# The smallest entries of the cache's corpus that are not kept yet.
		mapfile -t entries < <(find "$cache/$pkg/$target" -type f -printf '%s %p\n' | sort -n | cut -d' ' -f2-)
		kept=0
		for f in "${entries[@]}"; do
			((kept < keep)) || break
			if [[ ! -e "$dir/$(basename "$f")" ]]; then
				cp "$f" "$dir/"
				kept=$((kept + 1))
			fi
		done
	fi
done
cat "$out"
exit "$status"
