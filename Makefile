# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
# nfsguard: 'make' builds build/nfsguard; 'make V=1' shows every command.
# 'sudo make run' and 'sudo make test' also install what they need first.

VERSION := 0.1.0
OUTPUT ?= build
CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= cc
PKG_CONFIG ?= pkg-config
PYTHON ?= /usr/bin/python3

ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/' \
	-e 's/ppc64le/powerpc/' -e 's/s390x/s390/')
VMLINUX := vmlinux/$(ARCH)/vmlinux.h

# Evaluated when first used, so 'make deps' can install pkg-config's data.
LIBBPF_CFLAGS = $(shell $(PKG_CONFIG) --cflags libbpf libelf zlib inih)
LIBBPF_LIBS = $(shell $(PKG_CONFIG) --libs libbpf libelf zlib inih)

CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers
USER_CFLAGS = $(CFLAGS) $(WARN) -std=gnu11 -MMD -MP \
	-DNFSG_VERSION='"$(VERSION)"' -Iinclude -Iuser -I$(OUTPUT) $(LIBBPF_CFLAGS)
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) $(WARN) -MMD -MP \
	-Ivmlinux/$(ARCH) -Iinclude -Ibpf

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
HELPERS := $(patsubst tests/helpers/%.c,$(OUTPUT)/tests/%,$(wildcard tests/helpers/*.c))

.DELETE_ON_ERROR:
# Skeletons and objects are wanted, not intermediate: keep them.
.SECONDARY: $(BPF_OBJS) $(SKELS)
.PHONY: all clean deps deps-test run test unit-tests helpers bench

all: $(OUTPUT)/nfsguard
	@:

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
	$(Q)$(CC) $(CFLAGS) $^ $(LIBBPF_LIBS) -o $@

$(OUTPUT)/tests/unit_tests: $(UNIT_SRCS) $(LIB_OBJS) | $(OUTPUT)/tests
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(USER_CFLAGS) $(filter %.c %.o,$^) $(LIBBPF_LIBS) -o $@

$(OUTPUT)/tests/%: tests/helpers/%.c | $(OUTPUT)/tests
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $(WARN) -std=gnu11 -MMD -MP $(filter %.c,$^) -o $@

helpers: $(HELPERS)
	@:

unit-tests: $(OUTPUT)/tests/unit_tests
	$(Q)$(OUTPUT)/tests/unit_tests

deps:
	$(Q)tools/deps.sh build

deps-test:
	$(Q)tools/deps.sh build test

# The README's two commands: all set-up on a fresh Debian machine, as root.
run: deps
	$(Q)$(MAKE) all
	$(Q)$(OUTPUT)/nfsguard run

test: deps-test
	$(Q)$(MAKE) all helpers $(OUTPUT)/tests/unit_tests
	$(Q)$(PYTHON) tests/run.py --build $(OUTPUT)

# The benchmark (bench/): workload tools, and a null cgroup program with
# its loader, the floor that any connect4/connect6 program pays.
BENCH_TOOLS := $(addprefix $(OUTPUT)/bench/,sink cycle stream rr probe)
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
	$(Q)tools/deps.sh build bench
	$(Q)$(MAKE) all $(BENCH_BINS)
	$(Q)$(PYTHON) bench/run.py --build $(OUTPUT) $(if $(BENCH_QUICK),--quick)

clean:
	$(call msg,CLEAN,$(OUTPUT))
	$(Q)rm -rf $(OUTPUT)

-include $(wildcard $(OUTPUT)/*.d $(OUTPUT)/user/*.d $(OUTPUT)/tests/*.d)
-include $(wildcard $(OUTPUT)/bench/*.d)
