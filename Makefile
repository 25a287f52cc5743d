# Parley: `make run` starts a server with the embedded defaults;
# `make test` runs the whole suite with the race detector.
GO      ?= go
BIN     := bin/parley
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)

.PHONY: build run test bench bench-export lint fmt clean

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/parley

run: build
	./$(BIN) serve

# Real Redis and Postgres are found through PARLEY_TEST_REDIS_URL and
# PARLEY_TEST_DATABASE_URL (local defaults); tests that cannot reach a
# service skip loudly, and fail under CI=true.
test:
	$(GO) test -race -count=1 -timeout 20m ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./sfu/...

# The data export of a member with 10,000 and 100,000 chat messages: time,
# allocations and the peak heap (README, "Data ownership"). Add
# PARLEY_BENCH_POSTGRES=1 to export from Postgres too.
bench-export:
	$(GO) test -run '^$$' -bench BenchmarkExportChat -benchmem -benchtime 3x -timeout 30m ./cmd/parley/

lint:
	@test -z "$$(gofmt -l .)" || (gofmt -l .; echo 'gofmt needed'; exit 1)
	$(GO) vet ./...

fmt:
	gofmt -w .

clean:
	rm -rf bin test-artifacts
