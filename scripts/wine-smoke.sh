#!/usr/bin/env bash
# Runs the Windows build under Wine, as far as Linux gets to the main target OS: the .exe
# prints its version, then starts in demo mode under Xvfb and a screenshot of its first
# window goes to dist/wine-demo.png. Not part of CI (the package tests run under Wine there:
# scripts/wine-test.sh); run it after
# `make package-windows` when the Windows build changed in ways the cross-build cannot check.
#
# Debian 12's Wine 8 lacks bcryptprimitives.dll (ProcessPrng), which the Go runtime needs
# since Go 1.24; scripts/wine/bcryptprimitives.c is a stand-in built with MinGW for the
# throwaway Wine prefix only. Newer Wine has the real one.
set -euo pipefail
cd "$(dirname "$0")/.."
exe=${1:-dist/onfact-dropbox.exe}
[ -f "$exe" ] || { echo "wine-smoke: $exe missing: run make package-windows first" >&2; exit 1; }
if ! command -v wine >/dev/null; then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends wine wine64 >/dev/null
fi
export WINEPREFIX; WINEPREFIX=$(mktemp -d)
export WINEDEBUG=-all
trap 'rm -rf "$WINEPREFIX"' EXIT
wineboot -i >/dev/null 2>&1 || true
wineserver -w # let the prefix settle: a window created while it boots fails
x86_64-w64-mingw32-gcc -shared -o "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" \
	scripts/wine/bcryptprimitives.c -ladvapi32

mkdir -p dist
xvfb-run -a wine "$exe" version
wineserver -w
xvfb-run -a -s "-screen 0 1280x800x24" bash -c '
	wine "$1" --demo & pid=$!
	sleep 40
	import -window root dist/wine-demo.png
	kill $pid || { echo "wine-smoke: the app exited early" >&2; exit 1; }' _ "$exe"
echo "wine-smoke: the demo started; see dist/wine-demo.png"
