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
	tests/engine/test_record \
	tests/engine/test_addr \
	tests/engine/test_fingerprint \
	tests/engine/test_outq \
	tests/engine/test_list \
	tests/engine/test_table \
	tests/engine/test_engine \
	tests/engine/test_admission \
	tests/engine/test_auth \
	tests/engine/test_resume \
	tests/engine/test_servercache \
	tests/engine/test_lossy \
	tests/engine/test_retransmit \
	tests/engine/test_flood \
	tests/engine/test_handoff \
	tests/engine/test_api \
	tests/engine/test_errors \
	tests/engine/test_config \
	tests/engine/test_cookie \
	tests/engine/test_ended \
	tests/engine/test_bio \
	tests/engine/test_assoc \
	tests/engine/test_tickets \
	tests/engine/test_session \
	tests/engine/test_verify \
	tests/engine/test_recordlayer \
	tests/engine/test_feed \
	tests/engine/test_lifetime \
	tests/engine/test_accept \
	tests/engine/test_timers \
	tests/engine/test_abi

# bench_engine measures (memory per association, handshakes/s); built by
# `make check`, run by hand: it makes no assertions.
check_PROGRAMS += $(ENGINE_TESTS) tests/engine/bench_engine
TESTS += $(ENGINE_TESTS)

tests_engine_test_record_SOURCES = tests/engine/test_record.c
tests_engine_test_record_CPPFLAGS = $(ENGINE_TEST_CPPFLAGS)
tests_engine_test_record_CFLAGS = $(ENGINE_TEST_CFLAGS)
tests_engine_test_record_LDADD = $(ENGINE_TEST_LDADD)
tests_engine_test_addr_SOURCES = tests/engine/test_addr.c
tests_engine_test_addr_CPPFLAGS = $(ENGINE_TEST_CPPFLAGS)
tests_engine_test_addr_CFLAGS = $(ENGINE_TEST_CFLAGS)
tests_engine_test_addr_LDADD = $(ENGINE_TEST_LDADD)
tests_engine_test_fingerprint_SOURCES = tests/engine/test_fingerprint.c
tests_engine_test_fingerprint_CPPFLAGS = $(ENGINE_TEST_CPPFLAGS)
tests_engine_test_fingerprint_CFLAGS = $(ENGINE_TEST_CFLAGS)
tests_engine_test_fingerprint_LDADD = $(ENGINE_TEST_LDADD)
tests_engine_test_outq_SOURCES = tests/engine/test_outq.c
tests_engine_test_outq_CPPFLAGS = $(ENGINE_TEST_CPPFLAGS)
tests_engine_test_outq_CFLAGS = $(ENGINE_TEST_CFLAGS)
tests_engine_test_outq_LDADD = $(ENGINE_TEST_LDADD)
tests_engine_test_list_SOURCES = tests/engine/test_list.c
tests_engine_test_list_CPPFLAGS = $(ENGINE_TEST_CPPFLAGS)
tests_engine_test_list_CFLAGS = $(ENGINE_TEST_CFLAGS)
tests_engine_test_list_LDADD = $(ENGINE_TEST_LDADD)
tests_engine_test_engine_SOURCES = tests/engine/test_engine.c
tests_engine_test_engine_CPPFLAGS = $(ENGINE_TEST_CPPFLAGS)
tests_engine_test_engine_CFLAGS = $(ENGINE_TEST_CFLAGS)
tests_engine_test_engine_LDADD = $(ENGINE_TEST_LDADD)
tests_engine_test_auth_SOURCES = tests/engine/test_auth.c
tests_engine_test_auth_CPPFLAGS = $(ENGINE_TEST_CPPFLAGS)
tests_engine_test_auth_CFLAGS = $(ENGINE_TEST_CFLAGS)
tests_engine_test_auth_LDADD = $(ENGINE_TEST_LDADD)
tests_engine_test_resume_SOURCES = tests/engine/test_resume.c
tests_engine_test_resume_CPPFLAGS = $(ENGINE_TEST_CPPFLAGS)
tests_engine_test_resume_CFLAGS = $(ENGINE_TEST_CFLAGS)
tests_engine_test_resume_LDADD = $(ENGINE_TEST_LDADD)
tests_engine_test_servercache_SOURCES = tests/engine/test_servercache.c
tests_engine_test_servercache_CPPFLAGS = $(ENGINE_TEST_CPPFLAGS)
tests_engine_test_servercache_CFLAGS = $(ENGINE_TEST_CFLAGS)
tests_engine_test_servercache_LDADD = $(ENGINE_TEST_LDADD)
tests_engine_test_lossy_SOURCES = tests/engine/test_lossy.c
tests_engine_test_lossy_CPPFLAGS = $(ENGINE_TEST_CPPFLAGS)
tests_engine_test_lossy_CFLAGS = $(ENGINE_TEST_CFLAGS)
tests_engine_test_lossy_LDADD = $(ENGINE_TEST_LDADD)
tests_engine_test_retransmit_SOURCES = tests/engine/test_retransmit.c
tests_engine_test_retransmit_CPPFLAGS = $(ENGINE_TEST_CPPFLAGS)
tests_engine_test_retransmit_CFLAGS = $(ENGINE_TEST_CFLAGS)
tests_engine_test_retransmit_LDADD = $(ENGINE_TEST_LDADD)
tests_engine_test_flood_SOURCES = tests/engine/test_flood.c
tests_engine_test_flood_CPPFLAGS = $(ENGINE_TEST_CPPFLAGS)
tests_engine_test_flood_CFLAGS = $(ENGINE_TEST_CFLAGS)
tests_engine_test_flood_LDADD = $(ENGINE_TEST_LDADD)
tests_engine_test_handoff_SOURCES = tests/engine/test_handoff.c
tests_engine_test_handoff_CPPFLAGS = $(ENGINE_TEST_CPPFLAGS)
tests_engine_test_handoff_CFLAGS = $(ENGINE_TEST_CFLAGS)
tests_engine_test_handoff_LDADD = $(ENGINE_TEST_LDADD)
tests_engine_bench_engine_SOURCES = tests/engine/bench_engine.c
tests_engine_bench_engine_CPPFLAGS = $(ENGINE_TEST_CPPFLAGS)
tests_engine_bench_engine_CFLAGS = $(ENGINE_TEST_CFLAGS)
tests_engine_bench_engine_LDADD = $(ENGINE_TEST_LDADD)
tests_engine_test_table_SOURCES = tests/engine/test_table.c
tests_engine_test_table_CPPFLAGS = $(ENGINE_TEST_CPPFLAGS)
tests_engine_test_table_CFLAGS = $(ENGINE_TEST_CFLAGS)
tests_engine_test_table_LDADD = $(ENGINE_TEST_LDADD)
tests_engine_test_admission_SOURCES = tests/engine/test_admission.c
tests_engine_test_admission_CPPFLAGS = $(ENGINE_TEST_CPPFLAGS)
tests_engine_test_admission_CFLAGS = $(ENGINE_TEST_CFLAGS)
tests_engine_test_admission_LDADD = $(ENGINE_TEST_LDADD)
tests_engine_test_errors_SOURCES = tests/engine/test_errors.c
tests_engine_test_errors_CPPFLAGS = $(ENGINE_TEST_CPPFLAGS)
tests_engine_test_errors_CFLAGS = $(ENGINE_TEST_CFLAGS)
tests_engine_test_errors_LDADD = $(ENGINE_TEST_LDADD)
tests_engine_test_config_SOURCES = tests/engine/test_config.c
tests_engine_test_config_CPPFLAGS = $(ENGINE_TEST_CPPFLAGS)
tests_engine_test_config_CFLAGS = $(ENGINE_TEST_CFLAGS)
tests_engine_test_config_LDADD = $(ENGINE_TEST_LDADD)
tests_engine_test_cookie_SOURCES = tests/engine/test_cookie.c
tests_engine_test_cookie_CPPFLAGS = $(ENGINE_TEST_CPPFLAGS)
tests_engine_test_cookie_CFLAGS = $(ENGINE_TEST_CFLAGS)
tests_engine_test_cookie_LDADD = $(ENGINE_TEST_LDADD)
tests_engine_test_ended_SOURCES = tests/engine/test_ended.c
tests_engine_test_ended_CPPFLAGS = $(ENGINE_TEST_CPPFLAGS)
tests_engine_test_ended_CFLAGS = $(ENGINE_TEST_CFLAGS)
tests_engine_test_ended_LDADD = $(ENGINE_TEST_LDADD)
tests_engine_test_bio_SOURCES = tests/engine/test_bio.c
tests_engine_test_bio_CPPFLAGS = $(ENGINE_TEST_CPPFLAGS)
tests_engine_test_bio_CFLAGS = $(ENGINE_TEST_CFLAGS)
tests_engine_test_bio_LDADD = $(ENGINE_TEST_LDADD)
tests_engine_test_assoc_SOURCES = tests/engine/test_assoc.c
tests_engine_test_assoc_CPPFLAGS = $(ENGINE_TEST_CPPFLAGS)
tests_engine_test_assoc_CFLAGS = $(ENGINE_TEST_CFLAGS)
tests_engine_test_assoc_LDADD = $(ENGINE_TEST_LDADD)
tests_engine_test_tickets_SOURCES = tests/engine/test_tickets.c
tests_engine_test_tickets_CPPFLAGS = $(ENGINE_TEST_CPPFLAGS)
tests_engine_test_tickets_CFLAGS = $(ENGINE_TEST_CFLAGS)
tests_engine_test_tickets_LDADD = $(ENGINE_TEST_LDADD)
tests_engine_test_session_SOURCES = tests/engine/test_session.c
tests_engine_test_session_CPPFLAGS = $(ENGINE_TEST_CPPFLAGS)
tests_engine_test_session_CFLAGS = $(ENGINE_TEST_CFLAGS)
tests_engine_test_session_LDADD = $(ENGINE_TEST_LDADD)
tests_engine_test_verify_SOURCES = tests/engine/test_verify.c
tests_engine_test_verify_CPPFLAGS = $(ENGINE_TEST_CPPFLAGS)
tests_engine_test_verify_CFLAGS = $(ENGINE_TEST_CFLAGS)
tests_engine_test_verify_LDADD = $(ENGINE_TEST_LDADD)
tests_engine_test_recordlayer_SOURCES = tests/engine/test_recordlayer.c
tests_engine_test_recordlayer_CPPFLAGS = $(ENGINE_TEST_CPPFLAGS)
tests_engine_test_recordlayer_CFLAGS = $(ENGINE_TEST_CFLAGS)
tests_engine_test_recordlayer_LDADD = $(ENGINE_TEST_LDADD)
tests_engine_test_abi_SOURCES = tests/engine/test_abi.c
tests_engine_test_abi_CPPFLAGS = $(ENGINE_TEST_CPPFLAGS)
tests_engine_test_abi_CFLAGS = $(ENGINE_TEST_CFLAGS)
tests_engine_test_abi_LDADD = $(ENGINE_TEST_LDADD)
tests_engine_test_timers_SOURCES = tests/engine/test_timers.c
tests_engine_test_timers_CPPFLAGS = $(ENGINE_TEST_CPPFLAGS)
tests_engine_test_timers_CFLAGS = $(ENGINE_TEST_CFLAGS)
tests_engine_test_timers_LDADD = $(ENGINE_TEST_LDADD)
tests_engine_test_accept_SOURCES = tests/engine/test_accept.c
tests_engine_test_accept_CPPFLAGS = $(ENGINE_TEST_CPPFLAGS)
tests_engine_test_accept_CFLAGS = $(ENGINE_TEST_CFLAGS)
tests_engine_test_accept_LDADD = $(ENGINE_TEST_LDADD)
tests_engine_test_lifetime_SOURCES = tests/engine/test_lifetime.c
tests_engine_test_lifetime_CPPFLAGS = $(ENGINE_TEST_CPPFLAGS)
tests_engine_test_lifetime_CFLAGS = $(ENGINE_TEST_CFLAGS)
tests_engine_test_lifetime_LDADD = $(ENGINE_TEST_LDADD)
tests_engine_test_feed_SOURCES = tests/engine/test_feed.c
tests_engine_test_feed_CPPFLAGS = $(ENGINE_TEST_CPPFLAGS)
tests_engine_test_feed_CFLAGS = $(ENGINE_TEST_CFLAGS)
tests_engine_test_feed_LDADD = $(ENGINE_TEST_LDADD)
endif

# The 1.0 API contract; also reaches the socket layer's versioned calls.
tests_engine_test_api_SOURCES = tests/engine/test_api.c
tests_engine_test_api_CPPFLAGS = $(ENGINE_TEST_CPPFLAGS)
tests_engine_test_api_CFLAGS = $(ENGINE_TEST_CFLAGS)
tests_engine_test_api_LDADD = tests/engine/libtestengine.la transport/net/libnet.la transport/engine/libengine.la \
	$(OPENSSL_LIBS) $(CMOCKA_LIBS)
