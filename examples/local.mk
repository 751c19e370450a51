# examples: the DTLS echo server and client.  Always built; installed only
# with ./configure --enable-examples.
if INSTALL_EXAMPLES
bin_PROGRAMS += examples/dtls-echo-server examples/dtls-echo-client
else
noinst_PROGRAMS += examples/dtls-echo-server examples/dtls-echo-client
endif
examples_dtls_echo_server_SOURCES = examples/dtls-echo-server.c examples/echo-common.c examples/echo-common.h
examples_dtls_echo_server_LDADD = transport/libdtlsudp.la $(OPENSSL_LIBS) -lpthread
examples_dtls_echo_client_SOURCES = examples/dtls-echo-client.c examples/echo-common.c examples/echo-common.h
examples_dtls_echo_client_LDADD = transport/libdtlsudp.la $(OPENSSL_LIBS)

# Distributed with the sources.
EXTRA_DIST += examples/README examples/dtlsudp-proxy.conf
