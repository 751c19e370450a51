# checkconf: dtlsudp-checkconf, the configuration checker (like sshd -t or
# named-checkconf).  It reads the files with libnetsnmp's own reader and
# resolves certificates with transport/snmp's lookup, so it reports what
# snmpd and the transport will do.
bin_PROGRAMS += transport/checkconf/dtlsudp-checkconf
noinst_HEADERS += transport/checkconf/checkconf.h
transport_checkconf_dtlsudp_checkconf_SOURCES = transport/checkconf/main.c transport/checkconf/checks.c \
	transport/checkconf/dlmod.c transport/checkconf/addresses.c transport/checkconf/certificates.c \
	transport/checkconf/report.c
transport_checkconf_dtlsudp_checkconf_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/transport/snmp $(NETSNMP_CFLAGS) \
	-DDTLSUDP_DLMODDIR='"$(dlmoddir)"'
transport_checkconf_dtlsudp_checkconf_LDADD = \
	transport/snmp/libsnmptransport.la \
	transport/net/libnet.la \
	transport/engine/libengine.la \
	$(NETSNMP_LIBS) $(OPENSSL_LIBS) -ldl
EXTRA_DIST += transport/checkconf/README
