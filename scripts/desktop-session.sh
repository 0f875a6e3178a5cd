#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with an unlocked gnome-keyring (a real
# Secret Service for the keychain tests) and a virtual X display (for the window tests).
# Used by `make test`; nothing here touches the user's own session or keyring.
set -euo pipefail
if [ "${1:-}" != "--inner" ]; then
	exec dbus-run-session -- "$0" --inner "$@"
fi
shift
# A throwaway keyring home so tests never see or change a real user's secrets.
export XDG_DATA_HOME="$(mktemp -d)"
# --unlock with a password on stdin creates and unlocks the "login" collection, so no
# prompt (which would need a display and a person) is ever shown.
eval "$(printf 'ci-keyring' | gnome-keyring-daemon --unlock --components=secrets 2>/dev/null)"
export GNOME_KEYRING_CONTROL
exec xvfb-run -a -s "-screen 0 1280x800x24" "$@"
