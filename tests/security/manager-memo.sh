#!/bin/bash
# A manager's remembered certificate lines (dtlsudpSessionFile, certmemo.c)
# against an agent certificate the operator has replaced.  The manager
# (this project's loader, dtlsudp-run snmpget) pins "peerCert agent", a
# file in its own tls/certs; the "agent" is tests/security/dtls-peer
# --listen (OpenSSL only).
#
#  controls: while agent.crt holds the rogue's certificate, the rogue is
#       accepted, and the second snmpget takes that pin from the memo
#       instead of Net-SNMP's store;
#  attack: the operator replaces agent.crt with the real agent's
#       certificate (the rogue's key has leaked).  The next snmpget must
#       refuse the rogue although the memo named the rogue's certificate:
#       no request reaches it, the refusal is logged with its fingerprint;
#       and the real agent is accepted.
# The tree is left to settle 2 s after each change (a certificate
# directory changed more recently is not remembered at all, which would
# hide what this test is about).
set -u
. "$top_srcdir/tests/lib/snmpd.sh"
. "$top_srcdir/tests/integration/agent-lib.sh"
. "$top_srcdir/tests/security/sec-lib.sh"

sec_init
sec_require_loader
tl_require snmpget

tl_client_new mgr "localCert alice" "peerCert agent" "dtlsudpSessionFile yes"
mine=$TL_TMP/mgr/tls/certs
mkdir -p "$mine" || tl_fail "mkdir $mine"
install -m 644 "$TL_CERTS/peer/rogue.crt" "$mine/agent.crt" || tl_fail "install agent.crt"
sleep 2.2

GET=(snmpget -v3 -r0 -t1)
AFTER=(.1.3.6.1.2.1.1.3.0) # sysUpTime.0

rogue_refused_logged() { has "$APP_OUT" "refused server certificate SHA256 $(tl_fp rogue)"; }

sec_attempt control mgr $(sec_as rogue) -- "${GET[@]}"
sec_check "control: while agent.crt is the rogue's, the rogue is accepted" sec_reached
sec_attempt control-memo mgr $(sec_as rogue) -- "${GET[@]}" -Ddtlsudp:cert
sec_check "control: the second snmpget takes the pin from the memo" has "$APP_OUT" "agent: as resolved before"
sec_check "control: the rogue is accepted again" sec_reached

install -m 644 "$TL_CERTS/peer/server.crt" "$mine/agent.crt" || tl_fail "replace agent.crt"
sleep 2.2
sec_attempt rotated mgr $(sec_as rogue) -- "${GET[@]}"
sec_check "agent.crt replaced: no request reaches the rogue" sec_not_reached
sec_check "agent.crt replaced: snmpget fails, not by a timeout" sec_app_failed_fast
sec_check "agent.crt replaced: refusal logged for the rogue's fingerprint" rogue_refused_logged
sec_attempt rotated-real mgr $(sec_as server) -- "${GET[@]}"
sec_check "agent.crt replaced: the real agent is accepted" sec_reached

sec_done
