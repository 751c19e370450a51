# tests/valgrind.mk: `make check-valgrind', the test suite under valgrind
# memcheck (errors fatal: --error-exitcode=1 --leak-check=full
# --errors-for-leak-kinds=definite,indirect; suppressions in
# tests/valgrind.supp).  Included from the top-level Makefile.am.
#
# Runs every test program of TESTS that is not a script (the CMocka unit
# suites of every module, the fuzz corpus replays) through
# tests/valgrind-run.sh (valgrind on the real binary behind the libtool
# wrapper), then one integration scenario, tests/valgrind-agent.sh (stock
# snmpd + dtlsudp.so under valgrind: GET, walk, a refused client, SIGHUP).
# VALGRIND_EXTRA adds valgrind options; VALGRIND_TESTS overrides the list.
dist_noinst_SCRIPTS += tests/valgrind-run.sh tests/valgrind-agent.sh
dist_noinst_DATA += tests/valgrind.supp

VALGRIND_TESTS = $(filter-out %.sh,$(TESTS))

check-valgrind: all $(check_PROGRAMS) $(check_LTLIBRARIES)
	@top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
	  $(SHELL) $(top_srcdir)/tests/valgrind-run.sh $(VALGRIND_TESTS)
	@echo "==== valgrind: integration scenario (snmpd + plugin) ===="
	@top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
	  $(SHELL) $(top_srcdir)/tests/valgrind-agent.sh; rc=$$?; \
	  if [ $$rc -eq 77 ]; then echo "SKIP: tests/valgrind-agent.sh"; \
	  elif [ $$rc -ne 0 ]; then echo "FAIL: tests/valgrind-agent.sh"; exit 1; \
	  else echo "PASS: tests/valgrind-agent.sh"; fi
.PHONY: check-valgrind
