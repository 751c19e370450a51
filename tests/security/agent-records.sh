#!/bin/bash
# The agent's record layer after the hand-off (RFC 6347 4.1.2.6, 4.1.2.7):
# once snmpd's associations have left OpenSSL, records are opened by the
# transport itself.  An OpenSSL-only peer (tests/security/dtls-peer) that
# was just answered sends, as raw bytes on its association's socket:
#   (a) its GET datagram again: a replay, never answered;
#   (b) a GET datagram of its second association (other keys), from the
#       first one's address and port: never answered;
#   (c) its GET datagram after its close_notify ended the association:
#       never answered.
# Controls: every GET is answered before the attack, and (a) and (b) are
# followed by a fresh GET on the same association, which is answered: the
# rejected record changed nothing.  A second agent with dtlsudpRecordHandoff
# 0 (OpenSSL keeps every association) behaves the same.
set -u
. "$top_srcdir/tests/lib/snmpd.sh"
. "$top_srcdir/tests/integration/agent-lib.sh"
. "$top_srcdir/tests/security/sec-lib.sh"

sec_init

SYSLOCATION=.1.3.6.1.2.1.1.6.0
SHARED=records-location

run_case() {
    local c=$1 port target out
    shift
    tl_free_udp_port port || exit 1
    al_agent "$c" "$@" \
        "[snmp] trustCert ca" \
        "certSecName 10 $(tl_fp alice) --sn alice" \
        "rouser -s tsm alice authpriv .1.3.6.1.2.1.1" \
        "sysLocation $SHARED"
    tl_agent_listen "$c" "dtlsudp:127.0.0.1:$port"
    al_agent_start "$c" || tl_fail "$c: agent did not start"
    target=127.0.0.1:$port

    sec_peer out --connect "$target" $(sec_as alice) --get $SYSLOCATION --attack replay
    sec_check "$c: replay: control: the GET is answered" has "$out" "value 0x04 \"$SHARED\""
    sec_check "$c: replay: the same datagram again is not answered" has "$out" "attack: no answer"
    sec_check "$c: replay: a fresh GET afterwards is answered" has "$out" "control: response: pdu"

    sec_peer out --connect "$target" $(sec_as alice) --get $SYSLOCATION --attack foreign
    sec_check "$c: foreign: control: the GET is answered" has "$out" "value 0x04 \"$SHARED\""
    sec_check "$c: foreign: another association's record is not answered" has "$out" "attack: no answer"
    sec_check "$c: foreign: a fresh GET afterwards is answered" has "$out" "control: response: pdu"

    sec_peer out --connect "$target" $(sec_as alice) --get $SYSLOCATION --attack after-close
    sec_check "$c: after-close: control: the GET is answered" has "$out" "value 0x04 \"$SHARED\""
    sec_check "$c: after-close: a record after close_notify is not answered" has "$out" "attack: no answer"

    # The agent still serves.
    sec_peer out --connect "$target" $(sec_as alice) --get $SYSLOCATION
    sec_check "$c: the agent still serves" has "$out" "value 0x04 \"$SHARED\""
    tl_agent_stop "$c" || sec_fail "$c: agent exit status"
}

run_case handoff
run_case openssl "dtlsudpRecordHandoff 0"
sec_done "replayed, foreign and post-close records are never answered"
