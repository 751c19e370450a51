# tests/snmp: unit tests of transport/snmp (no sockets, no sleeps, except
# where a twin below says it uses 127.0.0.1).
if HAVE_CMOCKA
SNMP_TEST_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/transport/snmp $(NETSNMP_CFLAGS) $(CMOCKA_CFLAGS)
SNMP_TEST_LDADD = transport/snmp/libsnmpbase.la transport/engine/libengine.la $(NETSNMP_LIBS) $(OPENSSL_LIBS) $(CMOCKA_LIBS)

check_PROGRAMS += tests/snmp/test_addr tests/snmp/test_tmstate tests/snmp/test_config tests/snmp/test_tsmrefs \
	tests/snmp/test_secname tests/snmp/test_hostname tests/snmp/test_sesscache tests/snmp/test_hashalg
TESTS += tests/snmp/test_addr tests/snmp/test_tmstate tests/snmp/test_config tests/snmp/test_tsmrefs \
	tests/snmp/test_secname tests/snmp/test_hostname tests/snmp/test_sesscache tests/snmp/test_hashalg

tests_snmp_test_hashalg_SOURCES = tests/snmp/test_hashalg.c
tests_snmp_test_hashalg_CPPFLAGS = $(SNMP_TEST_CPPFLAGS)
tests_snmp_test_hashalg_LDADD = $(SNMP_TEST_LDADD)

tests_snmp_test_sesscache_SOURCES = tests/snmp/test_sesscache.c
tests_snmp_test_sesscache_CPPFLAGS = $(SNMP_TEST_CPPFLAGS)
tests_snmp_test_sesscache_LDADD = $(SNMP_TEST_LDADD)

tests_snmp_test_hostname_SOURCES = tests/snmp/test_hostname.c
tests_snmp_test_hostname_CPPFLAGS = $(SNMP_TEST_CPPFLAGS)
tests_snmp_test_hostname_LDADD = $(SNMP_TEST_LDADD)

tests_snmp_test_addr_SOURCES = tests/snmp/test_addr.c
tests_snmp_test_addr_CPPFLAGS = $(SNMP_TEST_CPPFLAGS)
tests_snmp_test_addr_LDADD = $(SNMP_TEST_LDADD)

tests_snmp_test_tmstate_SOURCES = tests/snmp/test_tmstate.c
tests_snmp_test_tmstate_CPPFLAGS = $(SNMP_TEST_CPPFLAGS)
tests_snmp_test_tmstate_LDADD = $(SNMP_TEST_LDADD)

tests_snmp_test_tsmrefs_SOURCES = tests/snmp/test_tsmrefs.c
tests_snmp_test_tsmrefs_CPPFLAGS = $(SNMP_TEST_CPPFLAGS)
tests_snmp_test_tsmrefs_LDADD = $(SNMP_TEST_LDADD)

# secname.c is included by the test (its row reader is static); the hash
# table it reads is linked beside it.
tests_snmp_test_secname_SOURCES = tests/snmp/test_secname.c transport/snmp/hashalg.c
tests_snmp_test_secname_CPPFLAGS = $(SNMP_TEST_CPPFLAGS)
tests_snmp_test_secname_LDADD = transport/engine/libengine.la $(NETSNMP_LIBS) $(OPENSSL_LIBS) $(CMOCKA_LIBS)

tests_snmp_test_config_SOURCES = tests/snmp/test_config.c
tests_snmp_test_config_CPPFLAGS = $(SNMP_TEST_CPPFLAGS)
tests_snmp_test_config_LDADD = $(SNMP_TEST_LDADD)
endif

# The domain registration needs the whole transport (no sockets are opened:
# only client transports are created, and they open nothing before f_open).
if HAVE_CMOCKA
check_PROGRAMS += tests/snmp/test_domain
TESTS += tests/snmp/test_domain
tests_snmp_test_domain_SOURCES = tests/snmp/test_domain.c
tests_snmp_test_domain_CPPFLAGS = $(SNMP_TEST_CPPFLAGS)
tests_snmp_test_domain_LDADD = \
	transport/snmp/libsnmptransport.la \
	transport/net/libnet.la \
	transport/engine/libengine.la \
	$(NETSNMP_LIBS) $(OPENSSL_LIBS) $(CMOCKA_LIBS)
endif

# The transport itself between two processes on loopback (an agent-side
# transport in a child, a manager-side one here), through its hooks: no
# snmpd, no SNMP application.
if HAVE_CMOCKA
check_PROGRAMS += tests/snmp/test_transport
TESTS += tests/snmp/test_transport
tests_snmp_test_transport_SOURCES = tests/snmp/test_transport.c
tests_snmp_test_transport_CPPFLAGS = $(SNMP_TEST_CPPFLAGS)
tests_snmp_test_transport_LDADD = \
	transport/snmp/libsnmptransport.la \
	transport/net/libnet.la \
	transport/engine/libengine.la \
	$(NETSNMP_LIBS) $(OPENSSL_LIBS) $(CMOCKA_LIBS)
endif

# What the operator is told: token names, searched directories, certificate
# lines resolved as they are read (needs certfind.c: the whole transport).
if HAVE_CMOCKA
check_PROGRAMS += tests/snmp/test_certcheck
TESTS += tests/snmp/test_certcheck
tests_snmp_test_certcheck_SOURCES = tests/snmp/test_certcheck.c
tests_snmp_test_certcheck_CPPFLAGS = $(SNMP_TEST_CPPFLAGS)
tests_snmp_test_certcheck_LDADD = \
	transport/snmp/libsnmptransport.la \
	transport/net/libnet.la \
	transport/engine/libengine.la \
	$(NETSNMP_LIBS) $(OPENSSL_LIBS) $(CMOCKA_LIBS)
endif

# fpcheck.c through Net-SNMP's own configuration reader (libsnmpbase only).
if HAVE_CMOCKA
check_PROGRAMS += tests/snmp/test_fpcheck
TESTS += tests/snmp/test_fpcheck
tests_snmp_test_fpcheck_SOURCES = tests/snmp/test_fpcheck.c
tests_snmp_test_fpcheck_CPPFLAGS = $(SNMP_TEST_CPPFLAGS)
tests_snmp_test_fpcheck_LDADD = $(SNMP_TEST_LDADD)
endif

# The per-module twins that need Net-SNMP's certificate store: made
# in-process from tests/engine/testcerts.c by snmpstore.c.
if HAVE_CMOCKA
SNMP_STORE_TEST_CPPFLAGS = $(SNMP_TEST_CPPFLAGS) -I$(top_srcdir)/tests/engine
SNMP_STORE_TEST_LDADD = \
	tests/engine/libtestengine.la \
	transport/snmp/libsnmptransport.la \
	transport/net/libnet.la \
	transport/engine/libengine.la \
	$(NETSNMP_LIBS) $(OPENSSL_LIBS) $(CMOCKA_LIBS)
SNMP_STORE_SOURCES = tests/snmp/snmpstore.c tests/snmp/snmpstore.h

check_PROGRAMS += tests/snmp/test_certfind
TESTS += tests/snmp/test_certfind
tests_snmp_test_certfind_SOURCES = tests/snmp/test_certfind.c $(SNMP_STORE_SOURCES)
tests_snmp_test_certfind_CPPFLAGS = $(SNMP_STORE_TEST_CPPFLAGS)
tests_snmp_test_certfind_LDADD = $(SNMP_STORE_TEST_LDADD)

check_PROGRAMS += tests/snmp/test_certmemo
TESTS += tests/snmp/test_certmemo
tests_snmp_test_certmemo_SOURCES = tests/snmp/test_certmemo.c $(SNMP_STORE_SOURCES)
tests_snmp_test_certmemo_CPPFLAGS = $(SNMP_STORE_TEST_CPPFLAGS)
tests_snmp_test_certmemo_LDADD = $(SNMP_STORE_TEST_LDADD)

check_PROGRAMS += tests/snmp/test_certs
TESTS += tests/snmp/test_certs
tests_snmp_test_certs_SOURCES = tests/snmp/test_certs.c $(SNMP_STORE_SOURCES)
tests_snmp_test_certs_CPPFLAGS = $(SNMP_STORE_TEST_CPPFLAGS)
tests_snmp_test_certs_LDADD = $(SNMP_STORE_TEST_LDADD)

check_PROGRAMS += tests/snmp/test_tlstmrows
TESTS += tests/snmp/test_tlstmrows
tests_snmp_test_tlstmrows_SOURCES = tests/snmp/test_tlstmrows.c $(SNMP_STORE_SOURCES)
tests_snmp_test_tlstmrows_CPPFLAGS = $(SNMP_STORE_TEST_CPPFLAGS)
tests_snmp_test_tlstmrows_LDADD = $(SNMP_STORE_TEST_LDADD)

# Handshakes on tests/engine/testnet.c's in-memory network.
check_PROGRAMS += tests/snmp/test_peerauth
TESTS += tests/snmp/test_peerauth
tests_snmp_test_peerauth_SOURCES = tests/snmp/test_peerauth.c $(SNMP_STORE_SOURCES)
tests_snmp_test_peerauth_CPPFLAGS = $(SNMP_STORE_TEST_CPPFLAGS) -I$(top_srcdir)/transport/engine
tests_snmp_test_peerauth_LDADD = $(SNMP_STORE_TEST_LDADD)

# The transport's own roles on 127.0.0.1, in one process.
check_PROGRAMS += tests/snmp/test_server
TESTS += tests/snmp/test_server
tests_snmp_test_server_SOURCES = tests/snmp/test_server.c $(SNMP_STORE_SOURCES)
tests_snmp_test_server_CPPFLAGS = $(SNMP_STORE_TEST_CPPFLAGS)
tests_snmp_test_server_LDADD = $(SNMP_STORE_TEST_LDADD)

check_PROGRAMS += tests/snmp/test_client
TESTS += tests/snmp/test_client
tests_snmp_test_client_SOURCES = tests/snmp/test_client.c $(SNMP_STORE_SOURCES)
tests_snmp_test_client_CPPFLAGS = $(SNMP_STORE_TEST_CPPFLAGS)
tests_snmp_test_client_LDADD = $(SNMP_STORE_TEST_LDADD)

check_PROGRAMS += tests/snmp/test_endpoint
TESTS += tests/snmp/test_endpoint
tests_snmp_test_endpoint_SOURCES = tests/snmp/test_endpoint.c $(SNMP_STORE_SOURCES)
tests_snmp_test_endpoint_CPPFLAGS = $(SNMP_STORE_TEST_CPPFLAGS)
tests_snmp_test_endpoint_LDADD = $(SNMP_STORE_TEST_LDADD)
endif
