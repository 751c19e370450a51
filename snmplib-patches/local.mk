# snmplib-patches: build fragment, included from the top-level Makefile.am.
#
# - libdtlsudp-preload.so: LD_PRELOAD loader for stock libnetsnmp; links
#   nothing but libc, loads dtlsudp-transport.so only into processes that
#   already have libnetsnmp.  Built without sanitizers: it is preloaded into
#   arbitrary, uninstrumented programs.
# - dtlsudp-run: the wrapper that preloads it.
# - The patch series and its build script (snmplib-patches/build) are not
#   part of the default build; see snmplib-patches/README.
pkglib_LTLIBRARIES += snmplib-patches/libdtlsudp-preload.la
snmplib_patches_libdtlsudp_preload_la_SOURCES = snmplib-patches/preload.c
snmplib_patches_libdtlsudp_preload_la_CFLAGS = $(WARN_CFLAGS)
snmplib_patches_libdtlsudp_preload_la_LDFLAGS = -module -avoid-version -shared -no-undefined

# dtlsudp-transport.so: the transport as a Net-SNMP transport plugin, for
# managers and snmptrapd (entry points in plugin.c; the engine, socket layer
# and domain linked in; only the two entry points exported).  Loaded by the
# preload library, or by a patched libnetsnmp through transportPlugin.
pkglib_LTLIBRARIES += snmplib-patches/dtlsudp-transport.la
snmplib_patches_dtlsudp_transport_la_SOURCES = snmplib-patches/plugin.c
snmplib_patches_dtlsudp_transport_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/transport/snmp $(NETSNMP_CFLAGS)
snmplib_patches_dtlsudp_transport_la_CFLAGS = $(AM_CFLAGS) $(VISIBILITY_CFLAGS)
snmplib_patches_dtlsudp_transport_la_LIBADD = \
	transport/snmp/libsnmptransport.la \
	transport/net/libnet.la \
	transport/engine/libengine.la \
	$(NETSNMP_LIBS) $(OPENSSL_LIBS)
snmplib_patches_dtlsudp_transport_la_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version -shared -no-undefined \
	-export-symbols-regex '^dtlsudp_transport_(init|shutdown)$$'

bin_SCRIPTS += snmplib-patches/dtlsudp-run
CLEANFILES += snmplib-patches/dtlsudp-run
snmplib-patches/dtlsudp-run: $(top_srcdir)/snmplib-patches/dtlsudp-run.in Makefile
	$(AM_V_GEN)$(MKDIR_P) snmplib-patches && \
	sed -e 's|@pkglibdir[@]|$(pkglibdir)|g' $(top_srcdir)/snmplib-patches/dtlsudp-run.in >$@.tmp && \
	chmod +x $@.tmp && mv $@.tmp $@

EXTRA_DIST += \
	snmplib-patches/README \
	snmplib-patches/build \
	snmplib-patches/series \
	snmplib-patches/dtlsudp-run.in \
	snmplib-patches/0001-tdomain-unregister-unlink-the-matched-entry.patch \
	snmplib-patches/0002-tdomain-register-override.patch \
	snmplib-patches/0003-transport-plugins-transportPlugin-directive.patch \
	snmplib-patches/0004-snmptsm-outgoing-transport-prefix.patch
