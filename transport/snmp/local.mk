# transport/snmp: the Net-SNMP transport domain (dtlsudp, dtls, dtlsudp6,
# dtls6): transport hooks, TSM tmStateReference, certificate configuration.
#
# libsnmpbase: the parts that need only libnetsnmp and OpenSSL (addresses,
#   tmStateReference, TSM's state ownership, tokens, certificate to
#   securityName mapping); unit tested in tests/snmp.
# libsnmptransport: the domain and its hooks on the socket layer.  Link it
#   together with transport/net/libnet.la and transport/engine/libengine.la
#   (not pulled in here, so that no object is linked twice).
noinst_LTLIBRARIES += transport/snmp/libsnmpbase.la transport/snmp/libsnmptransport.la
noinst_HEADERS += transport/snmp/snmp_transport.h transport/snmp/snmp_internal.h

transport_snmp_libsnmpbase_la_SOURCES = \
	transport/snmp/addr.c \
	transport/snmp/tmstate.c \
	transport/snmp/tsmrefs.c \
	transport/snmp/config.c \
	transport/snmp/hashalg.h \
	transport/snmp/hashalg.c \
	transport/snmp/secname.c \
	transport/snmp/hostname.c \
	transport/snmp/fpcheck.c \
	transport/snmp/sesscache.c
transport_snmp_libsnmpbase_la_CPPFLAGS = $(AM_CPPFLAGS) $(NETSNMP_CFLAGS)
transport_snmp_libsnmpbase_la_CFLAGS = $(AM_CFLAGS) $(VISIBILITY_CFLAGS)

transport_snmp_libsnmptransport_la_SOURCES = \
	transport/snmp/certs.c \
	transport/snmp/certfind.c \
	transport/snmp/certmemo.c \
	transport/snmp/tlstmrows.c \
	transport/snmp/domain.c \
	transport/snmp/endpoint.h \
	transport/snmp/endpoint.c \
	transport/snmp/peerauth.c \
	transport/snmp/server.c \
	transport/snmp/client.c \
	transport/snmp/transport.c
transport_snmp_libsnmptransport_la_CPPFLAGS = $(AM_CPPFLAGS) $(NETSNMP_CFLAGS)
transport_snmp_libsnmptransport_la_CFLAGS = $(AM_CFLAGS) $(VISIBILITY_CFLAGS)
transport_snmp_libsnmptransport_la_LIBADD = transport/snmp/libsnmpbase.la
EXTRA_DIST += transport/snmp/README
