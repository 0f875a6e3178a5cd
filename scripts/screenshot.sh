#!/usr/bin/env bash
# Refreshes the screenshots in docs/screenshots/ (and docs/screenshot.png, the README's) from
# the real binary: the smoke test runs the demo under Xvfb, completes the wizard with the
# keyboard and photographs every step and the main window.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
ONFACT_SCREENSHOTS="$PWD/docs/screenshots" bash scripts/desktop-session.sh \
	go test -count=1 -run '^TestSmokeDemoWizard$' .
cp docs/screenshots/main-window.png docs/screenshot.png
