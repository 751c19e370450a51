#!/bin/bash
# A broken x509CRLFile at the manager fails closed (rule R5): snmpget
# through dtlsudp-run with an unparsable or missing CRL file in its
# snmp.conf fails, says which file, and sends nothing to the agent, here
# an honest tests/security/dtls-peer --listen presenting the real server
# certificate pinned by -T peerCert.  Control: the same with a good CRL
# reaches the agent.
set -u
. "$top_srcdir/tests/lib/snmpd.sh"
. "$top_srcdir/tests/integration/agent-lib.sh"
. "$top_srcdir/tests/security/sec-lib.sh"

sec_init
sec_require_loader
tl_require snmpget
# A fixed manager may not start a handshake at all: do not wait long.
SEC_LISTEN_TIMEOUT=4000

GET=(snmpget -v3 -r0 -t1 -T peerCert="$(tl_fp server)")
AFTER=(.1.3.6.1.2.1.1.3.0)

tl_client_new good "localCert alice" "x509CRLFile $TL_CERTS/crl/bob-revoked.pem"
sec_attempt good good $(sec_as server) -- "${GET[@]}"
sec_check "control: a good CRL file: the request reaches the agent" sec_reached

for kind in garbage missing; do
    crl=$TL_CERTS/crl/$kind.pem
    tl_client_new "$kind" "localCert alice" "x509CRLFile $crl"
    sec_attempt "$kind" "$kind" $(sec_as server) -- "${GET[@]}"
    sec_check "$kind CRL file: no request reaches the agent (fail closed)" sec_not_reached
    sec_check "$kind CRL file: snmpget fails, not by a timeout" sec_app_failed_fast
    sec_check "$kind CRL file: the message names the file" has "$APP_OUT" "$crl"
done

sec_done "a manager with a broken CRL file sends nothing"
