# weed — build, run and test targets. `make run` starts the store;
# `make test` is what CI runs (.ci/run installs what it needs first).
GO        ?= go
BIN       := bin/weed
DATA      ?= ./data
# Packages with fuzz targets, and how long each target runs.
FUZZTIME  ?= 30s
FUZZSEED  ?= 2s

.PHONY: build run test lint fuzz fuzz-seed bench bench-raft sim proto clean

build:
	$(GO) build -o $(BIN) .

run: build
	./scripts/run.sh $(BIN) $(DATA)

# make test: unit, integration, crash and fixture tests, the lint test, a
# brief run of every fuzz target and the simulation seeds. Kept well under
# 15 minutes on 2 cores.
test: build
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 15m ./...
	$(MAKE) fuzz-seed FUZZTIME=$(FUZZSEED)

lint:
	$(GO) vet ./...
	$(GO) test -count=1 ./internal/lint/

# Every fuzz target in the tree, one after another, for FUZZTIME each.
fuzz-seed fuzz:
	@./scripts/fuzz.sh $(FUZZTIME)

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Our Raft against hashicorp/raft, 3 nodes over loopback with fsynced logs
# (a separate module, so the main one never depends on hashicorp/raft).
bench-raft:
	cd bench && $(GO) run ./cmd/raftbench -duration 5s

# Long deterministic simulation of the Raft library (many more seeds).
sim:
	$(GO) test -count=1 -timeout 60m -run 'TestSimulation' ./raft/sim/ -sim.seeds=50000

proto:
	@command -v protoc >/dev/null || { echo "protoc missing: apt-get install protobuf-compiler"; exit 1; }
	@command -v protoc-gen-go >/dev/null || $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
	PATH="$$PATH:$$($(GO) env GOPATH)/bin" ./scripts/proto.sh

clean:
	rm -rf bin
