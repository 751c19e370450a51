# checkconf: dtlsudp-checkconf, the configuration checker (like sshd -t or
# named-checkconf).  It reads the files with libnetsnmp's own reader and
# resolves certificates with transport/snmp's lookup, so it reports what
# snmpd and the transport will do.  The modules form a convenience library
# so that tests/checkconf links the same objects as the program.
noinst_LTLIBRARIES += transport/checkconf/libcheckconf.la
noinst_HEADERS += transport/checkconf/checkconf.h
transport_checkconf_libcheckconf_la_SOURCES = transport/checkconf/main.c transport/checkconf/checks.c \
	transport/checkconf/dlmod.c transport/checkconf/addresses.c transport/checkconf/certificates.c \
	transport/checkconf/report.c
transport_checkconf_libcheckconf_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/transport/snmp $(NETSNMP_CFLAGS) \
	-DDTLSUDP_DLMODDIR='"$(dlmoddir)"'

# What the checker links besides its own modules.
CHECKCONF_LIBS = \
	transport/checkconf/libcheckconf.la \
	transport/snmp/libsnmptransport.la \
	transport/net/libnet.la \
	transport/engine/libengine.la \
	$(NETSNMP_LIBS) $(OPENSSL_LIBS) -ldl

bin_PROGRAMS += transport/checkconf/dtlsudp-checkconf
transport_checkconf_dtlsudp_checkconf_SOURCES = transport/checkconf/program.c
transport_checkconf_dtlsudp_checkconf_CPPFLAGS = $(AM_CPPFLAGS) $(NETSNMP_CFLAGS)
transport_checkconf_dtlsudp_checkconf_LDADD = $(CHECKCONF_LIBS)
EXTRA_DIST += transport/checkconf/README
