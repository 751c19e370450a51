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
	snmplib-patches/0004-snmptsm-outgoing-transport-prefix.patch \
	snmplib-patches/plugin.c
