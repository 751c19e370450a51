# tests/security/admission.mk: admission control and socket hijacking on
# real sockets (127.0.0.1 only, bounded loops, each well under 30 s).
check_LTLIBRARIES += tests/security/libsectest.la
tests_security_libsectest_la_SOURCES = tests/security/sec_common.c tests/security/sec_common.h \
	tests/net/certs.c tests/net/certs.h
ADMISSION_TESTS = tests/security/test_halfopen_flood tests/security/test_icmp_refused \
	tests/security/test_bind_other_uid
check_PROGRAMS += $(ADMISSION_TESTS)
TESTS += $(ADMISSION_TESTS)
tests_security_test_halfopen_flood_SOURCES = tests/security/test_halfopen_flood.c
tests_security_test_halfopen_flood_LDADD = tests/security/libsectest.la transport/libdtlsudp.la $(OPENSSL_LIBS)
tests_security_test_icmp_refused_SOURCES = tests/security/test_icmp_refused.c
tests_security_test_icmp_refused_LDADD = tests/security/libsectest.la transport/libdtlsudp.la $(OPENSSL_LIBS)
tests_security_test_bind_other_uid_SOURCES = tests/security/test_bind_other_uid.c
tests_security_test_bind_other_uid_LDADD = tests/security/libsectest.la transport/libdtlsudp.la $(OPENSSL_LIBS)
