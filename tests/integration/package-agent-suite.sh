#!/bin/bash
# package-agent-suite.sh: the agent integration tests of make check, run
# against the installed plugin instead of the build tree's: agent-basic.sh,
# agent-certs.sh and mibs-dtls.sh with AL_PLUGIN = the dtlsudp.so the
# installed dtlsudp(5) names (its agent example's dlmod line), under the
# system's snmpd.  Run by `scripts/check --package`.
set -euo pipefail
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/lib/snmpd.sh"
. "$top_srcdir/tests/integration/package-lib.sh"

page=$(pkg_man_page 5 dtlsudp)
plugin=$(pkg_extract_example "$page" snmpd.conf | awk '$1 == "dlmod" { print $3 }')
[ -f "$plugin" ] || tl_fail "the plugin named by $page ($plugin) is not installed"
tl_log "installed plugin: $plugin"

failed=()
for t in agent-basic agent-certs mibs-dtls; do
    rc=0
    # No top_builddir: nothing may come from a build tree.
    env -u top_builddir top_srcdir="$top_srcdir" AL_PLUGIN="$plugin" \
        bash "$top_srcdir/tests/integration/$t.sh" >"${TMPDIR:-/tmp}/package-$t.$$.log" 2>&1 || rc=$?
    case $rc in
    0) tl_log "PASS: $t" ;;
    77) tl_log "SKIP: $t: $(grep -m1 '^SKIP' "${TMPDIR:-/tmp}/package-$t.$$.log" || true)" ;;
    *) tl_log "FAIL: $t (exit $rc):"; tail -n 40 "${TMPDIR:-/tmp}/package-$t.$$.log" >&2; failed+=("$t") ;;
    esac
    rm -f "${TMPDIR:-/tmp}/package-$t.$$.log"
done
[ "${#failed[@]}" -eq 0 ] || tl_fail "with the installed plugin: ${failed[*]}"
echo "PASS: agent-basic, agent-certs, mibs-dtls with the installed $plugin"
