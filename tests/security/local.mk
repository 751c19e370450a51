# tests/security: adversarial tests of peer authentication (RFC 6353 5.3,
# RFC 5246 7.4.2).  A DTLS peer built on OpenSSL alone (dtls-peer) plays a
# dishonest client against snmpd + the plugin, and a rogue agent against
# managers using the loader; certificates come from make-attack-certs.sh.
# Loopback only; processes are started and stopped by pid (tests/lib/snmpd.sh).
check_PROGRAMS += tests/security/dtls-peer
tests_security_dtls_peer_SOURCES = tests/security/dtls-peer.c bench/ber.h
tests_security_dtls_peer_CPPFLAGS = -I$(top_srcdir)
tests_security_dtls_peer_LDADD = $(OPENSSL_LIBS)

dist_noinst_SCRIPTS += tests/security/make-attack-certs.sh
dist_noinst_DATA += tests/security/sec-lib.sh

SECURITY_TESTS = \
	tests/security/agent-escalation.sh \
	tests/security/manager-impersonation.sh \
	tests/security/agent-crl.sh \
	tests/security/agent-purpose.sh \
	tests/security/agent-records.sh \
	tests/security/agent-session-id.sh \
	tests/security/manager-crl.sh \
	tests/security/manager-memo.sh \
	tests/security/library-pin.sh

dist_check_SCRIPTS += $(SECURITY_TESTS)
TESTS += $(SECURITY_TESTS)

check-security:
	$(MAKE) $(AM_MAKEFLAGS) check TESTS="$(SECURITY_TESTS) $(ADMISSION_TESTS)"
.PHONY: check-security

clean-local: clean-local-tests-security
clean-local-tests-security:
	rm -rf tests/security/certs.cache
.PHONY: clean-local-tests-security
