# Makefile -- tlsrpt-collector.  GNU make, one file, no recursion.
#
#   make             build bin/tlsrpt (installs missing Debian packages)
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
PC_CFLAGS = $(call lazy,PC_CFLAGS,$(PKG_CONFIG) --cflags \
	  json-c zlib gmime-3.0 nettle libpq criterion | sed 's/-I/-isystem /g')
PC_LIBS	= $(call lazy,PC_LIBS,$(PKG_CONFIG) --libs json-c zlib gmime-3.0 nettle)
PQ_LIBS	= $(call lazy,PQ_LIBS,$(PKG_CONFIG) --libs libpq)
CR_LIBS	= $(call lazy,CR_LIBS,$(PKG_CONFIG) --libs criterion)

XCFLAGS	= -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DZLIB_CONST \
	  -Icommon -Iingest -Istore -Ireport-cli -Icollector $(PC_CFLAGS) \
	  $(WARN) -MMD -MP $(EXTRA_CFLAGS) $(CFLAGS)

COMMON	= common/arena.c common/bbuf.c common/util.c common/log.c
INGEST	= ingest/ingest.c ingest/gunzip.c ingest/report_json.c \
	  ingest/report.c ingest/sts_policy.c ingest/filename.c \
	  ingest/result_type.c ingest/mime.c
INGEST	+= ingest/json_scan.c
STORE	= store/store.c store/migrate.c store/store_put.c \
	  store/store_query.c
STORE	+= store/store_report.c
CLI	= report-cli/tlsrpt.c report-cli/cmd_migrate.c \
	  report-cli/cmd_import.c report-cli/cmd_summary.c \
	  report-cli/output.c report-cli/window.c
CLI	+= report-cli/cmd_failures.c report-cli/cmd_readiness.c \
	  report-cli/readiness.c report-cli/cmd_digest.c
UNIT	= $(wildcard tests/unit/*.c)
SCHEMA	= $(sort $(wildcard schema/[0-9][0-9][0-9]_*.sql))

obj	= $(patsubst %.c,$(B)/%.o,$(1))
LIBCOMMON = $(B)/libcommon.a
LIBINGEST = $(B)/libingest.a
LIBSTORE  = $(B)/libstore.a
SCHEMA_C  = $(B)/store/schema_sql.c

all: bin/tlsrpt

deps:
	@scripts/deps.sh

$(B)/%.o: %.c | deps
	@mkdir -p $(@D)
	$(Q)$(CC) $(XCFLAGS) -c $< -o $@

$(SCHEMA_C): $(SCHEMA) scripts/embed-sql.sh
	@mkdir -p $(@D)
	scripts/embed-sql.sh $(SCHEMA) > $@.tmp && mv $@.tmp $@
$(B)/store/schema_sql.o: $(SCHEMA_C) | deps
	$(Q)$(CC) $(XCFLAGS) -c $< -o $@

$(LIBCOMMON): $(call obj,$(COMMON))
	$(AR) rcs $@ $^
$(LIBINGEST): $(call obj,$(INGEST))
	$(AR) rcs $@ $^
$(LIBSTORE): $(call obj,$(STORE)) $(B)/store/schema_sql.o
	$(AR) rcs $@ $^

ALIBS	= $(LIBSTORE) $(LIBINGEST) $(LIBCOMMON)

# collector/: the spool, the ingest worker, the option engine and the
# daemon helpers, shared by tlsrpt-httpd, tlsrpt-milter and the unit
# tests.  Link before $(ALIBS), with -pthread.
COLLECT	= collector/spool.c collector/worker.c collector/conf.c \
	  collector/daemon.c
LIBCOLLECT = $(B)/libcollect.a
$(LIBCOLLECT): $(call obj,$(COLLECT))
	$(AR) rcs $@ $^

# tlsrpt-httpd (collector/): libmicrohttpd with GnuTLS; see README.
HTTPD	= collector/httpd.c collector/http_req.c collector/httpd_conf.c \
	  collector/metrics.c
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

# tlsrpt-milter (collector/): libmilter (no .pc file on Debian); see
# README.  The callbacks go to an archive of their own: the unit tests
# drive them through the shim without libmilter.
MILTER	= collector/milter_msg.c collector/milter_dkim.c \
	  collector/milter_shim.c collector/milter_conf.c
LIBMILT	= $(B)/libmilt.a
MILTER_LIBS = -lmilter
$(LIBMILT): $(call obj,$(MILTER))
	$(AR) rcs $@ $^

all: bin/tlsrpt-milter

$(B)/bin/tlsrpt-milter: $(call obj,collector/milter.c) $(LIBMILT) \
    $(LIBCOLLECT) $(ALIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $(EXTRA_CFLAGS) -pthread -o $@ \
	    $(call obj,collector/milter.c) $(LIBMILT) $(LIBCOLLECT) $(ALIBS) \
	    $(MILTER_LIBS) $(PQ_LIBS) $(PC_LIBS)

bin/tlsrpt-milter: $(B)/bin/tlsrpt-milter
	@mkdir -p bin
	cp $< $@

# make run starts the milter too, on ./var/milter.sock (scripts/run.sh)
run: bin/tlsrpt-milter

# tests/unit/test_milter.c starts the milter built beside it
check check-one: $(B)/bin/tlsrpt-milter
check check-one: export TLSRPT_MILTER_BIN = $(CURDIR)/$(B)/bin/tlsrpt-milter

# make run: PostgreSQL under ./var/pg, tlsrpt-httpd on https://127.0.0.1:8443
run: bin/tlsrpt bin/tlsrpt-httpd
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
    bin/tlsrpt-httpd
	B=$(B) tests/with-pg.sh tests/bench/httpd_bench.sh
bench: bench-httpd
.PHONY: bench-httpd

# make bench also measures tlsrpt-milter behind a private Postfix
# (tests/bench/milter_bench.sh; needs root and Postfix, skips otherwise)
bench-milter: $(B)/bin/tlsrpt-milter $(B)/bin/tlsrpt
	B=$(B) tests/with-pg.sh tests/bench/milter_bench.sh
bench: bench-milter
.PHONY: bench-milter

$(B)/bin/tlsrpt: $(call obj,$(CLI)) $(ALIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $(EXTRA_CFLAGS) -o $@ $(call obj,$(CLI)) $(ALIBS) \
	    $(PQ_LIBS) $(PC_LIBS)

bin/tlsrpt: $(B)/bin/tlsrpt
	@mkdir -p bin
	cp $< $@

# --- tests ---------------------------------------------------------------

$(B)/tests/unit-tests: $(call obj,$(UNIT)) $(LIBMILT) $(LIBCOLLECT) $(ALIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $(EXTRA_CFLAGS) -pthread -o $@ $(call obj,$(UNIT)) \
	    $(LIBMILT) $(LIBCOLLECT) $(ALIBS) $(PQ_LIBS) $(PC_LIBS) $(CR_LIBS)

# The suite runs twice: as built, then under ASan + UBSan.  Each run gets
# its own throw-away PostgreSQL (tests/with-pg.sh).
check: $(B)/tests/unit-tests $(B)/bin/tlsrpt
	TLSRPT_BIN=$(B)/bin/tlsrpt tests/with-pg.sh $(B)/tests/unit-tests
	$(MAKE) --no-print-directory B=build-san EXTRA_CFLAGS="$(SANFLAGS)" \
	    CFLAGS="-O1 -g" check-one

check-one: $(B)/tests/unit-tests $(B)/bin/tlsrpt
	G_SLICE=always-malloc \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	TLSRPT_BIN=$(B)/bin/tlsrpt tests/with-pg.sh \
	    tests/run-sanitized.sh $(B)/tests/unit-tests

# A private PostgreSQL under ./var/pg to try the CLI against.
db: bin/tlsrpt
	@scripts/devdb.sh start
db-stop:
	@scripts/devdb.sh stop

clean:
	rm -rf build build-san build-fuzz bin

.PHONY: all deps check check-one clean fuzz bench db db-stop
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

bench: $(B)/bench/bench
	@$(MAKE) --no-print-directory bin/tlsrpt >/dev/null 2>&1 || \
	    echo "bench: bin/tlsrpt does not build; its import is not timed"
	TLSRPT_BIN=$(CURDIR)/bin/tlsrpt tests/with-pg.sh $(B)/bench/bench

# summary, failures, readiness and digest over 1,000,000 generated
# reports for 10,000 domains (BENCH_QUERY_REPORTS to scale); prints the
# times against the 1 s target, asserts nothing.
bench: bench-query
bench-query: $(B)/bin/tlsrpt
	tests/with-pg.sh tests/bench/bench_query.sh $(B)/bin/tlsrpt
.PHONY: bench-query

# Only meaningful with B=$(FUZZ_B) CC=clang: `make fuzz` sets both.
$(B)/fuzz/fuzz_ingest: $(call obj,tests/fuzz/fuzz_ingest.c) $(LIBINGEST) \
    $(LIBCOMMON)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ \
	    $(call obj,tests/fuzz/fuzz_ingest.c) $(LIBINGEST) $(LIBCOMMON) \
	    $(PC_LIBS)

fuzz-build:
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
