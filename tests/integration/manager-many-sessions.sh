#!/bin/bash
# One manager process keeps 1000 DTLS sessions to one agent open and polls
# each of them twice with the asynchronous API (manager-many-sessions.c),
# our transport on both sides: stock snmpd with the agent plugin (or the
# preload library) and the manager with the preload library.  Then the same
# with the handshakes inside the asynchronous loop (-a).
#
# MANY_SESSIONS overrides the count (200 in ASan builds); MANY_SIDE=builtin
# runs the same against Net-SNMP's built-in DTLSUDP on both sides (slow; a
# comparison, not part of the suite).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
[ -f "$top_srcdir/tests/lib/snmpd.sh" ] || { echo "SKIP: tests/lib/snmpd.sh is missing"; exit 77; }
. "$top_srcdir/tests/lib/snmpd.sh"

side=${MANY_SIDE:-ours}
many=$top_builddir/tests/integration/manager-many-sessions
preload_so=$top_builddir/snmplib-patches/.libs/libdtlsudp-preload.so
plugin_so=$top_builddir/snmplib-patches/.libs/dtlsudp-transport.so
agent_so=$top_builddir/agent-plugin/.libs/dtlsudp.so
if [ "${DTLSUDP_ASAN:-0}" = 1 ]; then
    n=${MANY_SESSIONS:-200}
else
    n=${MANY_SESSIONS:-1000}
fi

tl_require openssl ss timeout snmpd
[ -x "$many" ] || tl_skip "manager-many-sessions is not built"
if [ "$side" = ours ]; then
    for f in "$preload_so" "$plugin_so"; do
        [ -e "$f" ] || tl_skip "$(basename "$f") is not built yet (the transport/snmp client role)"
    done
fi
san_preload=$(ldd "$plugin_so" 2>/dev/null |
    awk '$1 ~ /^lib(asan|ubsan)\.so/ && $3 ~ /^\// { printf "%s ", $3 }')

tl_init
tl_make_certs
tl_free_udp_port port
client_fp=$(tl_fp client sha256)

tl_agent_new agent
if [ "$side" = ours ]; then
    if [ -e "$agent_so" ]; then
        tl_conf agent "dlmod dtlsudp $agent_so"
        [ -z "$san_preload" ] || tl_env agent "LD_PRELOAD=$san_preload" "ASAN_OPTIONS=detect_leaks=0"
    else
        tl_env agent "LD_PRELOAD=$san_preload$preload_so" "ASAN_OPTIONS=detect_leaks=0"
    fi
    # Every session comes from 127.0.0.1, and with -a all handshakes at
    # once: lift the per-source caps (256 established, 8 handshakes by
    # default: sized for floods, not for one poller) above the count.
    tl_conf agent "dtlsudpMaxPerSource $((2 * n))" "dtlsudpMaxHalfOpen $((2 * n))" \
        "dtlsudpMaxHalfOpenPerSource $((2 * n))"
fi
tl_agent_listen agent "dtlsudp:127.0.0.1:$port"
tl_conf agent \
    "[snmp] localCert server" \
    "[snmp] trustCert ca" \
    "certSecName 10 --sha256 $client_fp --cn" \
    "rouser -s tsm client authpriv"
tl_agent_start agent || tl_fail "snmpd did not start"

tl_client_new mgr "localCert client" "peerCert server"
if [ "$side" = ours ]; then
    tl_env mgr "LD_PRELOAD=$san_preload$preload_so" "ASAN_OPTIONS=detect_leaks=0"
fi

run_many() {
    local out rc=0
    # MANY_WRAPPER: e.g. "valgrind -q" when debugging.
    out=$(TL_CLIENT_TIMEOUT=300 tl_client mgr ${MANY_WRAPPER:-} "$many" -n "$n" -r 2 -w 20 "$@" \
        "dtlsudp:127.0.0.1:$port" 2>&1) || rc=$?
    printf '%s\n' "$out" | sed 's/^/# /' >&2
    [ $rc -eq 0 ] || tl_fail "manager-many-sessions $* failed (status $rc)"
    grep -q "^opened $n/$n" <<<"$out" || tl_fail "not every session opened"
    [ "$(grep -c "^round [12]: ok $n/$n" <<<"$out")" = 2 ] || tl_fail "not every poll was answered"
}

tl_log "$n sessions, handshakes in snmp_sess_open (RFC 5343 probe)"
run_many
tl_log "$n sessions, handshakes in the asynchronous loop"
run_many -a
kill -0 "$(tl_pid agent)" 2>/dev/null || tl_fail "snmpd died"
tl_agent_stop agent || tl_fail "snmpd did not stop cleanly"
echo "PASS: $n sessions ($side transport)"
