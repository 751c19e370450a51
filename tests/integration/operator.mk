# tests/integration/operator.mk: what an operator sees.  dtlsudp-checkconf
# on good and broken configurations; the log lines that name the cause and
# the fix (agent and manager); the shell examples of README.md and
# dtlsudp(5) run as written.
dist_check_SCRIPTS += \
	tests/integration/operator-checkconf.sh \
	tests/integration/operator-messages.sh \
	tests/integration/operator-docs.sh
TESTS += \
	tests/integration/operator-checkconf.sh \
	tests/integration/operator-messages.sh \
	tests/integration/operator-docs.sh
