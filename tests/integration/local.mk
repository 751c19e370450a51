# tests/integration: build fragment, included from the top-level Makefile.am.
# Integration tests are bash scripts that source tests/lib/snmpd.sh (via
# $top_srcdir, exported by AM_TESTS_ENVIRONMENT) and drive real snmpd /
# snmptrapd / snmpget processes on 127.0.0.1 and ::1.  Each area adds its
# own in agent.mk, manager.mk or mibs.mk:
#   dist_check_SCRIPTS += tests/integration/NAME.sh
#   TESTS += tests/integration/NAME.sh
# A test exits 0 (pass), 77 (skip: tl_require/tl_skip) or anything else (fail).
