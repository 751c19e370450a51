#!/bin/bash
# The plugin's client role inside snmpd: "trapsess ... dtlsudp:" sends the
# agent's notifications over this project's transport (timers from snmpd's
# loop) to a stock snmptrapd (Net-SNMP's built-in DTLS server).
set -u
. "$top_srcdir/tests/lib/snmpd.sh"
. "$top_srcdir/tests/integration/agent-lib.sh"

al_init
tl_require snmptrapd
tl_free_udp_port pt || exit 1
tl_free_udp_port pa || exit 1

tl_trapd_new trapd
tl_conf trapd "[snmp] localCert client-rsa" "certSecName 10 $(tl_fp server) --sn agentsrv" \
    "authUser log -s tsm agentsrv authpriv"
tl_trapd_listen trapd "dtlsudp:127.0.0.1:$pt"
tl_trapd_start trapd || tl_fail "snmptrapd did not start"

# trapsess names both certificates by SHA-1 fingerprint (as net-snmp-cert
# prints them), which Net-SNMP's store does not index for sha256-signed
# certificates: the transport's own fingerprint lookup finds them.
al_agent agent "certSecName 10 $(tl_fp client) --sn alice" "rwuser -s tsm alice authpriv" \
    "trapsess -v3 -T our_identity=$(tl_fp server sha1) -T their_identity=$(tl_fp client-rsa sha1) dtlsudp:127.0.0.1:$pt"
tl_agent_listen agent "dtlsudp:127.0.0.1:$pa"
al_agent_start agent || tl_fail "agent did not start"

# coldStart (.1.3.6.1.6.3.1.1.5.1) is sent at startup; wait for it (bounded).
for i in $(seq 1 100); do
    tl_log_has trapd "3\.6\.1\.6\.3\.1\.1\.5\.1\b\|coldStart" && break
    sleep 0.1
done
tl_log_has trapd "3\.6\.1\.6\.3\.1\.1\.5\.1\b\|coldStart" || tl_fail "no coldStart at the receiver"
tl_log_has agent "dtlsudp: opened client transport DTLSUDP: \[127.0.0.1\]:$pt" ||
    tl_fail "the trap session did not use this project's transport"
al_proof_loaded() { tl_log_has agent "dtlsudp [0-9.]* loaded" || tl_fail "plugin not loaded"; }
al_proof_loaded
tl_agent_stop agent || tl_fail "agent exit status"
tl_trapd_stop trapd
echo "PASS: agent notifications over dtlsudp (trapsess) to a stock snmptrapd"
