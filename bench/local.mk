# bench: side-by-side benchmarks (run by hand, never by make check).
#   bench/dtls-perf: the same echo stream over UDP, TCP, TLS and DTLS on loopback.
noinst_PROGRAMS += bench/dtls-perf
bench_dtls_perf_SOURCES = bench/dtls-perf.c tests/net/certs.c tests/net/certs.h
bench_dtls_perf_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/net
bench_dtls_perf_LDADD = transport/libdtlsudp.la $(OPENSSL_LIBS) -lpthread
