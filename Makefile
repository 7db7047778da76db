# The two set-up commands are `make demo` and `make test`; each installs what it needs.
SHELL := /bin/bash
NODE_BIN := node
MECOM := $(NODE_BIN) dist/src/cli/main.js
GUEST := build/guest/vmlinuz build/guest/initrd.gz

.PHONY: all deps build guest test test-unit test-integration demo bench fuzz clean

all: build

# Debian packages (QEMU 10 from bookworm-backports, busybox, gcc, iproute2): installed when missing.
deps:
	@bash scripts/install-deps.sh

node_modules/.package-lock.json: package-lock.json package.json
	npm ci --no-audit --no-fund
	@touch $@

build: node_modules/.package-lock.json
	npm run --silent build

guest: deps
	@bash scripts/build-guest.sh build/guest

# Only *.test.js: Node 20's runner would otherwise run every .js under the directory (helpers too).
TESTS = $(shell find dist/test/$(1) -name '*.test.js' | sort)

test: deps build guest
	$(NODE_BIN) --test --test-concurrency=1 $(call TESTS,)

test-unit: build
	$(NODE_BIN) --test --test-concurrency=1 $(call TESTS,unit)

test-integration: deps build guest
	$(NODE_BIN) --test --test-concurrency=1 $(call TESTS,integration)

demo: deps build guest
	$(MECOM) demo

bench: deps build guest
	$(MECOM) bench codec
	$(MECOM) bench throughput
	
fuzz: build
	MECOM_FUZZ_ITERATIONS=2000000 $(NODE_BIN) --test dist/test/unit/wire/frame-fuzz.test.js

clean:
	rm -rf dist build
