# res_mwi_hub: build, test against a real Asterisk 22, install.
#   make            build the module (target/release/libres_mwi_hub.so)
#   make test       install tools, run unit, fuzz (60 s), conformance and end-to-end tests, then
#                   memcheck (what CI runs)
#   make memcheck   the end-to-end tests against AddressSanitizer builds of the module; fails on
#                   any ASan report that involves our code
#   make run        build, start the sandbox Asterisk with the module, open its console
#   make stop       stop the sandbox Asterisk
#   make bench      benchmarks, printed as ratios against baselines measured in the same run (and
#                   against res_mwi_external, built from Debian's source package for it)
#   make soak       SOAK_CYCLES (1,000) module unload/load cycles under AMI, NOTIFY and subscription
#                   traffic; fails on a crash, a lost acknowledged update or published != stored
#   make deb        build target/deb/res-mwi-hub_<version>_amd64.deb (module, XML docs, sample
#                   configuration as a conffile, README); install it with dpkg -i
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
HOST_PACKAGES := libclang-dev clang debootstrap sip-tester python3-pytest gcc make openssl lintian e2fsprogs

.PHONY: all build test-build deps sandbox lint unit fuzz conformance e2e soak test memcheck-build memcheck run stop bench install deb clean

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

e2e: build test-build sandbox deb
	MODULE=$(abspath $(MODULE)) TEST_MODULE=$(abspath $(TEST_MODULE)) DEB=$(abspath $(DEB)) \
	    $(PYTHON) -m pytest -v -p no:cacheprovider tests/e2e

# memcheck is part of test: it takes about 12 min here (builds up to date, loaded machine;
# from scratch the two ASan builds add 6 to 10), well inside CI's 90 min with the rest.
test: deps lint unit fuzz conformance e2e memcheck

# AddressSanitizer builds of the shipped and test-hooks module (release profile, with debuginfo).
# -Zsanitizer needs a nightly rustc; this machine has only stable, so RUSTC_BOOTSTRAP=1 unlocks
# it, for this test-only build and never for what ships. --target keeps build scripts and
# proc-macros uninstrumented; std stays uninstrumented (no build-std): our crate's code and the
# bundled SQLite (compiled by clang with -fsanitize=address) are what is checked.
# -Zsanitizer-recover with halt_on_error=0 below: one run reports every error, not the first.
# A cdylib does not link the ASan runtime: Asterisk is started with clang's runtime of rustc's
# LLVM major (22) preloaded, from the sandbox (provision.sh installs it).
ASAN_TARGET := x86_64-unknown-linux-gnu
ASAN_MODULE := target/asan/$(ASAN_TARGET)/release/libres_mwi_hub.so
ASAN_TEST_MODULE := target/asan-test-hooks/$(ASAN_TARGET)/release/libres_mwi_hub.so
ASAN_BUILD_ENV := RUSTC_BOOTSTRAP=1 RUSTFLAGS="-Zsanitizer=address -Zsanitizer-recover=address -Cforce-frame-pointers=yes" \
    CC_x86_64_unknown_linux_gnu=clang CFLAGS_x86_64_unknown_linux_gnu="-fsanitize=address -fsanitize-recover=address -fno-omit-frame-pointer"
# Paths inside the sandbox.
ASAN_RUNTIME := /usr/lib/llvm-22/lib/clang/22/lib/linux/libclang_rt.asan-x86_64.so
ASAN_LOG_DIR := /var/log/asterisk/asan
# One log file per pid; every error reported and the run goes on; leaks checked at exit (the
# checker keeps only those with our frames); fatal signals left to Asterisk and the tests' crash
# checks (ASan's handler would turn a SIGSEGV into exit status 1).
ASAN_OPTIONS_MEMCHECK := log_path=$(ASAN_LOG_DIR)/asan:halt_on_error=0:detect_leaks=1:malloc_context_size=30:symbolize=1:external_symbolizer_path=/usr/lib/llvm-22/bin/llvm-symbolizer:handle_segv=0:handle_sigbus=0:handle_sigfpe=0:handle_abort=0

# MEMCHECK_TESTS=tests/e2e/test_x.py runs part of the suite (while working on memcheck itself).
MEMCHECK_TESTS ?= tests/e2e

memcheck-build:
	$(ASAN_BUILD_ENV) $(CARGO) build --release --target $(ASAN_TARGET) --target-dir target/asan
	$(ASAN_BUILD_ENV) $(CARGO) build --release --features test-hooks --target $(ASAN_TARGET) --target-dir target/asan-test-hooks

# The whole e2e suite against the ASan builds (test_package installs the .deb's uninstrumented
# image, still under ASan's allocator), then the logs. What fails memcheck: a report involving
# our code, and any Asterisk (A or B) that died of SIGSEGV, SIGBUS, SIGFPE or SIGABRT meanwhile
# (ASan leaves those signals to Asterisk). The tests' own assertions are judged by `make e2e`,
# which runs before; under ASan the machine is several times slower and a timing-sensitive
# test may miss a deadline, so their failures here are printed, not fatal.
EXIT_FILES := $(SANDBOX)/var/log/asterisk/exits $(SANDBOX)/var/log/asterisk-b/exits
memcheck: memcheck-build sandbox deb
	$(ASTERISK) stop
	rm -rf $(SANDBOX)$(ASAN_LOG_DIR) && mkdir -p $(SANDBOX)$(ASAN_LOG_DIR)
	@rc=0; before=$$(for f in $(EXIT_FILES); do [ -f $$f ] && wc -l <$$f || echo 0; done); \
	ASAN_PRELOAD=$(ASAN_RUNTIME) ASAN_OPTIONS=$(ASAN_OPTIONS_MEMCHECK) \
	    MODULE=$(abspath $(ASAN_MODULE)) TEST_MODULE=$(abspath $(ASAN_TEST_MODULE)) DEB=$(abspath $(DEB)) \
	    $(PYTHON) -m pytest -v -p no:cacheprovider $(MEMCHECK_TESTS) || \
	    echo "memcheck: some e2e tests failed under ASan (listed above; make e2e judges them)"; \
	$(ASTERISK) stop; \
	set -- $$before; crashed=$$(for f in $(EXIT_FILES); do [ -f $$f ] && tail -n +$$(($$1 + 1)) $$f; shift; done \
	    | awk '$$2 ~ /^(134|135|136|139)$$/'); \
	if [ -n "$$crashed" ]; then echo "memcheck: Asterisk crashed under ASan (pid status): $$crashed"; rc=1; fi; \
	$(PYTHON) tests/memcheck/check-asan-logs.py $(SANDBOX)$(ASAN_LOG_DIR) || rc=1; \
	exit $$rc

# Not part of test: 1,000 cycles take minutes (see tests/soak/soak.py for what is checked).
SOAK_CYCLES ?= 1000
soak: build sandbox
	MODULE=$(abspath $(MODULE)) SOAK_CYCLES=$(SOAK_CYCLES) $(PYTHON) tests/soak/soak.py

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

# res_mwi_external and res_mwi_external_ami (the modules res_mwi_hub replaces; Debian builds
# neither), from Debian's asterisk source package, against the sandbox's asterisk-dev: for the
# side-by-side benchmark only, never shipped.
EXTERNAL_DIR := target/bench/res_mwi_external
EXTERNAL_MODULES := $(EXTERNAL_DIR)/res_mwi_external.so $(EXTERNAL_DIR)/res_mwi_external_ami.so
$(EXTERNAL_MODULES) &: tests/bench/build-res_mwi_external.sh
	tests/bench/build-res_mwi_external.sh $(SANDBOX) $(EXTERNAL_DIR)

bench: build test-build sandbox $(BASELINE_MODULE) $(EXTERNAL_MODULES)
	tests/bench/run-bench.sh $(abspath $(TEST_MODULE)) $(abspath $(BASELINE_MODULE))
	$(PYTHON) tests/bench/bench-mailboxes.py $(abspath $(MODULE)) $(abspath $(BASELINE_MODULE)) $(abspath $(EXTERNAL_DIR))
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

# The Debian package, made from the tree with dpkg-deb (no debian/ source package: the module is
# built by cargo above). Depends on Debian's asterisk of the supported releases (20 to 23).
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
DEB := target/deb/res-mwi-hub_$(VERSION)-1_amd64.deb
DEB_MAINTAINER ?= res_mwi_hub developers <res-mwi-hub@example.org>
deb: $(DEB)
$(DEB): build res_mwi_hub-en_US.xml res_mwi_hub.conf.sample README.md
	rm -rf target/deb/root && mkdir -p target/deb/root/DEBIAN
	cd target/deb/root && install -d usr/lib/x86_64-linux-gnu/asterisk/modules \
	    usr/share/asterisk/documentation/thirdparty etc/asterisk usr/share/doc/res-mwi-hub
	strip --strip-unneeded -o target/deb/root/usr/lib/x86_64-linux-gnu/asterisk/modules/res_mwi_hub.so $(MODULE)
	chmod 0644 target/deb/root/usr/lib/x86_64-linux-gnu/asterisk/modules/res_mwi_hub.so
	install -m 0644 res_mwi_hub-en_US.xml target/deb/root/usr/share/asterisk/documentation/thirdparty/
	install -m 0644 res_mwi_hub.conf.sample target/deb/root/etc/asterisk/res_mwi_hub.conf
	gzip -9n < README.md > target/deb/root/usr/share/doc/res-mwi-hub/README.md.gz
	printf '%s\n' "res-mwi-hub ($(VERSION)-1) unstable; urgency=medium" "" \
	    "  * Built from the res_mwi_hub tree (make deb)." "" \
	    " -- $(DEB_MAINTAINER)  $$(date -R -d @$$(git log -1 --format=%ct 2>/dev/null || date +%s))" \
	    | gzip -9n > target/deb/root/usr/share/doc/res-mwi-hub/changelog.Debian.gz
	printf '%s\n' "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/" \
	    "Upstream-Name: res_mwi_hub" "" "Files: *" "Copyright: 2026 res_mwi_hub developers" \
	    "License: GPL-2+" " On Debian systems the full text of the GNU General Public License" \
	    " version 2 is in /usr/share/common-licenses/GPL-2." \
	    > target/deb/root/usr/share/doc/res-mwi-hub/copyright
	echo /etc/asterisk/res_mwi_hub.conf > target/deb/root/DEBIAN/conffiles
	printf '%s\n' "Package: res-mwi-hub" "Version: $(VERSION)-1" "Architecture: amd64" \
	    "Maintainer: $(DEB_MAINTAINER)" "Section: comm" "Priority: optional" \
	    "Depends: asterisk (>= 1:20~), asterisk (<< 1:24~), libc6 (>= 2.34)" \
	    "Installed-Size: $$(du -sk target/deb/root --exclude=DEBIAN | cut -f1)" \
	    "Homepage: https://github.com/asterisk/asterisk" \
	    "Description: Asterisk module: Message Waiting Indication from outside Asterisk" \
	    " res_mwi_hub keeps voicemail lamps lit for mailboxes whose counts come" \
	    " from outside Asterisk: external mailboxes set over AMI (MWIUpdate, as" \
	    " res_mwi_external_ami), ARI /mailboxes and the CLI, stored persistently;" \
	    " unsolicited message-summary NOTIFYs on PJSIP endpoints; and outbound MWI" \
	    " subscriptions configured in pjsip.conf." \
	    > target/deb/root/DEBIAN/control
	cd target/deb/root && find . -path ./DEBIAN -prune -o -type f -printf '%P\n' | sort | xargs md5sum > DEBIAN/md5sums
	dpkg-deb --root-owner-group -Zxz --build target/deb/root $@ >/dev/null
	@echo "Built $@"

clean:
	$(CARGO) clean
