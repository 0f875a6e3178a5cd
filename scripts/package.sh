#!/usr/bin/env bash
# Packages the app for one OS with `fyne package --release` and checks the result:
#
#   linux:   dist/onfact-dropbox-VERSION-linux-ARCH.tar.xz, fyne's tarball: the binary in
#            usr/local/bin, the .desktop entry, the icon and a Makefile (sudo make install,
#            make user-install);
#   windows: dist/onfact-dropbox.exe, cross-built with MinGW, with the icon, version
#            information and manifest embedded and the GUI subsystem (no console window).
#
# Run it through `make package-linux` / `make package-windows`, which pass FYNE (the fyne tool),
# VERSION, COMMIT and APP_KEY (if set); the binary gets them as main.version, main.commit and
# auth.AppKey.
#
# fyne package writes into the source tree while it works (a metadata .go file, fyne.syso,
# tmp-pkg/) and increments Build in FyneApp.toml after every run. So it runs on a copy of the
# tree in a temp dir: the work tree stays as it was, and a concurrent `go test .` never sees
# a Windows .syso. The release build uses -trimpath, so the build cache is shared between
# copies whatever their path.
set -euo pipefail
cd "$(dirname "$0")/.."

target=${1:?usage: scripts/package.sh linux|windows}
: "${FYNE:?set FYNE to the fyne tool (make package-$target does)}"
: "${VERSION:?set VERSION (make package-$target does)}"
: "${COMMIT:?set COMMIT (make package-$target does)}"

stage=$(mktemp -d "${TMPDIR:-/tmp}/onfact-package.XXXXXX")
trap 'rm -rf "$stage"' EXIT

# The files git knows or would add (so uncommitted changes are packaged, ignored output is
# not), skipping tracked files deleted in the work tree.
git ls-files -z --cached --others --exclude-standard |
	while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
	tar --null -T - -cf - | tar -xf - -C "$stage"

# fyne package has no -ldflags option; it takes -ldflags= entries out of GOFLAGS and passes
# them to go build together with its own (-H=windowsgui, -s -w). GOFLAGS is split at spaces,
# hence -X=name=value.
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-ldflags=-X=main.version=$VERSION -ldflags=-X=main.commit=$COMMIT"
# APP_KEY (optional) builds the Dropbox app key in.
if [ -n "${APP_KEY:-}" ]; then
	GOFLAGS="$GOFLAGS -ldflags=-X=github.com/onfact/onfact-dropbox/auth.AppKey=$APP_KEY"
fi

mkdir -p dist
case "$target" in
linux)
	arch=$(go env GOARCH)
	(cd "$stage" && "$FYNE" package --os linux --release)
	out=dist/onfact-dropbox-$VERSION-linux-$arch.tar.xz
	mv "$stage"/*.tar.xz "$out"

	list=$(tar -tJf "$out")
	for want in onfact-dropbox/Makefile onfact-dropbox/usr/local/bin/onfact-dropbox \
		onfact-dropbox/usr/local/share/applications/be.onfact.dropboxsync.desktop \
		onfact-dropbox/usr/local/share/pixmaps/be.onfact.dropboxsync.png; do
		grep -qxF "$want" <<<"$list" || { echo "package: $out lacks $want" >&2; exit 1; }
	done
	tar -xJf "$out" -C "$stage" onfact-dropbox/usr/local/bin/onfact-dropbox
	# LC_ALL: under LANG=C or C.UTF-8 Fyne logs at start that "C" is no language tag.
	got=$(LC_ALL=en_US.UTF-8 "$stage"/onfact-dropbox/usr/local/bin/onfact-dropbox version)
	[ "$got" = "onfact-dropbox $VERSION ($COMMIT)" ] ||
		{ echo "package: the packaged binary says \"$got\", want version $VERSION ($COMMIT)" >&2; exit 1; }
	;;
windows)
	# For Windows fyne package builds the exe, writes fyne.syso (icon, version information,
	# manifest) and builds again; the first build takes the -ldflags out of GOFLAGS, so the
	# second, the one it keeps, would lack -X. Given an existing --exe it skips the first
	# build: the placeholder is overwritten by the only build, which has the flags.
	: >"$stage/onfact-dropbox.exe"
	(cd "$stage" && GOOS=windows GOARCH=amd64 CC=x86_64-w64-mingw32-gcc \
		"$FYNE" package --os windows --release --exe onfact-dropbox.exe)
	out=dist/onfact-dropbox.exe
	mv "$stage"/*.exe "$out"

	headers=$(x86_64-w64-mingw32-objdump -p "$out")
	grep -q 'Subsystem.*(Windows GUI)' <<<"$headers" ||
		{ echo "package: $out is not a Windows GUI program: it would open a console window" >&2; exit 1; }
	# 0x0e is RT_GROUP_ICON, a type in the top level of the resource directory.
	grep -Eq '^[0-9a-f]+   Entry: ID: 0x00000e,' <<<"$headers" ||
		{ echo "package: $out has no icon resource" >&2; exit 1; }
	grep -aqF "$COMMIT" "$out" || { echo "package: $out does not carry the commit $COMMIT" >&2; exit 1; }
	;;
*)
	echo "package: unknown target $target (linux or windows)" >&2
	exit 2
	;;
esac
ls -l "$out"
