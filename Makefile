# Chatterly. `make run` starts the whole stack; `make test` runs every test.
# Variables use ?= so the caller's environment always wins.

GO ?= go
# staticcheck 2025.1.1 is module version v0.6.1 ("@2025.1.1" is not a version the Go proxy knows).
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.6.1
BIN ?= bin
GO_BUILD_FLAGS ?= -trimpath

.PHONY: all build run fleet test lint migrate clean screenshots

all: build

build:
	$(GO) build $(GO_BUILD_FLAGS) -o $(BIN)/ $(addprefix ./,$(wildcard */cmd/*))

# exec: run.sh replaces make's shell, so it is make's own child, which make
# waits for when the stop signal reaches it too (a shell in between dies of
# SIGTERM at once and make returns while the stack is still draining).
run: build
	@BIN='$(BIN)' exec bash deploy/local/run.sh

# make fleet: make run's multi-node topology (a Redis Cluster, 2 api, 3 edge,
# the worker, the web client), stopped the same way (README).
fleet: build
	@BIN='$(BIN)' FLEET=1 exec bash deploy/local/run.sh

test:
	@bash deploy/local/test.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...
	cd deploy/check && $(GO) vet ./... && $(STATICCHECK) ./...

# make screenshots: the web client's main screens, as the E2E suite took them
# (web/e2e/.scratch, left by make test; the suite runs when there are none),
# copied to docs/screenshots for the README.
screenshots:
	@ls web/e2e/.scratch/screenshots/*.png >/dev/null 2>&1 || bash web/e2e/run.sh
	@mkdir -p docs/screenshots && cp web/e2e/.scratch/screenshots/*.png docs/screenshots/ && ls docs/screenshots

migrate: build
	@bash deploy/local/migrate.sh

clean:
	rm -rf $(BIN)

.PHONY: bench bench-smoke

# make bench: builds release binaries, runs every scenario on a fresh local
# stack (under 20 minutes) and writes bench/REPORT.md, bench/results/<run>.json
# and its plots, which are committed. It prints "scenario n of m" as it goes,
# a PASS/FAIL line per target at the end, and exits non-zero when a target
# is not met; BENCH_FLAGS=-report-only keeps exit 0 for a run made for its report.
BENCH_FLAGS ?=
bench:
	$(GO) run ./bench/cmd/chatterly-bench $(BENCH_FLAGS)

# make bench-smoke: every scenario with tiny loads (under a minute on a warm
# build cache); its report stays in the scratch data folder. It fails only
# when the harness does, never on targets. make test runs the same harness
# as TestBenchSmoke.
bench-smoke:
	$(GO) run ./bench/cmd/chatterly-bench -smoke
