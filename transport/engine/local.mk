# transport/engine: the association engine.  OpenSSL and libc only: no
# socket calls, no Net-SNMP headers (tests/engine/layering.sh enforces it).
noinst_LTLIBRARIES += transport/engine/libengine.la
transport_engine_libengine_la_SOURCES = \
	transport/engine/errors.c \
	transport/engine/abi.c \
	transport/engine/abi.h \
	transport/engine/addr.c \
	transport/engine/fingerprint.c \
	transport/engine/servercache.c \
	transport/engine/record.c \
	transport/engine/record.h \
	transport/engine/recordlayer.c \
	transport/engine/recordlayer.h \
	transport/engine/handoff.c \
	transport/engine/bio.c \
	transport/engine/outq.c \
	transport/engine/cookie.c \
	transport/engine/tickets.c \
	transport/engine/session.c \
	transport/engine/verify.c \
	transport/engine/config.c \
	transport/engine/table.c \
	transport/engine/admission.c \
	transport/engine/ended.c \
	transport/engine/engine.c \
	transport/engine/accept.c \
	transport/engine/feed.c \
	transport/engine/lifetime.c \
	transport/engine/timers.c \
	transport/engine/retransmit.c \
	transport/engine/assoc.c \
	transport/engine/engine_internal.h \
	transport/engine/list.h
transport_engine_libengine_la_CFLAGS = $(AM_CFLAGS) $(VISIBILITY_CFLAGS)
transport_engine_libengine_la_LIBADD = $(OPENSSL_LIBS)
EXTRA_DIST += transport/engine/README
