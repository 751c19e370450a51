# tests/lib: the test harness (certificate factory, snmpd/snmptrapd helpers)
# and its own tests.  Integration tests source tests/lib/snmpd.sh through
# $(top_srcdir), exported by AM_TESTS_ENVIRONMENT.
dist_noinst_SCRIPTS += \
	tests/lib/make-certs.sh \
	tests/lib/snmpd.sh
dist_check_SCRIPTS += \
	tests/lib/test-make-certs.sh \
	tests/lib/test-snmpd-helper.sh \
	tests/lib/test-certs-netsnmp.sh
TESTS += \
	tests/lib/test-make-certs.sh \
	tests/lib/test-snmpd-helper.sh \
	tests/lib/test-certs-netsnmp.sh

# Certificates shared by the tests of one build tree (see tl_make_certs).
clean-local: clean-local-tests-lib
clean-local-tests-lib:
	rm -rf tests/lib/certs.cache test-tmp
.PHONY: clean-local-tests-lib
