#!/usr/bin/env bash
# Runs every benchmark that BENCHMARKS.md reports, each with the -bench pattern and
# -benchtime its section gives, one after the other, printing each command before its
# output, and ends with a summary: one line per benchmark with the metrics it reported.
# The machine (cores, CPU model, Go version) is printed first, since every figure depends
# on it. A benchmark that fails does not stop the others; the script then exits non-zero.
#
# This takes a while (the 100,000-document benchmarks and the naive copy take minutes
# each) and its figures depend on the machine, so it is not part of CI (.ci/run).
#
# Usage: scripts/bench.sh        (make bench)
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}

echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
echo "go:      $($GO version)"
echo "commit:  $(git describe --always --dirty --abbrev=12 --exclude='*' 2>/dev/null || echo none)"
echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
failed=()

# bench PACKAGE PATTERN BENCHTIME [FLAG...] runs one row's command, its output also kept
# in $log for the summary.
bench() {
	local pkg=$1 pattern=$2 benchtime=$3
	shift 3
	local cmd=("$GO" test -run '^$' -bench "$pattern" -benchtime "$benchtime" "$@" -timeout 60m "$pkg")
	# Printed as it could be pasted: words with shell characters in single quotes.
	local shown="+" a
	for a in "${cmd[@]}"; do
		if [[ $a =~ [^A-Za-z0-9_./=:-] ]]; then
			a="'$a'"
		fi
		shown+=" $a"
	done
	echo
	echo "$shown"
	if ! "${cmd[@]}" 2>&1 | tee -a "$log"; then
		failed+=("$pattern ($pkg)")
	fi
}

# In BENCHMARKS.md's order.
bench ./internal/layout/ 'Classify10k|ClassifyEach10k|MapAll10k' 1s -benchmem -cpu 1
bench ./internal/layout/ Preview100k 1x -benchmem
bench ./sync/engine/ 'InitialCopy$' 1x
bench ./sync/engine/ NaiveCopy 1x
bench ./sync/engine/ InitialCopy100k 1x
bench ./sync/engine/ CopyFloor 1x -v
bench ./sync/engine/ DropBurst 3x
bench ./sync/engine/ RateLimitedCopy 1x -v
bench ./sync/engine/ SaveToCommit 20x
bench ./sync/engine/ LiveBehindBacklog 1x
bench ./sync/engine/ RestartNoop 3x
bench ./sync/engine/ LargeFileMemory 1x
bench ./sync/engine/ 'BenchmarkCheck$' 1x
bench ./sync/engine/ 'BenchmarkIdle$' 1x
bench ./internal/dropbox/ BandwidthCap 1x

echo
echo "== summary"
# A result line: name-GOMAXPROCS, iterations, then value-unit pairs; ns/op shown in seconds.
awk '/^Benchmark[^ \t]*[ \t]+[0-9]+[ \t]/ {
	name = $1; sub(/^Benchmark/, "", name); sub(/-[0-9]+$/, "", name)
	line = sprintf("%-34s", name)
	for (i = 3; i < NF; i += 2) {
		v = $i; u = $(i + 1)
		if (u == "ns/op") { v = sprintf("%.3f", v / 1e9); u = "s/op" }
		line = line sprintf("  %s %s", v, u)
	}
	print line
}' "$log"

if [ ${#failed[@]} -gt 0 ]; then
	echo
	echo "bench: failed: ${failed[*]}" >&2
	exit 1
fi
