#!/bin/bash
# Session ids against the agent's session cache (dtlsudpSessionCache, RFC
# 5246 7.3).  A session id travels in clear in the ServerHello, and so does
# its cipher suite; only the master secret is private.  bob, a manager
# with an account of his own, runs an OpenSSL-only peer
# (tests/security/dtls-peer) that offers his own session (his master
# secret) under alice's session id, which he saw on the wire:
#   (a) as it is: the agent starts the abbreviated handshake of alice's
#       session, which bob cannot finish;
#   (b) with a cipher list that lacks the session's cipher: OpenSSL in the
#       agent ends the handshake with a fatal alert after the cache lookup;
#   (c) answering the agent's resuming ServerHello with a fatal alert of
#       his own.
# None may give bob anything of alice's, and none may cost alice her
# session: only an association that proved the master secret may
# invalidate a cached session (RFC 5246 7.2.2 asks to forget the session
# of a connection that ends in a fatal alert; these connections never
# held it).  Before the cache handed OpenSSL a copy of each session, (b)
# and (c) made OpenSSL mark alice's cached session not resumable, so her
# next connection ran a full handshake.
#
# Controls: alice's first connection is a full handshake that reads
# sysContact (alice only); her saved session resumes ("resumed: yes") and
# reads it again, before and after each attack; bob is served as bob, in
# full and resumed handshakes; the agent keeps serving.
set -u
. "$top_srcdir/tests/lib/snmpd.sh"
. "$top_srcdir/tests/integration/agent-lib.sh"
. "$top_srcdir/tests/security/sec-lib.sh"

sec_init

SYSCONTACT=.1.3.6.1.2.1.1.4.0
SYSLOCATION=.1.3.6.1.2.1.1.6.0
SECRET=alice-only-contact
SHARED=session-location
SESSION=$TL_TMP/alice.session
BOB_SESSION=$TL_TMP/bob.session

# alice_resumes LABEL: alice offers her saved session and reads sysContact.
alice_resumes() {
    local out
    sec_peer out --connect "$target" $(sec_as alice) --resume "$SESSION" --get $SYSCONTACT
    sec_check "$1: alice resumes her session" has "$out" "resumed: yes"
    sec_check "$1: alice reads sysContact" has "$out" "value 0x04 \"$SECRET\""
}

tl_free_udp_port port || exit 1
al_agent cache "dtlsudpSessionCache 16" \
    "[snmp] trustCert ca" \
    "certSecName 10 $(tl_fp alice) --sn alice" \
    "certSecName 20 $(tl_fp bob) --sn bob" \
    "rouser -s tsm alice authpriv .1.3.6.1.2.1.1" \
    "rouser -s tsm bob authpriv .1.3.6.1.2.1.1.6" \
    "sysContact $SECRET" "sysLocation $SHARED"
tl_agent_listen cache "dtlsudp:127.0.0.1:$port"
al_agent_start cache || tl_fail "agent did not start"
target=127.0.0.1:$port

# Controls: a full handshake leaves alice a session, which resumes.
sec_peer out --connect "$target" $(sec_as alice) --get $SYSCONTACT --save-session "$SESSION"
sec_check "control: alice reads sysContact" has "$out" "value 0x04 \"$SECRET\""
sec_check "control: alice's session is saved" has "$out" "session saved: id "
read -r id cipher < <(sed -n 's/^session saved: id \([0-9A-F]*\) cipher \(.*\)$/\1 \2/p' <<<"$out")
[ -n "${id:-}" ] && [ -n "${cipher:-}" ] || tl_fail "no session id or cipher in the peer's output"
alice_resumes control
sec_peer out --connect "$target" $(sec_as bob) --get $SYSLOCATION --save-session "$BOB_SESSION"
sec_check "control: bob reads sysLocation" has "$out" "value 0x04 \"$SHARED\""
sec_check "control: bob's session is saved" has "$out" "session saved: id "
sec_peer out --connect "$target" $(sec_as bob) --resume "$BOB_SESSION" --get $SYSCONTACT
sec_check "control: bob resumes his session" has "$out" "resumed: yes"
sec_check "control: bob, resumed, cannot read sysContact" lacks "$out" "$SECRET"
sec_check "control: bob, resumed, is answered (noAccess)" has "$out" "response: pdu"

# bob's session under alice's id.
offer=(--resume "$BOB_SESSION" --offer-id "$id")

# (a) The agent's Finished cannot be checked (its records do not open
# with bob's master secret), so the peer waits until its time is up.
SEC_PEER_TIMEOUT=2000 sec_peer out --connect "$target" $(sec_as bob) "${offer[@]}" --get $SYSCONTACT
sec_check "(a): the handshake does not complete" has "$out" "handshake failed: timeout"
sec_check "(a): nothing resumed" lacks "$out" "resumed: yes"
sec_check "(a): bob does not read alice's sysContact" lacks "$out" "$SECRET"
alice_resumes "after (a)"

# (b) A cipher list that cannot resume the session.
other=ECDHE-ECDSA-CHACHA20-POLY1305
[ "$cipher" != "$other" ] || other=ECDHE-ECDSA-AES256-GCM-SHA384
sec_peer out --connect "$target" $(sec_as bob) "${offer[@]}" --ciphers "$other" --get $SYSCONTACT
sec_check "(b): the handshake does not complete" [ "$SEC_RC" -eq 1 ]
sec_check "(b): the agent ended it with an alert" has "$out" "received alert"
sec_check "(b): bob does not read alice's sysContact" lacks "$out" "$SECRET"
alice_resumes "after (b)"

# (c) A fatal alert answers the agent's ServerHello.
sec_peer out --connect "$target" $(sec_as bob) "${offer[@]}" --alert-after-hello --get $SYSCONTACT
sec_check "(c): the handshake does not complete" has "$out" "we sent a fatal alert after the ServerHello"
sec_check "(c): bob does not read alice's sysContact" lacks "$out" "$SECRET"
alice_resumes "after (c)"

# The agent still serves everyone: a full handshake works.
sec_peer out --connect "$target" $(sec_as bob) --get $SYSLOCATION
sec_check "bob is still served" has "$out" "value 0x04 \"$SHARED\""
tl_agent_stop cache || sec_fail "agent exit status"
sec_done "an offered session id without its master secret resumes nothing and invalidates nothing"
