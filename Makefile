# dxf for Go. Two commands on a fresh machine: `make demo` and `make test`.
SHELL         := bash
GO            ?= go
BIN           := bin
GOLANGCI_LINT_VERSION := v2.15.0
TOOLS         := $(shell $(GO) env GOPATH)/bin
VERSION       ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS       := -s -w -X main.version=$(VERSION)

.PHONY: all build install registry test test-short vet lint cover demo bench bench-scale fuzz clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/dxf ./cmd/dxf

# Installs dxf into $(go env GOPATH)/bin (or GOBIN), which is on most PATHs.
install:
	$(GO) install -trimpath -ldflags '$(LDFLAGS)' ./cmd/dxf
	@echo "installed $$($(GO) env GOBIN | grep . || echo $$($(GO) env GOPATH)/bin)/dxf"

# A throw-away local registry for trying dxf: runs until Ctrl-C. In another
# terminal, `. ./.registry.env` points dxf at it. REGISTRY_FLAGS=-tls,
# or "-tls -auth htpasswd" (or token) for one that asks for credentials.
REGISTRY_FLAGS ?=
registry:
	$(GO) run ./hack/localregistry -env .registry.env $(REGISTRY_FLAGS)

vet:
	$(GO) vet ./...

# Unit and integration tests, race detector on. Integration tests install
# the pinned Distribution registry into the user cache on first use. The full
# verbose log goes to test.log; the terminal gets each package's result, the
# registries started, failures, and a count.
test: vet
	@set -o pipefail; $(GO) test -race -count=1 -timeout 15m -v ./... 2>&1 | tee test.log | \
		grep -E '^(ok|FAIL|panic|--- FAIL|integration:|registrytest:)|^\?' ; status=$$?; \
	echo "$$(grep -c -- '^\s*--- PASS' test.log) tests passed, $$(grep -c -- '^\s*--- FAIL' test.log) failed (full log: test.log)"; \
	if [ $$status -ne 0 ]; then grep -A 15 -- '--- FAIL' test.log | head -300; exit $$status; fi
	@hack/check-secrets.sh test.log

test-short:
	$(GO) test -count=1 ./...

lint:
	GOBIN=$(TOOLS) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	$(TOOLS)/golangci-lint run ./...

# Coverage of the library and the CLI, counting the CLI tests that run the
# dxf binary as a subprocess: it is built with -cover and writes its data to
# COVERDIR, merged with the in-process profile.
COVERDIR := $(CURDIR)/coverdata
cover:
	rm -rf $(COVERDIR) && mkdir -p $(COVERDIR)
	DXF_TEST_COVERDIR=$(COVERDIR) $(GO) test -count=1 -coverpkg=./pkg/...,./cmd/...,./internal/... -coverprofile=coverage-tests.out ./...
	$(GO) tool covdata textfmt -i=$(COVERDIR) -o coverage-cli.out
	{ head -1 coverage-tests.out; tail -n +2 coverage-tests.out; tail -n +2 coverage-cli.out; } > coverage.out
	$(GO) tool cover -func=coverage.out | tail -1

demo: build
	hack/demo.sh

bench: build
	hack/bench.sh
	hack/bench-scale.sh

# Only the scale and incremental scenarios (BENCH_SCALE=growth,blobs,tags,incremental
# selects among them); writes docs/benchmarks-scale.md.
bench-scale: build
	hack/bench-scale.sh

# Only the copy scenarios (BENCH_COPY=registry,mount selects); writes
# docs/benchmarks-copy.md. make bench runs them too, from hack/bench.sh.
.PHONY: bench-copy
bench-copy: build
	hack/bench-copy.sh

# Runs every fuzz target for a short while (FUZZTIME each).
FUZZTIME ?= 20s
fuzz:
	hack/fuzz.sh $(FUZZTIME)

clean:
	rm -rf $(BIN) coverage.out coverage-tests.out coverage-cli.out coverdata
