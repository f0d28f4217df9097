# Chatterly. `make run` starts the whole stack; `make test` runs every test.
# Variables use ?= so the caller's environment always wins.

GO ?= go
# staticcheck 2025.1.1 is module version v0.6.1 ("@2025.1.1" is not a version the Go proxy knows).
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.6.1
BIN ?= bin
GO_BUILD_FLAGS ?= -trimpath

.PHONY: all build run test lint migrate clean

all: build

build:
	$(GO) build $(GO_BUILD_FLAGS) -o $(BIN)/ $(addprefix ./,$(wildcard */cmd/*))

run: build
	@BIN=$(BIN) bash deploy/local/run.sh

test:
	@bash deploy/local/test.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...
	cd deploy/check && $(GO) vet ./... && $(STATICCHECK) ./...

migrate: build
	@bash deploy/local/migrate.sh

clean:
	rm -rf $(BIN)

.PHONY: bench bench-smoke

# make bench: builds release binaries, runs every scenario on a fresh local
# stack (under 20 minutes) and writes bench/REPORT.md, bench/results/<run>.json
# and its plots, which are committed.
bench:
	$(GO) run ./bench/cmd/chatterly-bench

# make bench-smoke: every scenario with tiny loads (under a minute on a warm
# build cache); its report stays in the scratch data folder. make test runs
# the same harness as TestBenchSmoke.
bench-smoke:
	$(GO) run ./bench/cmd/chatterly-bench -smoke
