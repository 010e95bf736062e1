# bangbang: `make help` lists the targets.
GO        ?= go
MODULE    := github.com/bangbang-im/bangbang
BIN       := bin/bangbang
THRIFT    := idl/common.thrift idl/frame.thrift idl/logic.thrift idl/gateway.thrift
FUZZTIME  ?= 30s
BENCHTIME ?= 1s

.PHONY: help gen build run test bench fuzz lint

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

gen: ## rewrite gen/ from idl/ (Kitex from Thrift)
	rm -rf gen
	mkdir -p gen
	for f in $(THRIFT); do $(GO) tool kitex -module $(MODULE) -gen-path gen $$f || exit 1; done

build: ## build bin/bangbang
	$(GO) build -o $(BIN) ./cmd/bangbang

run: build ## run every component in one process with demo data (bangbang all --demo)
	./$(BIN) all --demo

test: ## run the whole test suite (needs PostgreSQL and Redis: see .ci/run)
	$(GO) test -count=1 -timeout 12m ./...

bench: ## run the Go benchmarks (bench/ programs: see BENCHMARKS.md)
	$(GO) test -run='^$$' -bench=. -benchmem -benchtime=$(BENCHTIME) ./...

fuzz: ## run each fuzz target for FUZZTIME
	$(GO) test -run='^$$' -fuzz=FuzzParse -fuzztime=$(FUZZTIME) ./core-im/protocol
	$(GO) test -run='^$$' -fuzz=FuzzDecodeBody -fuzztime=$(FUZZTIME) ./core-im/protocol

lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^gen/')); if [ -n "$$out" ]; then echo "gofmt: $$out"; exit 1; fi
	$(GO) vet ./...
