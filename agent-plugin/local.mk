# agent-plugin: the snmpd dlmod dtlsudp.so.  Self-contained: the engine,
# socket layer and transport domain are linked in statically; only
# init_dtlsudp, deinit_dtlsudp and shutdown_dtlsudp are exported.
dlmod_LTLIBRARIES += agent-plugin/dtlsudp.la
agent_plugin_dtlsudp_la_SOURCES = agent-plugin/plugin.c
agent_plugin_dtlsudp_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/transport/snmp -I$(top_srcdir)/agent-plugin/mib \
	$(NETSNMP_CFLAGS)
agent_plugin_dtlsudp_la_CFLAGS = $(AM_CFLAGS) $(VISIBILITY_CFLAGS)
agent_plugin_dtlsudp_la_LIBADD = \
	agent-plugin/mib/libdtlsudpmib.la \
	transport/snmp/libsnmptransport.la \
	transport/net/libnet.la \
	transport/engine/libengine.la \
	$(NETSNMP_AGENT_LIBS) $(OPENSSL_LIBS) -ldl
agent_plugin_dtlsudp_la_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version -shared -no-undefined \
	-export-symbols-regex '^(init|deinit|shutdown)_dtlsudp$$'
EXTRA_DIST += agent-plugin/README
