#!/usr/bin/env bash
# Takes docs/screenshot.png from the real binary under Xvfb (needs x11-apps and imagemagick).
set -euo pipefail
cd "$(dirname "$0")/.."
go build -o bin/onfact-dropbox .
xvfb-run -a -s "-screen 0 800x600x24" bash -c '
	bin/onfact-dropbox "$@" & pid=$!
	sleep 4
	xwd -root -silent | convert xwd:- -crop 480x320+0+0 docs/screenshot.png
	kill $pid' _ "$@"
