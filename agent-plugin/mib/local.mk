# agent-plugin/mib: MIB modules served by the agent plugin (SNMP-TLS-TM-MIB,
# SNMP-TSM-MIB statistics, DTLSUDP-MIB), as a convenience library that the
# dlmod dtlsudp.so links: agent-plugin/mib/libdtlsudpmib.la.
noinst_LTLIBRARIES += agent-plugin/mib/libdtlsudpmib.la
agent_plugin_mib_libdtlsudpmib_la_SOURCES = \
	agent-plugin/mib/mib.h \
	agent-plugin/mib/mib_internal.h \
	agent-plugin/mib/mib.c \
	agent-plugin/mib/mib_util.c \
	agent-plugin/mib/mib_table.h \
	agent-plugin/mib/mib_table.c \
	agent-plugin/mib/tlstm_stats.c \
	agent-plugin/mib/tlstm_tables.c \
	agent-plugin/mib/dtlsudp_stats_mib.c
agent_plugin_mib_libdtlsudpmib_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/transport/snmp $(NETSNMP_CFLAGS)
agent_plugin_mib_libdtlsudpmib_la_CFLAGS = $(AM_CFLAGS) $(VISIBILITY_CFLAGS)

# Unit tests of the pure helpers (field table, value mapping, fingerprints,
# change tracking): no agent, no sockets; libnetsnmp only for its hex reader,
# libsnmpbase only for the hash table (transport/snmp/hashalg.c).
if HAVE_CMOCKA
check_PROGRAMS += tests/mib/test_mib_util
TESTS += tests/mib/test_mib_util
endif
tests_mib_test_mib_util_SOURCES = \
	tests/mib/test_mib_util.c \
	agent-plugin/mib/mib_util.c
tests_mib_test_mib_util_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/agent-plugin/mib -I$(top_srcdir)/transport/snmp \
	$(NETSNMP_CFLAGS)
tests_mib_test_mib_util_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_mib_test_mib_util_LDADD = transport/snmp/libsnmpbase.la $(CMOCKA_LIBS) $(NETSNMP_LIBS)

# Unit tests of the modules in an in-process agent (tests/mib/testagent.c:
# libnetsnmpagent with no listening address, requests through the callback
# transport).  Each test links its module and the pure helpers.
MIB_AGENT_TEST_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/agent-plugin/mib -I$(top_srcdir)/tests/mib \
	-I$(top_srcdir)/transport/snmp $(NETSNMP_CFLAGS)
MIB_AGENT_TEST_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
MIB_AGENT_TEST_LDADD = transport/snmp/libsnmpbase.la $(CMOCKA_LIBS) $(NETSNMP_AGENT_LIBS) $(OPENSSL_LIBS)
EXTRA_DIST += tests/mib/testagent.h

if HAVE_CMOCKA
check_PROGRAMS += tests/mib/test_tlstm_stats
TESTS += tests/mib/test_tlstm_stats
endif
tests_mib_test_tlstm_stats_SOURCES = tests/mib/test_tlstm_stats.c tests/mib/testagent.c \
	agent-plugin/mib/tlstm_stats.c agent-plugin/mib/mib_table.c agent-plugin/mib/mib_util.c
tests_mib_test_tlstm_stats_CPPFLAGS = $(MIB_AGENT_TEST_CPPFLAGS)
tests_mib_test_tlstm_stats_CFLAGS = $(MIB_AGENT_TEST_CFLAGS)
tests_mib_test_tlstm_stats_LDADD = $(MIB_AGENT_TEST_LDADD)

if HAVE_CMOCKA
check_PROGRAMS += tests/mib/test_tlstm_tables
TESTS += tests/mib/test_tlstm_tables
endif
tests_mib_test_tlstm_tables_SOURCES = tests/mib/test_tlstm_tables.c tests/mib/testagent.c \
	agent-plugin/mib/tlstm_tables.c agent-plugin/mib/mib_table.c agent-plugin/mib/mib_util.c
tests_mib_test_tlstm_tables_CPPFLAGS = $(MIB_AGENT_TEST_CPPFLAGS)
tests_mib_test_tlstm_tables_CFLAGS = $(MIB_AGENT_TEST_CFLAGS)
tests_mib_test_tlstm_tables_LDADD = $(MIB_AGENT_TEST_LDADD)

# DTLSUDP-MIB over real listeners on loopback: the whole transport.
if HAVE_CMOCKA
check_PROGRAMS += tests/mib/test_dtlsudp_stats_mib
TESTS += tests/mib/test_dtlsudp_stats_mib
endif
tests_mib_test_dtlsudp_stats_mib_SOURCES = tests/mib/test_dtlsudp_stats_mib.c tests/mib/testagent.c \
	agent-plugin/mib/dtlsudp_stats_mib.c agent-plugin/mib/mib_table.c agent-plugin/mib/mib_util.c
tests_mib_test_dtlsudp_stats_mib_CPPFLAGS = $(MIB_AGENT_TEST_CPPFLAGS)
tests_mib_test_dtlsudp_stats_mib_CFLAGS = $(MIB_AGENT_TEST_CFLAGS)
tests_mib_test_dtlsudp_stats_mib_LDADD = \
	transport/snmp/libsnmptransport.la \
	transport/net/libnet.la \
	transport/engine/libengine.la \
	$(MIB_AGENT_TEST_LDADD)

if HAVE_CMOCKA
check_PROGRAMS += tests/mib/test_mib_table
TESTS += tests/mib/test_mib_table
endif
tests_mib_test_mib_table_SOURCES = tests/mib/test_mib_table.c tests/mib/testagent.c agent-plugin/mib/mib_table.c
tests_mib_test_mib_table_CPPFLAGS = $(MIB_AGENT_TEST_CPPFLAGS)
tests_mib_test_mib_table_CFLAGS = $(MIB_AGENT_TEST_CFLAGS)
tests_mib_test_mib_table_LDADD = $(MIB_AGENT_TEST_LDADD)

# The entry points over every module (the library as the plugin links it).
if HAVE_CMOCKA
check_PROGRAMS += tests/mib/test_mib
TESTS += tests/mib/test_mib
endif
tests_mib_test_mib_SOURCES = tests/mib/test_mib.c tests/mib/testagent.c
tests_mib_test_mib_CPPFLAGS = $(MIB_AGENT_TEST_CPPFLAGS)
tests_mib_test_mib_CFLAGS = $(MIB_AGENT_TEST_CFLAGS)
tests_mib_test_mib_LDADD = \
	agent-plugin/mib/libdtlsudpmib.la \
	transport/snmp/libsnmptransport.la \
	transport/net/libnet.la \
	transport/engine/libengine.la \
	$(MIB_AGENT_TEST_LDADD)
