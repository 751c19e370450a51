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

# Listeners sharing one address, a thread each (reuse_port sharding).
if HAVE_CMOCKA
check_PROGRAMS += tests/net/test_shard
TESTS += tests/net/test_shard
tests_net_test_shard_SOURCES = tests/net/test_shard.c tests/net/certs.c tests/net/certs.h
tests_net_test_shard_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_net_test_shard_LDADD = transport/libdtlsudp.la $(OPENSSL_LIBS) $(CMOCKA_LIBS) -lpthread
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

# One program per socket-layer module, linked against the convenience
# libraries so that transport/net/net_internal.h is reachable.
if HAVE_CMOCKA
NET_TEST_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/transport/net
NET_TEST_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
NET_TEST_LDADD = transport/net/libnet.la transport/engine/libengine.la $(OPENSSL_LIBS) $(CMOCKA_LIBS)
NET_TESTS = \
	tests/net/test_hooks \
	tests/net/test_listener \
	tests/net/test_sockio
check_PROGRAMS += $(NET_TESTS)
TESTS += $(NET_TESTS)
tests_net_test_hooks_SOURCES = tests/net/test_hooks.c
tests_net_test_hooks_CPPFLAGS = $(NET_TEST_CPPFLAGS)
tests_net_test_hooks_CFLAGS = $(NET_TEST_CFLAGS)
tests_net_test_hooks_LDADD = $(NET_TEST_LDADD)
tests_net_test_listener_SOURCES = tests/net/test_listener.c tests/net/certs.c tests/net/certs.h
tests_net_test_listener_CPPFLAGS = $(NET_TEST_CPPFLAGS)
tests_net_test_listener_CFLAGS = $(NET_TEST_CFLAGS)
tests_net_test_listener_LDADD = $(NET_TEST_LDADD)
tests_net_test_sockio_SOURCES = tests/net/test_sockio.c
tests_net_test_sockio_CPPFLAGS = $(NET_TEST_CPPFLAGS)
tests_net_test_sockio_CFLAGS = $(NET_TEST_CFLAGS)
tests_net_test_sockio_LDADD = $(NET_TEST_LDADD)
# test_conn wraps real associations made on the engine tests' in-memory
# network (tests/engine/testnet.c, whose clock is fake: no sockets here).
check_PROGRAMS += tests/net/test_conn
TESTS += tests/net/test_conn
tests_net_test_conn_SOURCES = tests/net/test_conn.c
tests_net_test_conn_CPPFLAGS = $(NET_TEST_CPPFLAGS) -I$(top_srcdir)/tests/engine
tests_net_test_conn_CFLAGS = $(NET_TEST_CFLAGS)
tests_net_test_conn_LDADD = tests/engine/libtestengine.la $(NET_TEST_LDADD)
endif
