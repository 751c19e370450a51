#!/bin/bash
# mibs-dtls.sh: the real plugin (dtlsudp.so) in a stock snmpd, listening on
# udp and dtlsudp.  The MIB counters, walked over plain udp (v2c, read-only
# community), move exactly as the DTLS traffic this test generates:
#   M cookie-less ClientHellos (raw datagrams, mibs-hello.py)
#       -> dtlsudpCookiesSent += M, no association, no handshake started
#   N sessions of a stock Net-SNMP client with a good certificate
#       -> snmpTlstmSessionAccepts += N, dtlsudpHandshakesDone += N,
#          dtlsudpCookiesVerified += N (snmpTlstmSessionOpens counts client
#          sessions: it moves in the client, not in the agent)
#   1 client with a certificate from an unknown CA
#       -> snmpTlstmSessionInvalidClientCertificates += 1, no session
# and the same subtrees can be walked over dtlsudp itself; a SIGHUP keeps
# them registered once, with their values.
set -u
. "${top_srcdir:?}/tests/lib/snmpd.sh"
. "$top_srcdir/tests/integration/agent-lib.sh"
. "$top_srcdir/tests/integration/mibs-lib.sh"

al_init
tl_require python3
fp=$(tl_fp client) || exit 1
tl_free_udp_port up || exit 1
tl_free_udp_port dp || exit 1

al_agent agent \
    "certSecName 10 $fp --sn alice" \
    "rwuser -s tsm alice authpriv" \
    "rocommunity public 127.0.0.1" \
    "agentAddress udp:127.0.0.1:$up,dtlsudp:127.0.0.1:$dp"
tl_expect_port agent "$up"
tl_expect_port agent "$dp"
al_agent_start agent || tl_fail "agent did not start"

udp=udp:127.0.0.1:$up
dtls=dtlsudp:127.0.0.1:$dp
S=.1.3.6.1.2.1.198.2.1 # snmpTlstmSession
D=.1.3.6.1.3.6353.1    # dtlsudpObjects

snap() {
    mibs_app snmpwalk -v2c -c public -On -Oq -Oe -t 5 -r 1 "$udp" .1.3.6.1.2.1.198.2.1 &&
        mibs_app snmpwalk -v2c -c public -On -Oq -Oe -t 5 -r 1 "$udp" $D
}
# delta WHAT OID WANT: the counter moved by exactly WANT between $before and $after.
delta() {
    local b a
    b=$(mibs_value "$before" "$2") || tl_fail "$1 ($2) missing before: $before"
    a=$(mibs_value "$after" "$2") || tl_fail "$1 ($2) missing after: $after"
    expect_eq "$1 change" "$((a - b))" "$3"
}

before=$(snap) || tl_fail "cannot walk the counters over udp"
if ! mibs_value "$before" $D.2.0 >/dev/null; then
    tl_skip "the plugin does not serve DTLSUDP-MIB yet (init_dtlsudp does not call dtlsudp_mib_init)"
fi
expect_eq "dtlsudpListenerCount" "$(mibs_value "$before" $D.2.0)" 1
expect_eq "dtlsudpListenerAddress.1" "$(mibs_value "$before" $D.3.1.2.1)" "\"127.0.0.1:$dp\""
# snmpTlstmCertificateMapping from this configuration: one certSecName row,
# no snmpTlstmParams/snmpTlstmAddr rows (empty tables walk cleanly).
map=$(mibs_app snmpwalk -v2c -c public -On -Oq -Oe -Ot -t 5 -r 1 "$udp" .1.3.6.1.2.1.198.2.2) ||
    tl_fail "cannot walk snmpTlstmCertificateMapping"
expect_eq "snmpTlstmCertToTSNCount" "$(mibs_value "$map" .1.3.6.1.2.1.198.2.2.1.1.0)" 1
expect_eq "snmpTlstmCertToTSNData.10" "$(mibs_value "$map" .1.3.6.1.2.1.198.2.2.1.3.1.4.10)" '"alice"'
expect_eq "snmpTlstmParamsCount" "$(mibs_value "$map" .1.3.6.1.2.1.198.2.2.1.4.0)" 0
expect_eq "snmpTlstmAddrCount" "$(mibs_value "$map" .1.3.6.1.2.1.198.2.2.1.7.0)" 0
expect_eq "snmpTlstmCertificateMapping objects" "$(wc -l <<<"$map")" $((6 + 5))

# 1. M cookie-less ClientHellos: answered statelessly, nothing allocated.
M=5
out=$(with_timeout 60 python3 "$top_srcdir/tests/integration/mibs-hello.py" 127.0.0.1 "$dp" $M 5) ||
    tl_fail "HelloVerifyRequests: $out"
after=$(snap) || tl_fail "walk after the ClientHellos"
delta dtlsudpCookiesSent $D.1.1.0 $M
delta dtlsudpListenerCookiesSent.1 $D.3.1.4.1 $M
delta dtlsudpCookiesVerified $D.1.2.0 0
delta dtlsudpHandshakesStarted $D.1.4.0 0
delta dtlsudpAssociations $D.1.9.0 0
delta dtlsudpHandshakesActive $D.1.11.0 0
delta snmpTlstmSessionAccepts $S.4.0 0

# 2. N sessions with a good certificate.
N=3
before=$after
al_client good "trustCert ca"
for ((i = 0; i < N; i++)); do
    al_expect_ok "session $i" tl_client good snmpget -v3 -r1 -t5 -On "$dtls" .1.3.6.1.2.1.1.3.0
done
after=$(snap) || tl_fail "walk after the sessions"
delta snmpTlstmSessionAccepts $S.4.0 $N
delta snmpTlstmSessionOpens $S.1.0 0
delta snmpTlstmSessionInvalidClientCertificates $S.7.0 0
delta dtlsudpCookiesVerified $D.1.2.0 $N
delta dtlsudpHandshakesDone $D.1.5.0 $N
delta dtlsudpListenerHandshakesDone.1 $D.3.1.8.1 $N

# 3. A client certificate from an unknown CA: refused, counted once.
before=$after
tl_client_new bad "localCert client-unknown-ca" "peerCert server" "trustCert ca"
al_expect_fail "session with an unknown-CA certificate" \
    tl_client bad snmpget -v3 -r0 -t5 -On "$dtls" .1.3.6.1.2.1.1.3.0
after=$(snap) || tl_fail "walk after the refused session"
delta snmpTlstmSessionInvalidClientCertificates $S.7.0 1
delta snmpTlstmSessionAccepts $S.4.0 0
delta dtlsudpHandshakesDone $D.1.5.0 0

# 4. The same subtrees over dtlsudp (SNMPv3, TSM), with names.
al_expect_ok "walk DTLSUDP-MIB over dtlsudp" tl_client good env MIBDIRS="$(mibs_path)" \
    snmpwalk -v3 -r1 -t5 -m DTLSUDP-MIB:SNMP-TLS-TM-MIB "$dtls" .1.3.6.1.3.6353
expect_eq "DTLSUDP-MIB objects over dtlsudp" "$(grep -c '^DTLSUDP-MIB::' <<<"$AL_OUT")" $((31 + 1 + 33))
al_expect_ok "walk snmpTlstmSession over dtlsudp" tl_client good env MIBDIRS="$(mibs_path)" \
    snmpwalk -v3 -r1 -t5 -m DTLSUDP-MIB:SNMP-TLS-TM-MIB "$dtls" .1.3.6.1.2.1.198.2.1
expect_eq "snmpTlstmSession objects over dtlsudp" \
    "$(grep -c '^SNMP-TLS-TM-MIB::snmpTlstmSession' <<<"$AL_OUT")" 10

# 5. SIGHUP: snmpd re-runs the plugin's init; the MIB objects stay registered
# once and the counters keep counting from where they were.
before=$(snap) || tl_fail "walk before SIGHUP"
log=$(tl_log_file agent)
reloads=$(grep -c "init again" "$log")
kill -HUP "$(tl_pid agent)"
for ((i = 0; i < 100; i++)); do
    [ "$(grep -c "init again" "$log")" -gt "$reloads" ] && break
    sleep 0.1
done
[ "$i" -lt 100 ] || tl_fail "snmpd did not re-run init_dtlsudp after SIGHUP"
after=$(snap) || tl_fail "walk after SIGHUP"
expect_eq "objects after SIGHUP" "$(wc -l <<<"$after")" "$(wc -l <<<"$before")"
delta snmpTlstmSessionAccepts $S.4.0 0
delta dtlsudpHandshakesDone $D.1.5.0 0
delta dtlsudpCookiesSent $D.1.1.0 0

# snmpTsmConfigurationUsePrefix is writable over dtlsudp too (its value
# stays false(2), so the session's securityName keeps its form).
al_expect_ok "SET snmpTsmConfigurationUsePrefix over dtlsudp" tl_client good snmpset -v3 -r1 -t5 -On "$dtls" \
    .1.3.6.1.2.1.190.1.2.1.0 i 2
expect_eq "snmpTsmConfigurationUsePrefix after the SET" \
    "$(mibs_value "$(mibs_app snmpwalk -v2c -c public -On -Oq -Oe -t 5 -r 1 "$udp" .1.3.6.1.2.1.190.1.2)" \
        .1.3.6.1.2.1.190.1.2.1.0)" 2

al_proof agent
tl_agent_stop agent || tl_fail "agent exit status $?"
echo "PASS: MIB counters follow cookies, sessions and a refused certificate"
