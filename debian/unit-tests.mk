# Read after the build tree's Makefile by debian/rules: prints the tests of
# `make check` that need no snmpd/snmptrapd and no second process: the unit
# and module tests, plus the version check.  Left out: tests/integration and
# the harness tests of tests/lib (real snmpd), and tests/net/echo-example.sh
# (the example programs, which the packages do not ship, end to end on fixed
# ports).
print-unit-tests:
	@echo $(filter-out tests/integration/% tests/lib/% tests/net/echo-example.sh,$(TESTS)) \
		$(filter tests/integration/package-version.sh,$(TESTS))
.PHONY: print-unit-tests
