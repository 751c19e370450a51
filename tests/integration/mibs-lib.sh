# tests/integration/mibs-lib.sh: helpers shared by the mibs-*.sh tests.
# Source after tests/lib/snmpd.sh.
# shellcheck shell=bash

: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"

# The MIB search path: our modules, then wherever the system keeps the IETF
# base modules (snmp-mibs-downloader, libsmi), then the test-only copies.
mibs_path() {
    local p=$top_srcdir/mibs d
    for d in /usr/share/snmp/mibs/ietf /usr/share/snmp/mibs/iana /usr/share/mibs/ietf \
             /usr/share/mibs/iana /var/lib/mibs/ietf /var/lib/mibs/iana; do
        [ -d "$d" ] && p=$p:$d
    done
    echo "$p:$top_srcdir/tests/integration/mibs-deps"
}

# mibs_dlmod_env NAME SO: run NAME's snmpd so it can dlopen SO: a module
# built with ASan needs the ASan runtime loaded first, and snmpd itself
# leaks by design at exit, so leak checking is off for the daemon.
mibs_dlmod_env() {
    local name=$1 so=$2 rt
    if readelf -d "$so" 2>/dev/null | grep -q 'NEEDED.*libasan'; then
        rt=$(${CC:-cc} -print-file-name=libasan.so)
        [ -e "$rt" ] || tl_skip "ASan build but no libasan.so to preload"
        tl_env "$name" "LD_PRELOAD=$rt" \
            "ASAN_OPTIONS=detect_leaks=0:abort_on_error=1" \
            "UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1"
    fi
}

# mibs_app CMD ARGS...: a Net-SNMP app with no configuration but ours (the
# system snmp.conf may disable MIB loading), our MIB path, bounded in time.
mibs_app() {
    mkdir -p "$TL_TMP/app-persist"
    # hex strings (fingerprints) on one line, not wrapped every 16 bytes
    echo "hexOutputLength 0" >"$TL_TMP/app-persist/snmp.conf"
    with_timeout 30 env MIBS= MIBDIRS="$(mibs_path)" SNMPCONFPATH="$TL_TMP/app-persist" \
        SNMP_PERSISTENT_DIR="$TL_TMP/app-persist" HOME="$TL_TMP/app-persist" "$@"
}

# mibs_value OUTPUT OID: the value for OID in `-On -Oq` output (lines
# "OID VALUE"); fails when OID is absent.
mibs_value() {
    awk -v o="$2" '$1 == o { $1 = ""; sub(/^ /, ""); print; found = 1 } END { exit !found }' <<<"$1"
}

# expect_eq WHAT GOT WANT
expect_eq() {
    if [ "$2" != "$3" ]; then
        tl_fail "$1: got '$2', want '$3'"
    fi
}
