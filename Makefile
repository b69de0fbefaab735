# s3cache — see README. `make test` is the one command CI runs (.ci/run).
GO        ?= go
BIN       ?= bin/s3cache
# Pinned; `go run pkg@version` leaves go.mod alone.
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
TEST_TIMEOUT ?= 30m

.PHONY: all build test unit e2e race lint fmt vet demo s3server test-deps client-deps test-clients clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/s3cache

# Everything: installs the local S3 server the e2e tests need (pinned
# versitygw into .tools/bin; minutes the first time, instant after), then vet
# and every test. S3CACHE_E2E_REQUIRE=1 turns a missing server (or a missing
# client of the client matrix) into a failure.
test: s3server test-deps client-deps
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	$(GO) test -race -count=1 ./internal/...
	S3CACHE_E2E_REQUIRE=1 $(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...

# Unit tests only (no S3 server needed).
unit:
	$(GO) test -count=1 $$($(GO) list ./... | grep -v /e2e)

# e2e tests only, verbose; E2E_RUN=Regexp narrows them.
e2e: s3server client-deps
	S3CACHE_E2E_REQUIRE=1 $(GO) test -count=1 -timeout $(TEST_TIMEOUT) -v ./e2e/... $(if $(E2E_RUN),-run '$(E2E_RUN)')

# Unit tests with the race detector, and the e2e tests against a -race build of s3cache.
race: s3server client-deps
	S3CACHE_E2E_REQUIRE=1 S3CACHE_E2E_RACE=1 $(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./...

s3server:
	scripts/s3server.sh install

# Debian packages the tests need (Chromium for the dashboard test).
test-deps:
	scripts/test-deps.sh

# The S3 clients of the client matrix: AWS CLI, boto3, s3cmd, rclone (Debian
# packages) and @aws-sdk/client-s3 (npm, into e2e/clients/node_modules).
client-deps:
	scripts/client-deps.sh

# The client matrix alone (also part of `make test`), verbose.
test-clients: s3server client-deps
	S3CACHE_E2E_REQUIRE=1 $(GO) test -count=1 -timeout $(TEST_TIMEOUT) -v -run 'TestClient(GoSDK|AWSCLI|Boto3|S3cmd|Rclone|NodeSDK|HeadThenPresignedGet)$$' ./e2e

fmt:
	gofmt -w $$(find . -name '*.go' -not -path './.tools/*')

vet:
	$(GO) vet ./...

# gofmt, go vet and staticcheck; runs all three, fails if any complains.
lint:
	@rc=0; \
	out=$$(gofmt -l $$(find . -name '*.go' -not -path './.tools/*')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; rc=1; fi; \
	echo "$(GO) vet ./..."; $(GO) vet ./... || rc=1; \
	echo "staticcheck ./..."; $(GO) run $(STATICCHECK) ./... || rc=1; \
	exit $$rc

# Local S3 server + s3cache in front of it: shows X-Cache MISS then HIT, then
# keeps s3cache running until Ctrl-C (DEMO_EXIT=1 make demo stops at once).
demo:
	scripts/demo.sh

clean:
	rm -rf bin e2e/artifacts .tools/demo

# Benchmark (bench/README.md): s3cache vs direct S3 vs nginx proxy_cache, side
# by side, writing bench/results/<date>.{json,md,svg}. `bench` is the full run
# (tens of minutes; refreshes bench/README.md), `bench-quick` the CI smoke
# (small objects, one round, under 2 minutes). Both install nginx (Debian
# package) and versitygw when missing. BENCH_ARGS passes more flags.
.PHONY: bench bench-quick
bench: s3server
	scripts/nginx-peer.sh install
	$(GO) run ./bench -mode full $(BENCH_ARGS)

bench-quick: s3server
	scripts/nginx-peer.sh install
	$(GO) run ./bench -mode quick $(BENCH_ARGS)
