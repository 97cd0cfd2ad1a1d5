# res_mwi_hub: build, test against a real Asterisk 22, install.
#   make            build the module (target/release/libres_mwi_hub.so)
#   make test       install tools, run unit, fuzz (60 s), conformance and end-to-end tests (what CI runs)
#   make run        build, start the sandbox Asterisk with the module, open its console
#   make stop       stop the sandbox Asterisk
#   make bench      benchmarks, printed as ratios against baselines measured in the same run
#   make install    copy res_mwi_hub.so into the local Asterisk's modules directory, its XML docs
#                   into ASTDATADIR/documentation/thirdparty
SHELL := /bin/bash
SANDBOX ?= /var/cache/res_mwi_hub/sandbox
export SANDBOX
CARGO ?= cargo
PYTHON ?= /usr/bin/python3
MODULE := target/release/libres_mwi_hub.so
TEST_MODULE := target/test-hooks/release/libres_mwi_hub.so
BASELINE_MODULE := target/bench/res_mwi_hub_bench_baseline.so
ASTERISK := tests/sandbox/asterisk.sh
# Debian packages the build and the tests need (Debian 12 host).
HOST_PACKAGES := libclang-dev clang debootstrap sip-tester python3-pytest gcc make openssl

.PHONY: all build test-build deps sandbox lint unit fuzz conformance e2e test run stop bench install clean

all: build

build:
	$(CARGO) build --release

test-build:
	$(CARGO) build --release --features test-hooks --target-dir target/test-hooks

deps:
	@missing=""; for p in $(HOST_PACKAGES); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@# The ARI tests' client library (node-ari-client, pinned by its package-lock.json).
	@command -v npm >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null; }
	@[ -d tests/e2e/ari_client/node_modules/ari-client ] || npm ci --prefix tests/e2e/ari_client --no-audit --no-fund --loglevel=error >/dev/null

sandbox: deps
	tests/sandbox/provision.sh $(SANDBOX)

# The SAFETY-comment and unsafe-op lints are configured in Cargo.toml; this enforces them.
lint:
	$(CARGO) fmt --check
	$(PYTHON) tests/docs/check_xml_docs.py
	@# Per-thread state with destructors on Asterisk's threads pins or crashes the image
	@# (see src/host/thread.rs and src/host/guard.rs): none of these outside our own thread.
	@if grep -rnE 'thread_local!|thread::current\(|thread::spawn|thread::Builder|once_cell|parking_lot' src/ \
	    | grep -vE '^[^:]+:[0-9]+:[[:space:]]*//'; then \
	    echo "lint: per-thread state on Asterisk threads (see above)"; exit 1; fi
	$(CARGO) clippy --release --all-targets -- -D warnings
	$(CARGO) clippy --release --all-targets --features test-hooks --target-dir target/test-hooks -- -D warnings

unit:
	$(CARGO) test --lib

# The message-summary parser under libFuzzer for a bounded time; fails on any finding.
FUZZ_SECONDS ?= 60
fuzz:
	tests/fuzz/run.sh $(FUZZ_SECONDS)

conformance: build sandbox
	tests/conformance/check-abi.sh "$$(ls -t target/release/build/res_mwi_hub-*/out/asterisk_bindings.rs | head -n1)" $(SANDBOX)

e2e: build test-build sandbox
	MODULE=$(abspath $(MODULE)) TEST_MODULE=$(abspath $(TEST_MODULE)) \
	    $(PYTHON) -m pytest -v -p no:cacheprovider tests/e2e

test: deps lint unit fuzz conformance e2e

run: build sandbox
	$(ASTERISK) stop
	$(ASTERISK) configure
	$(ASTERISK) install $(MODULE)
	$(ASTERISK) start
	@# The sandbox's modules.conf loads res_mwi_hub at boot: load it only if that failed,
	@# and say what happened either way.
	@if ! $(ASTERISK) cli "module show like res_mwi_hub" | grep -q "res_mwi_hub.so .* Running "; then \
	    echo "res_mwi_hub was not loaded at boot; loading it:"; $(ASTERISK) cli "module load res_mwi_hub.so"; fi
	@if [ -t 0 ]; then chroot $(SANDBOX) /usr/sbin/asterisk -r; \
	else $(ASTERISK) cli "module show like res_mwi_hub"; echo "Asterisk is running; 'make stop' ends it."; fi

stop:
	$(ASTERISK) stop

$(BASELINE_MODULE): tests/bench/baseline/res_mwi_hub_bench_baseline.c $(wildcard asterisk-headers/*.h)
	mkdir -p $(dir $@)
	gcc -shared -fPIC -O2 -Wall -Werror -Iasterisk-headers -o $@ $<

bench: build test-build sandbox $(BASELINE_MODULE)
	tests/bench/run-bench.sh $(abspath $(TEST_MODULE)) $(abspath $(BASELINE_MODULE))
	$(PYTHON) tests/bench/bench-mailboxes.py $(abspath $(MODULE)) $(abspath $(BASELINE_MODULE))
	$(PYTHON) tests/bench/bench-notify.py $(abspath $(MODULE))
	$(PYTHON) tests/bench/bench-outbound.py $(abspath $(MODULE))

# Where the local Asterisk keeps its modules: ASTMODDIR=... overrides; otherwise asterisk.conf's
# astmoddir, then the usual locations. Its data (the XML docs): ASTDATADIR=..., asterisk.conf's
# astdatadir, else /usr/share/asterisk.
install: build
	@dir="$(ASTMODDIR)"; \
	if [ -z "$$dir" ] && [ -f /etc/asterisk/asterisk.conf ]; then \
	    dir=$$(sed -n 's/^[[:space:]]*astmoddir[[:space:]]*=>*[[:space:]]*//p' /etc/asterisk/asterisk.conf | head -n1); fi; \
	for d in /usr/lib/x86_64-linux-gnu/asterisk/modules /usr/lib/asterisk/modules /usr/lib64/asterisk/modules; do \
	    [ -n "$$dir" ] || { [ -d "$$d" ] && dir="$$d"; }; done; \
	[ -n "$$dir" ] && [ -d "$$dir" ] || { echo "No Asterisk modules directory found; use make install ASTMODDIR=/path"; exit 1; }; \
	install -m 0644 $(MODULE) "$$dir/.res_mwi_hub.so.new" && mv -f "$$dir/.res_mwi_hub.so.new" "$$dir/res_mwi_hub.so"; \
	echo "Installed $$dir/res_mwi_hub.so; load it with: asterisk -rx 'module load res_mwi_hub.so'"; \
	data="$(ASTDATADIR)"; \
	if [ -z "$$data" ] && [ -f /etc/asterisk/asterisk.conf ]; then \
	    data=$$(sed -n 's/^[[:space:]]*astdatadir[[:space:]]*=>*[[:space:]]*//p' /etc/asterisk/asterisk.conf | head -n1); fi; \
	[ -n "$$data" ] || data=/usr/share/asterisk; \
	docs="$$data/documentation/thirdparty"; \
	install -d "$$docs" && install -m 0644 res_mwi_hub-en_US.xml "$$docs/.res_mwi_hub-en_US.xml.new" \
	    && mv -f "$$docs/.res_mwi_hub-en_US.xml.new" "$$docs/res_mwi_hub-en_US.xml" || exit 1; \
	echo "Installed $$docs/res_mwi_hub-en_US.xml (read at Asterisk's start: restart a running Asterisk" \
	    "before the module's first load, or registering mwi-subscription fails)"; \
	etc="$(ASTETCDIR)"; [ -n "$$etc" ] || etc=/etc/asterisk; \
	if [ -d "$$etc" ] && [ ! -e "$$etc/res_mwi_hub.conf" ]; then \
	    install -m 0640 res_mwi_hub.conf.sample "$$etc/res_mwi_hub.conf"; echo "Installed $$etc/res_mwi_hub.conf (defaults)"; fi

clean:
	$(CARGO) clean
