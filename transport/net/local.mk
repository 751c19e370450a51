# transport/net: the socket layer (osnet and router demultiplexers, the
# dtlsudp_listener / dtlsudp_conn API).  A convenience library linked into
# libdtlsudp; only the dtlsudp_* symbols of the public header are exported.
noinst_LTLIBRARIES += transport/net/libnet.la
transport_net_libnet_la_SOURCES = \
	transport/net/net_internal.h \
	transport/net/hooks.c \
	transport/net/sockio.c \
	transport/net/listener.c \
	transport/net/osnet.c \
	transport/net/conn.c
transport_net_libnet_la_CFLAGS = $(AM_CFLAGS) $(VISIBILITY_CFLAGS)
transport_libdtlsudp_la_LIBADD += transport/net/libnet.la

# Distributed with the sources.
EXTRA_DIST += transport/net/README
