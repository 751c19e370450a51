# tests/net: the socket layer on real UDP sockets (127.0.0.1 and ::1 only).
# One CMocka suite run over IPv4/IPv6 x osnet/router and dual-stack.
# Certificates are made in-process (tests/net/certs.c, also used by bench/).
if HAVE_CMOCKA
check_PROGRAMS += tests/net/test_net
TESTS += tests/net/test_net
tests_net_test_net_SOURCES = tests/net/test_net.c tests/net/certs.c tests/net/certs.h
tests_net_test_net_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_net_test_net_LDADD = transport/libdtlsudp.la $(OPENSSL_LIBS) $(CMOCKA_LIBS)
endif
