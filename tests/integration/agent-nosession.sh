#!/bin/bash
# RFC 6353 5.2 step 3 on the server's send path (tests/integration/
# nosession-probe.c): responses without their session are dropped and
# counted, never turned into a handshake toward the manager.
set -u
. "$top_srcdir/tests/lib/snmpd.sh"
tl_init
tl_make_certs
PROBE=$top_builddir/tests/integration/nosession-probe
[ -x "$PROBE" ] || tl_skip "nosession-probe not built"
tl_client_new probe "localCert server"
if readelf -d "$top_builddir/agent-plugin/.libs/dtlsudp.so" 2>/dev/null | grep -q libasan; then
    tl_env probe "ASAN_OPTIONS=detect_leaks=0"
fi
tl_client probe "$PROBE" || tl_fail "nosession probe"
