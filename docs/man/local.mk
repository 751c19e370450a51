# docs/man: the manual pages.  Sources are roff with @VARIABLE@ placeholders
# (installation directories, version), filled in at build time so that the
# pages show the paths this build installs to.  The pages are made in man/
# of the build tree, not in docs/man/: the whole docs directory is in
# EXTRA_DIST, and make dist would also copy the build tree's docs/.
#   dtlsudp(5)        configuration: every token the transport understands
#   dtlsudp-run(1)    the wrapper for managers
#   dtlsudp-checkconf(1)  the configuration checker
#   libdtlsudp(3)     the library API, with a minimal server and client
#   dtlsudp-proxy(8)  DTLS in front of any UDP service
#   dtls-echo-server(1), dtls-echo-client(1)   only with --enable-examples
# tests/integration/package-smoke.sh runs the examples of dtlsudp(5) and
# libdtlsudp(3) against an installed package.
DTLSUDP_MAN_DATE = 2026-11-25

man_MANS = \
	man/dtlsudp.5 \
	man/dtlsudp-run.1 \
	man/dtlsudp-checkconf.1 \
	man/libdtlsudp.3 \
	man/dtlsudp-proxy.8
if INSTALL_EXAMPLES
man_MANS += \
	man/dtls-echo-server.1 \
	man/dtls-echo-client.1
endif
DTLSUDP_MAN_PAGES = \
	man/dtlsudp.5 \
	man/dtlsudp-run.1 \
	man/dtlsudp-checkconf.1 \
	man/libdtlsudp.3 \
	man/dtlsudp-proxy.8 \
	man/dtls-echo-server.1 \
	man/dtls-echo-client.1
EXTRA_DIST += $(DTLSUDP_MAN_PAGES:man/%=docs/man/%.in)
CLEANFILES += $(DTLSUDP_MAN_PAGES)

DTLSUDP_MAN_SED = sed \
	-e 's|@PACKAGE_VERSION[@]|$(PACKAGE_VERSION)|g' \
	-e 's|@PACKAGE_DATE[@]|$(DTLSUDP_MAN_DATE)|g' \
	-e 's|@dlmoddir[@]|$(dlmoddir)|g' \
	-e 's|@pkglibdir[@]|$(pkglibdir)|g' \
	-e 's|@mibdir[@]|$(mibdir)|g' \
	-e 's|@libdir[@]|$(libdir)|g' \
	-e 's|@includedir[@]|$(includedir)|g' \
	-e 's|@bindir[@]|$(bindir)|g'

$(DTLSUDP_MAN_PAGES): man/%: $(top_srcdir)/docs/man/%.in Makefile
	$(AM_V_GEN)$(MKDIR_P) man && \
	$(DTLSUDP_MAN_SED) $(top_srcdir)/docs/man/$(@F).in >$@.tmp && \
	if grep -n '@[A-Za-z_]*@' $@.tmp; then \
		echo "$@: placeholder left unsubstituted" >&2; rm -f $@.tmp; exit 1; fi && \
	mv $@.tmp $@
