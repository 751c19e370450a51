#!/bin/bash
# Certificates with stock Net-SNMP clients against the plugin: RSA and P-256
# (agent and clients), certSecName rows by SHA-256 and SHA-1 fingerprints,
# a CA row with --rfc822 / --cn maps, a pinned self-signed client, and the
# refusals RFC 6353 5.3.2 requires (unknown CA, expired, self-signed and
# unmapped certificates): refused with one log line naming the certificate
# and the reason, while the agent keeps serving the others.
set -u
. "$top_srcdir/tests/lib/snmpd.sh"
. "$top_srcdir/tests/integration/agent-lib.sh"

al_init

get() { # get CLIENTDIR TARGET: sysName.0
    tl_client "$1" snmpget -v3 -r2 -t2 -Ov "$2" .1.3.6.1.2.1.1.5.0
}

# --- agent 1: RSA server key, fingerprints of both hashes ---------------
tl_free_udp_port p1 || exit 1
al_agent rsa "[snmp] localCert server-rsa" "[snmp] trustCert ca" \
    "certSecName 10 $(tl_fp client sha256) --sn alice" \
    "certSecName 20 $(tl_fp client-rsa sha1) --sn bob" \
    "certSecName 30 --sha1 $(tl_fp client-selfsigned sha1) --sn carol" \
    "rouser -s tsm alice authpriv" "rouser -s tsm bob authpriv" "rouser -s tsm carol authpriv"
tl_agent_listen rsa "dtlsudp:127.0.0.1:$p1"
al_agent_start rsa || tl_fail "agent rsa did not start"
t1="dtlsudp:127.0.0.1:$p1"

for who in client client-rsa client-selfsigned; do
    tl_client_new "c-$who" "localCert $who" "peerCert server-rsa"
done
al_expect_ok "P-256 client, SHA-256 row" get c-client "$t1"
al_expect_ok "RSA client, SHA-1 row" get c-client-rsa "$t1"
al_expect_ok "self-signed client pinned by its SHA-1 fingerprint" get c-client-selfsigned "$t1"
tl_log_has rsa "mapped to securityName alice" || tl_fail "alice not mapped"
tl_log_has rsa "mapped to securityName bob" || tl_fail "bob not mapped (SHA-1 row)"
tl_log_has rsa "mapped to securityName carol" || tl_fail "carol not mapped"

# Refusals: the agent logs the certificate and why, then keeps serving.
for who in client-unknown-ca client-expired client-ec; do
    tl_client_new "c-$who" "localCert $who" "peerCert server-rsa"
    al_expect_fail "$who must be refused" get "c-$who" "$t1"
    fp=$(tl_fp "$who")
    grep -F "refused client certificate SHA256 $fp" "$(tl_log_file rsa)" >/dev/null ||
        tl_fail "$who: no refusal line with its fingerprint"
    al_expect_ok "agent still serves after refusing $who" get c-client "$t1"
done
grep -F "refused client certificate SHA256 $(tl_fp client-ec)" "$(tl_log_file rsa)" |
    grep -q "no certSecName row" || tl_fail "unmapped: reason not logged"
grep -F "refused client certificate SHA256 $(tl_fp client-expired)" "$(tl_log_file rsa)" |
    grep -q "expired" || tl_fail "expired: reason not logged"
# Once per peer: a retried handshake does not log again.
[ "$(grep -cF "refused client certificate SHA256 $(tl_fp client-ec)" "$(tl_log_file rsa)")" -eq 1 ] ||
    tl_fail "refusal logged more than once"
# RFC 6353 counters (SNMP-TLS-TM-MIB snmpTlstmSession*, served by the
# plugin's MIB modules from libnetsnmp's statistics).
al_expect_ok "read snmpTlstmSession counters" tl_client c-client snmpwalk -v3 -r2 -t2 -On "$t1" \
    .1.3.6.1.2.1.198.2.1
tl_log "$(echo "$AL_OUT" | tr '\n' ' ')"
counter() { echo "$AL_OUT" | awk -v o=".1.3.6.1.2.1.198.2.1.$1.0" '$1 == o { print $NF }'; }
[ "$(counter 4)" -ge 4 ] 2>/dev/null || tl_fail "snmpTlstmSessionAccepts: '$(counter 4)'"
[ "$(counter 7)" -ge 3 ] 2>/dev/null || tl_fail "snmpTlstmSessionInvalidClientCertificates: '$(counter 7)'"
[ "$(counter 3)" -ge 3 ] 2>/dev/null || tl_fail "snmpTlstmSessionOpenErrors: '$(counter 3)'"
# ServerCloses counts sessions that were open, never refused handshakes.
[ "$(counter 5)" -le "$(counter 4)" ] 2>/dev/null || tl_fail "ServerCloses $(counter 5) > Accepts $(counter 4)"
al_proof rsa
tl_agent_stop rsa || tl_fail "agent rsa exit status"

# --- agent 2: P-256 server, one CA row mapping SAN rfc822 names ----------
tl_free_udp_port p2 || exit 1
al_agent ca "[snmp] trustCert ca" "certSecName 10 $(tl_fp ca) --rfc822" \
    "rouser -s tsm client-rsa@example.com authpriv" \
    "rouser -s tsm client@example.com authpriv"
tl_agent_listen ca "dtlsudp:127.0.0.1:$p2"
al_agent_start ca || tl_fail "agent ca did not start"
t2="dtlsudp:127.0.0.1:$p2"
tl_client_new c2-rsa "localCert client-rsa" "peerCert server"
tl_client_new c2-ec "localCert client" "peerCert server"
al_expect_ok "CA row, rfc822 map, RSA client" get c2-rsa "$t2"
al_expect_ok "CA row, rfc822 map, P-256 client" get c2-ec "$t2"
tl_log_has ca "mapped to securityName client-rsa@example.com" || tl_fail "rfc822 map"
# A certificate from another CA does not match the CA row.
tl_client_new c2-unknown "localCert client-unknown-ca" "peerCert server"
al_expect_fail "unknown CA under a CA row" get c2-unknown "$t2"
al_proof ca
tl_agent_stop ca || tl_fail "agent ca exit status"
echo "PASS: RSA/P-256, SHA-1/SHA-256 rows, CA rows, refusals with log lines"
