# The two commands the README promises: `make run` and `make test`. Both install what a fresh
# Debian/Ubuntu machine lacks first (scripts/deps.sh).
GO ?= go

# The version comes from FyneApp.toml, the commit from git ("-dirty" when the work tree has
# uncommitted changes); every build below passes both to main.version and main.commit.
# Override on the command line: make package-windows VERSION=1.2.3.
VERSION = $(shell sed -n 's/^Version *= *"\(.*\)"/\1/p' FyneApp.toml)
COMMIT = $(shell git describe --always --dirty --abbrev=12 --exclude='*' 2>/dev/null || echo none)
# APP_KEY builds the Dropbox app key in (see the README, "Registering a Dropbox app key").
LDFLAGS = -X main.version=$(VERSION) -X main.commit=$(COMMIT) \
	$(if $(APP_KEY),-X github.com/onfact/onfact-dropbox/auth.AppKey=$(APP_KEY))

# The fyne tool for packaging, pinned and installed into bin/ on first use.
FYNE_VERSION := v1.7.4
FYNE := $(CURDIR)/bin/fyne-$(FYNE_VERSION)/fyne

.PHONY: run test test-windows deps vet build build-windows package package-linux package-windows emulator bench

deps:
	@bash scripts/deps.sh

# Without a Dropbox app key (ONFACT_DROPBOX_APP_KEY) the app runs in demo mode: an emulated
# Dropbox and generated documents, so the whole flow can be tried offline.
run: deps
	$(GO) run . $(if $(ONFACT_DROPBOX_APP_KEY),,--demo)

build: deps
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/onfact-dropbox .

# The Windows binary, cross-built with MinGW; -H=windowsgui: no console window.
build-windows: deps
	GOOS=windows GOARCH=amd64 CGO_ENABLED=1 CC=x86_64-w64-mingw32-gcc \
		$(GO) build -ldflags "-H=windowsgui $(LDFLAGS)" -o bin/onfact-dropbox.exe .

# What users install, in dist/ (scripts/package.sh says what each holds): the Linux tarball
# with the .desktop entry and icon, and the Windows .exe with the icon embedded and no
# console window. Release builds: -trimpath, no symbol table, Fyne's release mode.
package: package-linux package-windows

package-linux: deps $(FYNE)
	FYNE=$(FYNE) VERSION=$(VERSION) COMMIT=$(COMMIT) APP_KEY=$(APP_KEY) bash scripts/package.sh linux

package-windows: deps $(FYNE)
	FYNE=$(FYNE) VERSION=$(VERSION) COMMIT=$(COMMIT) APP_KEY=$(APP_KEY) bash scripts/package.sh windows

$(FYNE):
	GOBIN=$(dir $(FYNE)) $(GO) install fyne.io/tools/cmd/fyne@$(FYNE_VERSION)

emulator:
	$(GO) run ./cmd/dropbox-emulator

vet:
	$(GO) vet ./...

# Tests run inside a private D-Bus session with gnome-keyring and under Xvfb, so the keychain
# and window tests use the real Secret Service and a real X server.
test: deps vet
	bash scripts/desktop-session.sh $(GO) test -race -count=1 ./...

# The tests of the GUI-free packages as Windows binaries, run under Wine in a throwaway
# prefix (scripts/wine-test.sh; the README's "Tested on Windows" says what that covers).
test-windows: deps
	GO=$(GO) bash scripts/wine-test.sh

# Every benchmark BENCHMARKS.md reports, each as its section runs it, then a summary
# (scripts/bench.sh). Minutes long and machine-dependent: not part of make test or CI.
bench:
	GO=$(GO) bash scripts/bench.sh
