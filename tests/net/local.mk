# tests/net: the socket layer on real UDP sockets (127.0.0.1 and ::1 only).
# One CMocka suite run over IPv4/IPv6 x osnet/router and dual-stack.
# Certificates are made in-process (tests/net/certs.c, also used by bench/).
if HAVE_CMOCKA
check_PROGRAMS += tests/net/test_net
TESTS += tests/net/test_net
tests_net_test_net_SOURCES = tests/net/test_net.c tests/net/certs.c tests/net/certs.h
tests_net_test_net_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_net_test_net_LDADD = transport/libdtlsudp.la $(OPENSSL_LIBS) $(CMOCKA_LIBS) -lpthread
endif

# The osnet races, forced through the test hook: links the library's
# objects (convenience libraries) to reach transport/net/net_internal.h.
if HAVE_CMOCKA
check_PROGRAMS += tests/net/test_osnet
TESTS += tests/net/test_osnet
tests_net_test_osnet_SOURCES = tests/net/test_osnet.c tests/net/certs.c tests/net/certs.h
tests_net_test_osnet_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_net_test_osnet_LDADD = transport/net/libnet.la transport/engine/libengine.la \
	$(OPENSSL_LIBS) $(CMOCKA_LIBS)
endif

# The example programs end to end (openssl CLI certificates).
dist_check_SCRIPTS += tests/net/echo-example.sh
TESTS += tests/net/echo-example.sh
# libdtlsudp(3): its examples compile and the engine one runs; every
# exported symbol is named in it.
dist_check_SCRIPTS += tests/net/man-examples.sh
TESTS += tests/net/man-examples.sh
dist_check_SCRIPTS += tests/net/interop-gnutls.sh
TESTS += tests/net/interop-gnutls.sh
