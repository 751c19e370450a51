# Read after the build tree's Makefile by debian/rules: prints the tests of
# `make check` that need no snmpd/snmptrapd (everything but tests/integration
# and the harness tests of tests/lib), plus the version check.
print-unit-tests:
	@echo $(filter-out tests/integration/% tests/lib/%,$(TESTS)) \
		$(filter tests/integration/package-version.sh,$(TESTS))
.PHONY: print-unit-tests
