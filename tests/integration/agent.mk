# tests/integration/agent.mk: the agent plugin in a real, stock snmpd, driven
# by stock Net-SNMP clients (and by this project's client role through a
# test-only preload shim).  Loopback only; every process is started and
# stopped by pid (tests/lib/snmpd.sh).
dist_check_SCRIPTS += \
	tests/integration/agent-lib.sh \
	tests/integration/agent-basic.sh \
	tests/integration/agent-client.sh \
	tests/integration/agent-certs.sh \
	tests/integration/agent-fingerprints.sh \
	tests/integration/agent-robust.sh \
	tests/integration/agent-trap.sh \
	tests/integration/agent-target.sh \
	tests/integration/agent-resume.sh \
	tests/integration/agent-resume-cache.sh \
	tests/integration/agent-valgrind.sh \
	tests/integration/dtls-probe.py
TESTS += \
	tests/integration/agent-basic.sh \
	tests/integration/agent-client.sh \
	tests/integration/agent-certs.sh \
	tests/integration/agent-fingerprints.sh \
	tests/integration/agent-robust.sh \
	tests/integration/agent-trap.sh \
	tests/integration/agent-target.sh \
	tests/integration/agent-resume.sh \
	tests/integration/agent-resume-cache.sh

# A test-only preload object that puts this project's client role into
# stock Net-SNMP apps (-rpath: libtool builds the .so, not just a .la).
check_LTLIBRARIES += tests/integration/dtlsudp-preload-shim.la
tests_integration_dtlsudp_preload_shim_la_SOURCES = tests/integration/preload-shim.c
tests_integration_dtlsudp_preload_shim_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/transport/snmp $(NETSNMP_CFLAGS)
tests_integration_dtlsudp_preload_shim_la_CFLAGS = $(AM_CFLAGS) $(VISIBILITY_CFLAGS)
tests_integration_dtlsudp_preload_shim_la_LIBADD = \
	transport/snmp/libsnmptransport.la \
	transport/net/libnet.la \
	transport/engine/libengine.la \
	$(NETSNMP_LIBS) $(OPENSSL_LIBS)
tests_integration_dtlsudp_preload_shim_la_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version -shared \
	-rpath /nowhere

# Drives the server transport's f_send in-process (nothing is sent).
check_PROGRAMS += tests/integration/nosession-probe
tests_integration_nosession_probe_SOURCES = tests/integration/nosession-probe.c
tests_integration_nosession_probe_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/transport/snmp $(NETSNMP_CFLAGS)
tests_integration_nosession_probe_LDADD = \
	transport/snmp/libsnmptransport.la \
	transport/net/libnet.la \
	transport/engine/libengine.la \
	$(NETSNMP_LIBS) $(OPENSSL_LIBS)
dist_check_SCRIPTS += tests/integration/agent-nosession.sh
TESTS += tests/integration/agent-nosession.sh
