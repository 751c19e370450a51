#!/bin/bash
# The library's client pin (libdtlsudp, examples/dtls-echo-client
# --peer-fingerprint) against a rogue server presenting its own self-signed
# leaf followed by the pinned certificate, [rogue, server]: a pin matches
# the leaf (or a CA of a verified path) only, so the connection must fail
# and nothing reach the rogue (R2, R3).  Control: the real server
# certificate is accepted and the data reaches the peer.
set -u
. "$top_srcdir/tests/lib/snmpd.sh"
. "$top_srcdir/tests/integration/agent-lib.sh"
. "$top_srcdir/tests/security/sec-lib.sh"

echo_client=$top_builddir/examples/dtls-echo-client
[ -x "$echo_client" ] || tl_skip "examples/dtls-echo-client is not built"
sec_init noagent

# run LABEL PEER-ARGS...: dtls-peer --listen with PEER-ARGS, the echo
# client pinned to server.crt sends one line.  Sets APP_RC/APP_OUT,
# SEC_RC/SEC_OUT.
run() {
    local label=$1 port
    shift
    tl_free_udp_port port || exit 1
    sec_listen "$label" "$port" "$@"
    APP_RC=0
    APP_OUT=$(echo "hello from the client" | with_timeout 20 "$echo_client" \
        --cert "$TL_CERTS/peer/alice.crt" --key "$TL_CERTS/peer/alice.key" \
        --peer-fingerprint "$(tl_fp server)" 127.0.0.1 "$port" 2>&1) || APP_RC=$?
    tl_log "$label: dtls-echo-client -> $APP_RC"
    sed 's/^/#   /' <<<"$APP_OUT" >&2
    sec_listen_wait "$label"
}

run control $(sec_as server)
sec_check "control: the pinned server is accepted and the data reaches it" sec_reached
sec_check "control: the client connects" lacks "$APP_OUT" "cannot connect"

run rogue $(sec_as rogue) $(sec_chain server)
sec_check "rogue sent exactly [rogue, server]" sec_sent_exactly "$SEC_OUT" rogue server
sec_check "rogue [rogue, server]: no data reaches it" sec_not_reached
sec_check "rogue [rogue, server]: the client cannot connect" has "$APP_OUT" "cannot connect"

sec_done "a library pin matches the leaf, not an appended certificate"
