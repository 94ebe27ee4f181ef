# tsbpf: `make demo` and `make test` do all set-up on a fresh Debian machine (as root).
SHELL := /bin/bash
APT_PACKAGES := clang llvm libbpf-dev bpftool iproute2 make gcc libc6-dev linux-libc-dev python3 strace
# extra compilers the differential tests use when present (Debian bookworm has both)
APT_EXTRA := clang-16 clang-19
CLANG ?= clang
ARCH_INCLUDE := /usr/include/$(shell uname -m)-linux-gnu
BPF_CFLAGS := -target bpf -O2 -g -Wall -Wno-unused-function -I$(ARCH_INCLUDE) -Ibpf/include -Ibpf/build/include

BPF_SRC := $(wildcard bpf/*.c)
BPF_OBJ := $(BPF_SRC:.c=.o)

.PHONY: all deps apt npm bpf bpf-variants build demo test bench clean

all: build bpf

deps: apt npm

# install the Debian packages that are missing (quietly skipped when all are there)
apt:
	@missing=""; for p in $(APT_PACKAGES) $(APT_EXTRA); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "need root to apt-get install:$$missing" >&2; exit 1; fi; \
	  export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

npm: node_modules/.package-lock.json

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

bpf: apt $(BPF_OBJ)

# Sources that #include "vmlinux.h" (CO-RE tests, the exec-counter example, tracing and iterator
# programs that read kernel structs) get one dumped from this machine's kernel BTF; it is generated,
# never committed. It lives in its own directory: bpf/build/<dir>/ holds only objects.
VMLINUX_H := bpf/build/include/vmlinux.h
CORE_SRC := $(shell grep -l '^\#include "vmlinux.h"' $(BPF_SRC))
$(VMLINUX_H):
	@mkdir -p $(@D); bpftool btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@
$(CORE_SRC:.c=.o): $(VMLINUX_H)

bpf/%.o: bpf/%.c $(wildcard bpf/include/*.h)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# The same sources built other ways, for the readers' and loader's differential tests:
# other compilers (different relocations, call encodings and BTF), -mcpu=v3, no -g, big-endian.
VARIANTS := clang16 clang19 v3 nog bpfeb
# CO-RE needs BTF: clang refuses core_*.c without -g, so there is no nog build of them
VARIANT_OBJ := $(filter-out $(patsubst bpf/%.c,bpf/build/nog/%.o,$(CORE_SRC)),$(foreach v,$(VARIANTS),$(patsubst bpf/%.c,bpf/build/$(v)/%.o,$(BPF_SRC))))
bpf-variants: apt $(VARIANT_OBJ)
$(foreach v,$(VARIANTS),$(patsubst bpf/%.c,bpf/build/$(v)/%.o,$(CORE_SRC))): $(VMLINUX_H)
bpf/build/clang16/%.o: bpf/%.c
	@mkdir -p $(@D); clang-16 $(BPF_CFLAGS) -c $< -o $@
bpf/build/clang19/%.o: bpf/%.c
	@mkdir -p $(@D); clang-19 $(BPF_CFLAGS) -c $< -o $@
bpf/build/v3/%.o: bpf/%.c
	@mkdir -p $(@D); $(CLANG) $(BPF_CFLAGS) -mcpu=v3 -c $< -o $@
bpf/build/nog/%.o: bpf/%.c
	@mkdir -p $(@D); $(CLANG) $(filter-out -g,$(BPF_CFLAGS)) -c $< -o $@
bpf/build/bpfeb/%.o: bpf/%.c
	@mkdir -p $(@D); $(CLANG) $(subst -target bpf,-target bpfeb,$(BPF_CFLAGS)) -c $< -o $@

build: npm
	npx tsc -p tsconfig.json

# the main job: examples/tc-counter.ts on its own throwaway veth pair and namespace
DEMO ?= tc-counter
demo: deps build bpf
	node --import tsx examples/$(DEMO).ts

test: deps build bpf bpf-variants
	npm test

bench: deps build bpf
	npm run bench

clean:
	rm -rf dist bpf/*.o bpf/build bench/build
