# manager-interop.bash: SNMPv3/TSM over DTLS between a manager and an agent
# (and notification senders and snmptrapd), each side either Net-SNMP's
# built-in DTLSUDP transport or this project's.  Sourced by the
# manager-interop-*.sh tests, which set:
#
#   CLIENT_SIDE  builtin | ours      the apps (snmpget, snmpwalk, snmpset,
#                                    snmptrap, snmpinform)
#   AGENT_SIDE   builtin | ours      snmpd and snmptrapd
#
# "ours" means: stock Debian programs with libdtlsudp-preload.so
# (dtlsudp-run) for apps and snmptrapd, `dlmod dtlsudp` for snmpd (the
# preload library when the agent plugin is not built).  With
# DTLSUDP_NETSNMP_PREFIX (snmplib-patches/build --test) every program is
# the patched one, and "ours" is `transportPlugin dtlsudp` (no preloading).
#
#   CHECKS       get | trap | inform
#     get:    GET, walk, SET (and read back) against snmpd;
#     trap:   snmptrap to snmptrapd, and snmpd's coldStart through a
#             `trapsess` trap session;
#     inform: snmpinform to snmptrapd, and snmpd's coldStart through a
#             `trapsess -Ci` inform session.
# Every process is bounded (timeouts) and stopped by pid.

# shellcheck shell=bash
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
[ -f "$top_srcdir/tests/lib/snmpd.sh" ] || { echo "SKIP: tests/lib/snmpd.sh is missing"; exit 77; }
. "$top_srcdir/tests/lib/snmpd.sh"

preload_so=$top_builddir/snmplib-patches/.libs/libdtlsudp-preload.so
plugin_so=$top_builddir/snmplib-patches/.libs/dtlsudp-transport.so
agent_so=$top_builddir/agent-plugin/.libs/dtlsudp.so
dtlsudp_run=$top_builddir/snmplib-patches/dtlsudp-run
prefix=${DTLSUDP_NETSNMP_PREFIX:-}

tl_require openssl ss timeout snmpd snmptrapd snmpget snmpwalk snmpset snmptrap snmpinform

if [ "$CLIENT_SIDE" = ours ] || [ "$AGENT_SIDE" = ours ]; then
    for f in "$preload_so" "$plugin_so" "$dtlsudp_run"; do
        [ -e "$f" ] || tl_skip "$(basename "$f") is not built yet (the transport/snmp client role)"
    done
fi
if [ -n "$prefix" ]; then
    [ -x "$prefix/sbin/snmpd" ] || tl_fail "DTLSUDP_NETSNMP_PREFIX=$prefix has no sbin/snmpd"
fi

# Sanitizer runtimes the plugin needs first in a stock program (ASan builds).
san_preload=$(ldd "$plugin_so" 2>/dev/null |
    awk '$1 ~ /^lib(asan|ubsan)\.so/ && $3 ~ /^\// { printf "%s ", $3 }')

tl_init
tl_make_certs
tl_free_udp_port agent_port
tl_free_udp_port trapd_port

# How a given side runs a program: sets `run` (an array: prefix words).
# role: app | daemon.
side_setup() {
    local side=$1 name=$2 role=$3
    run=()
    if [ -n "$prefix" ]; then
        # Patched Net-SNMP on both sides: "builtin" checks that the
        # patches leave the built-in DTLSUDP working.
        tl_env "$name" "LD_LIBRARY_PATH=$prefix/lib"
        [ "$side" = ours ] || return 0
        tl_conf "$name" "$( [ "$role" = daemon ] && echo '[snmp] ')transportPlugin dtlsudp $plugin_so"
        [ -z "$san_preload" ] || tl_env "$name" "LD_PRELOAD=$san_preload" "ASAN_OPTIONS=detect_leaks=0"
    elif [ "$side" = builtin ]; then
        return 0
    elif [ "$role" = app ]; then
        run=("$dtlsudp_run")
    else
        tl_env "$name" "LD_PRELOAD=$san_preload$preload_so" "ASAN_OPTIONS=detect_leaks=0"
    fi
}

bin_for() {
    local side=$1 prog=$2
    if [ -n "$prefix" ]; then
        case $prog in
        snmpd|snmptrapd) echo "$prefix/sbin/$prog" ;;
        *) echo "$prefix/bin/$prog" ;;
        esac
    else
        command -v "$prog"
    fi
}

# The daemon runs the patched libnetsnmp when asked to.
check_daemon_lib() {
    local pid
    pid=$(tl_pid "$1")
    [ -z "$prefix" ] || grep -q "$prefix/lib/libnetsnmp" "/proc/$pid/maps" ||
        tl_fail "$1 (pid $pid) does not run $prefix/lib/libnetsnmp"
}

# Which object serves the daemon's DTLS sockets: ours must be mapped.
check_daemon_uses_ours() {
    local name=$1 pid
    pid=$(tl_pid "$name")
    if ! grep -Eq 'dtlsudp-transport\.so|agent-plugin/.libs/dtlsudp\.so' "/proc/$pid/maps"; then
        tl_fail "$name (pid $pid) runs without this project's transport"
    fi
}

client_fp=$(tl_fp client sha256)
server_fp=$(tl_fp server sha256)
trapd_fp=$(tl_fp server-ec sha256)
stamp=$$-$RANDOM

# ---- snmptrapd: receives from snmptrap/snmpinform (as "client") and from
# the agent (its certificate is "server", CN=localhost).
if [ "$CHECKS" != get ]; then
tl_trapd_new trapd
tl_trapd_listen trapd "dtlsudp:127.0.0.1:$trapd_port"
tl_conf trapd \
    "[snmp] localCert server-ec" \
    "[snmp] trustCert ca" \
    "certSecName 10 --sha256 $client_fp --cn" \
    "certSecName 20 --sha256 $server_fp --cn" \
    "authUser log -s tsm client authpriv" \
    "authUser log -s tsm localhost authpriv"
side_setup "$AGENT_SIDE" trapd daemon
TL_SNMPTRAPD=$(bin_for "$AGENT_SIDE" snmptrapd)
tl_trapd_start trapd || tl_fail "snmptrapd did not start"
check_daemon_lib trapd
[ "$AGENT_SIDE" = builtin ] || check_daemon_uses_ours trapd
fi

# ---- snmpd, the agent the manager talks to.
if [ "$CHECKS" = get ]; then
tl_agent_new agent
if [ "$AGENT_SIDE" = ours ] && [ -z "$prefix" ] && [ -e "$agent_so" ]; then
    tl_conf agent "dlmod dtlsudp $agent_so"
    [ -z "$san_preload" ] || tl_env agent "LD_PRELOAD=$san_preload" "ASAN_OPTIONS=detect_leaks=0"
else
    side_setup "$AGENT_SIDE" agent daemon
fi
tl_agent_listen agent "dtlsudp:127.0.0.1:$agent_port"
tl_conf agent \
    "[snmp] localCert server" \
    "[snmp] trustCert ca" \
    "certSecName 10 --sha256 $client_fp --cn" \
    "rwuser -s tsm client authpriv" \
    "sysDescr dtlsudp interop agent $stamp"
TL_SNMPD=$(bin_for "$AGENT_SIDE" snmpd)
tl_agent_start agent || tl_fail "snmpd did not start"
check_daemon_lib agent
[ "$AGENT_SIDE" = builtin ] || check_daemon_uses_ours agent
fi

# ---- the manager's apps.
tl_client_new mgr
side_setup "$CLIENT_SIDE" mgr app
mgr_run=("${run[@]}")
app() {
    local prog=$1
    shift
    tl_client mgr "${mgr_run[@]}" "$(bin_for "$CLIENT_SIDE" "$prog")" "$@"
}
target="dtlsudp:127.0.0.1:$agent_port"
trap_target="dtlsudp:127.0.0.1:$trapd_port"
cert_args=(-v3 -r2 -t3 -T localCert=client -T peerCert=server)

tl_log "$CHECKS: client $CLIENT_SIDE, agent/snmptrapd $AGENT_SIDE${prefix:+ (patched Net-SNMP in $prefix)}"

# wait_trapd TEXT: wait (bounded) until snmptrapd logged TEXT.
wait_trapd() {
    local i
    for ((i = 0; i < 200; i++)); do
        grep -q -- "$1" "$(tl_log_file trapd)" && return 0
        sleep 0.05
    done
    return 1
}

if [ "$CHECKS" = get ]; then
# GET
out=$(app snmpget "${cert_args[@]}" "$target" .1.3.6.1.2.1.1.1.0 2>&1) ||
    tl_fail "snmpget failed: $out"
grep -q "dtlsudp interop agent $stamp" <<<"$out" || tl_fail "snmpget: unexpected answer: $out"
tl_log "GET ok: $out"

# walk (the system group: at least sysDescr..sysServices)
out=$(app snmpwalk "${cert_args[@]}" "$target" .1.3.6.1.2.1.1 2>&1) ||
    tl_fail "snmpwalk failed: $out"
n=$(grep -c '^iso\.3\.6\.1\.2\.1\.1\.\|^\.1\.3\.6\.1\.2\.1\.1\.\|^SNMPv2-MIB::' <<<"$out")
[ "$n" -ge 7 ] || tl_fail "snmpwalk: only $n varbinds: $out"
tl_log "walk ok: $n varbinds"

# SET, then read back (sysLocation.0, writable when snmpd.conf leaves it unset)
out=$(app snmpset "${cert_args[@]}" "$target" .1.3.6.1.2.1.1.6.0 s "lab $stamp" 2>&1) ||
    tl_fail "snmpset failed: $out"
out=$(app snmpget "${cert_args[@]}" "$target" .1.3.6.1.2.1.1.6.0 2>&1) ||
    tl_fail "snmpget after set failed: $out"
grep -q "lab $stamp" <<<"$out" || tl_fail "SET did not stick: $out"
tl_log "SET ok"

tl_agent_stop agent || tl_fail "snmpd did not stop cleanly"
fi

trap_oid=.1.3.6.1.4.1.8072.2.3.0.1
if [ "$CHECKS" = trap ]; then
    # Fire and forget: snmptrap exits right after sending, so the transport
    # must complete the handshake and flush the message when it closes.
    out=$(app snmptrap -v3 -T localCert=client -T peerCert=server-ec "$trap_target" '' \
        $trap_oid .1.3.6.1.2.1.1.5.0 s "trap $stamp" 2>&1) || tl_fail "snmptrap failed: $out"
    wait_trapd "trap $stamp" || tl_fail "snmptrapd did not log the trap from snmptrap: $out"
    tl_log "snmptrap ok"
fi
if [ "$CHECKS" = inform ]; then
    out=$(app snmpinform -v3 -r2 -t3 -T localCert=client -T peerCert=server-ec "$trap_target" '' \
        $trap_oid .1.3.6.1.2.1.1.5.0 s "inform $stamp" 2>&1) ||
        tl_fail "snmpinform was not acknowledged: $out"
    wait_trapd "inform $stamp" || tl_fail "snmptrapd did not log the inform"
    tl_log "snmpinform ok"
fi

# ---- the agent's own notifications: an snmpd that only sends its
# coldStart at start-up to snmptrapd through one trap or inform session.
# A separate agent with one trapsess: with Net-SNMP's built-in DTLSUDP, an
# snmpd with a trapsess client association stops answering its DTLS
# listener, and a second trapsess to the same address fails its handshake
# (its association cache is keyed by peer address only).
coldstart_count() {
    grep -c '6\.3\.1\.1\.5\.1\b\|coldStart' "$(tl_log_file trapd)"
}
notifier() {
    local name=$1 port expect=$3 i
    shift
    tl_free_udp_port port
    tl_agent_new "$name"
    if [ "$AGENT_SIDE" = ours ] && [ -z "$prefix" ] && [ -e "$agent_so" ]; then
        tl_conf "$name" "dlmod dtlsudp $agent_so"
        [ -z "$san_preload" ] || tl_env "$name" "LD_PRELOAD=$san_preload" "ASAN_OPTIONS=detect_leaks=0"
    else
        side_setup "$AGENT_SIDE" "$name" daemon
    fi
    tl_agent_listen "$name" "udp:127.0.0.1:$port"
    tl_conf "$name" \
        "[snmp] localCert server" \
        "[snmp] trustCert ca" \
        "trapsess $1 -v3 -T localCert=server -T peerCert=server-ec $trap_target"
    TL_SNMPD=$(bin_for "$AGENT_SIDE" snmpd)
    tl_agent_start "$name" || tl_fail "snmpd $name did not start"
    check_daemon_lib "$name"
    [ "$AGENT_SIDE" = builtin ] || check_daemon_uses_ours "$name"
    for ((i = 0; i < 200; i++)); do
        [ "$(coldstart_count)" -ge "$expect" ] && break
        sleep 0.05
    done
    [ "$(coldstart_count)" -ge "$expect" ] ||
        tl_fail "snmptrapd did not log the coldStart of $name ($1)"
    tl_agent_stop "$name" || tl_fail "snmpd $name did not stop cleanly"
}
if [ "$CHECKS" = trap ]; then
    notifier notifier-trap "" 1
    tl_log "agent trapsess (trap) ok"
fi
if [ "$CHECKS" = inform ]; then
    notifier notifier-inform "-Ci -r3 -t2" 1
    tl_log "agent trapsess (inform) ok"
fi

if [ "$CHECKS" != get ]; then
    tl_trapd_stop trapd || tl_fail "snmptrapd did not stop cleanly"
fi
echo "PASS: $CHECKS: client $CLIENT_SIDE <-> agent $AGENT_SIDE"
