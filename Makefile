# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
# nfsguard: 'make' builds build/nfsguard; 'make V=1' shows every command.
# 'make run' and 'make test' also install what they need first; their
# steps that need root run directly in a root shell, or through sudo.

VERSION := 0.1.0
OUTPUT ?= build
# One spelling of each path, so the compiler's dependency files match.
override OUTPUT := $(patsubst $(CURDIR)/%,%,$(abspath $(OUTPUT)))
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
UNITDIR ?= $(PREFIX)/lib/systemd/system
MANDIR ?= $(PREFIX)/share/man
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
SYSCONFDIR ?= /etc
CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= cc
PKG_CONFIG ?= pkg-config
PYTHON ?= /usr/bin/python3

ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/' \
	-e 's/ppc64le/powerpc/' -e 's/s390x/s390/')
VMLINUX := vmlinux/$(ARCH)/vmlinux.h

# Evaluated when first used, so 'make deps' can install pkg-config's data.
LIBBPF_CFLAGS = $(shell $(PKG_CONFIG) --cflags libbpf libelf zlib inih libmnl libmicrohttpd)
LIBBPF_LIBS = $(shell $(PKG_CONFIG) --libs libbpf libelf zlib inih libmnl libmicrohttpd)

CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers
USER_CFLAGS = $(CPPFLAGS) $(CFLAGS) $(WARN) -std=gnu11 -MMD -MP $(VARIANT_FLAGS) \
	-DNFSG_VERSION='"$(VERSION)"' -Iinclude -Iuser -I$(OUTPUT) $(LIBBPF_CFLAGS)
# Empty but for the lifecycle tests' variant builds (below), which force
# a header of tests/variants/ in front of every source, or link a source
# of it in: nothing of them is in the shipped build.
VARIANT_FLAGS :=
VARIANT_LINK :=
# -mcpu=v3 for the atomic exchanges of the rate limit (Linux 5.12+).
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) $(WARN) -MMD -MP $(VARIANT_FLAGS) \
	-Ivmlinux/$(ARCH) -Iinclude -Ibpf

# Steps that need root: directly as root, else through sudo (or a hint).
AS_ROOT := tools/as-root.sh
# Run as root by sudo in the checkout of the user who ran it, the build
# runs as that user, so that build/ stays theirs; what an older build as
# root left there is given back first.
SUDO_OWNER := $(shell [ "$$(id -u)" = 0 ] && [ -n "$${SUDO_UID:-}" ] && \
	[ "$$(stat -c %u .)" = "$$SUDO_UID" ] && echo "$$SUDO_UID:$${SUDO_GID:-$$SUDO_UID}")
ifneq ($(SUDO_OWNER),)
BUILD = { [ ! -e $(OUTPUT) ] || chown -R $(SUDO_OWNER) $(OUTPUT); } && \
	setpriv --reuid=$(SUDO_UID) --regid=$(SUDO_GID) --init-groups $(MAKE)
else
BUILD = $(MAKE)
endif

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
MAKEFLAGS += --no-print-directory
endif

BPF_OBJS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.bpf.o,$(wildcard bpf/*.bpf.c))
SKELS := $(BPF_OBJS:.bpf.o=.skel.h)
# Modules shared by the agent and the unit tests (all but main.c).
LIB_SRCS := $(filter-out user/main.c,$(wildcard user/*.c))
LIB_OBJS := $(patsubst user/%.c,$(OUTPUT)/user/%.o,$(LIB_SRCS))
UNIT_SRCS := $(wildcard tests/unit/*.c)
HELPERS := $(patsubst tests/helpers/%.c,$(OUTPUT)/tests/%,$(filter-out %.bpf.c,$(wildcard tests/helpers/*.c)))

.DELETE_ON_ERROR:
# Skeletons and objects are wanted, not intermediate: keep them.
.SECONDARY: $(BPF_OBJS) $(SKELS)
.PHONY: all clean deps deps-test deps-kernels run test test-kernels unit-tests helpers install uninstall fuzz bench bench-kernels test-package

ifneq ($(SUDO_OWNER),)
all:
	$(Q)$(BUILD) all
else
all: $(OUTPUT)/nfsguard
	@:
endif

$(OUTPUT) $(OUTPUT)/user $(OUTPUT)/tests:
	$(Q)mkdir -p $@

$(VMLINUX):
	@echo "no $(VMLINUX) for this architecture: run tools/gen-vmlinux.sh" >&2
	@exit 1

$(OUTPUT)/%.bpf.o: bpf/%.bpf.c $(VMLINUX) | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name nfsg_$* > $@

$(OUTPUT)/user/%.o: user/%.c | $(SKELS) $(OUTPUT)/user
	$(call msg,CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) -c $< -o $@

$(OUTPUT)/nfsguard: $(OUTPUT)/user/main.o $(LIB_OBJS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ $(VARIANT_LINK) $(LIBBPF_LIBS) -o $@

$(OUTPUT)/tests/unit_tests: $(UNIT_SRCS) $(LIB_OBJS) | $(OUTPUT)/tests
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(USER_CFLAGS) $(filter %.c %.o,$^) $(LIBBPF_LIBS) -o $@

$(OUTPUT)/tests/%: tests/helpers/%.c | $(OUTPUT)/tests
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $(WARN) -std=gnu11 -MMD -MP $(filter %.c,$^) -o $@

$(OUTPUT)/tests/%.bpf.o: tests/helpers/%.bpf.c | $(OUTPUT)/tests
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -target bpf $(WARN) -I/usr/include/$(shell $(CC) -print-multiarch) -c $< -o $@

# The tests' other builds, from test-only sources: one whose embedded
# policy also governs port 3049 (tests/variants/port.c wraps
# policy_set_default), one of a new ABI version (tests/variants/abi.h,
# forced in front of every source: its maps must be rebuilt), and one
# whose mkdir watcher cannot name new cgroups (tests/variants/unnamed.h).
VARIANTS := $(OUTPUT)/variant-port/nfsguard $(OUTPUT)/variant-abi/nfsguard \
	$(OUTPUT)/variant-unnamed/nfsguard
$(OUTPUT)/variant-port/nfsguard: FORCE
	$(Q)$(MAKE) OUTPUT=$(OUTPUT)/variant-port VARIANT_LINK="-Iinclude -Iuser \
		$(CURDIR)/tests/variants/port.c -Wl,--wrap=policy_set_default" all
$(OUTPUT)/variant-abi/nfsguard: FORCE
	$(Q)$(MAKE) OUTPUT=$(OUTPUT)/variant-abi \
		VARIANT_FLAGS="-include $(CURDIR)/tests/variants/abi.h" all
$(OUTPUT)/variant-unnamed/nfsguard: FORCE
	$(Q)$(MAKE) OUTPUT=$(OUTPUT)/variant-unnamed \
		VARIANT_FLAGS="-include $(CURDIR)/tests/variants/unnamed.h" all
FORCE:

helpers: $(HELPERS) $(OUTPUT)/tests/foreign.bpf.o $(OUTPUT)/tests/rewrite.bpf.o \
	$(OUTPUT)/tests/keepkey.bpf.o $(VARIANTS)
	@:

# The configuration parser under libFuzzer and AddressSanitizer.
FUZZ_SECONDS ?= 60
FUZZ_SRCS := tests/fuzz/fuzz_config.c user/config.c user/log.c user/parse.c user/policy.c
$(OUTPUT)/tests/fuzz_config: $(FUZZ_SRCS) | $(OUTPUT)/tests
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) -g -O1 -fsanitize=fuzzer,address,undefined $(WARN) -std=gnu11 \
		-Iinclude -Iuser $(shell $(PKG_CONFIG) --cflags inih libbpf) $(FUZZ_SRCS) \
		$(shell $(PKG_CONFIG) --libs inih libbpf) -o $@

# The control socket's request parser, the same way.
FUZZ_CTL_SRCS := tests/fuzz/fuzz_control.c user/ctl_proto.c user/filter.c user/parse.c
$(OUTPUT)/tests/fuzz_control: $(FUZZ_CTL_SRCS) | $(OUTPUT)/tests
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) -g -O1 -fsanitize=fuzzer,address,undefined $(WARN) -std=gnu11 \
		-Iinclude -Iuser $(shell $(PKG_CONFIG) --cflags libbpf) $(FUZZ_CTL_SRCS) -o $@

fuzz: $(OUTPUT)/tests/fuzz_config $(OUTPUT)/tests/fuzz_control
	$(Q)mkdir -p $(OUTPUT)/fuzz-corpus $(OUTPUT)/fuzz-corpus-control
	$(Q)$(OUTPUT)/tests/fuzz_config -max_total_time=$(FUZZ_SECONDS) \
		-max_len=4096 $(OUTPUT)/fuzz-corpus tests/fuzz/corpus
	$(Q)$(OUTPUT)/tests/fuzz_control -max_total_time=$(FUZZ_SECONDS) \
		-max_len=4200 $(OUTPUT)/fuzz-corpus-control tests/fuzz/corpus_control

unit-tests: $(OUTPUT)/tests/unit_tests
	$(Q)$(OUTPUT)/tests/unit_tests

deps:
	$(Q)$(AS_ROOT) tools/deps.sh build

deps-test:
	$(Q)$(AS_ROOT) tools/deps.sh build test

# The README's two commands: all set-up on a fresh Debian machine, in a
# root shell or as a user with sudo; the build as the user who ran make.
run: deps
	$(Q)$(BUILD) all
	$(Q)$(AS_ROOT) $(OUTPUT)/nfsguard run

test: deps-test
	$(Q)$(BUILD) all helpers $(OUTPUT)/tests/unit_tests $(OUTPUT)/tests/fuzz_config \
		$(OUTPUT)/tests/fuzz_control
	$(Q)$(AS_ROOT) $(PYTHON) tests/run.py --build $(OUTPUT)

# The Debian package (debian/): built from a copy of the checkout,
# lintian-checked, installed with dpkg -i, checked and purged.
deps-package:
	$(Q)$(AS_ROOT) tools/deps.sh build test package

test-package: deps-package
	$(Q)$(AS_ROOT) $(PYTHON) tests/package.py

# The kernel matrix (tools/kernels/): Debian's 5.10, 6.1 and 6.12, and the
# running kernel when /boot has it, each booted under qemu on this
# machine's root to run the suite's real cases. KERNELS picks some, e.g.
# KERNELS="bullseye trixie"; KERNEL_TESTS and KERNEL_TIMEOUT also apply.
KERNELS ?=
deps-kernels:
	$(Q)$(AS_ROOT) tools/deps.sh build test kernels

test-kernels: deps-kernels
	$(Q)$(BUILD) all helpers $(OUTPUT)/tests/unit_tests
	$(Q)$(AS_ROOT) tools/kernels/matrix.sh $(OUTPUT) $(KERNELS)

# The benchmark (bench/): workload tools, and a null cgroup program with
# its loader, the floor that any connect4/connect6 program pays.
BENCH_TOOLS := $(addprefix $(OUTPUT)/bench/,sink cycle stream rr probe bulk)
BENCH_BINS := $(BENCH_TOOLS) $(OUTPUT)/bench/nullprog
BENCH_CFLAGS = $(CFLAGS) $(WARN) -std=gnu11 -MMD -MP -Ibench -I$(OUTPUT)/bench \
	$(LIBBPF_CFLAGS)

.SECONDARY: $(OUTPUT)/bench/nullprog.bpf.o $(OUTPUT)/bench/nullprog.skel.h \
	$(BENCH_BINS:=.o) $(OUTPUT)/bench/tool.o

$(OUTPUT)/bench:
	$(Q)mkdir -p $@

$(OUTPUT)/bench/%.bpf.o: bench/%.bpf.c $(VMLINUX) | $(OUTPUT)/bench
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/bench/%.skel.h: $(OUTPUT)/bench/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(OUTPUT)/bench/%.o: bench/%.c | $(OUTPUT)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) $(BENCH_CFLAGS) -c $< -o $@

$(OUTPUT)/bench/nullprog.o: $(OUTPUT)/bench/nullprog.skel.h

$(BENCH_TOOLS): $(OUTPUT)/bench/%: $(OUTPUT)/bench/%.o $(OUTPUT)/bench/tool.o
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@

$(OUTPUT)/bench/nullprog: $(OUTPUT)/bench/nullprog.o $(OUTPUT)/bench/tool.o
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LIBBPF_LIBS) -o $@

# Runs as root: namespaces, cgroups and BPF. Writes bench/results/.
bench:
	$(Q)$(AS_ROOT) tools/deps.sh build bench
	$(Q)$(BUILD) all $(BENCH_BINS)
	$(Q)$(AS_ROOT) $(PYTHON) bench/run.py --build $(OUTPUT) $(if $(BENCH_QUICK),--quick)

# The program costs inside each kernel of the matrix, under KVM only
# (emulated timings mean nothing): without /dev/kvm, or where a guest under
# it runs nothing (tools/kernels/kvm.sh), it says so, exit 0.
bench-kernels:
	$(Q)if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then \
		$(AS_ROOT) tools/deps.sh build bench kernels && \
		$(BUILD) all $(BENCH_BINS) && \
		$(AS_ROOT) bench/kernels.sh $(OUTPUT) $(KERNELS); \
	else bench/kernels.sh $(OUTPUT); fi

# DESTDIR for packaging; an existing configuration is never overwritten.
CONF := $(DESTDIR)$(SYSCONFDIR)/nfsguard/nfsguard.conf
install:
	$(Q)$(BUILD) all
	$(call msg,INSTALL,$(DESTDIR)$(SBINDIR)/nfsguard)
	$(Q)install -D -m 0755 $(OUTPUT)/nfsguard $(DESTDIR)$(SBINDIR)/nfsguard
	$(call msg,INSTALL,$(DESTDIR)$(UNITDIR)/nfsguard.service)
	$(Q)install -d $(DESTDIR)$(UNITDIR)
	$(Q)sed 's|@SBINDIR@|$(SBINDIR)|g' user/nfsguard.service.in > $(DESTDIR)$(UNITDIR)/nfsguard.service
	$(Q)chmod 0644 $(DESTDIR)$(UNITDIR)/nfsguard.service
	$(call msg,INSTALL,$(DESTDIR)$(MANDIR)/man8/nfsguard.8)
	$(Q)install -D -m 0644 user/nfsguard.8 $(DESTDIR)$(MANDIR)/man8/nfsguard.8
	$(call msg,INSTALL,$(DESTDIR)$(COMPLETIONDIR)/nfsguard)
	$(Q)install -D -m 0644 user/nfsguard.bash-completion $(DESTDIR)$(COMPLETIONDIR)/nfsguard
	$(Q)if [ -e $(CONF) ]; then \
		echo "  KEEP     $(CONF)"; \
	else \
		echo "  INSTALL  $(CONF)"; \
		install -D -m 0644 user/nfsguard.conf $(CONF); \
	fi

# What install put there, and only that; the configuration only if it is
# still the one shipped, and its directory only once empty.
uninstall:
	$(Q)for f in $(DESTDIR)$(SBINDIR)/nfsguard $(DESTDIR)$(UNITDIR)/nfsguard.service \
		$(DESTDIR)$(MANDIR)/man8/nfsguard.8 $(DESTDIR)$(COMPLETIONDIR)/nfsguard; do \
		if [ -e "$$f" ]; then echo "  REMOVE   $$f"; rm -f "$$f"; fi; \
	done
	$(Q)if [ ! -e $(CONF) ]; then :; \
	elif cmp -s $(CONF) user/nfsguard.conf; then \
		echo "  REMOVE   $(CONF)"; rm -f $(CONF); \
	else \
		echo "  KEEP     $(CONF): changed since it was installed; remove it by hand"; \
	fi
	$(Q)rmdir $(DESTDIR)$(SYSCONFDIR)/nfsguard 2>/dev/null || :

clean:
	$(call msg,CLEAN,$(OUTPUT))
	$(Q)rm -rf $(OUTPUT)

-include $(wildcard $(OUTPUT)/*.d $(OUTPUT)/user/*.d $(OUTPUT)/tests/*.d)
-include $(wildcard $(OUTPUT)/bench/*.d)
