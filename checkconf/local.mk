# checkconf: dtlsudp-checkconf, the configuration checker (like sshd -t or
# named-checkconf).  It reads the files with libnetsnmp's own reader and
# resolves certificates with transport/snmp's lookup, so it reports what
# snmpd and the transport will do.
bin_PROGRAMS += checkconf/dtlsudp-checkconf
noinst_HEADERS += checkconf/checkconf.h
checkconf_dtlsudp_checkconf_SOURCES = checkconf/main.c checkconf/checks.c checkconf/report.c
checkconf_dtlsudp_checkconf_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/transport/snmp $(NETSNMP_CFLAGS) \
	-DDTLSUDP_DLMODDIR='"$(dlmoddir)"'
checkconf_dtlsudp_checkconf_LDADD = \
	transport/snmp/libsnmptransport.la \
	transport/net/libnet.la \
	transport/engine/libengine.la \
	$(NETSNMP_LIBS) $(OPENSSL_LIBS) -ldl
EXTRA_DIST += checkconf/README
