# tests/engine: one CMocka program per engine module, linked against the
# engine's convenience library so internals are reachable; plus the
# layering check.  No sockets, no sleeps: the network is in memory and the
# clock is a variable (tests/engine/testnet.c).
dist_check_SCRIPTS += tests/engine/layering.sh
TESTS += tests/engine/layering.sh

if HAVE_CMOCKA
check_LTLIBRARIES += tests/engine/libtestengine.la
tests_engine_libtestengine_la_SOURCES = \
	tests/engine/testcerts.c tests/engine/testcerts.h \
	tests/engine/testnet.c tests/engine/testnet.h
tests_engine_libtestengine_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/transport/engine

ENGINE_TEST_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/transport/engine -I$(top_srcdir)/tests/engine
ENGINE_TEST_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
ENGINE_TEST_LDADD = tests/engine/libtestengine.la transport/engine/libengine.la $(OPENSSL_LIBS) $(CMOCKA_LIBS)

ENGINE_TESTS = \
	tests/engine/test_engine

check_PROGRAMS += $(ENGINE_TESTS)
TESTS += $(ENGINE_TESTS)

tests_engine_test_engine_SOURCES = tests/engine/test_engine.c
tests_engine_test_engine_CPPFLAGS = $(ENGINE_TEST_CPPFLAGS)
tests_engine_test_engine_CFLAGS = $(ENGINE_TEST_CFLAGS)
tests_engine_test_engine_LDADD = $(ENGINE_TEST_LDADD)
endif
