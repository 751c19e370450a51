# bench/soak.mk: the soak test's helpers (bench/soak is the driver script;
# not part of `make check').  Included from the top-level Makefile.am.
noinst_PROGRAMS += bench/soak-relay bench/soak-poller
dist_noinst_SCRIPTS += bench/soak

bench_soak_relay_SOURCES = bench/soak-relay.c

bench_soak_poller_SOURCES = bench/soak-poller.c
bench_soak_poller_CPPFLAGS = $(AM_CPPFLAGS) $(NETSNMP_CFLAGS)
bench_soak_poller_LDADD = $(NETSNMP_LIBS) $(OPENSSL_LIBS)
