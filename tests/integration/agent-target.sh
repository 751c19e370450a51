#!/bin/bash
# Notifications to SNMP-TARGET-MIB targets (targetAddr, targetParams,
# snmpNotifyTable) over dtlsudp, with the certificates named by the
# snmpTlstmParams (our identity) and snmpTlstmAddr (the receiver's pin)
# rows, RFC 6353 section 7.  snmpd's notification code looks these
# fingerprints up in Net-SNMP's certificate store, which indexes the test
# certificates (signed with sha256) by their SHA-256 fingerprint only;
# every hash must work.  Controls: a pin naming another stored certificate
# is refused, and a fingerprint naming no stored certificate is reported.
set -u
. "$top_srcdir/tests/lib/snmpd.sh"
. "$top_srcdir/tests/integration/agent-lib.sh"

al_init
tl_require snmptrapd
tl_free_udp_port pa || exit 1

# fp NAME HASH: the certificate's fingerprint as openssl prints it.
fp() { openssl x509 -in "$TL_CERTS/tls/certs/$1.crt" -noout -fingerprint "-$2" | sed 's/^.*=//'; }

# receiver NAME: snmptrapd serving dtlsudp through this project's
# transport (the preload), on a port of its own, logging the notifications
# of the agent's identity.  snmpd's target code opens a session, closes it
# and opens another within the same second (it recreates a target's session
# when the rows are as new as it); Net-SNMP's built-in DTLS server does not
# always answer the second client after the first one left mid-handshake,
# so it is not the receiver here (agent-trap.sh covers it with trapsess).
PRELOAD_SO=$top_builddir/snmplib-patches/.libs/libdtlsudp-preload.so
[ -f "$PRELOAD_SO" ] || tl_skip "preload library not built"
receiver() {
    tl_free_udp_port pt || exit 1
    tl_trapd_new "$1"
    if [ "$AL_ASAN" = 1 ]; then
        tl_env "$1" "LD_PRELOAD=$AL_ASAN_LIB $PRELOAD_SO" "ASAN_OPTIONS=detect_leaks=0:abort_on_error=1"
    else
        tl_env "$1" "LD_PRELOAD=$PRELOAD_SO"
    fi
    tl_conf "$1" "[snmp] localCert client-rsa" "certSecName 10 $(tl_fp server) --sn agentsrv" \
        "authUser log -s tsm agentsrv authpriv"
    tl_trapd_listen "$1" "dtlsudp:127.0.0.1:$pt"
    tl_trapd_start "$1" -Ddtlsudp || tl_fail "snmptrapd $1 did not start"
    tl_log_has "$1" "dtlsudp [0-9.]* loaded\|dtlsudp: listening" || tl_fail "snmptrapd $1 does not use this project's transport"
    trapd=$1
}

# agent NAME PARAMS_FP ADDR_FP: an agent whose only notification target is
# the current receiver (its address as a TransportAddressIPv4: 4 octets of
# address, 2 of port), with the two rows naming certificates by the
# fingerprints.
agent() {
    local taddr
    taddr=$(printf '0x7f000001%04x' "$pt")
    al_agent "$1" "certSecName 10 $(tl_fp client) --sn alice" "rwuser -s tsm alice authpriv" \
        "targetAddr trapd .1.3.6.1.6.1.9 $taddr 100 1 dtlstag tparams 3 1" \
        "targetParams tparams 3 4 agentsrv 3 3 1" \
        "snmpNotifyTable notif1 dtlstag 1 3 1" \
        "snmpTlstmParams tparams $2" \
        "snmpTlstmAddr trapd $3"
    tl_agent_listen "$1" "dtlsudp:127.0.0.1:$pa"
    al_agent_start "$1" || tl_fail "$1 did not start"
}

# coldstarts: how many coldStart notifications the receiver logged.
coldstarts() { grep -c "3\.6\.1\.6\.3\.1\.1\.5\.1\b\|coldStart" "$(tl_log_file "$trapd")" 2>/dev/null || true; }

# wait_coldstart: until the receiver has a coldStart (bounded, 10 s).
wait_coldstart() {
    local i
    for i in $(seq 1 100); do
        [ "$(coldstarts)" -ge 1 ] && return 0
        sleep 0.1
    done
    return 1
}

for h in sha1 sha224 sha256 sha384 sha512; do
    receiver "r_$h"
    agent "a_$h" "--$h $(fp server "$h")" "--$h $(fp client-rsa "$h")"
    wait_coldstart || tl_fail "$h: no coldStart at the receiver"
    tl_log_has "a_$h" "dtlsudp: opened client transport DTLSUDP: \[127.0.0.1\]:$pt" ||
        tl_fail "$h: the notification did not use this project's transport"
    tl_log_has "a_$h" "dtlsudp: refused" && tl_fail "$h: a refusal was logged"
    tl_agent_stop "a_$h" || tl_fail "$h: agent exit status"
    tl_trapd_stop "r_$h"
    echo "ok: $h fingerprints in snmpTlstmParams and snmpTlstmAddr"
done

# A pin that names another stored certificate (the agent's own): the
# receiver's certificate does not match, nothing is delivered.
receiver r_wrongpin
agent a_wrongpin "--sha1 $(fp server sha1)" "--sha1 $(fp server sha1)"
for i in $(seq 1 50); do
    tl_log_has a_wrongpin "refused server certificate" && break
    sleep 0.1
done
tl_log_has a_wrongpin "refused server certificate.*peerCert" || tl_fail "a wrong pin was not refused"
sleep 0.5
[ "$(coldstarts)" -eq 0 ] || tl_fail "a notification reached the receiver through a wrong pin"
tl_agent_stop a_wrongpin || tl_fail "a_wrongpin: agent exit status"
tl_trapd_stop r_wrongpin
echo "ok: a pin naming another certificate is refused"

# A fingerprint of a hash's length that names no stored certificate.
unknown=$(printf '%064d' 0 | sed 's/\(..\)/\1:/g; s/:$//')
agent a_unknown "--sha1 $(fp server sha1)" "--sha256 $unknown"
tl_log_has a_unknown "snmpTlstmAddr trapd: no certificate in the store (tls/certs) has fingerprint" ||
    tl_fail "an unknown server fingerprint was not reported"
tl_agent_stop a_unknown || tl_fail "a_unknown: agent exit status"
echo "ok: a fingerprint naming no stored certificate is reported"

# Rows above the dlmod line are read before the plugin can check them as
# they are parsed; a fingerprint of no hash's length there is still
# reported once the configuration is read (31 bytes here).
short=$(printf '%062d' 7 | sed 's/\(..\)/\1:/g; s/:$//')
tl_agent_new a_early
tl_conf a_early "certSecName 20 $short --sn early" "snmpTlstmAddr early --sha1 $short" \
    "dlmod dtlsudp $AL_PLUGIN" "[snmp] localCert server"
[ "$AL_ASAN" = 1 ] && tl_env a_early "LD_PRELOAD=$AL_ASAN_LIB" "ASAN_OPTIONS=detect_leaks=0:abort_on_error=1"
tl_agent_listen a_early "dtlsudp:127.0.0.1:$pa"
al_agent_start a_early || tl_fail "a_early did not start"
for row in "certSecName 20" "snmpTlstmAddr early"; do
    tl_log_has a_early "dtlsudp: $row: [0-9a-f:]* is a fingerprint of 31 bytes, which is no hash's length" ||
        tl_fail "$row above the dlmod line: a fingerprint of 31 bytes was not reported"
done
tl_agent_stop a_early || tl_fail "a_early: agent exit status"
echo "ok: rows above the dlmod line with a fingerprint of no hash's length are reported"

echo "PASS: notifications to SNMP-TARGET-MIB targets with snmpTlstmParams/snmpTlstmAddr rows of every hash"
