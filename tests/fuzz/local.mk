# tests/fuzz: build fragment, included from the top-level Makefile.am.
#
# One target per entry point that parses bytes from the network or a user:
#   record         record-header parser and ClientHello peek (engine/record.c)
#   record_open    the handed-off record opener with known keys (engine/recordlayer.c)
#   engine_server  dtlsudp_engine_receive() on a server, four peers
#   engine_client  a client mid-handshake (fuzzed server, loss, allocator)
#   fingerprint    dtlsudp_fingerprint_parse()
#   addr           dtlsudp_addr_parse()
#   snmp_config    the plugin's dtlsudp* tokens and certSecName fingerprints
#   snmp_addr      dtlsudp_snmp_addr_parse(): dtlsudp:/dtlsudp6: target text
#   verify         peer-certificate policy (engine/verify.c) in real handshakes,
#                  against a reference model of the certificate set
#
# Always built: tests/fuzz/replay_<target>, the target's
# LLVMFuzzerTestOneInput() with a plain main() (regress_main.c) that replays
# corpus/<target>/ once; they run in `make check' (and in check-valgrind).
# With ./configure CC=clang --enable-fuzzers: tests/fuzz/fuzz_<target>,
# libFuzzer + ASan + UBSan, the code under test compiled into each with
# coverage instrumentation; run them with tests/fuzz/run-fuzzers.sh.
# Corpora: corpus/<target>/ (engine seeds recorded by gen_corpus.c:
# `make tests/fuzz/gen_corpus && tests/fuzz/gen_corpus $(srcdir)/tests/fuzz/corpus`).

FUZZ_TARGET_NAMES = record record_open engine_server engine_client fingerprint addr snmp_config snmp_addr verify

FUZZ_INCLUDES = $(AM_CPPFLAGS) -I$(top_srcdir)/transport/engine -I$(top_srcdir)/tests/fuzz
FUZZ_SNMP_INCLUDES = $(FUZZ_INCLUDES) -I$(top_srcdir)/transport/snmp $(NETSNMP_CFLAGS)
FUZZ_COMMON_SOURCES = tests/fuzz/fuzz_common.c tests/fuzz/fuzz_common.h tests/fuzz/fuzz_certs.h
FUZZ_ENGINE_HARNESS = tests/fuzz/fuzz_engine.c tests/fuzz/fuzz_engine.h
FUZZ_REPLAY_LDADD = transport/engine/libengine.la $(OPENSSL_LIBS)
# verify: the in-memory test PKI of tests/engine (no files, no CLI)
FUZZ_VERIFY_SOURCES = tests/fuzz/fuzz_verify.c tests/engine/testcerts.c tests/engine/testcerts.h
FUZZ_VERIFY_INCLUDES = $(FUZZ_INCLUDES) -I$(top_srcdir)/tests/engine

dist_noinst_SCRIPTS += tests/fuzz/run-fuzzers.sh
EXTRA_DIST += tests/fuzz/README tests/fuzz/corpus

# --- corpus replay (plain main), part of `make check' ---
FUZZ_REPLAYS = \
	tests/fuzz/replay_record \
	tests/fuzz/replay_record_open \
	tests/fuzz/replay_engine_server \
	tests/fuzz/replay_engine_client \
	tests/fuzz/replay_fingerprint \
	tests/fuzz/replay_addr \
	tests/fuzz/replay_snmp_config \
	tests/fuzz/replay_snmp_addr \
	tests/fuzz/replay_verify
check_PROGRAMS += $(FUZZ_REPLAYS)
TESTS += $(FUZZ_REPLAYS)

tests_fuzz_replay_record_SOURCES = tests/fuzz/fuzz_record.c tests/fuzz/regress_main.c $(FUZZ_COMMON_SOURCES)
tests_fuzz_replay_record_CPPFLAGS = $(FUZZ_INCLUDES) -DFUZZ_TARGET='"record"'
tests_fuzz_replay_record_LDADD = $(FUZZ_REPLAY_LDADD)

tests_fuzz_replay_record_open_SOURCES = tests/fuzz/fuzz_record_open.c tests/fuzz/regress_main.c $(FUZZ_COMMON_SOURCES)
tests_fuzz_replay_record_open_CPPFLAGS = $(FUZZ_INCLUDES) -DFUZZ_TARGET='"record_open"'
tests_fuzz_replay_record_open_LDADD = $(FUZZ_REPLAY_LDADD)

tests_fuzz_replay_engine_server_SOURCES = tests/fuzz/fuzz_engine_server.c tests/fuzz/regress_main.c \
	$(FUZZ_ENGINE_HARNESS) $(FUZZ_COMMON_SOURCES)
tests_fuzz_replay_engine_server_CPPFLAGS = $(FUZZ_INCLUDES) -DFUZZ_TARGET='"engine_server"'
tests_fuzz_replay_engine_server_LDADD = $(FUZZ_REPLAY_LDADD)

tests_fuzz_replay_engine_client_SOURCES = tests/fuzz/fuzz_engine_client.c tests/fuzz/regress_main.c \
	$(FUZZ_ENGINE_HARNESS) $(FUZZ_COMMON_SOURCES)
tests_fuzz_replay_engine_client_CPPFLAGS = $(FUZZ_INCLUDES) -DFUZZ_TARGET='"engine_client"'
tests_fuzz_replay_engine_client_LDADD = $(FUZZ_REPLAY_LDADD)

tests_fuzz_replay_fingerprint_SOURCES = tests/fuzz/fuzz_fingerprint.c tests/fuzz/regress_main.c $(FUZZ_COMMON_SOURCES)
tests_fuzz_replay_fingerprint_CPPFLAGS = $(FUZZ_INCLUDES) -DFUZZ_TARGET='"fingerprint"'
tests_fuzz_replay_fingerprint_LDADD = $(FUZZ_REPLAY_LDADD)

tests_fuzz_replay_addr_SOURCES = tests/fuzz/fuzz_addr.c tests/fuzz/regress_main.c $(FUZZ_COMMON_SOURCES)
tests_fuzz_replay_addr_CPPFLAGS = $(FUZZ_INCLUDES) -DFUZZ_TARGET='"addr"'
tests_fuzz_replay_addr_LDADD = $(FUZZ_REPLAY_LDADD)

tests_fuzz_replay_snmp_config_SOURCES = tests/fuzz/fuzz_snmp_config.c transport/snmp/config.c transport/snmp/fpcheck.c \
	transport/snmp/hashalg.c \
	tests/fuzz/regress_main.c $(FUZZ_COMMON_SOURCES)
tests_fuzz_replay_snmp_config_CPPFLAGS = $(FUZZ_SNMP_INCLUDES) -DFUZZ_TARGET='"snmp_config"'
tests_fuzz_replay_snmp_config_LDADD = $(FUZZ_REPLAY_LDADD) $(NETSNMP_LIBS)

tests_fuzz_replay_snmp_addr_SOURCES = tests/fuzz/fuzz_snmp_addr.c tests/fuzz/regress_main.c $(FUZZ_COMMON_SOURCES)
tests_fuzz_replay_snmp_addr_CPPFLAGS = $(FUZZ_SNMP_INCLUDES) -DFUZZ_TARGET='"snmp_addr"'
tests_fuzz_replay_snmp_addr_LDADD = transport/snmp/libsnmpbase.la $(FUZZ_REPLAY_LDADD) $(NETSNMP_LIBS)

tests_fuzz_replay_verify_SOURCES = $(FUZZ_VERIFY_SOURCES) tests/fuzz/regress_main.c $(FUZZ_COMMON_SOURCES)
tests_fuzz_replay_verify_CPPFLAGS = $(FUZZ_VERIFY_INCLUDES) -DFUZZ_TARGET='"verify"'
tests_fuzz_replay_verify_LDADD = $(FUZZ_REPLAY_LDADD)

# --- the corpus generator (built on demand) ---
EXTRA_PROGRAMS = tests/fuzz/gen_corpus
tests_fuzz_gen_corpus_SOURCES = tests/fuzz/gen_corpus.c $(FUZZ_ENGINE_HARNESS) $(FUZZ_COMMON_SOURCES)
tests_fuzz_gen_corpus_CPPFLAGS = $(FUZZ_INCLUDES)
tests_fuzz_gen_corpus_LDADD = $(FUZZ_REPLAY_LDADD)
CLEANFILES += tests/fuzz/gen_corpus

# --- libFuzzer targets ---
if ENABLE_FUZZERS
# The code under test is compiled into each target (not linked from the
# uninstrumented convenience library) so libFuzzer sees its coverage.
FUZZER_COMPILE_FLAGS = $(WARN_CFLAGS) $(OPENSSL_CFLAGS) -g -O1 -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZER_LINK_FLAGS = -fsanitize=fuzzer,address,undefined
FUZZ_ENGINE_SOURCES = $(transport_engine_libengine_la_SOURCES)

noinst_PROGRAMS += \
	tests/fuzz/fuzz_record \
	tests/fuzz/fuzz_record_open \
	tests/fuzz/fuzz_engine_server \
	tests/fuzz/fuzz_engine_client \
	tests/fuzz/fuzz_fingerprint \
	tests/fuzz/fuzz_addr \
	tests/fuzz/fuzz_snmp_config \
	tests/fuzz/fuzz_snmp_addr \
	tests/fuzz/fuzz_verify

tests_fuzz_fuzz_record_SOURCES = tests/fuzz/fuzz_record.c $(FUZZ_COMMON_SOURCES) $(FUZZ_ENGINE_SOURCES)
tests_fuzz_fuzz_record_CPPFLAGS = $(FUZZ_INCLUDES)
tests_fuzz_fuzz_record_CFLAGS = $(FUZZER_COMPILE_FLAGS)
tests_fuzz_fuzz_record_LDFLAGS = $(FUZZER_LINK_FLAGS)
tests_fuzz_fuzz_record_LDADD = $(OPENSSL_LIBS)

tests_fuzz_fuzz_record_open_SOURCES = tests/fuzz/fuzz_record_open.c $(FUZZ_COMMON_SOURCES) $(FUZZ_ENGINE_SOURCES)
tests_fuzz_fuzz_record_open_CPPFLAGS = $(FUZZ_INCLUDES)
tests_fuzz_fuzz_record_open_CFLAGS = $(FUZZER_COMPILE_FLAGS)
tests_fuzz_fuzz_record_open_LDFLAGS = $(FUZZER_LINK_FLAGS)
tests_fuzz_fuzz_record_open_LDADD = $(OPENSSL_LIBS)

tests_fuzz_fuzz_engine_server_SOURCES = tests/fuzz/fuzz_engine_server.c $(FUZZ_ENGINE_HARNESS) \
	$(FUZZ_COMMON_SOURCES) $(FUZZ_ENGINE_SOURCES)
tests_fuzz_fuzz_engine_server_CPPFLAGS = $(FUZZ_INCLUDES)
tests_fuzz_fuzz_engine_server_CFLAGS = $(FUZZER_COMPILE_FLAGS)
tests_fuzz_fuzz_engine_server_LDFLAGS = $(FUZZER_LINK_FLAGS)
tests_fuzz_fuzz_engine_server_LDADD = $(OPENSSL_LIBS)

tests_fuzz_fuzz_engine_client_SOURCES = tests/fuzz/fuzz_engine_client.c $(FUZZ_ENGINE_HARNESS) \
	$(FUZZ_COMMON_SOURCES) $(FUZZ_ENGINE_SOURCES)
tests_fuzz_fuzz_engine_client_CPPFLAGS = $(FUZZ_INCLUDES)
tests_fuzz_fuzz_engine_client_CFLAGS = $(FUZZER_COMPILE_FLAGS)
tests_fuzz_fuzz_engine_client_LDFLAGS = $(FUZZER_LINK_FLAGS)
tests_fuzz_fuzz_engine_client_LDADD = $(OPENSSL_LIBS)

tests_fuzz_fuzz_fingerprint_SOURCES = tests/fuzz/fuzz_fingerprint.c $(FUZZ_COMMON_SOURCES) $(FUZZ_ENGINE_SOURCES)
tests_fuzz_fuzz_fingerprint_CPPFLAGS = $(FUZZ_INCLUDES)
tests_fuzz_fuzz_fingerprint_CFLAGS = $(FUZZER_COMPILE_FLAGS)
tests_fuzz_fuzz_fingerprint_LDFLAGS = $(FUZZER_LINK_FLAGS)
tests_fuzz_fuzz_fingerprint_LDADD = $(OPENSSL_LIBS)

tests_fuzz_fuzz_addr_SOURCES = tests/fuzz/fuzz_addr.c $(FUZZ_COMMON_SOURCES) $(FUZZ_ENGINE_SOURCES)
tests_fuzz_fuzz_addr_CPPFLAGS = $(FUZZ_INCLUDES)
tests_fuzz_fuzz_addr_CFLAGS = $(FUZZER_COMPILE_FLAGS)
tests_fuzz_fuzz_addr_LDFLAGS = $(FUZZER_LINK_FLAGS)
tests_fuzz_fuzz_addr_LDADD = $(OPENSSL_LIBS)

tests_fuzz_fuzz_snmp_config_SOURCES = tests/fuzz/fuzz_snmp_config.c transport/snmp/config.c transport/snmp/fpcheck.c \
	transport/snmp/hashalg.c \
	$(FUZZ_COMMON_SOURCES) $(FUZZ_ENGINE_SOURCES)
tests_fuzz_fuzz_snmp_config_CPPFLAGS = $(FUZZ_SNMP_INCLUDES)
tests_fuzz_fuzz_snmp_config_CFLAGS = $(FUZZER_COMPILE_FLAGS)
tests_fuzz_fuzz_snmp_config_LDFLAGS = $(FUZZER_LINK_FLAGS)
tests_fuzz_fuzz_snmp_config_LDADD = $(NETSNMP_LIBS) $(OPENSSL_LIBS)

tests_fuzz_fuzz_snmp_addr_SOURCES = tests/fuzz/fuzz_snmp_addr.c transport/snmp/addr.c \
	$(FUZZ_COMMON_SOURCES) $(FUZZ_ENGINE_SOURCES)
tests_fuzz_fuzz_snmp_addr_CPPFLAGS = $(FUZZ_SNMP_INCLUDES)
tests_fuzz_fuzz_snmp_addr_CFLAGS = $(FUZZER_COMPILE_FLAGS)
tests_fuzz_fuzz_snmp_addr_LDFLAGS = $(FUZZER_LINK_FLAGS)
tests_fuzz_fuzz_snmp_addr_LDADD = $(NETSNMP_LIBS) $(OPENSSL_LIBS)

tests_fuzz_fuzz_verify_SOURCES = $(FUZZ_VERIFY_SOURCES) $(FUZZ_COMMON_SOURCES) $(FUZZ_ENGINE_SOURCES)
tests_fuzz_fuzz_verify_CPPFLAGS = $(FUZZ_VERIFY_INCLUDES)
tests_fuzz_fuzz_verify_CFLAGS = $(FUZZER_COMPILE_FLAGS)
tests_fuzz_fuzz_verify_LDFLAGS = $(FUZZER_LINK_FLAGS)
tests_fuzz_fuzz_verify_LDADD = $(OPENSSL_LIBS)
endif
