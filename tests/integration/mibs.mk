# tests/integration/mibs.mk: integration tests of the MIB files and of the
# plugin's MIB modules, included from the top-level Makefile.am.
#
#   mibs-smilint.sh  every MIB in mibs/ passes `smilint -l 3` silently
#   mibs-walk.sh     a real snmpd loads the test dlmod mibs-testmod.so (the
#                    MIB modules over a fake statistics provider); walked
#                    over plain udp v2c, values and names checked
#   mibs-dtls.sh     the real plugin dtlsudp.so: counters move exactly as the
#                    DTLS traffic the test generates (SKIP until it is built)

# The test dlmod: libdtlsudpmib.la + a fake transport/snmp statistics
# provider + the real hash table the MIB helpers read (hashalg.c alone:
# the rest of libsnmpbase needs the engine).  Linked -z nodelete, like the
# real plugin, so that snmpd's SIGHUP (dlclose + dlopen) keeps its state.
check_LTLIBRARIES += tests/integration/mibs-testmod.la
tests_integration_mibs_testmod_la_SOURCES = tests/integration/mibs-testmod.c transport/snmp/hashalg.c
tests_integration_mibs_testmod_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/agent-plugin/mib \
	-I$(top_srcdir)/transport/snmp $(NETSNMP_CFLAGS)
tests_integration_mibs_testmod_la_CFLAGS = $(AM_CFLAGS) $(VISIBILITY_CFLAGS)
tests_integration_mibs_testmod_la_LIBADD = agent-plugin/mib/libdtlsudpmib.la $(NETSNMP_AGENT_LIBS)
# -rpath makes libtool build a shared module although it is not installed.
tests_integration_mibs_testmod_la_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version -shared \
	-rpath /nowhere -Wl,-z,nodelete

dist_check_SCRIPTS += \
	tests/integration/mibs-smilint.sh \
	tests/integration/mibs-walk.sh \
	tests/integration/mibs-dtls.sh \
	tests/integration/mibs-lib.sh \
	tests/integration/mibs-hello.py
TESTS += \
	tests/integration/mibs-smilint.sh \
	tests/integration/mibs-walk.sh \
	tests/integration/mibs-dtls.sh
EXTRA_DIST += tests/integration/mibs-deps
