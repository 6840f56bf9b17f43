# Two commands on a fresh Debian machine with only Go: `make dev` and `make test`.
# The private PostgreSQL and Redis (and, once, their apt packages) come from infra/dev/env.sh.

.DEFAULT_GOAL := help
FUZZTIME ?= 30s

.PHONY: help dev test bench load load-session build fmt vet fuzz stop clean

help:
	@echo 'make dev     build, migrate, seed demo data and run yamen with a private PostgreSQL and Redis'
	@echo 'make test    go vet + go test -race against the yamen_test database (GOTESTFLAGS=..., TEST_PKGS=...)'
	@echo 'make bench   benchmarks (BENCH_PKGS=./tenants/...)'
	@echo 'make fuzz    each Fuzz target for FUZZTIME (default 30s)'
	@echo 'make load    load test: GET /v1/t/demo-hall/modules at 64 connections (LOAD_C, LOAD_D)'
	@echo 'make load-session  the same as a staff member signed in through Kratos'
	@echo 'make build   go build -o bin/yamen'
	@echo 'make fmt     go fmt ./...'
	@echo 'make vet     go vet ./...'
	@echo 'make stop    stop the private PostgreSQL and Redis under .dev'
	@echo 'make clean   stop them and delete .dev (all dev/test data) and bin'

dev:
	bash infra/dev/run.sh dev

test:
	bash infra/dev/run.sh test

bench:
	bash infra/dev/run.sh bench

load:
	bash infra/load/modules.sh

load-session:
	bash infra/load/session.sh

fuzz:
	FUZZTIME=$(FUZZTIME) bash infra/dev/run.sh fuzz

build:
	go build -o bin/yamen .

fmt:
	go fmt ./...

vet:
	go vet ./...

stop:
	bash infra/dev/env.sh stop

clean:
	bash infra/dev/env.sh clean
	rm -rf bin
