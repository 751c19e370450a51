#!/bin/bash
# package-smoke.sh: the installed packages (or a `make install`), not the
# build tree.  Run by `scripts/check --package` after installing the .debs;
# not part of `make check`.
#
#  1. snmpd runs with the agent example of the installed dtlsudp(5) alone
#     (plus throwaway certificates from tests/lib/make-certs.sh, which have
#     the names the example uses: server, client, ca), and the manager
#     example of the same page (its snmp.conf and its command line, through
#     the installed dtlsudp-run) gets an answer from
#     dtlsudp:localhost:10161.
#  2. The versions agree: the package (dpkg), the library
#     (dtlsudp_version() of the installed libdtlsudp, via pkg-config), the
#     plugin's startup log line, and pkg-config --modversion.
#
# Port 10161 is the example's; when something else holds it (another demo on
# a shared machine), the test moves the example to a free port.
# Environment: top_srcdir (for tests/lib), DTLSUDP_MANDIR (see package-lib.sh).
set -euo pipefail
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/lib/snmpd.sh"
. "$top_srcdir/tests/integration/package-lib.sh"

tl_require snmpd snmpget ss
command -v dtlsudp-run >/dev/null || tl_fail "dtlsudp-run is not installed (not on PATH)"
run=$(command -v dtlsudp-run)
case $run in "$top_srcdir"/*) tl_fail "dtlsudp-run comes from the source tree ($run)" ;; esac

tl_init
tl_make_certs

page=$(pkg_man_page 5 dtlsudp)
tl_log "examples from $page"
pkg_extract_example "$page" snmpd.conf >"$TL_TMP/example-snmpd.conf"
pkg_extract_example "$page" snmp.conf >"$TL_TMP/example-snmp.conf"
pkg_extract_example "$page" command >"$TL_TMP/example-command"
sed 's/^/#   /' "$TL_TMP/example-snmpd.conf" >&2

port=10161
if tl_udp_port_in_use 10161; then
    tl_free_udp_port port
    tl_log "udp port 10161 is in use here: the example runs on port $port instead"
    sed -i "s/:10161\b/:$port/g" "$TL_TMP/example-snmpd.conf" "$TL_TMP/example-command"
fi

# The plugin the example loads must be an installed one.
dlmod=$(awk '$1 == "dlmod" { print $3 }' "$TL_TMP/example-snmpd.conf")
[ -f "$dlmod" ] || tl_fail "the example's dlmod $dlmod does not exist"
case $dlmod in "$top_srcdir"/*) tl_fail "the example loads $dlmod from the source tree" ;; esac

tl_agent_new agent
cat "$TL_TMP/example-snmpd.conf" >>"$TL_TMP/agent/snmpd.conf"
tl_expect_port agent "$port"
tl_agent_start agent || tl_fail "snmpd did not start with the dtlsudp(5) example"

tl_client_new mgr
cat "$TL_TMP/example-snmp.conf" >>"$TL_TMP/mgr/snmp.conf"
read -r -a cmd <"$TL_TMP/example-command"
[ "${cmd[0]}" = dtlsudp-run ] || tl_fail "the example command does not use dtlsudp-run: ${cmd[*]}"
tl_log "running: ${cmd[*]}"
tl_env mgr "DTLSUDP_PRELOAD_DEBUG=1"
out=$(tl_client mgr "${cmd[@]}" 2>"$TL_TMP/mgr/stderr") || {
    cat "$TL_TMP/mgr/stderr" >&2
    tl_fail "the manager example failed"
}
echo "$out" >&2
case $out in
*"STRING:"*) ;;
*) tl_fail "no sysDescr in the answer" ;;
esac
if grep -q "registered the dtlsudp transport" "$TL_TMP/mgr/stderr"; then
    tl_log "dtlsudp-run: $(grep "registered the dtlsudp transport" "$TL_TMP/mgr/stderr")"
else
    # No dtlsudp-transport.so installed: libnetsnmp's built-in DTLSUDP ran
    # the request (same protocol); the agent side is the plugin either way.
    tl_log "note: dtlsudp-run used Net-SNMP's built-in DTLSUDP: $(head -1 "$TL_TMP/mgr/stderr")"
fi
tl_log_has agent "Connection from DTLSUDP" || tl_fail "the agent logged no DTLSUDP connection"

# --- one version -------------------------------------------------------
versions=()
pkgver=$(dpkg-query -W -f '${Version}' snmp-dtlsudp 2>/dev/null || true)
if [ -n "$pkgver" ]; then
    versions+=("snmp-dtlsudp package=$(pkg_upstream_version "$pkgver")")
    libver=$(dpkg-query -W -f '${Version}' libdtlsudp1 2>/dev/null || true)
    [ -z "$libver" ] || versions+=("libdtlsudp1 package=$(pkg_upstream_version "$libver")")
else
    tl_log "snmp-dtlsudp is not installed as a package: package version not checked"
fi
logline=$(grep -o '^dtlsudp [^ ]* loaded$' "$(tl_log_file agent)" | head -1)
[ -n "$logline" ] || tl_fail "the plugin logged no 'dtlsudp VERSION loaded' line"
logver=${logline#dtlsudp }
versions+=("plugin log line=${logver% loaded}")
if command -v pkg-config >/dev/null && pkg-config --exists dtlsudp; then
    versions+=("pkg-config=$(pkg-config --modversion dtlsudp)")
    if command -v "${CC:-cc}" >/dev/null; then
        printf '#include <stdio.h>\n#include <dtlsudp.h>\nint main(void) { puts(dtlsudp_version()); return 0; }\n' \
            >"$TL_TMP/version.c"
        # shellcheck disable=SC2046
        "${CC:-cc}" -o "$TL_TMP/version" "$TL_TMP/version.c" $(pkg-config --cflags --libs dtlsudp) ||
            tl_fail "cannot build against the installed libdtlsudp"
        versions+=("dtlsudp_version()=$("$TL_TMP/version")")
    fi
else
    tl_log "libdtlsudp-dev is not installed: library version not checked"
fi
want=${versions[0]#*=}
for v in "${versions[@]}"; do
    tl_log "version: $v"
    [ "${v#*=}" = "$want" ] || tl_fail "versions differ: ${versions[*]}"
done
echo "PASS: snmpd from the dtlsudp(5) example answered ${cmd[*]}; one version $want (${#versions[@]} sources)"
