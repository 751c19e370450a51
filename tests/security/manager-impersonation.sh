#!/bin/bash
# Agent impersonation against a manager using this project's transport
# (dtlsudp-run snmpget / snmptrap), RFC 6353 5.3.1.  The "agent" is
# tests/security/dtls-peer --listen (OpenSSL only), which reports whether
# the manager completed the handshake and sent it application data.
#
#  pin: the manager pins the real agent certificate (-T peerCert=<fp>, and
#       "peerCert <fp>" in snmp.conf); a rogue presents its own
#       self-signed leaf followed by the real server.crt, [rogue, server].
#       A pin matches the leaf or a CA of the verified path only (R3), and
#       an appended certificate is refused (R2): no request may reach the
#       rogue, and the manager logs "refused server certificate SHA256
#       <rogue fp>".  Same for snmptrap.
#  purpose: trustCert ca + peerHostname localhost; a CA-issued certificate
#       for localhost whose extendedKeyUsage is clientAuth only cannot
#       authenticate a server (R1).
# Controls: the real certificate ([server] and [server, ca]) with its key is
# accepted and the request reaches the peer, in every form.
set -u
. "$top_srcdir/tests/lib/snmpd.sh"
. "$top_srcdir/tests/integration/agent-lib.sh"
. "$top_srcdir/tests/security/sec-lib.sh"

sec_init
sec_require_loader
tl_require snmpget snmptrap

server_fp=$(tl_fp server)
tl_client_new mgr "localCert alice"
tl_client_new mgr-conf "localCert alice" "peerCert $server_fp"
tl_client_new mgr-ca "localCert alice" "trustCert ca"

GET=(snmpget -v3 -r0 -t1)
AFTER=(.1.3.6.1.2.1.1.3.0) # sysUpTime.0

rogue_refused_logged() { has "$APP_OUT" "refused server certificate SHA256 $(tl_fp "$1")"; }

# --- pin by -T peerCert=<fp> ----------------------------------------------
sec_attempt pin-control mgr $(sec_as server) -- "${GET[@]}" -T peerCert="$server_fp"
sec_check "pin -T: control: [server] is accepted and the request reaches it" sec_reached
sec_attempt pin-control-ca mgr $(sec_as server) $(sec_chain ca) -- "${GET[@]}" -T peerCert="$server_fp"
sec_check "pin -T: control: [server, ca] is accepted and the request reaches it" sec_reached

sec_attempt pin-rogue mgr $(sec_as rogue) $(sec_chain server) -- "${GET[@]}" -T peerCert="$server_fp"
sec_check "pin -T: the rogue sent exactly [rogue, server]" sec_sent_exactly "$SEC_OUT" rogue server
sec_check "pin -T: rogue [rogue, server]: no request reaches it" sec_not_reached
sec_check "pin -T: rogue [rogue, server]: snmpget fails, not by a timeout" sec_app_failed_fast
sec_check "pin -T: rogue [rogue, server]: refusal logged for the rogue's fingerprint" \
    rogue_refused_logged rogue

# --- pin by "peerCert <fp>" in snmp.conf -----------------------------------
sec_attempt conf-control mgr-conf $(sec_as server) -- "${GET[@]}"
sec_check "pin snmp.conf: control: [server] is accepted" sec_reached
sec_attempt conf-rogue mgr-conf $(sec_as rogue) $(sec_chain server) -- "${GET[@]}"
sec_check "pin snmp.conf: rogue [rogue, server]: no request reaches it" sec_not_reached
sec_check "pin snmp.conf: rogue [rogue, server]: snmpget fails, not by a timeout" sec_app_failed_fast
sec_check "pin snmp.conf: rogue [rogue, server]: refusal logged" rogue_refused_logged rogue

# --- the trap sender ---------------------------------------------------------
TRAP=(snmptrap -v3 -r0 -t2 -T peerCert="$server_fp")
AFTER=(0 .1.3.6.1.6.3.1.1.5.1) # uptime 0, coldStart
sec_attempt trap-control mgr $(sec_as server) -- "${TRAP[@]}"
sec_check "snmptrap pin: control: [server] is accepted and the trap reaches it" sec_reached
sec_attempt trap-rogue mgr $(sec_as rogue) $(sec_chain server) -- "${TRAP[@]}"
sec_check "snmptrap pin: rogue [rogue, server]: no trap reaches it" sec_not_reached
sec_check "snmptrap pin: rogue [rogue, server]: snmptrap fails" [ "$APP_RC" -ne 0 ]
sec_check "snmptrap pin: rogue [rogue, server]: refusal logged" rogue_refused_logged rogue

# --- trustCert ca + host name: purpose ----------------------------------------
AFTER=(.1.3.6.1.2.1.1.3.0)
sec_attempt ca-control mgr-ca $(sec_as server) -- "${GET[@]}" -T peerHostname=localhost
sec_check "trustCert+hostname: control: [server] is accepted" sec_reached
sec_attempt ca-clientauth mgr-ca $(sec_as server-clientauth) -- "${GET[@]}" -T peerHostname=localhost
sec_check "trustCert+hostname: EKU clientAuth-only server certificate: no request reaches it" sec_not_reached
sec_check "trustCert+hostname: EKU clientAuth-only server certificate: snmpget fails, not by a timeout" sec_app_failed_fast
sec_check "trustCert+hostname: EKU clientAuth-only: refusal logged" \
    rogue_refused_logged server-clientauth
sec_attempt ca-rogue mgr-ca $(sec_as rogue) $(sec_chain server ca) -- "${GET[@]}" -T peerHostname=localhost
sec_check "trustCert+hostname: rogue [rogue, server, ca]: no request reaches it" sec_not_reached
sec_check "trustCert+hostname: rogue [rogue, server, ca]: snmpget fails, not by a timeout" sec_app_failed_fast
sec_check "trustCert+hostname: rogue [rogue, server, ca]: refusal logged" rogue_refused_logged rogue

sec_done "a manager talks only to the agent it authenticated"
