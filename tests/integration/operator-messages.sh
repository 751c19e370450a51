#!/bin/bash
# What the log says when the operator got something wrong, and what it
# says when all is well: a certificate token that names nothing names the
# token, the value, the directories searched and the fix (agent: localCert,
# trustCert; manager: peerCert, where the application itself only says
# "Unknown host"), with the file and line when it comes from a file; the agent logs each address it serves at startup, without
# debug tokens; the client's debug lines name the agent, not Net-SNMP's
# "__BOGUS__" placeholder.
set -u
. "$top_srcdir/tests/lib/snmpd.sh"
. "$top_srcdir/tests/integration/agent-lib.sh"

al_init
SHIM=$top_builddir/tests/integration/.libs/dtlsudp-preload-shim.so
[ -f "$SHIM" ] || tl_skip "preload shim not built"
fp=$(tl_fp client) || exit 1

# --- a good agent: the startup log names every address it serves -------
tl_free_udp_port p4 || exit 1
tl_free_udp_port p6 || exit 1
al_agent good "[snmp] trustCert ca" "certSecName 10 $fp --cn" "rwuser -s tsm client authpriv" \
    "agentAddress dtlsudp:127.0.0.1:$p4,dtlsudp6:[::1]:$p6"
tl_expect_port good "$p4"
tl_expect_port good "$p6"
tl_agent_start good || tl_fail "agent did not start"
tl_log_has good "dtlsudp: listening on 127.0.0.1:$p4 (osnet demux), IPv4" ||
    tl_fail "no startup line for the IPv4 listener"
tl_log_has good "dtlsudp: listening on \[::1\]:$p6 (osnet demux), IPv6 only" ||
    tl_fail "no startup line for the IPv6 listener"

# --- a dlmod path that does not load: what dtlsudp-checkconf predicts --
# ("would fall to Net-SNMP's built-in DTLSUDP"): snmpd still starts and
# serves the address, but no line of the plugin says it listens.
tl_free_udp_port pb || exit 1
tl_agent_new builtin
tl_conf builtin "dlmod dtlsudp $TL_TMP/nowhere/dtlsudp.so" "[snmp] localCert server" "[snmp] trustCert ca" \
    "certSecName 10 $fp --cn" "rwuser -s tsm client authpriv"
tl_agent_listen builtin "dtlsudp:127.0.0.1:$pb"
tl_agent_start builtin || tl_fail "snmpd with a wrong dlmod path did not start (the built-in serves dtlsudp:)"
tl_log_has builtin "dlopen($TL_TMP/nowhere/dtlsudp.so) failed" || tl_fail "no dlopen error in the log"
! tl_log_has builtin "dtlsudp: listening on" || tl_fail "the plugin claims a listener it cannot have"
tl_agent_stop builtin

# --- manager: the debug line names the agent; an unknown peerCert says so
al_client mgr
if [ "$AL_ASAN" = 1 ]; then
    tl_env mgr "LD_PRELOAD=$AL_ASAN_LIB $SHIM" "ASAN_OPTIONS=detect_leaks=0:abort_on_error=1"
else
    tl_env mgr "LD_PRELOAD=$SHIM"
fi
out=$(tl_client mgr snmpget -v3 -r2 -t3 -Ddtlsudp -On "dtlsudp:127.0.0.1:$p4" .1.3.6.1.2.1.1.5.0 2>&1) ||
    { echo "$out" >&2; tl_fail "GET (positive control)"; }
echo "$out" | grep -q "dtlsudp: recv [0-9]* bytes from the agent DTLSUDP: \[127.0.0.1\]:$p4" ||
    { echo "$out" >&2; tl_fail "client debug line does not name the agent"; }
! echo "$out" | grep -q "__BOGUS__" || { echo "$out" >&2; tl_fail "client debug line shows __BOGUS__"; }

out=$(tl_client mgr snmpget -v3 -r0 -t3 -T peerCert=nosuch -On "dtlsudp:127.0.0.1:$p4" .1.3.6.1.2.1.1.5.0 2>&1) &&
    tl_fail "GET with an unknown peerCert succeeded"
for want in "dtlsudp: -T peerCert nosuch: no certificate file nosuch.crt" \
    "under $TL_TMP/mgr, $TL_CERTS (SNMPCONFPATH)" "dtlsudp-checkconf"; do
    echo "$out" | grep -qF "$want" || { echo "$out" >&2; tl_fail "manager: '$want' not said"; }
done
# The same in snmp.conf: named with its file and line as it is read.
tl_client_new mgr2 "localCert client" "peerCert nosuch"
tl_env mgr2 "$(grep '^LD_PRELOAD=' "$TL_TMP/mgr/env")"
out=$(tl_client mgr2 snmpget -v3 -r0 -t3 -On "dtlsudp:127.0.0.1:$p4" .1.3.6.1.2.1.1.5.0 2>&1) &&
    tl_fail "GET with an unknown peerCert in snmp.conf succeeded"
echo "$out" | grep -qF "$TL_TMP/mgr2/snmp.conf: line 3: Warning: dtlsudp: peerCert nosuch: no certificate file" ||
    { echo "$out" >&2; tl_fail "manager: snmp.conf line of the unknown peerCert not named"; }

# --- an agent whose certificates are not where Net-SNMP looks -----------
tl_free_udp_port p || exit 1
al_agent lost "[snmp] trustCert nosuchca" "certSecName 10 $fp --cn" "rwuser -s tsm client authpriv" \
    "agentAddress dtlsudp:127.0.0.1:$p"
tl_conf lost "[snmp] localCert nosuch"
# snmpd cannot open the listener and exits: run it to its end (bounded).
dir=$TL_TMP/lost
mapfile -t extra <"$dir/env"
with_timeout 20 env SNMPCONFPATH="$(tl_confpath lost)" SNMP_PERSISTENT_DIR="$dir/persist" HOME="$dir" MIBS= \
    "${extra[@]}" "$TL_SNMPD" -f -Lf "$dir/snmpd.log" -C -c "$dir/snmpd.conf" \
    -p "$dir/snmpd.pid" -I -smux </dev/null >"$dir/snmpd.out" 2>&1
log=$(cat "$dir/snmpd.log" "$dir/snmpd.out")
for want in "dtlsudp: localCert nosuch: no certificate file nosuch.crt" \
    "dtlsudp: trustCert nosuchca: no certificate file nosuchca.crt" \
    "in tls/certs and tls/ca-certs (keys: tls/private) under $TL_TMP/lost, $TL_CERTS (SNMPCONFPATH)" \
    "point SNMPCONFPATH at the directory holding tls/" \
    "$dir/snmpd.conf: line 4: Warning: dtlsudp: trustCert nosuchca: no certificate file nosuchca.crt" \
    "$dir/snmpd.conf: line 8: Warning: dtlsudp: localCert nosuch: no certificate file nosuch.crt"; do
    echo "$log" | grep -qF "$want" || { echo "$log" >&2; tl_fail "agent: '$want' not logged"; }
done
exit 0
