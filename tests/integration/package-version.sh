#!/bin/bash
# package-version.sh: one version everywhere, from configure.ac's AC_INIT:
# config.h, dtlsudp.pc, dtlsudp_version() of the built library, the version
# compiled into the agent plugin (its "dtlsudp VERSION loaded" log line), the
# manual pages, and debian/changelog (the package version).  No daemons.
set -euo pipefail
: "${top_srcdir:?}" "${top_builddir:?}"
. "$top_srcdir/tests/lib/snmpd.sh"
. "$top_srcdir/tests/integration/package-lib.sh"

want=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$top_builddir/config.h")
[ -n "$want" ] || tl_fail "no PACKAGE_VERSION in $top_builddir/config.h"
tl_log "configure.ac (config.h): $want"

check() { # WHAT VALUE
    if [ "$2" != "$want" ]; then
        tl_fail "$1 says '$2', configure.ac says '$want'"
    fi
    tl_log "$1: $2"
}

check "transport/dtlsudp.pc" \
    "$(sed -n 's/^Version: //p' "$top_builddir/transport/dtlsudp.pc")"
check "dtlsudp_version()" "$("$top_builddir/tests/integration/package-version-print")"

# The plugin prints dtlsudp_version() of its own, statically linked copy of
# the engine; the string is in the object.
plugin=$top_builddir/agent-plugin/.libs/dtlsudp.so
if [ -f "$plugin" ]; then
    grep -q -a -x -F "$want" <(tr -c '[:print:]' '\n' <"$plugin") ||
        tl_fail "$plugin does not contain the version string $want"
    tl_log "agent plugin: contains $want"
fi

changelog=$top_srcdir/debian/changelog
if [ -f "$changelog" ]; then
    v=$(sed -n '1s/^[^ ]* (\([^)]*\)).*/\1/p' "$changelog")
    check "debian/changelog (upstream part of $v)" "$(pkg_upstream_version "$v")"
else
    tl_log "no debian/changelog in $top_srcdir: package version not checked"
fi

for page in dtlsudp.5 dtlsudp-run.1 libdtlsudp.3; do
    f=$top_builddir/man/$page
    [ -f "$f" ] || tl_fail "$f was not built"
    th=$(sed -n 's/^\.TH .* "dtlsudp \([^"]*\)" .*/\1/p' "$f")
    check "man/$page (.TH)" "$th"
done
echo "PASS: one version ($want) in configure.ac, dtlsudp.pc, the library, the plugin, the man pages and debian/changelog"
