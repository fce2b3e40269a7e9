# netcon — one GNU Makefile. `make` builds build/netcon, build/libnetcon.so and the test
# programs; `make check` runs the tests; `make demo` shows the main job; V=1 for commands.
#
# lwIP is not in this repository: scripts/fetch-lwip.sh fetches Debian's source package
# (pinned, checksummed) into build/ and applies lwip/patches/; LWIP_DIR=/path uses a tree
# that scripts/fetch-lwip.sh prepared (patched) elsewhere.

# No built-in rules: they would try to make the dependency files (*.d) from sources.
MAKEFLAGS += --no-builtin-rules
.SUFFIXES:

PREFIX  ?= /usr/local
# systemd's units (contrib/systemd/): /usr/lib/systemd for PREFIX=/usr, else under PREFIX.
SYSTEMD_UNIT_DIR      ?= $(if $(filter /usr,$(PREFIX)),/usr/lib/systemd/system,$(PREFIX)/lib/systemd/system)
SYSTEMD_USER_UNIT_DIR ?= $(if $(filter /usr,$(PREFIX)),/usr/lib/systemd/user,$(PREFIX)/lib/systemd/user)
DESTDIR ?=
CC      ?= cc
BUILD   ?= build

ifeq ($(V),1)
Q :=
else
Q := @
endif

LWIP_FETCH_DIR := $(BUILD)/third_party
ifdef LWIP_DIR
LWIP_STAMP :=
else
LWIP_DIR   := $(LWIP_FETCH_DIR)/lwip-2.2.1
LWIP_STAMP := $(LWIP_DIR)/.netcon-verified
endif

# SAN=1: AddressSanitizer and UBSan for the service, the CLI and the tests. The intercept
# is preloaded into programs that are not built with ASan (whose runtime would have to
# come first in the process), so it gets UBSan only.
SAN_FLAGS :=
IC_SAN_FLAGS :=
ifeq ($(SAN),1)
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
IC_SAN_FLAGS := -fsanitize=undefined -fno-sanitize-recover=undefined
endif

OPT      ?= -O2 -g
WARN     := -Wall -Wextra -Werror -Wno-unused-parameter
CFLAGS_BASE := -std=c11 -D_GNU_SOURCE $(OPT) -fPIC $(SAN_FLAGS) -MMD -MP
CFLAGS_NC   := $(CFLAGS_BASE) $(WARN) -Iinclude -Isrc -Isrc/common
CFLAGS_EXEC := -std=c11 -D_GNU_SOURCE $(OPT) -MMD -MP $(WARN) -Iinclude -Isrc -Isrc/common
CFLAGS_IC   := -std=c11 -D_GNU_SOURCE $(OPT) -fPIC $(IC_SAN_FLAGS) -MMD -MP $(WARN) \
	-fvisibility=hidden -Iinclude -Isrc -Isrc/common
LWIP_INC    := -Ilwip -I$(LWIP_DIR)/src/include
# lwIP is third-party code: its own warnings are not ours to fix.
CFLAGS_LWIP := $(CFLAGS_BASE) -w $(LWIP_INC)
LDFLAGS  += $(SAN_FLAGS)

COMMON_SRCS := src/common/log.c src/common/addr.c src/common/rpc.c src/common/hosts.c \
	src/common/outbound.c \
	src/common/route.c src/common/sockopts.c

LINK_SRCS := src/link/vxlan.c src/link/fdb.c src/link/tap.c src/link/wgconf.c \
	src/link/wgnoise.c src/link/wgroute.c src/link/wireguard.c src/link/wguapi.c
# WireGuard's cryptography: OpenSSL 3's libcrypto, and libsodium for the one primitive
# OpenSSL 3.0 lacks (XChaCha20-Poly1305, the cookie replies; docs/architecture.md).
CRYPTO_LIBS := -lcrypto -lsodium

SERVICE_SRCS := src/service/service.c src/service/stack.c src/service/sock.c \
	src/service/ipaddr.c src/service/tcp_listen.c src/service/tcp_conn.c src/service/sockopt.c \
	src/service/rpc_server.c src/service/chksum.c src/service/status.c src/service/fault.c \
	src/service/udp.c src/service/dns.c src/service/names.c src/service/neigh.c \
	src/service/isn.c src/service/seccomp.c src/service/seccomp_calls.c \
	src/service/publish.c src/service/seccomp_data.c src/service/outbound.c \
	src/service/dnsfwd.c \
	src/service/capture.c src/service/version.c src/service/notify.c src/service/uapi.c

CLI_SRCS := src/cli/main.c src/cli/cmd_service.c src/cli/cmd_run.c src/cli/cmd_status.c \
	src/cli/cmd_capture.c \
	src/cli/cmd_container.c src/cli/mode.c src/cli/paths.c src/common/seccomp_filter.c

# netcon-exec, the containers' launcher: the seccomp door alone, linked statically (any
# image, any C library or none) and without sanitizers (their runtimes are not static).
EXEC_SRCS := src/exec/netcon_exec.c src/cli/mode.c src/cli/paths.c src/common/rpc.c \
	src/common/seccomp_filter.c

INTERCEPT_SRCS := src/intercept/init.c src/intercept/real.c src/intercept/client.c src/intercept/fdtab.c \
	src/intercept/socket.c src/intercept/connect.c src/intercept/listen.c \
	src/intercept/accept.c src/intercept/sockopt.c src/intercept/close.c \
	src/intercept/syscall.c src/intercept/data.c src/intercept/epollcarry.c \
	src/intercept/resolve.c

LWIP_REL := core/init.c core/def.c core/inet_chksum.c core/ip.c core/mem.c core/memp.c \
	core/netif.c core/pbuf.c core/stats.c core/sys.c core/tcp.c core/tcp_in.c \
	core/tcp_out.c core/timeouts.c core/udp.c \
	core/ipv4/acd.c core/ipv4/etharp.c core/ipv4/icmp.c core/ipv4/ip4_frag.c \
	core/ipv4/ip4.c core/ipv4/ip4_addr.c \
	core/ipv6/ethip6.c core/ipv6/icmp6.c core/ipv6/inet6.c core/ipv6/ip6.c \
	core/ipv6/ip6_addr.c core/ipv6/ip6_frag.c core/ipv6/mld6.c core/ipv6/nd6.c \
	netif/ethernet.c
LWIP_OBJS := $(addprefix $(BUILD)/lwip/,$(LWIP_REL:.c=.o))

obj = $(addprefix $(BUILD)/obj/,$(1:.c=.o))
COMMON_OBJS    := $(call obj,$(COMMON_SRCS))
LINK_OBJS      := $(call obj,$(LINK_SRCS))
SERVICE_OBJS   := $(call obj,$(SERVICE_SRCS))
CLI_OBJS       := $(call obj,$(CLI_SRCS))
# The intercept and the common code it links are built on their own (own flags).
INTERCEPT_OBJS := $(addprefix $(BUILD)/obj-ic/,$(INTERCEPT_SRCS:.c=.o) $(COMMON_SRCS:.c=.o))
EXEC_OBJS      := $(addprefix $(BUILD)/obj-exec/,$(EXEC_SRCS:.c=.o))

UNIT_TESTS := $(BUILD)/unit_rpc $(BUILD)/unit_vxlan $(BUILD)/unit_addr $(BUILD)/unit_chksum \
	$(BUILD)/unit_hosts $(BUILD)/unit_dns $(BUILD)/unit_fdb $(BUILD)/unit_tap $(BUILD)/unit_isn \
	$(BUILD)/unit_outbound $(BUILD)/unit_wgconf $(BUILD)/unit_wgnoise $(BUILD)/unit_wgroute \
	$(BUILD)/unit_wguapi
TEST_PROGS := $(BUILD)/test_tx $(BUILD)/test_rx $(BUILD)/conform $(BUILD)/hostile \
	$(BUILD)/sc_tcp_static $(BUILD)/sc_tcp_raw $(BUILD)/sc_deny $(BUILD)/sc_udp_static \
	$(BUILD)/sc_udp_dyn $(BUILD)/wgflood
# Seccomp mode's test programs: static, so that no preloaded library can reach them
# (glibc's static libc; musl-gcc from Debian's musl-tools when it is installed).
MUSL_CC ?= $(shell command -v musl-gcc 2>/dev/null)
ifneq ($(MUSL_CC),)
TEST_PROGS += $(BUILD)/sc_tcp_musl $(BUILD)/test_tx_musl $(BUILD)/test_rx_musl $(BUILD)/conform_musl \
	$(BUILD)/sc_udp_musl
endif
BENCH_TOOLS := $(BUILD)/tcpbench $(BUILD)/tcpbench_static $(BUILD)/udpbench $(BUILD)/lwipscale

all: $(BUILD)/netcon $(BUILD)/libnetcon.so $(BUILD)/netcon-exec $(TEST_PROGS) $(UNIT_TESTS) $(BENCH_TOOLS)

# Our patches to lwIP (lwip/patches/, a series applied in name order; docs/lwip-patches.md):
# a changed patch unpacks and patches the tree again (the tarball is kept) and rebuilds
# what depends on it. LWIP_SERIES holds the list of patches and is rewritten only when it
# changes, so that removing or renaming a patch re-patches too.
LWIP_PATCHES := $(sort $(wildcard lwip/patches/*.patch))
LWIP_SERIES  := $(LWIP_FETCH_DIR)/series
$(shell mkdir -p $(LWIP_FETCH_DIR) && { echo '$(LWIP_PATCHES)' | cmp -s - $(LWIP_SERIES) || \
	echo '$(LWIP_PATCHES)' > $(LWIP_SERIES); })
$(LWIP_FETCH_DIR)/lwip-2.2.1/.netcon-verified: $(LWIP_PATCHES) $(LWIP_SERIES) scripts/fetch-lwip.sh
	$(Q)scripts/fetch-lwip.sh $(LWIP_FETCH_DIR)

# lwIP's sources exist once the fetch has run.
$(LWIP_DIR)/src/%.c: $(LWIP_STAMP) ;

$(BUILD)/lwip/%.o: $(LWIP_DIR)/src/%.c $(LWIP_STAMP) lwip/lwipopts.h lwip/arch/cc.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      lwip/$*.c")
	$(Q)$(CC) $(CFLAGS_LWIP) -c -o $@ $<

# The service's files include lwIP headers (the CLI's do not: service/config.h).
# `netcon --version` names lwIP's Debian package and our patch series, with the digest
# scripts/fetch-lwip.sh computes over the patches' names and contents.
LWIP_DEB_VERSION := $(shell sed -n 's/^LWIP_DEB_VERSION="\(.*\)"/\1/p' scripts/fetch-lwip.sh)
LWIP_SERIES_SUM  := $(shell for p in $(LWIP_PATCHES); do echo "patch $$(basename $$p)"; \
	cat $$p; done | sha256sum | cut -c1-16)
$(BUILD)/obj/src/service/version.o: $(LWIP_SERIES) scripts/fetch-lwip.sh $(LWIP_PATCHES)
$(BUILD)/obj/src/service/version.o: CFLAGS_NC += -DNC_LWIP_DEB_VERSION='"$(LWIP_DEB_VERSION)"' \
	-DNC_LWIP_SERIES='"$(basename $(notdir $(LWIP_PATCHES)))"' \
	-DNC_LWIP_SERIES_SUM='"$(LWIP_SERIES_SUM)"'

$(BUILD)/obj/src/service/%.o: src/service/%.c $(LWIP_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS_NC) $(LWIP_INC) -c -o $@ $<

$(BUILD)/obj-ic/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $< (intercept)")
	$(Q)$(CC) $(CFLAGS_IC) -c -o $@ $<

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS_NC) -c -o $@ $<

$(BUILD)/netcon: $(CLI_OBJS) $(SERVICE_OBJS) $(LINK_OBJS) $(COMMON_OBJS) $(LWIP_OBJS)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -lm -lpthread $(CRYPTO_LIBS)

# The intercept: only its own code and the common code; -z nodelete keeps it mapped.
$(BUILD)/libnetcon.so: $(INTERCEPT_OBJS)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(IC_SAN_FLAGS) -shared -Wl,-z,nodelete -Wl,--version-script=src/intercept/exports.map \
		-o $@ $^ -ldl -lpthread

$(BUILD)/obj-exec/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $< (netcon-exec)")
	$(Q)$(CC) $(CFLAGS_EXEC) -c -o $@ $<

$(BUILD)/netcon-exec: $(EXEC_OBJS)
	@$(if $(Q),echo "  LD      $@ (static)")
	$(Q)$(CC) -static -o $@ $^

# Test programs run under the intercept: built like it (no ASan runtime to come first).
$(BUILD)/test_tx: $(BUILD)/obj-ic/tests/progs/test_tx.o $(BUILD)/obj-ic/tests/progs/xfer.o
	$(Q)$(CC) $(IC_SAN_FLAGS) -o $@ $^
$(BUILD)/test_rx: $(BUILD)/obj-ic/tests/progs/test_rx.o $(BUILD)/obj-ic/tests/progs/xfer.o
	$(Q)$(CC) $(IC_SAN_FLAGS) -o $@ $^

$(BUILD)/sc_tcp_static: tests/progs/sc_tcp.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@ (static)")
	$(Q)$(CC) -std=c11 -D_GNU_SOURCE -O2 $(WARN) -static -pthread -o $@ $<
$(BUILD)/sc_tcp_raw: tests/progs/sc_tcp.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@ (static, raw syscalls)")
	$(Q)$(CC) -std=c11 -D_GNU_SOURCE -DRAW -O2 $(WARN) -static -pthread -o $@ $<
# A launcher whose seccomp filter forbids seccomp() (netcon's filter must then be refused).
$(BUILD)/sc_deny: tests/progs/sc_deny.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) -std=c11 -D_GNU_SOURCE -O2 $(WARN) -o $@ $<
$(BUILD)/sc_udp_static: tests/progs/sc_udp.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@ (static)")
	$(Q)$(CC) -std=c11 -D_GNU_SOURCE -O2 $(WARN) -static -o $@ $<
# The same program dynamically linked, for preload mode (tests/t_outbound_udp.sh).
$(BUILD)/sc_udp_dyn: tests/progs/sc_udp.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) -std=c11 -D_GNU_SOURCE -O2 $(WARN) -o $@ $<
$(BUILD)/sc_udp_musl: tests/progs/sc_udp.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@ (musl, static)")
	$(Q)$(MUSL_CC) -std=c11 -D_GNU_SOURCE -O2 $(WARN) -static -o $@ $<
$(BUILD)/sc_tcp_musl: tests/progs/sc_tcp.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@ (musl, static)")
	$(Q)$(MUSL_CC) -std=c11 -D_GNU_SOURCE -O2 $(WARN) -static -pthread -o $@ $<
# The transfer programs and the conformance program built the same way: seccomp mode's
# 64 MiB transfer (tests/t_seccomp.sh) and the conformance suite with a musl client
# (tests/t_conformance_musl.sh).
$(BUILD)/test_%_musl: tests/progs/test_%.c tests/progs/xfer.c tests/progs/xfer.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@ (musl, static)")
	$(Q)$(MUSL_CC) -std=c11 -D_GNU_SOURCE -O2 $(WARN) -static -o $@ $(filter %.c,$^)
$(BUILD)/conform_musl: tests/conformance/conform.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@ (musl, static)")
	$(Q)$(MUSL_CC) -std=c11 -D_GNU_SOURCE -O2 $(WARN) -static -pthread -o $@ $<

# A hostile client of the control socket (tests/t_hostile.sh, t_security.sh): speaks the
# RPC itself, without the intercept.
$(BUILD)/hostile: $(BUILD)/obj/tests/progs/hostile.o $(COMMON_OBJS)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

# WireGuard initiations with a valid MAC1 by the thousand (tests/t_wg_proto.sh): the
# link's own handshake code (wgnoise.c) builds them.
$(BUILD)/wgflood: $(BUILD)/obj/tests/progs/wgflood.o $(BUILD)/obj/src/link/wgnoise.o \
		$(BUILD)/obj/src/link/wgconf.o $(BUILD)/obj/src/common/addr.o
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(CRYPTO_LIBS)

# The benchmarks' own TCP tool (ping-pong latency, connection rate, idle connections).
$(BUILD)/tcpbench: $(BUILD)/obj-ic/bench/tcpbench.o
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(IC_SAN_FLAGS) -o $@ $^
# The same tool linked statically: no preloaded library reaches it, so it runs in seccomp
# mode by itself (bench/outbound.sh's seccomp rows).
$(BUILD)/tcpbench_static: bench/tcpbench.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@ (static)")
	$(Q)$(CC) -std=c11 -D_GNU_SOURCE -O2 $(WARN) -static -o $@ $<
# UDP: what a datagram costs in each mode (docs/benchmarks.md).
$(BUILD)/udpbench: $(BUILD)/obj-ic/bench/udpbench.o
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(IC_SAN_FLAGS) -o $@ $^

# lwIP's per-segment input cost against the number of pcbs (bench/lwipscale.c: lwIP and
# the ISN/hash and checksum hooks, no service), with the pcb hash (the whole series) and
# without it: lwipscale-nohash is built against the series up to LWIP_NOHASH_N (0006, the
# patch before the hash), in a tree of its own unpacked from the kept tarball. Only
# lwipscale is part of `all` (tests/t_lwiphash.sh runs its --check mode).
LWIP_NOHASH_N   := 6
LWIP_NOHASH_TOP := $(BUILD)/third_party-nohash
LWIP_NOHASH_DIR := $(LWIP_NOHASH_TOP)/lwip-2.2.1
LWIPSCALE_NC    := src/service/isn.c src/service/chksum.c
$(BUILD)/obj/bench/lwipscale.o: bench/lwipscale.c $(LWIP_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS_NC) $(LWIP_INC) -c -o $@ $<
$(BUILD)/lwipscale: $(BUILD)/obj/bench/lwipscale.o $(call obj,$(LWIPSCALE_NC)) $(LWIP_OBJS)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^
$(LWIP_NOHASH_DIR)/.netcon-verified: $(LWIP_PATCHES) scripts/fetch-lwip.sh
	@mkdir -p $(LWIP_NOHASH_TOP)
	$(Q)tb=$$(ls $(LWIP_FETCH_DIR)/lwip_*.orig.tar.xz 2>/dev/null | head -n 1); \
		if [ -n "$$tb" ]; then cp -p "$$tb" $(LWIP_NOHASH_TOP)/; fi
	$(Q)scripts/fetch-lwip.sh $(LWIP_NOHASH_TOP) $(LWIP_NOHASH_N)
$(LWIP_NOHASH_DIR)/src/%.c: $(LWIP_NOHASH_DIR)/.netcon-verified ;
$(BUILD)/nohash/lwip/%.o: $(LWIP_NOHASH_DIR)/src/%.c lwip/lwipopts.h lwip/arch/cc.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      lwip/$*.c (nohash)")
	$(Q)$(CC) $(CFLAGS_BASE) -w -Ilwip -I$(LWIP_NOHASH_DIR)/src/include -c -o $@ $<
$(BUILD)/nohash/obj/%.o: %.c $(LWIP_NOHASH_DIR)/.netcon-verified
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $< (nohash)")
	$(Q)$(CC) $(CFLAGS_NC) -Ilwip -I$(LWIP_NOHASH_DIR)/src/include -c -o $@ $<
$(BUILD)/lwipscale-nohash: $(addprefix $(BUILD)/nohash/obj/,$(patsubst %.c,%.o,bench/lwipscale.c $(LWIPSCALE_NC))) \
		$(addprefix $(BUILD)/nohash/lwip/,$(LWIP_REL:.c=.o))
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

# The conformance program (tests/conformance): no netcon code in it, it is the "program";
# it runs under the intercept, so it is built like it (no ASan runtime to come first).
$(BUILD)/conform: $(BUILD)/obj-ic/tests/conformance/conform.o
	$(Q)$(CC) $(IC_SAN_FLAGS) -o $@ $^ -lpthread

$(BUILD)/unit_rpc: $(BUILD)/obj/tests/unit/unit_rpc.o $(COMMON_OBJS)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^
$(BUILD)/unit_addr: $(BUILD)/obj/tests/unit/unit_addr.o $(COMMON_OBJS)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^
$(BUILD)/unit_hosts: $(BUILD)/obj/tests/unit/unit_hosts.o $(COMMON_OBJS)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^
$(BUILD)/unit_outbound: $(BUILD)/obj/tests/unit/unit_outbound.o $(COMMON_OBJS)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^
# The DNS codec is pure code (no lwIP): linked on its own.
$(BUILD)/unit_dns: $(BUILD)/obj/tests/unit/unit_dns.o $(BUILD)/obj/src/service/dns.o $(COMMON_OBJS)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^
# SipHash and the ISN (src/service/isn.c) against the paper's vector and the RFC's rules.
$(BUILD)/unit_isn: $(BUILD)/obj/tests/unit/unit_isn.o $(BUILD)/obj/src/service/isn.o
	$(Q)$(CC) $(LDFLAGS) -o $@ $^
$(BUILD)/obj/tests/unit/unit_isn.o: tests/unit/unit_isn.c $(LWIP_STAMP)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS_NC) $(LWIP_INC) -c -o $@ $<
# (wireguard.c injects --link-fault into its datagrams itself: fault.o comes along.)
$(BUILD)/unit_vxlan: $(BUILD)/obj/tests/unit/unit_vxlan.o $(LINK_OBJS) $(BUILD)/obj/src/service/fault.o \
		$(COMMON_OBJS)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(CRYPTO_LIBS)
$(BUILD)/unit_tap: $(BUILD)/obj/tests/unit/unit_tap.o $(LINK_OBJS) $(BUILD)/obj/src/service/fault.o \
		$(COMMON_OBJS)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(CRYPTO_LIBS)
# The forwarding database is pure code: linked on its own.
$(BUILD)/unit_fdb: $(BUILD)/obj/tests/unit/unit_fdb.o $(BUILD)/obj/src/link/fdb.o
	$(Q)$(CC) $(LDFLAGS) -o $@ $^
# wg(8)'s configuration format is pure code: linked on its own.
$(BUILD)/unit_wgconf: $(BUILD)/obj/tests/unit/unit_wgconf.o $(BUILD)/obj/src/link/wgconf.o \
		$(BUILD)/obj/src/common/addr.o
	$(Q)$(CC) $(LDFLAGS) -o $@ $^
# WireGuard's cryptography against known vectors, and a handshake (OpenSSL's libcrypto).
$(BUILD)/unit_wgnoise: $(BUILD)/obj/tests/unit/unit_wgnoise.o $(BUILD)/obj/src/link/wgnoise.o \
		$(BUILD)/obj/src/link/wgconf.o $(BUILD)/obj/src/common/addr.o
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(CRYPTO_LIBS)
$(BUILD)/unit_wgroute: $(BUILD)/obj/tests/unit/unit_wgroute.o $(BUILD)/obj/src/link/wgroute.o \
		$(BUILD)/obj/src/link/wgconf.o $(BUILD)/obj/src/common/addr.o
	$(Q)$(CC) $(LDFLAGS) -o $@ $^
# The UAPI's text (get answers, set requests) is pure code too.
$(BUILD)/unit_wguapi: $(BUILD)/obj/tests/unit/unit_wguapi.o $(BUILD)/obj/src/link/wguapi.o \
		$(BUILD)/obj/src/link/wgconf.o $(BUILD)/obj/src/common/addr.o
	$(Q)$(CC) $(LDFLAGS) -o $@ $^
$(BUILD)/unit_chksum: $(BUILD)/obj/tests/unit/unit_chksum.o $(BUILD)/obj/src/service/chksum.o \
		$(BUILD)/lwip/core/inet_chksum.o $(BUILD)/lwip/core/def.o
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

$(BUILD)/obj/tests/unit/unit_chksum.o: tests/unit/unit_chksum.c $(LWIP_STAMP)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS_NC) $(LWIP_INC) -c -o $@ $<

unit: $(UNIT_TESTS)
	$(Q)for t in $(UNIT_TESTS); do $$t || exit 1; done

check: all
	$(Q)BUILD=$(BUILD) tests/run.sh

# The differential socket-semantics suite: kernel vs netcon, case by case (needs root).
conformance: $(BUILD)/netcon $(BUILD)/libnetcon.so $(BUILD)/conform
	$(Q)BUILD=$(BUILD) tests/conformance/run.sh

asan:
	$(Q)$(MAKE) BUILD=build-asan SAN=1 OPT="-O1 -g" all

# The conformance suite's large transfer shrinks to 128 MiB each way (CONFORM_MIB): under
# ASan 1 GiB does not fit the case's bound, and the point here is memory errors.
asan-check:
	$(Q)CONFORM_MIB=$${CONFORM_MIB:-128} $(MAKE) BUILD=build-asan SAN=1 OPT="-O1 -g" check

# The compatibility harness (compat/): real programs from Debian's packages driven by their
# real clients; installs what it needs (root), writes docs/compatibility.md.
# The fault test at size: STRESS_BYTES (default 256M) each way through 5% loss, 1% reorder,
# 1% duplication and 0.1% corruption, 20 seeds (~110 Mbit/s each way with our lwIP patch:
# ~20 s a seed).
# Then the load at the issue's shape: 10,000 connections held for the 2 minutes during
# which 500 new connections a second are made (at least 475/s achieved), zero errors; and
# 1,000 programs killed mid-transfer (make check: 300).
STRESS_BYTES ?= 256M
stress: all
	$(Q)BUILD=$(BUILD) NC_FAULT_BYTES=$(STRESS_BYTES) NC_FAULT_SEEDS="$$(seq -s ' ' 1 20)" \
		NC_TEST_TIMEOUT_OVERRIDE=36000 tests/run.sh t_faults
	$(Q)BUILD=$(BUILD) NC_LOAD_CONNS=10000 NC_LOAD_SECS=120 NC_LOAD_RATE=500 \
		NC_LOAD_MIN_RATE=475 tests/run.sh t_load
	$(Q)BUILD=$(BUILD) NC_KILL_ROUNDS=1000 tests/run.sh t_killapps

compat: all
	$(Q)BUILD=$(BUILD) compat/run.sh

demo: all
	$(Q)scripts/demo.sh

# Benchmarks: never part of `make check` (they compare with the kernel; nothing passes or
# fails). BENCH_FULL=1 for 10 s runs, median of 3. bench/run.sh --smoke checks the scripts.
# bench/run.sh ends with bench/outbound.sh: --outbound and --publish against the kernel,
# slirp4netns and pasta (issue 16).
# bench/containers.sh: container to container, netcon against rootless Podman's networks
# (skips, with the reason, what cannot start here).
bench-tools: $(BENCH_TOOLS) $(BUILD)/lwipscale-nohash

bench: all $(BENCH_TOOLS) $(BUILD)/lwipscale-nohash
	$(Q)BUILD=$(BUILD) bench/run.sh
	$(Q)BUILD=$(BUILD) bench/containers.sh

# Fuzzers (fuzz/): libFuzzer harnesses for the RPC decoder and server, the VXLAN/Ethernet
# input path into lwIP, the option parser, the DNS responder, the hosts(5) parser and
# WireGuard's configuration file, UAPI and receive path,
# built with clang, ASan and UBSan in $(BUILD)/fuzz (the main build with $(CC) is not
# touched). `make fuzz` runs each for
# FUZZ_SECONDS (default 60) on the seeds in fuzz/corpus/NAME and fails on a crash;
# `make fuzz-build` only builds. fuzz/lwip/lwipopts.h turns lwIP's input checksum checks
# off for the fuzz build only. lwIP is built without UBSan's null check: its
# ip_2_ip6(NULL) (icmp6.c, a member access at offset 0 that is then compared with NULL) is
# harmless and would stop every run; ASan still catches a real null dereference. The
# service's own code gets -Wno-tautological-constant-out-of-range-compare: clang flags
# `tcp_sndbuf(pcb) < TCP_SND_BUF` in tcp_conn.c, always true since tcp_sndbuf() is 16 bits.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_BUILD   := $(BUILD)/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS  := -std=c11 -D_GNU_SOURCE -O1 -g -fsanitize=fuzzer-no-link $(FUZZ_SAN) -MMD -MP \
	-Ifuzz/lwip -Ilwip -I$(LWIP_DIR)/src/include -Iinclude -Isrc -Isrc/common
FUZZ_NAMES   := fuzz_rpc fuzz_vxlan fuzz_config fuzz_dns fuzz_hosts fuzz_wgconf fuzz_wguapi \
	fuzz_wghandshake
FUZZ_BINS    := $(addprefix $(FUZZ_BUILD)/,$(FUZZ_NAMES))
fuzzobj = $(addprefix $(FUZZ_BUILD)/obj/,$(1:.c=.o))
FUZZ_LWIP_OBJS := $(addprefix $(FUZZ_BUILD)/lwip/,$(LWIP_REL:.c=.o))
FUZZ_SVC_OBJS  := $(call fuzzobj,fuzz/fuzz_svc.c $(SERVICE_SRCS) $(LINK_SRCS) $(COMMON_SRCS)) \
	$(FUZZ_LWIP_OBJS)

$(FUZZ_BUILD)/lwip/%.o: $(LWIP_DIR)/src/%.c $(LWIP_STAMP) lwip/lwipopts.h fuzz/lwip/lwipopts.h lwip/arch/cc.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      lwip/$* (fuzz)")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -w -fno-sanitize=null -c -o $@ $<

$(FUZZ_BUILD)/obj/%.o: %.c $(LWIP_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $< (fuzz)")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(WARN) -Wno-tautological-constant-out-of-range-compare -c -o $@ $<

$(FUZZ_BUILD)/fuzz_rpc: $(call fuzzobj,fuzz/fuzz_rpc.c) $(FUZZ_SVC_OBJS)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $^ -lm $(CRYPTO_LIBS)
$(FUZZ_BUILD)/fuzz_vxlan: $(call fuzzobj,fuzz/fuzz_vxlan.c) $(FUZZ_SVC_OBJS)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $^ -lm $(CRYPTO_LIBS)
$(FUZZ_BUILD)/fuzz_config: $(call fuzzobj,fuzz/fuzz_config.c src/cli/cmd_service.c src/service/fault.c \
		src/common/log.c src/common/addr.c src/common/hosts.c src/common/outbound.c \
		src/link/wgconf.c src/cli/paths.c)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $^

# The DNS query parser and responder (src/service/dns.c) with a small name table, and the
# hosts(5) parser (src/common/hosts.c).
$(FUZZ_BUILD)/fuzz_dns: $(call fuzzobj,fuzz/fuzz_dns.c src/service/dns.c src/common/hosts.c)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $^
$(FUZZ_BUILD)/fuzz_hosts: $(call fuzzobj,fuzz/fuzz_hosts.c src/common/hosts.c)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $^

# WireGuard: the configuration file parser (src/link/wgconf.c); the UAPI's set parser
# (wguapi.c) applied to a real link; the link's receive path with fixed keys
# (wireguard.c, wgnoise.c). The link's harnesses share fuzz/fuzz_wg.c.
FUZZ_WG_OBJS := $(call fuzzobj,fuzz/fuzz_wg.c src/link/wireguard.c src/link/wgnoise.c \
	src/link/wgroute.c src/link/wgconf.c src/link/wguapi.c src/service/fault.c src/common/log.c \
	src/common/addr.c)
$(FUZZ_BUILD)/fuzz_wgconf: $(call fuzzobj,fuzz/fuzz_wgconf.c src/link/wgconf.c src/common/addr.c)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $^
$(FUZZ_BUILD)/fuzz_wguapi: $(call fuzzobj,fuzz/fuzz_wguapi.c) $(FUZZ_WG_OBJS)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $^ $(CRYPTO_LIBS)
$(FUZZ_BUILD)/fuzz_wghandshake: $(call fuzzobj,fuzz/fuzz_wghandshake.c) $(FUZZ_WG_OBJS)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $^ $(CRYPTO_LIBS)

# The dependency files are only read: without this, make looks for a way to remake them
# and finds a chain of built-in rules through the lwIP pattern rule above.
$(FUZZ_BUILD)/%.d: ;

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	$(Q)FUZZ_BUILD=$(FUZZ_BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) fuzz/run.sh $(FUZZ_NAMES)

# Manual pages from their scdoc sources (man/*.scd; Debian's scdoc), built for install.
MAN_PAGES := $(BUILD)/man/netcon.1 $(BUILD)/man/netcon-exec.1
$(BUILD)/man/%: man/%.scd
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  SCDOC   $<")
	$(Q)scdoc <$< >$@.tmp && mv $@.tmp $@

man: $(MAN_PAGES)

install: $(BUILD)/netcon $(BUILD)/libnetcon.so $(BUILD)/netcon-exec $(MAN_PAGES)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/netcon
	install -m 0755 $(BUILD)/netcon $(DESTDIR)$(PREFIX)/bin/netcon
	install -m 0644 $(BUILD)/libnetcon.so $(DESTDIR)$(PREFIX)/lib/netcon/libnetcon.so
	install -m 0755 $(BUILD)/netcon-exec $(DESTDIR)$(PREFIX)/lib/netcon/netcon-exec
	install -d $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/doc/netcon
	install -m 0644 $(MAN_PAGES) $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 contrib/bash-completion/netcon \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/netcon
	install -m 0644 docs/status-json.md docs/status-json.schema.json $(DESTDIR)$(PREFIX)/share/doc/netcon/
	install -d $(DESTDIR)$(SYSTEMD_UNIT_DIR) $(DESTDIR)$(SYSTEMD_USER_UNIT_DIR)
	sed 's|/usr/bin/netcon|$(PREFIX)/bin/netcon|' contrib/systemd/netcon@.service \
		>$(DESTDIR)$(SYSTEMD_UNIT_DIR)/netcon@.service
	sed 's|/usr/bin/netcon|$(PREFIX)/bin/netcon|' contrib/systemd/netcon.service \
		>$(DESTDIR)$(SYSTEMD_USER_UNIT_DIR)/netcon.service
	chmod 0644 $(DESTDIR)$(SYSTEMD_UNIT_DIR)/netcon@.service \
		$(DESTDIR)$(SYSTEMD_USER_UNIT_DIR)/netcon.service

# The Debian package (debian/), from a clean checkout of HEAD: scripts/make-deb.sh; the
# .deb lands in $(BUILD)/deb/ (needs dpkg-dev, debhelper, scdoc).
deb:
	$(Q)scripts/make-deb.sh $(BUILD)/deb

clean:
	rm -rf $(BUILD) build-asan

.PHONY: stress all unit check compat conformance asan asan-check demo bench bench-tools install clean man deb \
	fuzz fuzz-build
# The lwIP sources are made by a pattern rule (unpacking): never delete them as intermediate.
.PRECIOUS: $(LWIP_DIR)/src/%.c $(LWIP_NOHASH_DIR)/src/%.c

-include $(shell find $(BUILD) build-asan -type f -name '*.d' 2>/dev/null)
