# tests/proxy: dtlsudp-proxy.  A CMocka suite per file of transport/proxy
# (test_<file>), both modes in one process (test_relay), the layering
# check, and the proxy between real programs on loopback: snmpd (udp, v2c)
# and rsyslogd (imudp) behind the chain plain client -> proxy client ->
# proxy server -> service, wrong certificates, SIGHUP, IPv4 and IPv6, a
# spoofed-hello flood and a lossy relay between the proxies.
dist_check_SCRIPTS += tests/proxy/layering.sh
TESTS += tests/proxy/layering.sh

if HAVE_CMOCKA
check_PROGRAMS += tests/proxy/test_config
TESTS += tests/proxy/test_config
tests_proxy_test_config_SOURCES = tests/proxy/test_config.c transport/proxy/config.c
tests_proxy_test_config_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/transport/proxy
tests_proxy_test_config_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_proxy_test_config_LDADD = transport/libdtlsudp.la $(OPENSSL_LIBS) $(CMOCKA_LIBS)

# The session tables of both modes (hash map by key, heap by deadline).
check_PROGRAMS += tests/proxy/test_map
TESTS += tests/proxy/test_map
tests_proxy_test_map_SOURCES = tests/proxy/test_map.c transport/proxy/map.c
tests_proxy_test_map_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/transport/proxy
tests_proxy_test_map_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_proxy_test_map_LDADD = transport/libdtlsudp.la $(OPENSSL_LIBS) $(CMOCKA_LIBS)

# Both modes in one process on loopback, with the test's own epoll loop.
check_PROGRAMS += tests/proxy/test_relay
TESTS += tests/proxy/test_relay
tests_proxy_test_relay_SOURCES = tests/proxy/test_relay.c tests/net/certs.c tests/net/certs.h \
	transport/proxy/client.c transport/proxy/server.c transport/proxy/identity.c \
	transport/proxy/config.c transport/proxy/map.c transport/proxy/loop.c
tests_proxy_test_relay_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/transport/proxy
tests_proxy_test_relay_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_proxy_test_relay_LDADD = transport/libdtlsudp.la $(OPENSSL_LIBS) $(CMOCKA_LIBS)
endif

# Integration: real snmpd and rsyslogd behind the chain of two proxies.
PROXY_INTEGRATION_TESTS = \
	tests/proxy/proxy-snmp.sh \
	tests/proxy/proxy-syslog.sh \
	tests/proxy/proxy-certs.sh \
	tests/proxy/proxy-flood-loss.sh
dist_check_SCRIPTS += $(PROXY_INTEGRATION_TESTS)
TESTS += $(PROXY_INTEGRATION_TESTS)
dist_noinst_DATA += tests/proxy/proxy-lib.sh tests/proxy/udp-tool.py

# identity.c with the engine tests' in-process certificates.
if HAVE_CMOCKA
check_PROGRAMS += tests/proxy/test_identity
TESTS += tests/proxy/test_identity
tests_proxy_test_identity_SOURCES = tests/proxy/test_identity.c transport/proxy/identity.c
tests_proxy_test_identity_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/transport/proxy -I$(top_srcdir)/tests/engine
tests_proxy_test_identity_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_proxy_test_identity_LDADD = tests/engine/libtestengine.la transport/engine/libengine.la $(OPENSSL_LIBS) $(CMOCKA_LIBS)
endif

if HAVE_CMOCKA
# loop.c: the epoll dispatch and the batched read, on loopback sockets.
check_PROGRAMS += tests/proxy/test_loop
TESTS += tests/proxy/test_loop
tests_proxy_test_loop_SOURCES = tests/proxy/test_loop.c transport/proxy/loop.c
tests_proxy_test_loop_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/transport/proxy
tests_proxy_test_loop_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_proxy_test_loop_LDADD = transport/libdtlsudp.la $(OPENSSL_LIBS) $(CMOCKA_LIBS)
endif

if HAVE_CMOCKA
# server.c and client.c alone, each against the library's other end, with
# the log captured and the engine tests' certificates (proxytest.c).
PROXY_UNIT_SOURCES = tests/proxy/proxylog.c tests/proxy/proxytest.c tests/proxy/proxytest.h tests/engine/testcerts.c \
	tests/engine/testcerts.h transport/proxy/config.c transport/proxy/map.c transport/proxy/loop.c \
	transport/proxy/identity.c
PROXY_UNIT_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/transport/proxy -I$(top_srcdir)/tests/engine
PROXY_UNIT_LDADD = transport/libdtlsudp.la $(OPENSSL_LIBS) $(CMOCKA_LIBS)

check_PROGRAMS += tests/proxy/test_server
TESTS += tests/proxy/test_server
tests_proxy_test_server_SOURCES = tests/proxy/test_server.c transport/proxy/server.c $(PROXY_UNIT_SOURCES)
tests_proxy_test_server_CPPFLAGS = $(PROXY_UNIT_CPPFLAGS)
tests_proxy_test_server_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_proxy_test_server_LDADD = $(PROXY_UNIT_LDADD)
endif

if HAVE_CMOCKA
check_PROGRAMS += tests/proxy/test_client
TESTS += tests/proxy/test_client
tests_proxy_test_client_SOURCES = tests/proxy/test_client.c transport/proxy/client.c $(PROXY_UNIT_SOURCES)
tests_proxy_test_client_CPPFLAGS = $(PROXY_UNIT_CPPFLAGS)
tests_proxy_test_client_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_proxy_test_client_LDADD = $(PROXY_UNIT_LDADD)
endif

if HAVE_CMOCKA
# main.c without its main() (PROXY_NO_MAIN): options, --check, signals, the run.
check_PROGRAMS += tests/proxy/test_main
TESTS += tests/proxy/test_main
tests_proxy_test_main_SOURCES = tests/proxy/test_main.c transport/proxy/main.c transport/proxy/server.c \
	transport/proxy/client.c tests/proxy/proxytest.c tests/proxy/proxytest.h tests/engine/testcerts.c \
	tests/engine/testcerts.h transport/proxy/config.c transport/proxy/map.c transport/proxy/loop.c \
	transport/proxy/identity.c
tests_proxy_test_main_CPPFLAGS = $(PROXY_UNIT_CPPFLAGS) -DPROXY_NO_MAIN
tests_proxy_test_main_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_proxy_test_main_LDADD = $(PROXY_UNIT_LDADD)
endif
