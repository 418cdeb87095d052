# Makefile -- tlsrpt-collector.  GNU make, one file, no recursion (but
# for the sanitized and fuzz builds, which are this plan again in
# another build directory).
#
# Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
#
#   make             build bin/ (as root, installs missing compilers and
#                    -dev libraries; never a server or an MTA)
#   make run         also installs and starts PostgreSQL and the daemons
#   make check-unit  the unit tests alone: no PostgreSQL, no network, no
#                    daemon (tests/unit/), in seconds
#   make check       check-unit, then the integration tests (PostgreSQL,
#                    the daemons, curl, Postfix: tests/integration/), the
#                    layering, install and man page checks, then both
#                    suites again under AddressSanitizer +
#                    UndefinedBehaviorSanitizer with leak checking
#   make fuzz        libFuzzer over the ingest entry points (FUZZ_SECONDS)
#   make bench       ingest and import throughput (see README)
#   make clean
#
# The plan, in this order: settings; layers and flags; sources per
# directory; archives; programs; run; tests; bench; fuzz; install; deb.

# --- settings ------------------------------------------------------------

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

PROGRAMS = bin/tlsrpt bin/tlsrpt-httpd bin/tlsrpt-milter bin/tlsrpt-web

all: bin/tlsrpt bin/tlsrpt-httpd bin/tlsrpt-milter bin/tlsrpt-web

WARN	= -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes \
	  -Wmissing-declarations -Wshadow -Wpointer-arith -Wcast-qual \
	  -Wformat=2 -Wvla -Wno-unused-parameter
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	  -fno-omit-frame-pointer

# --- layers and flags ----------------------------------------------------
#
# pkg-config is asked once, lazily, after `deps` has installed it all;
# library headers are system headers so their warnings are not ours.
lazy	= $(eval $(1) := $(shell $(2)))$($(1))
pccf	= $(PKG_CONFIG) --cflags $(1) | sed 's/-I/-isystem /g'
PC_LIBS	= $(call lazy,PC_LIBS,$(PKG_CONFIG) --libs json-c zlib gmime-3.0 nettle)
PQ_LIBS	= $(call lazy,PQ_LIBS,$(PKG_CONFIG) --libs libpq)
CR_LIBS	= $(call lazy,CR_LIBS,$(PKG_CONFIG) --libs criterion)
MHD_LIBS = $(call lazy,MHD_LIBS,$(PKG_CONFIG) --libs libmicrohttpd gnutls)
MILTER_LIBS = $(call lazy,MILTER_LIBS,$(PKG_CONFIG) --libs milter)
DKIM_LIBS = $(call lazy,DKIM_LIBS,$(PKG_CONFIG) --libs opendkim)
LIVE_LIBS = -lunbound $(call lazy,LIVE_LIBS_PC,$(PKG_CONFIG) --libs gnutls-dane gnutls)

# The layering (DESIGN.md), enforced by the compiler: each directory sees
# the headers of the layers below it and of its own libraries only, so
# libpq's are visible to store/ alone, libmicrohttpd's and GnuTLS's to the
# HTTP front, libmilter's to the milter front, Criterion's to tests/.
# tests/unit/ and tests/lib/ see what they test and no more (no libpq,
# no store/, no libmicrohttpd); tests/integration/, bench and fuzz see
# everything.  `make check-layering` names any include that slips through.
CF_INGEST = $(call lazy,CF_INGEST,$(call pccf,json-c zlib gmime-3.0 nettle))
CF_NETTLE = $(call lazy,CF_NETTLE,$(call pccf,nettle))
CF_PQ	= $(call lazy,CF_PQ,$(call pccf,libpq nettle))
CF_MHD	= $(call lazy,CF_MHD,$(call pccf,libmicrohttpd gnutls))
CF_MILT	= $(call lazy,CF_MILT,$(call pccf,milter))
CF_GMIME = $(call lazy,CF_GMIME,$(call pccf,gmime-3.0))
CF_DKIM	= $(call lazy,CF_DKIM,$(call pccf,opendkim))
CF_CRIT	= $(call lazy,CF_CRIT,$(call pccf,criterion))
# libunbound.pc of Debian 12 names libevent, which libunbound-dev does
# not pull in: its header is in /usr/include, its library -lunbound.
CF_LIVE	= $(call lazy,CF_LIVE,$(call pccf,gnutls json-c zlib gmime-3.0 nettle))
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
$(B)/model/%:	  LAYER = -Icommon -Iingest -Istore -Imodel
$(B)/report-cli/%: LAYER = -Icommon -Iingest -Istore -Idkim -Imodel -Ireport-cli
$(B)/report-cli/digest_mime.o: LAYER += $(CF_GMIME)
$(B)/report-cli/cmd_check.o: LAYER += -Ilive
$(B)/report-cli/check_reports.o: LAYER += -Ilive
$(B)/report-cli/cmd_readiness.o: LAYER += -Ilive
$(B)/report-cli/cmd_digest.o: LAYER += -Ilive
$(B)/report-cli/digest_live.o: LAYER += -Ilive
$(B)/live/%:	  LAYER = -Icommon -Iingest -Ilive $(CF_LIVE)
$(B)/web/%:	  LAYER = -Icommon -Iingest -Istore -Imodel -Icollector -Iweb \
	  $(CF_MHD)
$(B)/tests/%:	  LAYER = -Icommon -Iingest -Istore -Idkim -Imodel -Ireport-cli \
	  -Icollector -Itests/lib -Itests/integration $(CF_TESTS)
$(B)/tests/integration/test_web_pages.o: LAYER += -Iweb
$(B)/tests/unit/% $(B)/tests/lib/%: LAYER = -Icommon -Iingest -Idkim \
	  -Icollector -Itests/lib $(CF_INGEST) $(CF_CRIT)
$(B)/tests/unit/test_dkim.o $(B)/tests/lib/dkim_testutil.o: \
	  LAYER += $(CF_DKIM)
$(B)/tests/unit/test_milter%.o $(B)/tests/lib/milter_testutil.o: \
	  LAYER += $(CF_MILT) $(CF_DKIM)
$(B)/tests/unit/test_copy.o: LAYER += -Istore
# core_worker.h names store.h's types (no libpq header behind them)

XCFLAGS	= -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DZLIB_CONST \
	  $(LAYER) $(WARN) -MMD -MP $(EXTRA_CFLAGS) $(CFLAGS)

# --- sources per directory -----------------------------------------------
#
# One list per directory and per program; a new file is one more
# `LIST += file.c` line beside its list.

# common/: arena, buffers, logging
COMMON	= common/arena.c common/bbuf.c common/util.c common/log.c
COMMON	+= common/out.c
# ingest/: pure parsing, no I/O
INGEST	= ingest/ingest.c ingest/gunzip.c ingest/report_json.c \
	  ingest/report.c ingest/sts_policy.c ingest/filename.c \
	  ingest/result_type.c ingest/mime.c
INGEST	+= ingest/json_scan.c
INGEST	+= ingest/rollup.c
INGEST	+= ingest/gzip_pack.c
# store/: the only libpq code (and the schema, embedded)
STORE	= store/store.c store/migrate.c store/store_put.c \
	  store/store_query.c
STORE	+= store/store_report.c
STORE	+= store/store_prune.c
STORE	+= store/store_series.c
STORE	+= store/store_copy.c
STORE	+= store/store_rows.c
STORE	+= store/store_reject.c
STORE	+= store/store_check.c
SCHEMA	= $(sort $(wildcard schema/[0-9][0-9][0-9]_*.sql))
SCHEMA_C = $(B)/store/schema_sql.c
# dkim/: DKIM verification with libopendkim (DNS I/O, so not in ingest/),
# for tlsrpt-milter and tlsrpt import
DKIMV	= dkim/dkim_verify.c
# collector/core_*: the spool, the ingest worker, the verdict, the option
# engine and the daemon helpers, shared by both daemons and the tests
COLLECT	= collector/core_spool.c collector/core_worker.c \
	  collector/core_conf.c collector/core_daemon.c collector/core_submit.c
COLLECT	+= collector/core_spool_pool.c
# collector/http_*: tlsrpt-httpd, libmicrohttpd with GnuTLS; see README
HTTPD	= collector/http_main.c collector/http_req.c collector/http_conf.c \
	  collector/http_metrics.c
# collector/milter_*: tlsrpt-milter's callbacks, in an archive of their
# own (the unit tests drive them through the shim without libmilter);
# MILTER_MAIN is the libmilter side
MILTER	= collector/milter_msg.c collector/milter_dkim.c \
	  collector/milter_shim.c collector/milter_conf.c
MILTER_MAIN = collector/milter_main.c
# model/: the answers (summary, failures, readiness, digest), each a
# function returning a plain struct that the CLI's writers and the web
# dashboard render; reads through store/
MODEL	= model/model.c model/summary.c model/failures.c
MODEL	+= model/readiness.c
MODEL	+= model/digest.c
MODEL	+= model/series.c
MODEL	+= model/overview.c
# live/: tlsrpt check's network side (libunbound, GnuTLS)
LIVE	= live/live_check.c live/live_dns.c live/live_tls.c \
	  live/live_https.c live/live_smtp.c
LIVE	+= live/live_pool.c
# web/: tlsrpt-web, the dashboard, read only over the store, on
# libmicrohttpd with GnuTLS; passwords with crypt(3) (libcrypt).  Its own
# daemon: a network server with its own privileges and database role.
WEB	= web/web_main.c web/web_conf.c web/web_auth.c web/web_html.c \
	  web/web_req.c web/web_page_overview.c web/web_page_domain.c \
	  web/web_page_report.c web/web_page_rejections.c
WEB	+= web/web_page_failures.c
WEB	+= web/web_page_check.c
WEB	+= web/web_cache.c
# report-cli/: the tlsrpt command
CLI	= report-cli/tlsrpt.c report-cli/cmd_migrate.c \
	  report-cli/cmd_import.c report-cli/cmd_summary.c \
	  report-cli/window.c
CLI	+= report-cli/cmd_failures.c report-cli/cmd_readiness.c \
	  report-cli/cmd_digest.c
CLI	+= report-cli/digest_text.c \
	  report-cli/digest_html.c report-cli/digest_mime.c
CLI	+= report-cli/digest_live.c
CLI	+= report-cli/cmd_prune.c
CLI	+= report-cli/writers.c
CLI	+= report-cli/summary_out.c
CLI	+= report-cli/failures_out.c
CLI	+= report-cli/readiness_out.c
CLI	+= report-cli/cmd_check.c
CLI	+= report-cli/cmd_raw.c
CLI	+= report-cli/check_reports.c
# tests/: helpers both suites use (tests/lib/: no database, no daemon),
# the unit tests, the integration tests and their own helpers
TESTLIB	= $(wildcard tests/lib/*.c)
UNIT	= $(wildcard tests/unit/*.c)
INTEG	= $(wildcard tests/integration/*.c)
# tests/bench/
BENCH	= tests/bench/bench.c tests/bench/gen.c

# --- archives ------------------------------------------------------------

obj	= $(patsubst %.c,$(B)/%.o,$(1))
LIBCOMMON = $(B)/libcommon.a
LIBINGEST = $(B)/libingest.a
LIBSTORE  = $(B)/libstore.a
LIBDKIMV  = $(B)/libdkimv.a
LIBCOLLECT = $(B)/libcollect.a
LIBMILT	  = $(B)/libmilt.a
LIBMODEL  = $(B)/libmodel.a
LIBLIVE	  = $(B)/liblive.a
# link order: a higher layer before the ones below it
ALIBS	= $(LIBSTORE) $(LIBINGEST) $(LIBCOMMON)

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
$(LIBDKIMV): $(call obj,$(DKIMV))
	rm -f $@ && $(AR) rcs $@ $^
$(LIBCOLLECT): $(call obj,$(COLLECT))
	rm -f $@ && $(AR) rcs $@ $^
$(LIBMILT): $(call obj,$(MILTER))
	rm -f $@ && $(AR) rcs $@ $^
$(LIBMODEL): $(call obj,$(MODEL))
	rm -f $@ && $(AR) rcs $@ $^
$(LIBLIVE): $(call obj,$(LIVE))
	rm -f $@ && $(AR) rcs $@ $^

# --- programs ------------------------------------------------------------
#
# Each is built in $(B)/bin and copied to bin/.

$(B)/bin/tlsrpt: $(call obj,$(CLI)) $(LIBMODEL) $(LIBLIVE) $(LIBDKIMV) \
    $(ALIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $(EXTRA_CFLAGS) -pthread -o $@ $(call obj,$(CLI)) \
	    $(LIBMODEL) $(LIBLIVE) $(LIBDKIMV) $(ALIBS) $(LIVE_LIBS) \
	    $(DKIM_LIBS) $(PQ_LIBS) $(PC_LIBS)

$(B)/bin/tlsrpt-httpd: $(call obj,$(HTTPD)) $(LIBCOLLECT) $(ALIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $(EXTRA_CFLAGS) -pthread -o $@ $(call obj,$(HTTPD)) \
	    $(LIBCOLLECT) $(ALIBS) $(MHD_LIBS) $(PQ_LIBS) $(PC_LIBS)

$(B)/bin/tlsrpt-milter: $(call obj,$(MILTER_MAIN)) $(LIBMILT) \
    $(LIBCOLLECT) $(LIBDKIMV) $(ALIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $(EXTRA_CFLAGS) -pthread -o $@ \
	    $(call obj,$(MILTER_MAIN)) $(LIBMILT) $(LIBCOLLECT) \
	    $(LIBDKIMV) $(ALIBS) $(MILTER_LIBS) $(DKIM_LIBS) $(PQ_LIBS) \
	    $(PC_LIBS)

$(B)/bin/tlsrpt-web: $(call obj,$(WEB)) $(LIBMODEL) $(LIBCOLLECT) $(ALIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $(EXTRA_CFLAGS) -pthread -o $@ $(call obj,$(WEB)) \
	    $(LIBMODEL) $(LIBCOLLECT) $(ALIBS) $(MHD_LIBS) $(PQ_LIBS) \
	    $(PC_LIBS) -lcrypt

$(PROGRAMS): bin/%: $(B)/bin/%
	@mkdir -p bin
	cp $< $@

# --- run -----------------------------------------------------------------

# make run: PostgreSQL under ./var/pg, tlsrpt-httpd on
# https://127.0.0.1:8443, tlsrpt-milter on ./var/milter.sock, tlsrpt-web
# on http://127.0.0.1:8080/ (scripts/run.sh)
run: $(PROGRAMS) | deps-run
	@scripts/run.sh

# A private PostgreSQL under ./var/pg to try the CLI against.
db: bin/tlsrpt
	@scripts/devdb.sh start
db-stop:
	@scripts/devdb.sh stop

# --- tests ---------------------------------------------------------------
#
# build/tests/unit-tests: tests/unit/ and tests/lib/, linked with the
# libraries they test only: no libpq, no PostgreSQL server, no network,
# no daemon (the verdict of core_submit.o wakes the worker through a
# callback, so the worker and store/ stay out of the link).
# build/tests/integration-tests: tests/integration/ and tests/lib/, with
# the PostgreSQL of tests/with-pg.sh, the daemons built beside it, curl,
# Postfix and miltertest.
#
# make check runs, in order: the layering, check-unit, the integration
# suite, the install and man page checks; then check-one in build-san/,
# which is both suites again under ASan + UBSan with leak checking
# (tests/run-suite.sh --sanitized fails on any report; tests/lsan.supp).

# the COPY encoder of store/ has no libpq in it: its unit test links it
UNIT_LIBS = $(B)/store/store_copy.o $(LIBMILT) $(LIBCOLLECT) $(LIBDKIMV) \
	  $(LIBINGEST) $(LIBCOMMON)
# web_auth.o: the log-in check of tlsrpt-web, called directly
# (tests/integration/test_web_pages.c)
INTEG_LIBS = $(B)/web/web_auth.o $(LIBMILT) $(LIBCOLLECT) $(LIBMODEL) \
	  $(LIBDKIMV) $(ALIBS)
TEST_BINS = $(B)/tests/unit-tests $(B)/tests/integration-tests
# the integration tests start the programs built beside them
TEST_ENV = TLSRPT_BIN=$(B)/bin/tlsrpt \
	  TLSRPT_HTTPD_BIN=$(CURDIR)/$(B)/bin/tlsrpt-httpd \
	  TLSRPT_MILTER_BIN=$(CURDIR)/$(B)/bin/tlsrpt-milter \
	  TLSRPT_WEB_BIN=$(CURDIR)/$(B)/bin/tlsrpt-web
TEST_PROGS = $(B)/bin/tlsrpt $(B)/bin/tlsrpt-httpd $(B)/bin/tlsrpt-milter \
	  $(B)/bin/tlsrpt-web
SAN_ENV	= G_SLICE=always-malloc \
	  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp

$(call obj,$(TESTLIB) $(UNIT) $(INTEG)): | deps-test

$(B)/tests/unit-tests: $(call obj,$(UNIT) $(TESTLIB)) $(UNIT_LIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $(EXTRA_CFLAGS) -pthread -o $@ \
	    $(call obj,$(UNIT) $(TESTLIB)) $(UNIT_LIBS) $(DKIM_LIBS) \
	    $(PC_LIBS) $(CR_LIBS)

$(B)/tests/integration-tests: $(call obj,$(INTEG) $(TESTLIB)) $(INTEG_LIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $(EXTRA_CFLAGS) -pthread -o $@ \
	    $(call obj,$(INTEG) $(TESTLIB)) $(INTEG_LIBS) $(DKIM_LIBS) \
	    $(PQ_LIBS) $(PC_LIBS) $(CR_LIBS) -lcrypt

check: check-layering $(TEST_BINS) $(TEST_PROGS) | deps-test
	tests/run-suite.sh $(B)/tests/unit-tests
	$(TEST_ENV) tests/with-pg.sh tests/run-suite.sh \
	    $(B)/tests/integration-tests
	$(MAKE) --no-print-directory check-browser check-install check-man
	$(MAKE) --no-print-directory B=build-san EXTRA_CFLAGS="$(SANFLAGS)" \
	    CFLAGS="-O1 -g" check-one

check-unit: $(B)/tests/unit-tests | deps-test
	$(B)/tests/unit-tests

check-integration: $(B)/tests/integration-tests $(TEST_PROGS) | deps-test
	$(TEST_ENV) tests/with-pg.sh $(B)/tests/integration-tests

# one sanitized pass (make check runs it with B=build-san)
check-one: $(TEST_BINS) $(TEST_PROGS) | deps-test
	$(SAN_ENV) tests/run-suite.sh --sanitized $(B)/tests/unit-tests
	$(SAN_ENV) $(TEST_ENV) tests/with-pg.sh \
	    tests/run-suite.sh --sanitized $(B)/tests/integration-tests

# The dashboard in headless Chromium (Selenium; tests/web/browser_test.py),
# in the plain pass; make screenshots remakes the README's
# doc/screenshots/ from the corpus of real reports.
check-browser: $(B)/bin/tlsrpt-web $(B)/bin/tlsrpt | deps-test
	$(TEST_ENV) TLSRPT_BIN=$(CURDIR)/$(B)/bin/tlsrpt \
	    tests/with-pg.sh tests/web/browser_test.py
screenshots: $(B)/bin/tlsrpt-web $(B)/bin/tlsrpt | deps-test
	$(TEST_ENV) TLSRPT_BIN=$(CURDIR)/$(B)/bin/tlsrpt \
	    tests/with-pg.sh tests/web/browser_test.py \
	    --corpus tests/data/corpus

# Every include within its layer (DESIGN.md); see the script.
check-layering:
	@scripts/check-layering.sh

# Installs into a temporary DESTDIR and checks the tree (tests/install.sh)
check-install: $(PROGRAMS)
	tests/install.sh

# The man pages: mandoc -Tlint clean, every option of each program's
# --help in its page (tests/man.sh; Debian package mandoc)
check-man: $(PROGRAMS) | deps-test
	tests/man.sh $(PROGRAMS)

# make check-deb: build the package, then install it here, use it, purge
# it (tests/deb.sh; root, and the package not installed already)
check-deb: deb | deps-test
	tests/with-pg.sh tests/deb.sh

# --- bench (tests/bench/) ------------------------------------------------
#
# make bench   builds $(B)/bench/bench (CFLAGS default -O2 -g) and runs it
#              under a throw-away PostgreSQL; bin/tlsrpt import is timed
#              too when bin/tlsrpt builds.  Then tlsrpt-httpd, tlsrpt-milter
#              behind a private Postfix, the queries and prune.  Prints
#              tables; asserts nothing.

bench: bench-ingest bench-httpd bench-milter bench-query bench-prune \
    bench-web bench-storage

$(B)/bench/bench: $(call obj,$(BENCH)) $(ALIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $(EXTRA_CFLAGS) -o $@ $(call obj,$(BENCH)) $(ALIBS) \
	    $(PQ_LIBS) $(PC_LIBS)

bench-ingest: $(B)/bench/bench | deps-bench
	@$(MAKE) --no-print-directory bin/tlsrpt >/dev/null 2>&1 || \
	    echo "bench: bin/tlsrpt does not build; its import is not timed"
	TLSRPT_BIN=$(CURDIR)/bin/tlsrpt tests/with-pg.sh $(B)/bench/bench

# tlsrpt-httpd (tests/bench/httpd_bench.sh)
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

# tlsrpt-milter behind a private Postfix (tests/bench/milter_bench.sh;
# needs root and Postfix, skips otherwise)
bench-milter: $(B)/bin/tlsrpt-milter $(B)/bin/tlsrpt $(B)/bench/dkim_sign \
    | deps-bench
	B=$(B) tests/with-pg.sh tests/bench/milter_bench.sh
# signs the bench's report mails (real DKIM, verified by the milter)
$(B)/bench/dkim_sign: $(call obj,tests/bench/dkim_sign.c)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(DKIM_LIBS)

# summary, failures, readiness and digest over 1,000,000 generated
# reports for 10,000 domains (BENCH_QUERY_REPORTS to scale); prints the
# times against the 1 s target, asserts nothing.
bench-query: $(B)/bin/tlsrpt | deps-bench
	tests/with-pg.sh tests/bench/bench_query.sh $(B)/bin/tlsrpt

# `tlsrpt prune` of 30 of 100 days out of 1,000,000 reports
# (BENCH_PRUNE_REPORTS to scale); checks that summary and failures of the
# days kept are unchanged (tests/bench/bench_prune.sh)
bench-prune: $(B)/bin/tlsrpt | deps-bench
	tests/with-pg.sh tests/bench/bench_prune.sh $(B)/bin/tlsrpt

# the bytes PostgreSQL keeps per typical report, table by table with the
# indexes (tests/bench/bench_storage.sh; BENCH_STORAGE_REPORTS to scale)
bench-storage: $(B)/bench/bench $(B)/bin/tlsrpt | deps-bench
	tests/with-pg.sh tests/bench/bench_storage.sh $(B)/bench/bench \
	    $(B)/bin/tlsrpt

# tlsrpt-web's pages over the query bench's database
# (tests/bench/bench_web.sh: p95 per answer, page weight, RSS)
bench-web: $(B)/bin/tlsrpt $(B)/bin/tlsrpt-web | deps-bench
	tests/with-pg.sh tests/bench/bench_web.sh $(B)/bin/tlsrpt \
	    $(B)/bin/tlsrpt-web

# --- fuzz (tests/fuzz/) --------------------------------------------------
#
# make fuzz    builds the libFuzzer targets with clang into build-fuzz/
#              (their own objects: -fsanitize=fuzzer-no-link,address,
#              undefined) and runs each for FUZZ_SECONDS; crashers go to
#              tests/fuzz/crashers/, which `make check` replays
#              (tests/unit/test_fuzz_replay.c, test_fuzz_fronts.c).

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

# one after the other: both build into $(FUZZ_B)
fuzz: fuzz-ingest
	@$(MAKE) --no-print-directory fuzz-fronts

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

fuzz-ingest: fuzz-build
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
CONFS		+= tlsrpt-web.conf

# The paths the contrib files name, as installed.
INST_SED	= -e 's|/usr/local/bin/tlsrpt-httpd|$(SBINDIR)/tlsrpt-httpd|g' \
		  -e 's|/usr/local/bin/tlsrpt-web|$(SBINDIR)/tlsrpt-web|g' \
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
	@cp $(INST_B)/contrib/tlsrpt-web.conf.example \
	    $(INST_B)/tlsrpt-web.conf

install: bin/tlsrpt bin/tlsrpt-httpd bin/tlsrpt-milter bin/tlsrpt-web \
    inst-files
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) \
	    $(DESTDIR)$(DOCDIR)/contrib $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(SYSCONFDIR)/tlsrpt
	$(INSTALL) -m 755 bin/tlsrpt $(DESTDIR)$(BINDIR)/tlsrpt
	$(INSTALL) -m 755 bin/tlsrpt-httpd bin/tlsrpt-milter \
	    $(DESTDIR)$(SBINDIR)/
	$(INSTALL) -m 755 bin/tlsrpt-web $(DESTDIR)$(SBINDIR)/
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
	    $(DESTDIR)$(SBINDIR)/tlsrpt-milter $(DESTDIR)$(SBINDIR)/tlsrpt-web
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

# --- clean ---------------------------------------------------------------

clean:
	rm -rf build build-san build-fuzz bin

.PHONY: all deps deps-run deps-test deps-bench run db db-stop check \
	check-unit check-integration check-one check-layering check-install \
	check-man check-deb bench bench-ingest bench-httpd bench-milter \
	bench-query bench-prune bench-web bench-storage check-browser screenshots fuzz fuzz-build fuzz-ingest fuzz-build-fronts \
	fuzz-fronts install uninstall inst-files deb clean
-include $(shell find $(B) -name '*.d' 2>/dev/null)
