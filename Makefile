# SPDX-License-Identifier: GPL-2.0
#
# Top-level driver for both halves: the module (kmod/, through Kbuild) and the
# CLI (tools/), plus the test and benchmark entry points, grouped below.

# The kernel that the module is built for and the test VM boots: Debian's
# default 6.1 flavour, whatever linux-headers-amd64 currently points at.
# An empty value inherited from a make that ran before `deps` installed the
# kernel is looked up again.
VM_KVER := $(or $(VM_KVER),$(shell dpkg-query -W -f='$${Depends}' linux-headers-amd64 2>/dev/null | \
	sed -n 's/.*linux-headers-\([^ ,]*\).*/\1/p'))
ifneq ($(wildcard /lib/modules/$(shell uname -r)/build),)
KDIR ?= /lib/modules/$(shell uname -r)/build
else
KDIR ?= /lib/modules/$(VM_KVER)/build
endif
PREFIX ?= /usr/local
export PREFIX DESTDIR VM_KVER

all: module tools

# KVER=LANE (one of `scripts/kernels.sh list`) builds for that kernel instead,
# with W=1, into .build/kernels/LANE: kmod/portredir.ko stays the default's.
module:
ifeq ($(KVER),)
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules
else
	scripts/kernels.sh build $(KVER)
endif

module-debug:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules ccflags-y+=-DDEBUG

tools:
	$(MAKE) -C tools

# The CLI's libFuzzer harnesses (tools/tests/fuzz/), FUZZ_SECONDS each
# (default 300); make check runs them for FUZZ_CHECK_SECONDS (20).
fuzz:
	$(MAKE) -C tools fuzz

install: all
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install INSTALL_MOD_PATH=$(DESTDIR)
	$(MAKE) -C tools install

# The module's sources and dkms.conf into /usr/src/portredir-VERSION, where
# `dkms install portredir/VERSION` builds them for each kernel, now and on
# every kernel upgrade.
DKMS_VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
DKMS_DIR ?= /usr/src/portredir-$(DKMS_VERSION)
DKMS_SOURCES := Kbuild dkms.conf include/uapi/linux/portredir.h kmod/Kbuild \
	$(filter-out %.mod.c,$(wildcard kmod/*.c)) $(wildcard kmod/*.h)

dkms-install:
	for f in $(DKMS_SOURCES); do install -D -m 0644 $$f $(DESTDIR)$(DKMS_DIR)/$$f || exit; done

# Debian packages built with Debian's tools (debhelper, dh-dkms) from a copy
# of the tree: portredir (CLI, unit, man pages, completion) and
# portredir-dkms (module sources for DKMS), in .build/deb/.
DEB_DIR := .build/deb

deb:
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/portredir
	git ls-files -co --exclude-standard | grep -v '^\.build/' | \
		tar -cf - --no-recursion -T - | tar -xf - -C $(DEB_DIR)/portredir
	cd $(DEB_DIR)/portredir && dpkg-buildpackage -b -us -uc >../build.log 2>&1 || \
		{ tail -n 30 ../build.log; exit 1; }
	ls $(DEB_DIR)/*.deb

# Both packages installed on a fresh bookworm root for the VM's kernel, the
# DKMS build loaded and used in the VM, then purged (scripts/deb-test.sh).
deb-test: deb
	scripts/deb-test.sh

# Checks a kernel reviewer runs: checkpatch (taken from Debian's kernel
# source package, which is the only place it ships), W=1 and sparse (C=2).
KSRC_TARBALL ?= /usr/src/linux-source-6.1.tar.xz
CHECKPATCH := .build/linux-source-6.1/scripts/checkpatch.pl
KMOD_SOURCES := $(filter-out %.mod.c,$(wildcard kmod/*.c)) $(wildcard kmod/*.h)

$(CHECKPATCH): $(KSRC_TARBALL)
	mkdir -p .build
	tar -xJf $< -C .build --wildcards 'linux-source-6.1/scripts/checkpatch.pl' \
		'linux-source-6.1/scripts/spelling.txt' 'linux-source-6.1/scripts/const_structs.checkpatch'
	touch $@

style: $(CHECKPATCH)
	$(CHECKPATCH) --no-tree --strict --terse -f $(KMOD_SOURCES) include/uapi/linux/portredir.h

sparse:
ifeq ($(KVER),)
	$(MAKE) -C $(KDIR) M=$(CURDIR) C=2 W=1 modules
else
	scripts/kernels.sh build $(KVER) C=2
endif

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	$(MAKE) -C tools clean
	$(MAKE) -C selftests clean

.PHONY: all module module-debug tools fuzz install dkms-install deb deb-test style sparse clean

# --- tests ---------------------------------------------------------------
# The VM boots $(VM_KVER) (selftests/vm/run.sh); the module must be built
# for it, which `module` does whenever the host kernel has no build dir.
VM_RUN = selftests/vm/run.sh --kver $(VM_KVER)

deps:
	scripts/install-deps.sh

# The netlink spec, Documentation/netlink/specs/portredir.yaml, is checked
# against the kernel's schema by the kernel's ynl, which the selftests also
# use as a second client of the module. Both come from Debian's
# linux-source-6.12 (bookworm-backports), extracted at build time.
YNL_TARBALL ?= /usr/src/linux-source-6.12.tar.xz
YNL_TREE := .build/linux-source-6.12
YNL_CLI := $(YNL_TREE)/tools/net/ynl/cli.py
PYTHON ?= python3

$(YNL_CLI): $(YNL_TARBALL)
	mkdir -p .build
	tar -xJf $< -C .build --wildcards 'linux-source-6.12/tools/net/ynl/*' \
		'linux-source-6.12/Documentation/netlink/*.yaml'
	touch $@

spec: $(YNL_CLI)
	$(PYTHON) -c 'import sys; sys.path.insert(0, "$(YNL_TREE)/tools/net/ynl"); \
		from lib import SpecFamily; \
		SpecFamily("Documentation/netlink/specs/portredir.yaml", \
			   "$(YNL_TREE)/Documentation/netlink/genetlink-legacy.yaml")' && \
		echo "spec: Documentation/netlink/specs/portredir.yaml is valid"

selftests: $(if $(wildcard $(YNL_TARBALL)),$(YNL_CLI))
	$(MAKE) -C selftests

# The suite once per backend of VM_BACKENDS, in one VM boot. The C API
# tests speak to the module directly, so the nft pass leaves them out.
VM_BACKENDS ?= kmod nft

vmtest: module tools selftests
	$(VM_RUN) -- sh -c '$(VM_SUITE)'

VM_SUITE = rc=0; \
	$(if $(filter kmod,$(VM_BACKENDS)),BACKEND=kmod make -s -C selftests run_tests || rc=1;) \
	$(if $(filter nft,$(VM_BACKENDS)),BACKEND=nft make -s -C selftests run_tests TEST_GEN_PROGS= || rc=1;) \
	exit $$rc

# The stress test (selftests/stress.sh): STRESS_SECONDS of rule changes,
# dumps, monitors, traffic, links and namespaces at once, then rmmod under
# traffic, in a boot of its own. slab_nomerge keeps the module's slab cache
# apart from others of its size, so that kmem_cache_destroy checks it.
STRESS_SECONDS ?= 60
STRESS_APPEND = VM_APPEND="slab_nomerge $(VM_APPEND)"

vmtest-stress: module tools selftests
	$(STRESS_APPEND) $(VM_RUN) -- env STRESS_SECONDS=$(STRESS_SECONDS) selftests/stress.sh

# deps, build, unit tests, nft selftests on this host, then vmtest; ends with
# "N passed, N failed, N skipped".
check: deps
	scripts/check.sh

# On a fresh machine VM_KVER and KDIR are empty until deps has installed the
# kernel, so the walk-through runs in a make started after it.
demo: deps
	$(MAKE) demo-run

demo-run: module tools
	$(VM_RUN) -- scripts/demo.sh

.PHONY: deps spec selftests vmtest vmtest-stress check demo demo-run

# --- benchmarks ------------------------------------------------------------
# One VM boot, every figure side by side in it (bench/bench.sh), written
# under bench/results/ with a plot (bench/run.sh). QUICK=1 for the short run.
# As with demo, deps first: gnuplot may be missing on a fresh machine.
BENCH_NET := bench/netbench

$(BENCH_NET): bench/netbench.c
	$(CC) -O2 -Wall -Wextra -Werror -o $@ $<

bench: deps
	$(MAKE) bench-run

bench-run: module tools $(BENCH_NET)
	QUICK=$(QUICK) bench/run.sh --kver $(VM_KVER)

.PHONY: bench bench-run

# --- kernels -------------------------------------------------------------
# The kernels the module is held to, fetched from Debian's archive and cached
# outside the clone by scripts/kernels.sh: 6.1 (the default), 6.1-rt, 6.12
# and 7.3. `make module|sparse|vmtest|demo KVER=LANE` builds for and boots
# one of them; module-all builds every one (W=1, sparse where it can parse
# the headers), vmtest-all runs the suite on each and prints one line per
# kernel with its counts and wall time.
ifneq ($(KVER),)
VM_RUN = scripts/kernels.sh run $(KVER)
endif

module-all:
	scripts/kernels.sh build-all

# KERNELS="6.1-rt 6.12" runs some lanes only.
vmtest-all: tools selftests
	scripts/kernels.sh matrix $(KERNELS)

# The 6.1-debug lane (KASAN, lockdep, PROVE_RCU, kmemleak): the C API tests,
# the stress test and the steering scenarios in one boot, then guest.sh's
# kmemleak scans. The kernel is built once (53 minutes of CPU) and cached
# by scripts/kernels.sh.
# The stress test runs outside the kselftest runner, whose per-program
# timeout (selftests/settings) it could pass under KASAN: the VM's own
# timeout bounds it, doubled for this kernel. DEBUG_LANE=6.1 runs the same
# on the stock kernel.
DEBUG_LANE ?= 6.1-debug

vmtest-debug: tools selftests
	scripts/kernels.sh build $(DEBUG_LANE)
	$(STRESS_APPEND) VM_TIMEOUT=$${VM_TIMEOUT:-3600} scripts/kernels.sh run $(DEBUG_LANE) -- \
		sh -c '$(VM_DEBUG_SUITE)'

# Then the steering scenarios, the module back in after the stress test's
# rmmod: their hook calls into nf_tproxy and the socket lookups, which only
# this kernel checks for lock and RCU misuse.
DEBUG_SCENARIOS = steer_inbound_and_local steer_ranges_and_selectors \
	steer_without_listener steer_syn_cookies steer_fast_open \
	steer_reuseport_group steer_reuses_time_wait steer_established_survive \
	steer_shows_mode steer_refused

VM_DEBUG_SUITE = rc=0; \
	BACKEND=kmod make -s -C selftests run_tests TEST_PROGS= || rc=1; \
	STRESS_SECONDS=$(STRESS_SECONDS) selftests/stress.sh || rc=1; \
	{ [ -d /sys/module/portredir ] || insmod "$$PORTREDIR_KO"; } && \
	BACKEND=kmod selftests/portredir.sh $(DEBUG_SCENARIOS) 2>&1 || rc=1; \
	exit $$rc

.PHONY: module-all vmtest-all vmtest-debug
