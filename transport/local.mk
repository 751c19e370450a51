# libdtlsudp: the reusable DTLS/UDP library (engine + sockets), one installed
# header and a pkg-config file.  Only dtlsudp_* symbols are exported.
lib_LTLIBRARIES += transport/libdtlsudp.la
include_HEADERS += transport/include/dtlsudp.h
pkgconfig_DATA = transport/dtlsudp.pc
transport_libdtlsudp_la_SOURCES =
transport_libdtlsudp_la_LIBADD = transport/engine/libengine.la $(OPENSSL_LIBS)
transport_libdtlsudp_la_LDFLAGS = $(AM_LDFLAGS) -version-info $(LIBDTLSUDP_LT_VERSION) -no-undefined
