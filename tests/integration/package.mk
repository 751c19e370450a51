# tests/integration/package.mk: packaging checks, included from the
# top-level Makefile.am.
#
# - package-version.sh (make check): one version, from configure.ac's
#   AC_INIT, in config.h, dtlsudp.pc, the library, the plugin, the manual
#   pages and debian/changelog.
# - package-smoke.sh, package-libdtlsudp.sh: against the installed packages
#   (or a `make install`), never the build tree; run by
#   `scripts/check --package`, not by make check.
check_PROGRAMS += tests/integration/package-version-print
tests_integration_package_version_print_SOURCES = tests/integration/package-version-print.c
tests_integration_package_version_print_LDADD = transport/libdtlsudp.la

TESTS += tests/integration/package-version.sh
dist_check_SCRIPTS += tests/integration/package-version.sh
dist_noinst_SCRIPTS += \
	tests/integration/package-smoke.sh \
	tests/integration/package-libdtlsudp.sh \
	tests/integration/package-agent-suite.sh
dist_noinst_DATA += tests/integration/package-lib.sh

# The Debian packaging (debian/changelog is the package version the test
# above compares).
EXTRA_DIST += \
	debian/changelog \
	debian/control \
	debian/copyright \
	debian/rules \
	debian/source/format \
	debian/unit-tests.mk \
	debian/libdtlsudp0.install \
	debian/libdtlsudp0.symbols \
	debian/libdtlsudp-dev.install \
	debian/snmp-dtlsudp.install \
	debian/snmp-dtlsudp.README.Debian \
	debian/.gitignore

# make distcheck installs, uninstalls and fails if a file is left behind
# (distuninstallcheck): with the examples, every install rule is covered.
AM_DISTCHECK_CONFIGURE_FLAGS = --enable-examples
