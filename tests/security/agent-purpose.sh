#!/bin/bash
# Certificate purpose and chain depth at the agent (rule R1, and R4 for a
# pinned leaf).
#
#  trusted (trustCert ca):
#    carol: a CA-issued client certificate whose extendedKeyUsage is
#           serverAuth only, mapped by its own fingerprint: refused;
#    deep5: ca -> int1 -> ... -> int5 -> deep5, the peer sends [deep5,
#           int5, ..., int1] with and without the root, mapped by the CA
#           row: 5 intermediate CAs are more than the limit of 4: refused;
#    controls: deep4 (4 intermediates, sent by the peer, with and without
#           the root; the CA row matches the trust anchor of the verified
#           path) and alice are served.
#  pinned (no trustCert): carol accepted only by her pin must still have
#    the right purpose: refused; alice pinned: served.
set -u
. "$top_srcdir/tests/lib/snmpd.sh"
. "$top_srcdir/tests/integration/agent-lib.sh"
. "$top_srcdir/tests/security/sec-lib.sh"

sec_init

SYSLOCATION=.1.3.6.1.2.1.1.6.0
SHARED=shared-location

# agent NAME [LINE...]: sets $target and $log.
agent() {
    local name=$1 port
    shift
    tl_free_udp_port port || exit 1
    al_agent "$name" "$@" \
        "certSecName 10 $(tl_fp alice) --sn alice" \
        "certSecName 20 $(tl_fp client-serverauth) --sn carol" \
        "certSecName 50 $(tl_fp ca) --cn" \
        "rouser -s tsm alice authpriv" "rouser -s tsm carol authpriv" \
        "rouser -s tsm deep4 authpriv" "rouser -s tsm deep5 authpriv" \
        "sysLocation $SHARED"
    tl_agent_listen "$name" "dtlsudp:127.0.0.1:$port"
    al_agent_start "$name" || tl_fail "$name: agent did not start"
    target=127.0.0.1:$port
    log=$(tl_log_file "$name")
}

served() { has "$1" "value 0x04 \"$SHARED\""; }

# refused LABEL NAME OUTPUT: not served, handshake failed, refusal logged.
refused() {
    sec_check "$1: $2 gets no answer" lacks "$3" "$SHARED"
    sec_check "$1: $2 is refused (handshake fails)" [ "$SEC_RC" -eq 1 ]
    sec_check "$1: refusal logged for $2's fingerprint" sec_refusal_logged "$log" client "$2"
}

# --- trusted -------------------------------------------------------------
agent trusted "[snmp] trustCert ca"
sec_peer out --connect "$target" $(sec_as alice) --get $SYSLOCATION
sec_check "trusted: control: alice is served" served "$out"
# The CA row matches the trust anchor of the verified path (R3), whether
# the peer sends the root or not.
sec_peer out --connect "$target" $(sec_as deep4) $(sec_chain int4 int3 int2 int1 ca) --get $SYSLOCATION
sec_check "trusted: control: deep4 sent [deep4, int4..int1, ca]" \
    sec_sent_exactly "$out" deep4 int4 int3 int2 int1 ca
sec_check "trusted: control: deep4 [deep4, int4..int1, ca] (4 intermediate CAs) is served" served "$out"
sec_peer out --connect "$target" $(sec_as deep4) $(sec_chain int4 int3 int2 int1) --get $SYSLOCATION
sec_check "trusted: control: deep4 [deep4, int4..int1] (root not sent) is served" served "$out"

sec_peer out --connect "$target" $(sec_as client-serverauth) --get $SYSLOCATION
refused "trusted: EKU serverAuth-only client" client-serverauth "$out"
sec_peer out --connect "$target" $(sec_as deep5) $(sec_chain int5 int4 int3 int2 int1 ca) --get $SYSLOCATION
sec_check "trusted: deep5 sent [deep5, int5..int1, ca]" \
    sec_sent_exactly "$out" deep5 int5 int4 int3 int2 int1 ca
refused "trusted: 5 intermediate CAs [deep5, int5..int1, ca]" deep5 "$out"
sec_peer out --connect "$target" $(sec_as deep5) $(sec_chain int5 int4 int3 int2 int1) --get $SYSLOCATION
refused "trusted: 5 intermediate CAs [deep5, int5..int1]" deep5 "$out"

sec_peer out --connect "$target" $(sec_as alice) --get $SYSLOCATION
sec_check "trusted: alice still served after the refusals" served "$out"
tl_agent_stop trusted || sec_fail "trusted: agent exit status"

# --- pinned ------------------------------------------------------------------
agent pinned
sec_peer out --connect "$target" $(sec_as alice) --get $SYSLOCATION
sec_check "pinned: control: alice (pinned) is served" served "$out"
sec_peer out --connect "$target" $(sec_as client-serverauth) --get $SYSLOCATION
refused "pinned: EKU serverAuth-only client" client-serverauth "$out"
tl_agent_stop pinned || sec_fail "pinned: agent exit status"

sec_done "client certificates need the clientAuth purpose and a chain of at most 4 intermediates"
