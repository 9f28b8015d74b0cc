# County credit ledger. The README's two commands for a fresh machine are
# `make demo` and `make test`; everything else here is for developers.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
GO ?= go
BIN := $(CURDIR)/bin
FABRIC_VERSION := 3.1.1
FABRIC_BIN := $(CURDIR)/.cache/fabric/$(FABRIC_VERSION)/bin
export PATH := $(BIN):$(FABRIC_BIN):$(PATH)

.PHONY: all build test unit demo bench chaos clean fabric \
	network-up network-down network-status network-clean

all: build

## build: the creditctl CLI and the chaincode server
build:
	$(GO) build -o $(BIN)/ ./cli/creditctl ./chaincode/cmd/creditcc

## unit: unit tests only (no network)
unit:
	$(GO) vet ./...
	$(GO) test ./...

## test: every test, including those against a real local Fabric network:
## unit tests, then the Fabric binaries, then the integration tests (-tags
## integration) against a throw-away network that is always torn down
test: browser unit fabric build
	$(GO) vet -tags integration ./...
	network/with-network.sh $(GO) test -tags integration -p 1 -count=1 -timeout 20m ./...

## demo: build what is missing, bring up the 3-county network (or repair it),
## and play the main story through creditctl (cli/demo/story.sh). The network
## is left running: make network-down stops it. RUN=<run folder> as for network-up.
demo: fabric build
	CREDITCTL=$(BIN)/creditctl $(if $(RUN),RUN=$(RUN)) cli/demo/story.sh

## bench: one table of figures, each with its baseline measured in the same
## run and the ratio (docs/PERFORMANCE.md): the Go benchmarks of the indexer
## and the certificates, those that need a network (inside with-network.sh),
## then `creditctl bench suite`: ledger throughput, latency, tuning and
## scaling on throw-away networks. Outputs in BENCH_OUT (.run/bench);
## DOCS=1 also rewrites the table in docs/PERFORMANCE.md and docs/scaling.png.
## Every network it starts is stopped, on failure and Ctrl-C too. Last, the
## fuzz targets for BENCH_FUZZTIME each (make fuzz).
BENCH_OUT ?= $(CURDIR)/.run/bench
BENCH_FLAGS ?=
# Then every fuzz target runs for BENCH_FUZZTIME (issue 7: minutes each;
# 13 targets, about 27 minutes at 2m); 0 skips them.
BENCH_FUZZTIME ?= 2m
# How long the fuzzer may spend shrinking each new input (Go's default is
# 60s): with inputs as large as Fabric blocks and bundles, the default
# left FuzzParseBlock shrinking, not fuzzing, for most of a 2-minute run.
FUZZMINIMIZE ?= 3s
# The index ingest benchmark alternates ingest, delivery and the storage
# floor this many times: one alternation gave ratios that moved by half
# between runs (the loaded ingest 0.23x in one run, 0.42-0.55x in the others).
BENCH_INGEST_RUNS ?= 10
bench: fabric build
	@mkdir -p $(BENCH_OUT) && rm -f $(BENCH_OUT)/*.json $(BENCH_OUT)/failed
	@echo "bench: Go benchmarks (indexer, certificates); load average $$(cut -d' ' -f1-3 /proc/loadavg)" >&2
	$(GO) test -run '^$$' -bench '^BenchmarkReplay$$' -benchtime 1x -timeout 20m -json ./indexer/ > $(BENCH_OUT)/indexer-replay.json || touch $(BENCH_OUT)/failed
	$(GO) test -run '^$$' -bench '^BenchmarkSubjectProfileScaling$$' -benchtime 5000x -timeout 20m -json ./indexer/ > $(BENCH_OUT)/indexer-scaling.json || touch $(BENCH_OUT)/failed
	$(GO) test -run '^$$' -bench '^BenchmarkOfflineVerify(Batch|Cold)$$' -json ./client/cert/ > $(BENCH_OUT)/cert.json || touch $(BENCH_OUT)/failed
	$(GO) test -run '^$$' -bench '^BenchmarkIssueCertificateBatch10000$$' -benchtime 1x -json ./chaincode/ > $(BENCH_OUT)/chaincode.json || touch $(BENCH_OUT)/failed
	@echo "bench: Go benchmarks against a network (index ingest and lookups, batch issuance)" >&2
	network/with-network.sh bash -c '$(GO) test -tags integration -p 1 -run "^$$" -timeout 30m -json \
	    -bench "^BenchmarkIndexIngestVsDelivery$$" -benchtime $(BENCH_INGEST_RUNS)x ./cli/ && \
	  $(GO) test -tags integration -p 1 -run "^$$" -timeout 30m -json \
	    -bench "^(BenchmarkIndexSubjectProfile|BenchmarkIssueBatchNetwork)$$" -benchtime 1x ./cli/ ./client/cert/' \
	  > $(BENCH_OUT)/network.json || touch $(BENCH_OUT)/failed
	@echo "bench: ledger throughput, latency, tuning, scaling (creditctl bench suite)" >&2
	trap 'for d in $(BENCH_OUT)/net-*/*/; do [ -d "$$d" ] && $(BIN)/creditctl network clean --run "$$d" >/dev/null 2>&1; done; rm -rf $(BENCH_OUT)/net-*' EXIT; \
	$(BIN)/creditctl bench suite --out $(BENCH_OUT) --command 'make bench$(if $(DOCS), DOCS=1)' \
	  $(foreach f,indexer-replay indexer-scaling cert chaincode network,--go-bench $(BENCH_OUT)/$(f).json) \
	  $(if $(DOCS),--doc docs/PERFORMANCE.md --plot docs/scaling.png) $(BENCH_FLAGS)
	@if [ -e $(BENCH_OUT)/failed ]; then echo "bench: a Go benchmark failed; see $(BENCH_OUT)/*.json" >&2; exit 1; fi
	@if [ "$(BENCH_FUZZTIME)" != 0 ]; then echo "bench: every fuzz target for $(BENCH_FUZZTIME) (BENCH_FUZZTIME=0 skips)" >&2; \
	  $(MAKE) --no-print-directory fuzz FUZZTIME=$(BENCH_FUZZTIME); fi

## bench-indexer: the indexer's benchmarks as one table (docs/INDEXER.md):
## replay of 100,000 synthetic credit transactions from block 0, and against
## a throw-away network grown to CREDIT_BENCH_TXS transactions (default
## 600): ingest vs raw block delivery, subject profile vs chaincode evaluate
.PHONY: bench-indexer
bench-indexer: fabric build
	{ $(GO) test -run '^$$' -bench 'BenchmarkReplay$$' -benchtime 1x ./indexer/ && \
	  $(GO) test -run '^$$' -bench 'BenchmarkIngestRealBlocks$$' -benchtime 50x ./indexer/ && \
	  network/with-network.sh $(GO) test -tags integration -run '^$$' -bench 'BenchmarkIndex' -benchtime 10x -timeout 30m ./cli/; } \
	  | $(GO) run ./indexer/internal/benchtable -command 'make bench-indexer'

## chaos: the full fault tests (docs/CHAOS.md): a Raft orderer and a peer
## killed under load, the indexer SIGKILLed under load, a hostile county with
## a malicious chaincode server, endorsement determinism. They own their
## network (ports from 17050), always torn down. make test runs the reduced
## form (the same package under -tags integration). Then the index crash
## test at its full size (issue 5): 20 SIGKILLs during ingest of a real
## network's blocks, reconcile clean after each restart (make test: 5).
.PHONY: chaos
chaos: fabric build
	$(GO) vet -tags chaos ./cli/chaos/...
	$(GO) test -tags chaos -count=1 -timeout 45m -v ./cli/chaos/
	CREDIT_CRASH_POINTS=20 network/with-network.sh $(GO) test -tags integration -count=1 -timeout 20m -run '^TestIndexCrash$$' -v ./cli/

## fuzz: run every fuzz target for FUZZTIME each (default 2m; e.g.
## FUZZTIME=30s). make test runs their seed corpora (testdata/fuzz) only.
FUZZTIME ?= 2m
# How long the fuzzer may spend shrinking each new input (Go's default is
# 60s): with inputs as large as Fabric blocks and bundles, the default
# left FuzzParseBlock shrinking, not fuzzing, for most of a 2-minute run.
FUZZMINIMIZE ?= 3s
.PHONY: fuzz
fuzz:
	@for dir in $$(grep -rl --include='*_test.go' '^func Fuzz' chaincode client indexer cli network | xargs -n1 dirname | sort -u); do \
	  for f in $$(grep -h -o '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go | cut -c6-); do \
	    echo "fuzz: ./$$dir $$f for $(FUZZTIME)"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZE) ./$$dir || exit 1; \
	  done; \
	done

## browser: Debian's Chromium and CJK fonts for the browser tests of the
## verification page (creditctl serve) and PDF printing; installs only what
## is missing (apt-get, non-interactive), so it is quick when both are there
BROWSER_PACKAGES := chromium fonts-noto-cjk
.PHONY: browser
browser:
	@missing=""; \
	for p in $(BROWSER_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "browser: $(BROWSER_PACKAGES) installed"; exit 0; fi; \
	if ! command -v apt-get >/dev/null; then \
	  echo "browser: missing$$missing and no apt-get here: install Chromium and a CJK font by hand (the browser tests skip without them, and fail when CI=true)" >&2; \
	  [ "$${CI:-}" != true ]; exit; \
	fi; \
	sudo=""; [ "$$(id -u)" = 0 ] || sudo="sudo"; \
	echo "browser: installing$$missing with apt-get"; \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing

## fabric: build the Fabric $(FABRIC_VERSION) binaries into .cache/fabric (once; cached)
fabric:
	network/build-fabric.sh

# The network targets take RUN=<run folder> and TOPOLOGY=<file> (defaults:
# .run/net and network/topology.yaml); see docs/NETWORK.md.
NETWORK_FLAGS = $(if $(RUN),--run $(RUN)) 

## network-up: bring the 3-county network up (or repair it); idempotent
network-up: fabric build
	$(BIN)/creditctl network up $(NETWORK_FLAGS) $(if $(TOPOLOGY),--topology $(TOPOLOGY))

## network-down: stop every process of the network; ledgers are kept
network-down: build
	$(BIN)/creditctl network down $(NETWORK_FLAGS)

## network-status: health, channel height per node, chaincode committed
network-status: build
	$(BIN)/creditctl network status $(NETWORK_FLAGS)

## network-clean: stop the network and delete its run folder
network-clean: build
	$(BIN)/creditctl network clean $(NETWORK_FLAGS)

## clean: remove build outputs (not the Fabric cache; see network-clean)
clean:
	rm -rf $(BIN)
