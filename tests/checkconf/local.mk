# tests/checkconf: one CMocka program per module of dtlsudp-checkconf
# (transport/checkconf), linked against the modules' convenience library:
# the state main.c records is set directly, the report is read back as
# text or JSON.  The integration test that runs the program is
# tests/integration/operator-checkconf.sh.
if HAVE_CMOCKA
check_LTLIBRARIES += tests/checkconf/libcctest.la
tests_checkconf_libcctest_la_SOURCES = tests/checkconf/cctest.c tests/checkconf/cctest.h
tests_checkconf_libcctest_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/transport/checkconf -I$(top_srcdir)/transport/snmp \
	-I$(top_srcdir)/tests/engine $(NETSNMP_CFLAGS) $(CMOCKA_CFLAGS)

CHECKCONF_TEST_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/transport/checkconf -I$(top_srcdir)/transport/snmp \
	-I$(top_srcdir)/tests/engine $(NETSNMP_CFLAGS) $(CMOCKA_CFLAGS)
CHECKCONF_TEST_LDADD = tests/checkconf/libcctest.la tests/engine/libtestengine.la $(CHECKCONF_LIBS) $(CMOCKA_LIBS)

CHECKCONF_TESTS = \
	tests/checkconf/test_report \
	tests/checkconf/test_addresses \
	tests/checkconf/test_dlmod \
	tests/checkconf/test_main \
	tests/checkconf/test_certificates \
	tests/checkconf/test_checks
check_PROGRAMS += $(CHECKCONF_TESTS)
TESTS += $(CHECKCONF_TESTS)

tests_checkconf_test_report_SOURCES = tests/checkconf/test_report.c
tests_checkconf_test_report_CPPFLAGS = $(CHECKCONF_TEST_CPPFLAGS)
tests_checkconf_test_report_LDADD = $(CHECKCONF_TEST_LDADD)

tests_checkconf_test_addresses_SOURCES = tests/checkconf/test_addresses.c
tests_checkconf_test_addresses_CPPFLAGS = $(CHECKCONF_TEST_CPPFLAGS)
tests_checkconf_test_addresses_LDADD = $(CHECKCONF_TEST_LDADD)

# A module for dlmod lines to load (-rpath: a shared object, not a
# convenience library).
check_LTLIBRARIES += tests/checkconf/ccmod.la
tests_checkconf_ccmod_la_SOURCES = tests/checkconf/ccmod.c
tests_checkconf_ccmod_la_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version -shared -rpath $(abs_builddir)

tests_checkconf_test_dlmod_SOURCES = tests/checkconf/test_dlmod.c
tests_checkconf_test_dlmod_CPPFLAGS = $(CHECKCONF_TEST_CPPFLAGS)
tests_checkconf_test_dlmod_LDADD = $(CHECKCONF_TEST_LDADD)

tests_checkconf_test_main_SOURCES = tests/checkconf/test_main.c
tests_checkconf_test_main_CPPFLAGS = $(CHECKCONF_TEST_CPPFLAGS)
tests_checkconf_test_main_LDADD = $(CHECKCONF_TEST_LDADD)

tests_checkconf_test_certificates_SOURCES = tests/checkconf/test_certificates.c
tests_checkconf_test_certificates_CPPFLAGS = $(CHECKCONF_TEST_CPPFLAGS)
tests_checkconf_test_certificates_LDADD = $(CHECKCONF_TEST_LDADD)

tests_checkconf_test_checks_SOURCES = tests/checkconf/test_checks.c
tests_checkconf_test_checks_CPPFLAGS = $(CHECKCONF_TEST_CPPFLAGS)
tests_checkconf_test_checks_LDADD = $(CHECKCONF_TEST_LDADD)
endif
