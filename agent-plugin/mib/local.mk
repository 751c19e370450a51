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
# change tracking): no agent, no sockets; libnetsnmp only for its hex reader.
if HAVE_CMOCKA
check_PROGRAMS += tests/mib/test_mib_util
TESTS += tests/mib/test_mib_util
endif
tests_mib_test_mib_util_SOURCES = \
	tests/mib/test_mib_util.c \
	agent-plugin/mib/mib_util.c
tests_mib_test_mib_util_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/agent-plugin/mib $(NETSNMP_CFLAGS)
tests_mib_test_mib_util_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_mib_test_mib_util_LDADD = $(CMOCKA_LIBS) $(NETSNMP_LIBS)
