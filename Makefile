# Makefile -- tlsrpt-collector.  GNU make, one file, no recursion.
#
# Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
#
#   make             build bin/ (as root, installs missing compilers and
#                    -dev libraries; never a server or an MTA)
#   make run         also installs and starts PostgreSQL and the daemons
#   make check       unit, corpus and PostgreSQL tests, then the same suite
#                    under AddressSanitizer + UndefinedBehaviorSanitizer
#   make fuzz        libFuzzer over the ingest entry points (FUZZ_SECONDS)
#   make bench       ingest and import throughput (see README)
#   make clean

PKG_CONFIG	?= pkg-config
CC		?= cc
CFLAGS		?= -O2 -g
B		?= build
FUZZ_SECONDS	?= 60
V		?= 0
# V=1 shows the whole compiler command lines
ifeq ($(V),1)
Q	=
else
Q	= @echo "  CC	$<";
endif

WARN	= -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes \
	  -Wmissing-declarations -Wshadow -Wpointer-arith -Wcast-qual \
	  -Wformat=2 -Wvla -Wno-unused-parameter
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	  -fno-omit-frame-pointer

# pkg-config is asked once, lazily, after `deps` has installed it all;
# library headers are system headers so their warnings are not ours.
lazy	= $(eval $(1) := $(shell $(2)))$($(1))
pccf	= $(PKG_CONFIG) --cflags $(1) | sed 's/-I/-isystem /g'
PC_LIBS	= $(call lazy,PC_LIBS,$(PKG_CONFIG) --libs json-c zlib gmime-3.0 nettle)
PQ_LIBS	= $(call lazy,PQ_LIBS,$(PKG_CONFIG) --libs libpq)
CR_LIBS	= $(call lazy,CR_LIBS,$(PKG_CONFIG) --libs criterion)

# The layering (DESIGN.md), enforced by the compiler: each directory sees
# the headers of the layers below it and of its own libraries only, so
# libpq's are visible to store/ alone, libmicrohttpd's and GnuTLS's to the
# HTTP front, libmilter's to the milter front, Criterion's to tests/.
# `make check-layering` names any include that slips through.
CF_INGEST = $(call lazy,CF_INGEST,$(call pccf,json-c zlib gmime-3.0 nettle))
CF_NETTLE = $(call lazy,CF_NETTLE,$(call pccf,nettle))
CF_PQ	= $(call lazy,CF_PQ,$(call pccf,libpq nettle))
CF_MHD	= $(call lazy,CF_MHD,$(call pccf,libmicrohttpd gnutls))
CF_MILT	= $(call lazy,CF_MILT,$(call pccf,milter))
CF_GMIME = $(call lazy,CF_GMIME,$(call pccf,gmime-3.0))
CF_DKIM	= $(call lazy,CF_DKIM,$(call pccf,opendkim))
CF_TESTS = $(call lazy,CF_TESTS,$(call pccf,json-c zlib gmime-3.0 nettle \
	  libpq libmicrohttpd gnutls milter opendkim criterion))

$(B)/common/%:	  LAYER = -Icommon
$(B)/ingest/%:	  LAYER = -Icommon -Iingest $(CF_INGEST)
$(B)/store/%:	  LAYER = -Icommon -Iingest -Istore $(CF_PQ)
$(B)/dkim/%:	  LAYER = -Icommon -Iingest -Idkim $(CF_DKIM)
$(B)/collector/%: LAYER = -Icommon -Iingest -Istore -Idkim -Icollector \
	  $(CF_NETTLE)
$(B)/collector/http%:   LAYER += $(CF_MHD)
$(B)/collector/milter%: LAYER += $(CF_MILT)
$(B)/report-cli/%: LAYER = -Icommon -Iingest -Istore -Idkim -Ireport-cli
$(B)/report-cli/digest_mime.o: LAYER += $(CF_GMIME)
$(B)/tests/%:	  LAYER = -Icommon -Iingest -Istore -Idkim -Ireport-cli -Icollector \
	  $(CF_TESTS)

XCFLAGS	= -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DZLIB_CONST \
	  $(LAYER) $(WARN) -MMD -MP $(EXTRA_CFLAGS) $(CFLAGS)

COMMON	= common/arena.c common/bbuf.c common/util.c common/log.c
INGEST	= ingest/ingest.c ingest/gunzip.c ingest/report_json.c \
	  ingest/report.c ingest/sts_policy.c ingest/filename.c \
	  ingest/result_type.c ingest/mime.c
INGEST	+= ingest/json_scan.c
INGEST	+= ingest/gzip_pack.c
STORE	= store/store.c store/migrate.c store/store_put.c \
	  store/store_query.c
STORE	+= store/store_report.c
STORE	+= store/store_prune.c
CLI	= report-cli/tlsrpt.c report-cli/cmd_migrate.c \
	  report-cli/cmd_import.c report-cli/cmd_summary.c \
	  report-cli/output.c report-cli/window.c
CLI	+= report-cli/cmd_failures.c report-cli/cmd_readiness.c \
	  report-cli/readiness.c report-cli/cmd_digest.c
CLI	+= report-cli/digest.c report-cli/digest_text.c \
	  report-cli/digest_html.c report-cli/digest_mime.c
CLI	+= report-cli/cmd_prune.c
UNIT	= $(wildcard tests/unit/*.c)
SCHEMA	= $(sort $(wildcard schema/[0-9][0-9][0-9]_*.sql))

obj	= $(patsubst %.c,$(B)/%.o,$(1))
LIBCOMMON = $(B)/libcommon.a
LIBINGEST = $(B)/libingest.a
LIBSTORE  = $(B)/libstore.a
SCHEMA_C  = $(B)/store/schema_sql.c

all: bin/tlsrpt

# What each step needs from Debian (scripts/deps.sh): a plain make only
# the compilers and -dev libraries; run, check and bench their servers
# and tools.  Ordered so that two apt-get never run at once.
deps:
	@scripts/deps.sh build
deps-run: deps
	@scripts/deps.sh run
deps-test: deps
	@scripts/deps.sh test
deps-bench: deps-test
	@scripts/deps.sh bench

$(B)/%.o: %.c | deps
	@mkdir -p $(@D)
	$(Q)$(CC) $(XCFLAGS) -c $< -o $@

$(SCHEMA_C): $(SCHEMA) scripts/embed-sql.sh
	@mkdir -p $(@D)
	scripts/embed-sql.sh $(SCHEMA) > $@.tmp && mv $@.tmp $@
$(B)/store/schema_sql.o: $(SCHEMA_C) | deps
	$(Q)$(CC) $(XCFLAGS) -c $< -o $@

$(LIBCOMMON): $(call obj,$(COMMON))
	rm -f $@ && $(AR) rcs $@ $^
$(LIBINGEST): $(call obj,$(INGEST))
	rm -f $@ && $(AR) rcs $@ $^
$(LIBSTORE): $(call obj,$(STORE)) $(B)/store/schema_sql.o
	rm -f $@ && $(AR) rcs $@ $^

ALIBS	= $(LIBSTORE) $(LIBINGEST) $(LIBCOMMON)

# dkim/: DKIM verification with libopendkim (DNS I/O, so not in ingest/),
# for tlsrpt-milter and tlsrpt import.  Link before $(ALIBS).
DKIMV	= dkim/dkim_verify.c
LIBDKIMV = $(B)/libdkimv.a
DKIM_LIBS = $(call lazy,DKIM_LIBS,$(PKG_CONFIG) --libs opendkim)
$(LIBDKIMV): $(call obj,$(DKIMV))
	rm -f $@ && $(AR) rcs $@ $^

# collector/: the spool, the ingest worker, the option engine and the
# daemon helpers, shared by tlsrpt-httpd, tlsrpt-milter and the unit
# tests.  Link before $(ALIBS), with -pthread.
COLLECT	= collector/core_spool.c collector/core_worker.c \
	  collector/core_conf.c collector/core_daemon.c collector/core_submit.c
COLLECT	+= collector/core_spool_pool.c
LIBCOLLECT = $(B)/libcollect.a
$(LIBCOLLECT): $(call obj,$(COLLECT))
	rm -f $@ && $(AR) rcs $@ $^

# tlsrpt-httpd (collector/): libmicrohttpd with GnuTLS; see README.
HTTPD	= collector/http_main.c collector/http_req.c collector/http_conf.c \
	  collector/http_metrics.c
MHD_LIBS = $(call lazy,MHD_LIBS,$(PKG_CONFIG) --libs libmicrohttpd gnutls)

all: bin/tlsrpt-httpd

$(B)/bin/tlsrpt-httpd: $(call obj,$(HTTPD)) $(LIBCOLLECT) $(ALIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $(EXTRA_CFLAGS) -pthread -o $@ $(call obj,$(HTTPD)) \
	    $(LIBCOLLECT) $(ALIBS) $(MHD_LIBS) $(PQ_LIBS) $(PC_LIBS)

bin/tlsrpt-httpd: $(B)/bin/tlsrpt-httpd
	@mkdir -p bin
	cp $< $@

# the tests start the daemon built beside them (tests/unit/test_httpd.c)
check check-one: $(B)/bin/tlsrpt-httpd
check check-one: export TLSRPT_HTTPD_BIN = $(CURDIR)/$(B)/bin/tlsrpt-httpd

# tlsrpt-milter (collector/): libmilter (pkg-config milter); see
# README.  The callbacks go to an archive of their own: the unit tests
# drive them through the shim without libmilter.
MILTER	= collector/milter_msg.c collector/milter_dkim.c \
	  collector/milter_shim.c collector/milter_conf.c
LIBMILT	= $(B)/libmilt.a
MILTER_LIBS = $(call lazy,MILTER_LIBS,$(PKG_CONFIG) --libs milter)
$(LIBMILT): $(call obj,$(MILTER))
	rm -f $@ && $(AR) rcs $@ $^

all: bin/tlsrpt-milter

$(B)/bin/tlsrpt-milter: $(call obj,collector/milter_main.c) $(LIBMILT) \
    $(LIBCOLLECT) $(LIBDKIMV) $(ALIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $(EXTRA_CFLAGS) -pthread -o $@ \
	    $(call obj,collector/milter_main.c) $(LIBMILT) $(LIBCOLLECT) \
	    $(LIBDKIMV) $(ALIBS) $(MILTER_LIBS) $(DKIM_LIBS) $(PQ_LIBS) \
	    $(PC_LIBS)

bin/tlsrpt-milter: $(B)/bin/tlsrpt-milter
	@mkdir -p bin
	cp $< $@

# make run starts the milter too, on ./var/milter.sock (scripts/run.sh)
run: bin/tlsrpt-milter

# tests/unit/test_milter.c starts the milter built beside it
check check-one: $(B)/bin/tlsrpt-milter
check check-one: export TLSRPT_MILTER_BIN = $(CURDIR)/$(B)/bin/tlsrpt-milter

# make run: PostgreSQL under ./var/pg, tlsrpt-httpd on https://127.0.0.1:8443
run: bin/tlsrpt bin/tlsrpt-httpd | deps-run
	@scripts/run.sh
.PHONY: run

# make bench also measures tlsrpt-httpd (tests/bench/httpd_bench.sh)
$(B)/bench/httpd_load: $(call obj,tests/bench/httpd_load.c)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -pthread -o $@ $^ $(MHD_LIBS)
$(B)/bench/httpd_gen: $(call obj,tests/bench/httpd_gen.c tests/bench/gen.c) \
    $(ALIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(PC_LIBS)
bench-httpd: $(B)/bench/httpd_load $(B)/bench/httpd_gen bin/tlsrpt \
    bin/tlsrpt-httpd | deps-bench
	B=$(B) tests/with-pg.sh tests/bench/httpd_bench.sh
bench: bench-httpd
.PHONY: bench-httpd

# make bench also measures tlsrpt-milter behind a private Postfix
# (tests/bench/milter_bench.sh; needs root and Postfix, skips otherwise)
bench-milter: $(B)/bin/tlsrpt-milter $(B)/bin/tlsrpt $(B)/bench/dkim_sign \
    | deps-bench
	B=$(B) tests/with-pg.sh tests/bench/milter_bench.sh
# signs the bench's report mails (real DKIM, verified by the milter)
$(B)/bench/dkim_sign: $(call obj,tests/bench/dkim_sign.c)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(DKIM_LIBS)
bench: bench-milter
.PHONY: bench-milter

$(B)/bin/tlsrpt: $(call obj,$(CLI)) $(LIBDKIMV) $(ALIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $(EXTRA_CFLAGS) -o $@ $(call obj,$(CLI)) \
	    $(LIBDKIMV) $(ALIBS) $(DKIM_LIBS) $(PQ_LIBS) $(PC_LIBS)

bin/tlsrpt: $(B)/bin/tlsrpt
	@mkdir -p bin
	cp $< $@

# --- tests ---------------------------------------------------------------

$(call obj,$(UNIT)): | deps-test
$(B)/tests/unit-tests: $(call obj,$(UNIT)) $(LIBMILT) $(LIBCOLLECT) \
    $(LIBDKIMV) $(ALIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $(EXTRA_CFLAGS) -pthread -o $@ $(call obj,$(UNIT)) \
	    $(LIBMILT) $(LIBCOLLECT) $(LIBDKIMV) $(ALIBS) $(DKIM_LIBS) \
	    $(PQ_LIBS) $(PC_LIBS) $(CR_LIBS)

# The suite runs twice: as built, then under ASan + UBSan.  Each run gets
# its own throw-away PostgreSQL (tests/with-pg.sh).
check: check-layering
check: $(B)/tests/unit-tests $(B)/bin/tlsrpt | deps-test
	TLSRPT_BIN=$(B)/bin/tlsrpt tests/with-pg.sh $(B)/tests/unit-tests
	$(MAKE) --no-print-directory B=build-san EXTRA_CFLAGS="$(SANFLAGS)" \
	    CFLAGS="-O1 -g" check-one

check-one: $(B)/tests/unit-tests $(B)/bin/tlsrpt | deps-test
	G_SLICE=always-malloc \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	TLSRPT_BIN=$(B)/bin/tlsrpt tests/with-pg.sh \
	    tests/run-sanitized.sh $(B)/tests/unit-tests

# Every include within its layer (DESIGN.md); see the script.
check-layering:
	@scripts/check-layering.sh

# A private PostgreSQL under ./var/pg to try the CLI against.
db: bin/tlsrpt
	@scripts/devdb.sh start
db-stop:
	@scripts/devdb.sh stop

clean:
	rm -rf build build-san build-fuzz bin

.PHONY: all deps deps-run deps-test deps-bench check check-layering check-one clean fuzz bench db db-stop
-include $(shell find $(B) -name '*.d' 2>/dev/null)

# --- bench and fuzz (tests/bench/, tests/fuzz/) ---------------------------
#
# make bench   builds $(B)/bench/bench (CFLAGS default -O2 -g) and runs it
#              under a throw-away PostgreSQL; bin/tlsrpt import is timed
#              too when bin/tlsrpt builds.  Prints a table; asserts nothing.
# make fuzz    builds the libFuzzer target with clang into build-fuzz/ (its
#              own objects: -fsanitize=fuzzer-no-link,address,undefined)
#              and runs it for FUZZ_SECONDS; crashers go to
#              tests/fuzz/crashers/, which `make check` replays.

BENCH		= tests/bench/bench.c tests/bench/gen.c
FUZZ_CC		?= clang
FUZZ_B		= build-fuzz
FUZZ_SAN	= -fsanitize=address,undefined -fno-sanitize-recover=undefined \
		  -fno-omit-frame-pointer
FUZZ_SEEDS	?= tests/data tests/fuzz/regress
# an input that makes one parse take more than the fuzz target's limits
# allow (a 32 MiB tree, tests/fuzz/fuzz_ingest.c) is a finding: RSS and
# any single allocation are capped; ASan's quarantine is kept small so
# that freed memory does not count as RSS
FUZZ_FLAGS	?= -max_len=65536 -timeout=10 -rss_limit_mb=512 \
		  -malloc_limit_mb=256 -print_final_stats=1

$(B)/bench/bench: $(call obj,$(BENCH)) $(ALIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $(EXTRA_CFLAGS) -o $@ $(call obj,$(BENCH)) $(ALIBS) \
	    $(PQ_LIBS) $(PC_LIBS)

bench: $(B)/bench/bench | deps-bench
	@$(MAKE) --no-print-directory bin/tlsrpt >/dev/null 2>&1 || \
	    echo "bench: bin/tlsrpt does not build; its import is not timed"
	TLSRPT_BIN=$(CURDIR)/bin/tlsrpt tests/with-pg.sh $(B)/bench/bench

# the bytes PostgreSQL keeps per typical report, table by table with the
# indexes (tests/bench/bench_storage.sh; BENCH_STORAGE_REPORTS to scale)
bench: bench-storage
bench-storage: $(B)/bench/bench $(B)/bin/tlsrpt | deps-bench
	tests/with-pg.sh tests/bench/bench_storage.sh $(B)/bench/bench \
	    $(B)/bin/tlsrpt
.PHONY: bench-storage

# summary, failures, readiness and digest over 1,000,000 generated
# reports for 10,000 domains (BENCH_QUERY_REPORTS to scale); prints the
# times against the 1 s target, asserts nothing.
bench: bench-query
bench-query: $(B)/bin/tlsrpt | deps-bench
	tests/with-pg.sh tests/bench/bench_query.sh $(B)/bin/tlsrpt
.PHONY: bench-query

# Only meaningful with B=$(FUZZ_B) CC=clang: `make fuzz` sets both.
$(B)/fuzz/fuzz_ingest: $(call obj,tests/fuzz/fuzz_ingest.c) $(LIBINGEST) \
    $(LIBCOMMON)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ \
	    $(call obj,tests/fuzz/fuzz_ingest.c) $(LIBINGEST) $(LIBCOMMON) \
	    $(PC_LIBS)

fuzz-build: | deps-test
	@$(MAKE) --no-print-directory B=$(FUZZ_B) CC=$(FUZZ_CC) \
	    CFLAGS="-O1 -g" EXTRA_CFLAGS="-fsanitize=fuzzer-no-link $(FUZZ_SAN)" \
	    $(FUZZ_B)/fuzz/fuzz_ingest

fuzz: fuzz-build
	@mkdir -p $(FUZZ_B)/corpus tests/fuzz/crashers
	@for d in $(FUZZ_SEEDS); do \
		[ -d "$$d" ] || continue; \
		find "$$d" -type f ! -name '*.md' ! -name 'sha256sums.txt' | \
		while read -r f; do \
			cp "$$f" "$(FUZZ_B)/corpus/seed-$$(basename "$$f")"; \
		done; \
	done
	G_SLICE=always-malloc \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:quarantine_size_mb=16 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    $(FUZZ_B)/fuzz/fuzz_ingest $(FUZZ_FLAGS) \
	    -max_total_time=$(FUZZ_SECONDS) -dict=tests/fuzz/tlsrpt.dict \
	    -artifact_prefix=tests/fuzz/crashers/ $(FUZZ_B)/corpus

.PHONY: fuzz-build

# The front-end targets (tests/fuzz/fuzz_submit.c: the verdict of both
# front-ends; tests/fuzz/fuzz_spool.c: the spool file parser), built and
# run by `make fuzz` after fuzz_ingest, FUZZ_SECONDS each, under
# -rss_limit_mb/-malloc_limit_mb so that an amplification is a finding.
# Crashers go to tests/fuzz/crashers/NAME-*; tests/unit/test_fuzz_fronts.c
# replays them in `make check`.
FUZZ_FRONTS	= submit spool
FUZZ_MEM_FLAGS	?= -rss_limit_mb=1024 -malloc_limit_mb=256
FUZZ_FRONT_LIBS	= $(LIBCOLLECT) $(LIBSTORE) $(LIBINGEST) $(LIBCOMMON)
$(B)/fuzz/fuzz_submit $(B)/fuzz/fuzz_spool: $(B)/fuzz/fuzz_%: \
    $(B)/tests/fuzz/fuzz_%.o $(FUZZ_FRONT_LIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -fsanitize=fuzzer $(FUZZ_SAN) -pthread -o $@ \
	    $< $(FUZZ_FRONT_LIBS) $(PQ_LIBS) $(PC_LIBS)

fuzz-build-fronts:
	@$(MAKE) --no-print-directory B=$(FUZZ_B) CC=$(FUZZ_CC) \
	    CFLAGS="-O1 -g" EXTRA_CFLAGS="-fsanitize=fuzzer-no-link $(FUZZ_SAN)" \
	    $(patsubst %,$(FUZZ_B)/fuzz/fuzz_%,$(FUZZ_FRONTS))

fuzz: fuzz-fronts
fuzz-fronts: fuzz-build-fronts
	@mkdir -p tests/fuzz/crashers
	@for t in $(FUZZ_FRONTS); do \
		mkdir -p $(FUZZ_B)/corpus-$$t; \
		for d in $(FUZZ_SEEDS); do \
			[ -d "$$d" ] || continue; \
			find "$$d" -type f ! -name '*.md' ! -name \
			    'sha256sums.txt' | while read -r f; do \
				cp "$$f" "$(FUZZ_B)/corpus-$$t/seed-$$(basename \
				    "$$f")"; \
			done; \
		done; \
		G_SLICE=always-malloc ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		    $(FUZZ_B)/fuzz/fuzz_$$t $(FUZZ_FLAGS) $(FUZZ_MEM_FLAGS) \
		    -max_total_time=$(FUZZ_SECONDS) -dict=tests/fuzz/tlsrpt.dict \
		    -artifact_prefix=tests/fuzz/crashers/$$t- \
		    $(FUZZ_B)/corpus-$$t || exit 1; \
	done
.PHONY: fuzz-build-fronts fuzz-fronts

# --- install, uninstall (README "Install") -------------------------------
#
# make install [PREFIX=/usr/local] [DESTDIR=] [SYSCONFDIR=$(PREFIX)/etc]
#   tlsrpt in BINDIR, the daemons in SBINDIR, the man pages in MANDIR,
#   the systemd units in UNITDIR, README, LICENSE and contrib/ in DOCDIR,
#   and the two config files in SYSCONFDIR/tlsrpt unless they exist (an
#   operator's edits are never overwritten).  The units and examples are
#   installed with their paths rewritten to the installed ones.
# make uninstall removes what install put there; a config file only when
#   it is still the one installed.

PREFIX		?= /usr/local
DESTDIR		?=
BINDIR		?= $(PREFIX)/bin
SBINDIR		?= $(PREFIX)/sbin
SYSCONFDIR	?= $(PREFIX)/etc
DATAROOTDIR	?= $(PREFIX)/share
MANDIR		?= $(DATAROOTDIR)/man
DOCDIR		?= $(DATAROOTDIR)/doc/tlsrpt-collector
UNITDIR		?= $(PREFIX)/lib/systemd/system
INSTALL		?= install
# the system user the units run the daemons as (Debian: _tlsrpt)
TLSRPT_USER	?= tlsrpt

MAN_PAGES	= $(wildcard man/*.[1-8])
UNITS		= $(wildcard contrib/*.service contrib/*.timer)
CONTRIB		= $(filter-out %~,$(wildcard contrib/*))
CONFS		= tlsrpt-httpd.conf tlsrpt-milter.conf

# The paths the contrib files name, as installed.
INST_SED	= -e 's|/usr/local/bin/tlsrpt-httpd|$(SBINDIR)/tlsrpt-httpd|g' \
		  -e 's|/usr/local/bin/tlsrpt-milter|$(SBINDIR)/tlsrpt-milter|g' \
		  -e 's|/usr/local/bin/tlsrpt|$(BINDIR)/tlsrpt|g' \
		  -e 's|/usr/local/share/doc/tlsrpt/|$(DOCDIR)/|g' \
		  -e 's|/etc/tlsrpt|$(SYSCONFDIR)/tlsrpt|g' \
		  -e 's|^User=tlsrpt$$|User=$(TLSRPT_USER)|' \
		  -e 's|^Group=tlsrpt$$|Group=$(TLSRPT_USER)|'
INST_B		= $(B)/install

inst-files: $(CONTRIB)
	@rm -rf $(INST_B) && mkdir -p $(INST_B)/contrib
	@for f in $(CONTRIB); do \
		sed $(INST_SED) "$$f" > $(INST_B)/$$f || exit 1; \
	done
	@cp $(INST_B)/contrib/tlsrpt-httpd.conf.example \
	    $(INST_B)/tlsrpt-httpd.conf
	@cp $(INST_B)/contrib/tlsrpt-milter.conf.example \
	    $(INST_B)/tlsrpt-milter.conf

install: bin/tlsrpt bin/tlsrpt-httpd bin/tlsrpt-milter inst-files
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) \
	    $(DESTDIR)$(DOCDIR)/contrib $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(SYSCONFDIR)/tlsrpt
	$(INSTALL) -m 755 bin/tlsrpt $(DESTDIR)$(BINDIR)/tlsrpt
	$(INSTALL) -m 755 bin/tlsrpt-httpd bin/tlsrpt-milter \
	    $(DESTDIR)$(SBINDIR)/
	@for p in $(MAN_PAGES); do \
		s=$${p##*.}; \
		echo "$(INSTALL) -m 644 $$p $(DESTDIR)$(MANDIR)/man$$s/"; \
		$(INSTALL) -d $(DESTDIR)$(MANDIR)/man$$s && \
		$(INSTALL) -m 644 $$p $(DESTDIR)$(MANDIR)/man$$s/ || exit 1; \
	done
	$(INSTALL) -m 644 README.md LICENSE $(DESTDIR)$(DOCDIR)/
	$(INSTALL) -m 644 $(addprefix $(INST_B)/,$(CONTRIB)) \
	    $(DESTDIR)$(DOCDIR)/contrib/
	$(INSTALL) -m 644 $(addprefix $(INST_B)/,$(UNITS)) \
	    $(DESTDIR)$(UNITDIR)/
	@for c in $(CONFS); do \
		t=$(DESTDIR)$(SYSCONFDIR)/tlsrpt/$$c; \
		if [ -e "$$t" ]; then \
			echo "install: $$t exists, kept"; \
		else \
			echo "$(INSTALL) -m 640 $(INST_B)/$$c $$t"; \
			$(INSTALL) -m 640 $(INST_B)/$$c "$$t" || exit 1; \
		fi; \
	done

uninstall: inst-files
	rm -f $(DESTDIR)$(BINDIR)/tlsrpt $(DESTDIR)$(SBINDIR)/tlsrpt-httpd \
	    $(DESTDIR)$(SBINDIR)/tlsrpt-milter
	rm -f $(foreach p,$(MAN_PAGES),\
	    $(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(p)))/$(notdir $(p)))
	rm -f $(addprefix $(DESTDIR)$(UNITDIR)/,$(notdir $(UNITS)))
	rm -rf $(DESTDIR)$(DOCDIR)
	@for c in $(CONFS); do \
		t=$(DESTDIR)$(SYSCONFDIR)/tlsrpt/$$c; \
		[ -e "$$t" ] || continue; \
		if cmp -s $(INST_B)/$$c "$$t"; then rm -f "$$t"; \
		else echo "uninstall: $$t was edited, kept"; fi; \
	done
	-rmdir $(DESTDIR)$(SYSCONFDIR)/tlsrpt 2>/dev/null

# make check first installs into a temporary DESTDIR and checks the tree
check-install: bin/tlsrpt bin/tlsrpt-httpd bin/tlsrpt-milter
	tests/install.sh
check: check-install

# ... and checks the man pages: mandoc -Tlint clean, every option of each
# program's --help in its page (tests/man.sh; Debian package mandoc)
check-man: bin/tlsrpt bin/tlsrpt-httpd bin/tlsrpt-milter | deps-test
	tests/man.sh bin/tlsrpt bin/tlsrpt-httpd bin/tlsrpt-milter
check: check-man

.PHONY: install uninstall inst-files check-install check-man

# --- make deb (debian/, README "Install") --------------------------------
#
# Builds tlsrpt-collector_VERSION_ARCH.deb here from a copy of the tree in
# $(B)/deb (dpkg-buildpackage writes beside its source directory, and the
# tree stays clean), then runs lintian on it: an error fails the target.
DEB_VERSION	= $(shell dpkg-parsechangelog -l debian/changelog -S Version)
DEB_ARCH	= $(shell dpkg-architecture -qDEB_HOST_ARCH)
DEB_SRC		= $(B)/deb/tlsrpt-collector-$(DEB_VERSION)

deb: | deps
	@scripts/deps.sh deb
	rm -rf $(B)/deb && mkdir -p $(DEB_SRC)
	tar -cf - --exclude=./build --exclude=./build-san \
	    --exclude=./build-fuzz --exclude=./bin --exclude=./var \
	    --exclude=./.git --exclude='./*.deb' . | tar -C $(DEB_SRC) -xf -
	cd $(DEB_SRC) && dpkg-buildpackage -b -us -uc
	cp $(B)/deb/tlsrpt-collector_$(DEB_VERSION)_$(DEB_ARCH).deb .
	lintian --fail-on error \
	    tlsrpt-collector_$(DEB_VERSION)_$(DEB_ARCH).deb
.PHONY: deb

# make bench also times `tlsrpt prune` of 30 of 100 days out of 1,000,000
# reports (BENCH_PRUNE_REPORTS to scale) and checks that summary and
# failures of the days kept are unchanged (tests/bench/bench_prune.sh)
bench: bench-prune
bench-prune: $(B)/bin/tlsrpt | deps-bench
	tests/with-pg.sh tests/bench/bench_prune.sh $(B)/bin/tlsrpt
.PHONY: bench-prune

# make check-deb: build the package, then install it here, use it, purge
# it (tests/deb.sh; root, and the package not installed already)
check-deb: deb | deps-test
	tests/with-pg.sh tests/deb.sh
.PHONY: check-deb
