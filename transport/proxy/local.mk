# transport/proxy: dtlsudp-proxy, DTLS in front of any UDP service.  A
# consumer of libdtlsudp, not a layer: it includes only dtlsudp.h, libc and
# OpenSSL (tests/proxy/layering.sh checks it) and links the shared library.
bin_PROGRAMS += transport/proxy/dtlsudp-proxy
transport_proxy_dtlsudp_proxy_SOURCES = \
	transport/proxy/main.c \
	transport/proxy/loop.c \
	transport/proxy/server.c \
	transport/proxy/client.c \
	transport/proxy/identity.c \
	transport/proxy/config.c \
	transport/proxy/map.c \
	transport/proxy/proxy.h
transport_proxy_dtlsudp_proxy_LDADD = transport/libdtlsudp.la $(OPENSSL_LIBS)
EXTRA_DIST += transport/proxy/README
