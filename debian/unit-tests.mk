# Read after the build tree's Makefile by debian/rules: prints the tests of
# `make check` that need no snmpd/snmptrapd and no second process: the unit
# and module tests, plus the version check.  Left out: tests/integration,
# the harness tests of tests/lib and tests/proxy/proxy-* (real snmpd,
# rsyslogd), and tests/net/echo-example.sh
# (the example programs, which the packages do not ship, end to end on fixed
# ports).
print-unit-tests:
	@echo $(filter-out tests/integration/% tests/lib/% tests/net/echo-example.sh tests/proxy/proxy-%,$(TESTS)) \
		$(filter tests/integration/package-version.sh,$(TESTS))
.PHONY: print-unit-tests
