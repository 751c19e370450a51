# bench/suite.mk: the side-by-side benchmark suite (bench/run), included
# from the top-level Makefile.am after bench/local.mk.
#
# The load generators are small and built by the default `make` (so that
# -Werror keeps them honest); nothing here runs under `make check`.
#   make bench         the full suite (under 15 minutes), writes
#                      bench/results/<date>.md and .png
#   make bench-quick   the quick suite (under 3 minutes), for CI
noinst_PROGRAMS += bench/getloop bench/holdassoc bench/holdmany bench/hello-flood bench/halfopen-flood bench/lossy-relay bench/proctime
#   make bench-proxy   dtlsudp-proxy against direct UDP (bench/proxy, ~3 minutes)
noinst_PROGRAMS += bench/udp-pingpong
bench_udp_pingpong_SOURCES = bench/udp-pingpong.c
dist_noinst_SCRIPTS += bench/proxy
noinst_HEADERS += bench/ber.h bench/proc.h

bench_getloop_SOURCES = bench/getloop.c
bench_getloop_CPPFLAGS = $(AM_CPPFLAGS) $(NETSNMP_CFLAGS)
bench_getloop_LDADD = $(NETSNMP_LIBS)

bench_holdassoc_SOURCES = bench/holdassoc.c
bench_holdassoc_LDADD = transport/libdtlsudp.la $(OPENSSL_LIBS)

bench_holdmany_SOURCES = bench/holdmany.c
bench_holdmany_LDADD = transport/libdtlsudp.la $(OPENSSL_LIBS)

bench_hello_flood_SOURCES = bench/hello-flood.c
bench_hello_flood_LDADD = $(OPENSSL_LIBS)

bench_halfopen_flood_SOURCES = bench/halfopen-flood.c
bench_halfopen_flood_LDADD = $(OPENSSL_LIBS)

bench_lossy_relay_SOURCES = bench/lossy-relay.c
bench_proctime_SOURCES = bench/proctime.c

dist_noinst_SCRIPTS += bench/run
EXTRA_DIST += bench/README bench/report.sh

BENCH_ENV = top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)'

# The engine team's in-process handshake measurement (tests/engine) is
# shown next to row 3 when it can be built; the suite runs without it.
bench-engine-optional:
	-@$(MAKE) $(AM_MAKEFLAGS) tests/engine/bench_engine >/dev/null 2>&1

bench: all bench-engine-optional
	$(BENCH_ENV) $(top_srcdir)/bench/run $(BENCH_ARGS)

bench-quick: all bench-engine-optional
	$(BENCH_ENV) $(top_srcdir)/bench/run --quick $(BENCH_ARGS)

.PHONY: bench bench-quick bench-engine-optional

bench-proxy: all
	$(BENCH_ENV) $(top_srcdir)/bench/proxy $(BENCH_ARGS)
.PHONY: bench-proxy

#   make bench-threads  dtls-echo-server --threads 1 against 2: handshakes/s
#                       and CPU per handshake (bench/threads, ~6 minutes)
dist_noinst_SCRIPTS += bench/threads
bench-threads: all
	$(BENCH_ENV) $(top_srcdir)/bench/threads --builddir '$(abs_top_builddir)' $(BENCH_ARGS)
.PHONY: bench-threads
