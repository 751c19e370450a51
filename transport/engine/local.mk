# transport/engine: the association engine.  OpenSSL and libc only: no
# socket calls, no Net-SNMP headers (tests/engine/layering.sh enforces it).
noinst_LTLIBRARIES += transport/engine/libengine.la
transport_engine_libengine_la_SOURCES = \
	transport/engine/errors.c
transport_engine_libengine_la_CFLAGS = $(AM_CFLAGS) $(VISIBILITY_CFLAGS)
transport_engine_libengine_la_LIBADD = $(OPENSSL_LIBS)
