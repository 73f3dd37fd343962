# Martlet: `make run` starts the relay on the embedded SQLite store, `make test` runs every test.

SWIFT ?= swift
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 7777
DATA ?= ./data
# Tests run at most this many at once. Unbounded, the whole suite started together on two
# cores: timing margins broke, PostgreSQL saves queued past their 30 s, and the test process
# held 1,800 descriptors, where Foundation's Process.run crashes (it overreads /proc/self/fd).
# Twelve keeps both cores busy, under 400 descriptors, and costs about 40 s of 190.
TEST_WIDTH ?= 12

.PHONY: run test deps build release python-deps browser-deps dht-deps deploy-deps interop clean

## The relay, optimised build, on $(HOST):$(PORT) with its store in $(DATA).
run: deps
	$(SWIFT) build -c release --product martlet
	$$($(SWIFT) build -c release --show-bin-path)/martlet serve --host $(HOST) --port $(PORT) --data $(DATA)

## Unit, store and end-to-end tests, then the independent-client check (nostr-sdk).
test: deps browser-deps dht-deps deploy-deps python-deps
	$(SWIFT) build --build-tests
	SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH=$(TEST_WIDTH) stdbuf -oL -eL \
		$(SWIFT) test --skip-build --parallel --num-workers 2
	$(MAKE) interop

## The relay checked by an independent client implementation (rust-nostr's nostr-sdk),
## and NIP-EE by a real MLS implementation (mls-rs).
interop: python-deps
	$(PYTHON) scripts/interop_nostr_sdk.py --martlet "$$($(SWIFT) build --show-bin-path)/martlet"

build: deps
	$(SWIFT) build

## libsecp256k1 comes from Debian; install it when we can, say how when we cannot.
deps:
	@if pkg-config --exists libsecp256k1 2>/dev/null; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		echo "installing libsecp256k1-dev"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libsecp256k1-dev pkg-config; \
	else \
		echo "error: libsecp256k1 is missing. Install it with: sudo apt-get install libsecp256k1-dev" >&2; exit 1; \
	fi

## Headless Chromium (Debian's), for the test that renders the status page.
browser-deps:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		echo "installing chromium"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else \
		echo "error: chromium is missing. Install it with: sudo apt-get install chromium" >&2; exit 1; \
	fi

## libtorrent's Python binding (Debian's), for the DHT interoperability tests against libtorrent 2.x.
dht-deps:
	@if /usr/bin/python3 -c "import libtorrent" 2>/dev/null; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		echo "installing python3-libtorrent"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-libtorrent; \
	else \
		echo "error: python3-libtorrent is missing. Install it with: sudo apt-get install python3-libtorrent" >&2; exit 1; \
	fi

## systemd-analyze (Debian's systemd), for the test that verifies contrib/martlet.service.
deploy-deps:
	@if command -v systemd-analyze >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		echo "installing systemd (for systemd-analyze)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq systemd; \
	else \
		echo "error: systemd-analyze is missing. Install it with: sudo apt-get install systemd" >&2; exit 1; \
	fi

## nostr-sdk for the interop check, mls-rs (RFC 9420) for its NIP-EE check; msgpack and cryptography for the axon reference client
## (scripts/axon_client.py), which the end-to-end tests run.
python-deps:
	@$(PYTHON) -c "import nostr_sdk" 2>/dev/null || $(PYTHON) -m pip install -q nostr-sdk
	@$(PYTHON) -c "import msgpack, cryptography" 2>/dev/null || $(PYTHON) -m pip install -q msgpack cryptography \
		|| $(PYTHON) -m pip install -q --break-system-packages msgpack cryptography
	@$(PYTHON) -c "import mls_rs_uniffi" 2>/dev/null || $(PYTHON) -m pip install -q agentvault-mls-rs-uniffi \
		|| $(PYTHON) -m pip install -q --break-system-packages agentvault-mls-rs-uniffi

clean:
	rm -rf .build
