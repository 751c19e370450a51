# tests/agent-plugin: the snmpd dlmod (agent-plugin/plugin.c) loaded with
# dlopen() into an in-process agent (tests/mib/testagent.c); needs the
# built agent-plugin/dtlsudp.la, which `make check' builds first (all).
if HAVE_CMOCKA
check_PROGRAMS += tests/agent-plugin/test_plugin
TESTS += tests/agent-plugin/test_plugin
endif
tests_agent_plugin_test_plugin_SOURCES = tests/agent-plugin/test_plugin.c tests/mib/testagent.c
tests_agent_plugin_test_plugin_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/mib $(NETSNMP_CFLAGS)
tests_agent_plugin_test_plugin_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_agent_plugin_test_plugin_LDADD = $(CMOCKA_LIBS) $(NETSNMP_AGENT_LIBS) -ldl
