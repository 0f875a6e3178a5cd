# The two commands the README promises: `make run` and `make test`. Both install what a fresh
# Debian/Ubuntu machine lacks first (scripts/deps.sh).
GO ?= go

.PHONY: run test deps vet build build-windows emulator bench

deps:
	@bash scripts/deps.sh

# Without a Dropbox app key (ONFACT_DROPBOX_APP_KEY) the app runs in demo mode: an emulated
# Dropbox and generated documents, so the whole flow can be tried offline.
run: deps
	$(GO) run . $(if $(ONFACT_DROPBOX_APP_KEY),,--demo)

build: deps
	$(GO) build -o bin/onfact-dropbox .

# The Windows binary, cross-built with MinGW; -H=windowsgui: no console window.
build-windows: deps
	GOOS=windows GOARCH=amd64 CGO_ENABLED=1 CC=x86_64-w64-mingw32-gcc \
		$(GO) build -ldflags "-H=windowsgui" -o bin/onfact-dropbox.exe .

emulator:
	$(GO) run ./cmd/dropbox-emulator

vet:
	$(GO) vet ./...

# Tests run inside a private D-Bus session with gnome-keyring and under Xvfb, so the keychain
# and window tests use the real Secret Service and a real X server.
test: deps vet
	bash scripts/desktop-session.sh $(GO) test -race -count=1 ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
