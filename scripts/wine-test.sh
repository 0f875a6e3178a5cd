#!/usr/bin/env bash
# Runs the tests of every GUI-free package as Windows binaries under Wine: cross-built with
# GOOS=windows, run one package at a time from its own directory (testdata/ is found as on
# Linux) in a throwaway Wine prefix, with the same assertions as `go test` on Linux. Exits
# non-zero when any test binary fails or does not build. Windows is the main target OS and
# no real Windows machine is available to CI; the README ("Tested on Windows") says what this
# covers and what it cannot.
#
# The root package and ui/... are left out: they import Fyne, whose GL driver needs a display
# and a cgo build of GLFW; the Fyne UI tests (test driver, markup snapshots) are the same code
# on every OS and run on Linux. Nothing else needs cgo on Windows (go-keyring's Windows
# backend is wincred over syscalls), so CGO_ENABLED=0: MinGW only builds the stand-in DLL.
#
# Two gaps of Debian 12's Wine 8 are bridged for the throwaway prefix and test build only:
# - bcryptprimitives.dll (ProcessPrng), needed by the Go runtime: scripts/wine/bcryptprimitives.c,
#   as in scripts/wine-smoke.sh.
# - NtSetInformationFile(FileDispositionInformationEx) returns STATUS_NOT_IMPLEMENTED, which
#   Go's os.RemoveAll (hence every t.TempDir cleanup) does not expect: Go falls back to the
#   pre-Windows-10 delete on STATUS_INVALID_INFO_CLASS and STATUS_NOT_SUPPORTED only. A
#   -overlay of internal/syscall/windows adds STATUS_NOT_IMPLEMENTED to that list, so the
#   test binaries take the path Go takes on FAT32 or older Windows. Real Windows 10 1607+ never
#   returns it, so this changes nothing of what the tests check.
#
# Usage: scripts/wine-test.sh [package pattern...]   (default: all GUI-free packages)
# WINE_TEST_TIMEOUT (default 10m) bounds each test binary.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
timeout=${WINE_TEST_TIMEOUT:-10m}
export WINEDEBUG=-all

work=$(mktemp -d)
export WINEPREFIX="$work/prefix"
cleanup() {
	wineserver -k 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

# The overlay: the one line of Go's own source that lists the statuses meaning "not
# supported here". Fails loudly when a Go release changes that line, so the bridge is
# rechecked rather than silently lost.
src="$($GO env GOROOT)/src/internal/syscall/windows/at_windows.go"
if ! grep -q 'STATUS_NOT_IMPLEMENTED\|0xC0000002' "$src"; then
	sed 's|^\(\t\tSTATUS_NOT_SUPPORTED\): \(.*\)$|\1, \2\n\t\tNTStatus(0xC0000002): // STATUS_NOT_IMPLEMENTED: Wine 8 lacks FileDispositionInformationEx|' \
		"$src" >"$work/at_windows.go"
	if cmp -s "$src" "$work/at_windows.go"; then
		echo "wine-test: $src changed: recheck the STATUS_NOT_IMPLEMENTED overlay" >&2
		exit 1
	fi
	printf '{"Replace":{"%s":"%s"}}\n' "$src" "$work/at_windows.go" >"$work/overlay.json"
	overlay=(-overlay "$work/overlay.json")
else
	overlay=()
fi

# Boot the prefix while the tests build: both take a while and use different cores.
(wineboot -i >/dev/null 2>&1 || true; wineserver -w) &
boot=$!

patterns=("$@")
((${#patterns[@]})) || patterns=(./...)
mod=$($GO list -m)
mapfile -t pkgs < <(GOOS=windows $GO list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}} {{.Dir}}{{end}}' "${patterns[@]}" |
	grep -v -e "^$mod " -e "^$mod/ui[/ ]")
((${#pkgs[@]})) || { echo "wine-test: no packages with tests in ${patterns[*]}" >&2; exit 1; }

start=$SECONDS
mkdir -p "$work/bin"
imports=()
for p in "${pkgs[@]}"; do imports+=("${p%% *}"); done
GOOS=windows GOARCH=amd64 CGO_ENABLED=0 $GO test "${overlay[@]}" -c -o "$work/bin/" "${imports[@]}"
# The emulator's tests run the binary people run; under Wine there is no Go to build it.
GOOS=windows GOARCH=amd64 CGO_ENABLED=0 $GO build "${overlay[@]}" -o "$work/bin/dropbox-emulator.exe" ./cmd/dropbox-emulator
echo "wine-test: built ${#pkgs[@]} test binaries in $((SECONDS - start))s"

wait $boot
# Keep one wineserver for the whole run (cleanup ends it): one that exits when idle between
# two test binaries can drop the next one's connection ("recvmsg: Connection reset by peer").
wineserver -p
x86_64-w64-mingw32-gcc -shared -o "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" \
	scripts/wine/bcryptprimitives.c -ladvapi32

# ONFACT_UNDER_WINE lets the few tests that meet a Wine gap skip with the reason (see the
# README); the tests also recognise Wine by its registry key when run by hand.
export ONFACT_UNDER_WINE=1
ONFACT_EMULATOR_EXE=$(winepath -w "$work/bin/dropbox-emulator.exe" 2>/dev/null)
export ONFACT_EMULATOR_EXE
failed=()
for p in "${pkgs[@]}"; do
	imp=${p%% *} dir=${p#* }
	name=${imp##*/}
	exe="$work/bin/$name.test.exe"
	[ -f "$exe" ] || { echo "wine-test: $exe missing" >&2; failed+=("$imp"); continue; }
	t0=$SECONDS
	if (cd "$dir" && wine "$exe" -test.v -test.count=1 -test.timeout="$timeout" >"$work/$name.log" 2>&1); then
		echo "ok   $imp $((SECONDS - t0))s ($(grep -c -- '^--- PASS' "$work/$name.log") passed, $(grep -c -- '--- SKIP' "$work/$name.log") skipped)"
		# Every skip with its reason, so a new one is seen in the CI log.
		grep -B1 -- '--- SKIP' "$work/$name.log" | grep -v '^--$' || true
	else
		echo "FAIL $imp $((SECONDS - t0))s"
		cat "$work/$name.log"
		failed+=("$imp")
	fi
done
echo "wine-test: $((SECONDS - start))s"
if ((${#failed[@]})); then
	echo "wine-test: failed under Wine: ${failed[*]}" >&2
	exit 1
fi
