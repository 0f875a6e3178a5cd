#!/usr/bin/env bash
# Installs what building and testing need on Debian/Ubuntu: a C toolchain and the X11/GL
# headers for Fyne's cgo build, MinGW for the Windows cross-build, Xvfb for window tests,
# and gnome-keyring + dbus so the keychain tests talk to a real Secret Service. Idempotent
# and quiet when all is there.
set -euo pipefail

# gcc-mingw-w64-x86-64 cross-builds the Windows binary (Windows is the main target OS);
# xdotool, x11-utils and imagemagick let the smoke tests drive the real binary under Xvfb,
# find its windows and take screenshots; xz-utils packs the Linux tarball (fyne package),
# binutils-mingw-w64-x86-64 (objdump) checks the Windows .exe, git names the commit;
# wine and wine64 run the Windows test binaries (make test-windows).
pkgs=(gcc pkg-config libgl1-mesa-dev xorg-dev xvfb xauth gnome-keyring dbus dbus-x11 libsecret-tools gcc-mingw-w64-x86-64
	xdotool x11-utils imagemagick xz-utils binutils-mingw-w64-x86-64 git wine wine64)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	echo "deps: installing ${missing[*]}"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v go >/dev/null 2>&1; then
	echo "deps: Go is not installed. Install Go 1.26 or newer (https://go.dev/doc/install), then run this again." >&2
	exit 1
fi
