#!/bin/bash
# Privilege escalation through an appended certificate (RFC 5246 7.4.2,
# RFC 6353 5.3.2): bob presents his own leaf followed by alice's
# certificate, [bob, alice].  alice's certificate certifies nothing in
# bob's path, so the agent must refuse the handshake (rule R2), and must
# never map bob to alice (a certSecName row matches the leaf or a CA of
# the verified path only, rule R3).
#
#   certSecName 10 <alice> --sn alice   alice reads the system group,
#   certSecName 20 <bob>   --sn bob     bob only sysLocation.
#
# (a) the CA is trusted (trustCert ca), (b) it is not: alice and bob are
# accepted by their rows' fingerprints only.  Controls in both: alice with
# her honest chain reads sysContact; bob with [bob] and [bob, ca] is served
# as bob (sysLocation yes, sysContact no); the agent keeps serving after
# the attack.  The attacker is tests/security/dtls-peer (OpenSSL only).
set -u
. "$top_srcdir/tests/lib/snmpd.sh"
. "$top_srcdir/tests/integration/agent-lib.sh"
. "$top_srcdir/tests/security/sec-lib.sh"

sec_init

SYSCONTACT=.1.3.6.1.2.1.1.4.0
SYSLOCATION=.1.3.6.1.2.1.1.6.0
SECRET=alice-only-contact
SHARED=shared-location

# run_case LABEL [LINE...]: one agent with the rows above plus LINEs.
run_case() {
    local c=$1 port target out log
    shift
    tl_free_udp_port port || exit 1
    al_agent "$c" "$@" \
        "certSecName 10 $(tl_fp alice) --sn alice" \
        "certSecName 20 $(tl_fp bob) --sn bob" \
        "rouser -s tsm alice authpriv .1.3.6.1.2.1.1" \
        "rouser -s tsm bob authpriv .1.3.6.1.2.1.1.6" \
        "sysContact $SECRET" "sysLocation $SHARED"
    tl_agent_listen "$c" "dtlsudp:127.0.0.1:$port"
    al_agent_start "$c" || tl_fail "$c: agent did not start"
    target=127.0.0.1:$port
    log=$(tl_log_file "$c")

    # Controls: the honest peers are served, each as itself.
    sec_peer out --connect "$target" $(sec_as alice) --get $SYSCONTACT
    sec_check "$c: control: alice [alice] reads sysContact" has "$out" "value 0x04 \"$SECRET\""
    sec_peer out --connect "$target" $(sec_as bob) --get $SYSLOCATION
    sec_check "$c: control: bob [bob] reads sysLocation" has "$out" "value 0x04 \"$SHARED\""
    sec_peer out --connect "$target" $(sec_as bob) --get $SYSCONTACT
    sec_check "$c: control: bob [bob] handshake completes" has "$out" "handshake ok"
    sec_check "$c: control: bob [bob] cannot read sysContact" lacks "$out" "$SECRET"
    sec_peer out --connect "$target" $(sec_as bob) $(sec_chain ca) --get $SYSLOCATION
    sec_check "$c: control: bob [bob, ca] reads sysLocation" has "$out" "value 0x04 \"$SHARED\""
    sec_check "$c: bob's honest sessions map to bob" tl_log_has "$c" "mapped to securityName bob"

    # The attack: [bob, alice].
    sec_peer out --connect "$target" $(sec_as bob) $(sec_chain alice) --get $SYSCONTACT
    sec_check "$c: attack: the peer sent exactly [bob, alice]" sec_sent_exactly "$out" bob alice
    sec_check "$c: attack: bob [bob, alice] does not read alice's sysContact" lacks "$out" "$SECRET"
    sec_check "$c: attack: bob [bob, alice] is refused (handshake fails)" [ "$SEC_RC" -eq 1 ]
    sec_check "$c: attack: refusal logged for bob's fingerprint" \
        sec_refusal_logged "$log" client bob
    # The refused handshake cost nothing: the agent still serves.
    sec_peer out --connect "$target" $(sec_as alice) --get $SYSCONTACT
    sec_check "$c: alice is still served after the attack" has "$out" "value 0x04 \"$SECRET\""
    tl_agent_stop "$c" || sec_fail "$c: agent exit status"
}

run_case trusted "[snmp] trustCert ca"
run_case pinned
sec_done "an appended certificate never changes who the peer is"
