# libdtlsudp: the reusable DTLS/UDP library (engine + sockets), one installed
# header and a pkg-config file.  Only dtlsudp_* symbols are exported.
lib_LTLIBRARIES += transport/libdtlsudp.la
include_HEADERS += transport/include/dtlsudp.h
pkgconfig_DATA = transport/dtlsudp.pc
transport_libdtlsudp_la_SOURCES =
transport_libdtlsudp_la_LIBADD = transport/engine/libengine.la $(OPENSSL_LIBS)
transport_libdtlsudp_la_LDFLAGS = $(AM_LDFLAGS) -version-info $(LIBDTLSUDP_LT_VERSION) -no-undefined

# The 1.x ABI baseline (abidw of the released library, public types only).
# make check-abi compares the built library with it (abidiff, from Debian's
# abigail-tools; skipped without it) and fails on any difference, added
# functions included, so that every ABI change is a deliberate one:
# docs/ABI.md says how to update the baseline.
DTLSUDP_ABI_BASELINE = $(top_srcdir)/transport/abi/libdtlsudp.so.1.abi
EXTRA_DIST += transport/abi/libdtlsudp.so.1.abi
check-abi: transport/libdtlsudp.la
	@if ! command -v abidiff >/dev/null 2>&1; then \
		echo "check-abi: abidiff not installed (abigail-tools): skipped"; exit 0; fi; \
	so=$$(ls transport/.libs/libdtlsudp.so.1.*.* 2>/dev/null | head -n 1); \
	if [ -z "$$so" ]; then echo "check-abi: no shared libdtlsudp.so.1 built" >&2; exit 1; fi; \
	echo "abidiff $(DTLSUDP_ABI_BASELINE) $$so"; \
	abidiff --hd2 $(top_srcdir)/transport/include $(DTLSUDP_ABI_BASELINE) "$$so" || { \
		echo "check-abi: the ABI of $$so differs from $(DTLSUDP_ABI_BASELINE)" >&2; exit 1; }; \
	echo "check-abi: $$so matches the baseline"
# Regenerate the baseline from this build (a deliberate ABI change only).
update-abi-baseline: transport/libdtlsudp.la
	so=$$(ls transport/.libs/libdtlsudp.so.1.*.* | head -n 1) && \
	abidw --headers-dir $(top_srcdir)/transport/include --no-corpus-path --no-show-locs \
		--out-file transport/abi.tmp "$$so" && \
	sed "s/ comp-dir-path='[^']*'//" transport/abi.tmp >$(DTLSUDP_ABI_BASELINE) && rm -f transport/abi.tmp
.PHONY: check-abi update-abi-baseline
