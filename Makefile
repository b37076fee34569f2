# jwtfetch build and test entry points. `make demo` and `make test` work on a
# fresh machine: the tools they need (Chromium, wasmbrowsertest) are
# installed by the targets below when missing.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

GO          ?= go
BIN         := $(CURDIR)/.bin
WBT         := $(BIN)/wasmbrowsertest
WBT_VERSION := v0.11.0
WASM        := jsglue/jwtfetch.wasm
# The Go program of the demo page /go/ (example-site/gowasm, package jwthttp).
GOAPP       := example-site/web/go/app.wasm
# Brotli bytes of jwtfetch.wasm; the build fails above it. Raise it only on
# purpose, with the reason in the commit message.
WASM_BUDGET := $(shell cat wasm/cmd/jwtfetch/size_budget.txt)
ADDR        ?= 127.0.0.1:8080
GOFLAGS_WASM := -trimpath -ldflags=-s\ -w
# wasmbrowsertest's pinned Chrome protocol library logs harmless noise about
# event fields newer Chromium sends.
QUIET_WBT   := { grep -v 'could not unmarshal event' || true; }

JSTEST      := jsglue/test
FRONTEND    := example-site/frontend
BENCH       := example-site/bench

.PHONY: bench build demo demo-addr frontend test lint typecheck test-native test-wasm size fuzz mutate tools chromium jsdeps clean

## build: the wasm, wasm_exec.js next to it, and precompressed copies. Each
## file is remade only when what it is made from changed.
build: $(WASM) jsglue/wasm_exec.js jsglue/jwtfetch.js.br $(GOAPP)

# Everything the two wasm programs are built from.
WASM_SRC  := $(shell find wasm -name '*.go' -not -name '*_test.go') go.mod go.sum wasm/cmd/jwtfetch/size_budget.txt
GOAPP_SRC := $(shell find example-site/gowasm -name '*.go')
WASM_EXEC := $(shell $(GO) env GOROOT)/lib/wasm/wasm_exec.js

# A build over the size budget must not leave a wasm that looks up to date.
.DELETE_ON_ERROR:

$(WASM): $(WASM_SRC)
	GOOS=js GOARCH=wasm $(GO) build $(GOFLAGS_WASM) -o $@ ./wasm/cmd/jwtfetch
	$(GO) run ./wasm/cmd/wasmsize -write -max $(WASM_BUDGET) $@

jsglue/wasm_exec.js: $(WASM_EXEC)
	cp "$<" $@

jsglue/jwtfetch.js.br: jsglue/jwtfetch.js jsglue/wasm_exec.js
	$(GO) run ./wasm/cmd/wasmsize -write jsglue/jwtfetch.js jsglue/wasm_exec.js

$(GOAPP): $(WASM_SRC) $(GOAPP_SRC)
	GOOS=js GOARCH=wasm $(GO) build $(GOFLAGS_WASM) -o $@ ./example-site/gowasm
	$(GO) run ./wasm/cmd/wasmsize -write $@

## demo: the example site with the demo auth API on http://$(ADDR)/ (another
## address: make demo ADDR=127.0.0.1:8081). Its /debug/* endpoints drive the
## demo page's buttons.
demo: demo-addr build frontend
	$(GO) run ./example-site/server -root . -addr $(ADDR) -debug

# Fails at once, before any build, when something already listens on ADDR.
demo-addr:
	@host="$${ADDR%:*}"; port="$${ADDR##*:}"; host="$${host#[}"; host="$${host%]}"; \
	case "$$host" in ""|0.0.0.0|::) host=127.0.0.1;; esac; \
	if (exec 3<>"/dev/tcp/$$host/$$port") 2>/dev/null; then \
		echo "make demo: $(ADDR) is in use; stop what listens there, or choose another address: make demo ADDR=127.0.0.1:8081" >&2; \
		exit 1; \
	fi

## test: everything CI checks
test: tools jsdeps build frontend lint typecheck test-native test-wasm

lint:
	@out="$$(gofmt -l .)"; if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	GOOS=js GOARCH=wasm $(GO) vet ./...

## frontend: the Vue and React demo pages (example-site/web/{vue,react}/app.js)
frontend: $(FRONTEND)/node_modules/.package-lock.json
	cd $(FRONTEND) && node build.mjs

# npm ci rewrites node_modules/.package-lock.json, so that file is missing or
# older than package.json / package-lock.json exactly when node_modules is stale.
$(FRONTEND)/node_modules/.package-lock.json: $(FRONTEND)/package.json $(FRONTEND)/package-lock.json
	cd $(FRONTEND) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The hand-written jwtfetch.d.ts against a program that uses every option.
typecheck: jsdeps
	$(JSTEST)/node_modules/.bin/tsc -p $(JSTEST)/tsconfig.json

# npm packages the tests use (tsc, Vite, ky, openapi-fetch), from the lock file.
jsdeps: $(JSTEST)/node_modules/.package-lock.json

$(JSTEST)/node_modules/.package-lock.json: $(JSTEST)/package.json $(JSTEST)/package-lock.json
	cd $(JSTEST) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Native packages, with the race detector. This includes the end-to-end
# tests, which drive headless Chromium against the example server.
test-native: chromium jsdeps
	$(GO) test -race -count=1 ./...

# Packages compiled to wasm, run inside headless Chromium. A wasm test
# cannot listen, so testenv runs wasmbrowsertest with jwthttp's test
# servers up (their URLs in the environment, which wasmbrowsertest hands to
# the program) and stops them when it ends, whatever the outcome.
TESTENV     := $(BIN)/jwthttp-testenv
test-wasm: tools
	$(GO) build -o $(TESTENV) ./wasm/jwthttp/internal/testenv
	{ GOOS=js GOARCH=wasm $(GO) test -count=1 -exec="$(TESTENV) $(WBT)" ./wasm/... 2>&1; } | $(QUIET_WBT)

size: build

## fuzz: each fuzz target for FUZZTIME (crashers land in wasm/session/testdata/fuzz: keep them)
FUZZTIME ?= 30s
FUZZ_TARGETS := FuzzParseObject FuzzReadClaims FuzzDecodeState FuzzReadRefreshResponse FuzzDecodeBase64URL FuzzTextHelpers
fuzz:
	for f in $(FUZZ_TARGETS); do \
		$(GO) test -run='^$$' -fuzz="^$$f\$$" -fuzztime=$(FUZZTIME) ./wasm/session || exit 1; \
	done

## mutate: mutation testing (gremlins) of the Go packages that decide; fails
## below the thresholds. Slow (about 12 minutes on 2 cores), so not in `test`.
GREMLINS         := $(BIN)/gremlins
GREMLINS_VERSION := v0.6.0
# package:efficacy:coverage, in percent. Efficacy is killed / (killed +
# lived); coverage is (killed + lived) / all mutants (gremlins cannot see
# the coverage of conditions in switch cases, hence below 100). The mutants
# still alive are listed as equivalent in each package's mutation_test.go.
MUTATE           ?= ./wasm/session:97:80 ./wasm/jwthttp:90:70
# gremlins v0.6.0 exits 0 whatever its --threshold-* flags say, so the
# figures it prints are checked here. Its time limit per mutant is a multiple
# of its first (coverage) test run's time, which a cached test result makes
# tiny, and then nearly every mutant "times out": -count=1 keeps it real.
mutate: $(GREMLINS)
	for spec in $(MUTATE); do \
		IFS=: read -r pkg eff cov <<< "$$spec"; \
		GOFLAGS=-count=1 $(GREMLINS) unleash --workers 2 --timeout-coefficient 5 --exclude-files 'internal/' "$$pkg" | tee $(BIN)/mutate.out; \
		awk -v pkg="$$pkg" -v eff="$$eff" -v cov="$$cov" ' \
			/^Test efficacy:/ { e = $$3 + 0; seen++ } \
			/^Mutator coverage:/ { c = $$3 + 0; seen++ } \
			END { \
				if (seen != 2) { print "mutate: " pkg ": no figures from gremlins"; exit 1 } \
				if (e < eff || c < cov) { printf "mutate: %s: efficacy %.2f%% (min %d%%), coverage %.2f%% (min %d%%)\n", pkg, e, eff, c, cov; exit 1 } \
				printf "mutate: %s: efficacy %.2f%%, coverage %.2f%%: ok\n", pkg, e, c }' $(BIN)/mutate.out || exit 1; \
	done

$(GREMLINS):
	GOBIN=$(BIN) $(GO) install github.com/go-gremlins/gremlins/cmd/gremlins@$(GREMLINS_VERSION)

## bench: jwtfetch vs fetch, axios-auth-refresh, axios-jwt, ky in headless Chromium → $(BENCH)/RESULTS.md
bench: chromium build $(BENCH)/node_modules/.package-lock.json
	$(GO) run ./$(BENCH) -out $(BENCH)/RESULTS.md

$(BENCH)/node_modules/.package-lock.json: $(BENCH)/package.json $(BENCH)/package-lock.json
	cd $(BENCH) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

tools: chromium $(WBT)

# wasmbrowsertest pins an old chromedp, so it is installed on its own and
# kept out of this module's requirements.
$(WBT):
	GOBIN=$(BIN) $(GO) install github.com/agnivade/wasmbrowsertest@$(WBT_VERSION)

chromium:
	@if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null; then \
		echo "installing Chromium with apt-get"; \
		SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq; \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi

clean:
	rm -rf $(BIN) $(WASM) $(WASM).br $(WASM).gz jsglue/wasm_exec.js
	rm -f $(GOAPP) $(GOAPP).br $(GOAPP).gz
	rm -f example-site/web/vue/app.js* example-site/web/react/app.js* example-site/web/react/app.dev.js*
