#!/bin/bash
# This project's client role (through a test-only preload shim, as the
# manager loader does) inside stock snmpget/snmpwalk/snmpset: against the
# plugin (osnet/IPv4, router/IPv6) and against Net-SNMP's built-in DTLSUDP
# server (interoperability).
set -u
. "$top_srcdir/tests/lib/snmpd.sh"
. "$top_srcdir/tests/integration/agent-lib.sh"

al_init
SHIM=$top_builddir/tests/integration/.libs/dtlsudp-preload-shim.so
[ -f "$SHIM" ] || tl_skip "preload shim not built"
fp=$(tl_fp client) || exit 1

# ours CMD ARGS...: CMD as the manager `mgr', through this project's
# client role (checked).
ours() { al_ours mgr "$1" -v3 -r2 -t3 "${@:2}"; }

al_client mgr
if [ "$AL_ASAN" = 1 ]; then
    # An ASan-built shim in a stock client: the runtime must come first.
    tl_env mgr "LD_PRELOAD=$AL_ASAN_LIB $SHIM" "ASAN_OPTIONS=detect_leaks=0:abort_on_error=1"
else
    tl_env mgr "LD_PRELOAD=$SHIM"
fi

tl_free_udp_port p4 || exit 1
tl_free_udp_port p6 || exit 1
tl_free_udp_port pu || exit 1
al_agent plugin "certSecName 10 $fp --sn alice" "rwuser -s tsm alice authpriv" \
    "agentAddress dtlsudp:127.0.0.1:$p4" "dtlsudpDemux router" \
    "agentAddress udp:127.0.0.1:$pu" "rocommunity public 127.0.0.1"
tl_expect_port plugin "$pu"
tl_conf plugin "agentAddress dtlsudp6:[::1]:$p6"
tl_expect_port plugin "$p4"
tl_expect_port plugin "$p6"
al_agent_start plugin || tl_fail "plugin agent did not start"

for target in "dtlsudp:127.0.0.1:$p4" "dtlsudp6:[::1]:$p6" "dtlsudp:[::1]:$p6"; do
    out=$(ours snmpget -On "$target" .1.3.6.1.2.1.1.5.0) || tl_fail "$target: GET"
    echo "$out" | grep -q '^.1.3.6.1.2.1.1.5.0 = STRING' || tl_fail "$target: GET output: $out"
    out=$(ours snmpwalk -On "$target" .1.3.6.1.2.1.1) || tl_fail "$target: walk"
    [ "$(echo "$out" | grep -c '^.1.3.6.1.2.1.1.')" -ge 7 ] || tl_fail "$target: walk output: $out"
done
ours snmpset "dtlsudp:127.0.0.1:$p4" .1.3.6.1.2.1.1.6.0 s "ours-$$" >/dev/null || tl_fail "SET"
out=$(ours snmpget -Ov "dtlsudp6:[::1]:$p6" .1.3.6.1.2.1.1.6.0) || tl_fail "GET after SET"
echo "$out" | grep -q "ours-$$" || tl_fail "SET not visible: $out"
al_proof plugin

# Between requests the session's fd stays quiet: after each response,
# nothing is readable (a readable fd would wake the application's select()
# for nothing once per message).  udp on the same agent is the control.
WAKEUPS=$top_builddir/tests/integration/manager-wakeups
for target in "dtlsudp:127.0.0.1:$p4" "dtlsudp6:[::1]:$p6"; do
    out=$(tl_client mgr "$WAKEUPS" 50 -v3 -r2 -t3 "$target" .1.3.6.1.2.1.1.5.0 2>&1) ||
        tl_fail "$target: the fd was readable between requests: $out"
    tl_log "$target: $out"
done
out=$(tl_client mgr "$WAKEUPS" 50 -v2c -c public "udp:127.0.0.1:$pu" .1.3.6.1.2.1.1.5.0 2>&1) ||
    tl_fail "udp control: $out"

# Handshake failures name their cause on the manager: the agent refuses our
# certificate (its alert, and what to fix), and no cipher suite in common
# (the agent allows only a legacy CBC suite).
fails() { # fails DESC PATTERN CLIENT TARGET: our snmpget fails at once, saying PATTERN
    local out
    if out=$(tl_client "$3" snmpget -Ddtlsudp -v3 -r0 -t4 -On "$4" .1.3.6.1.2.1.1.5.0 2>&1); then
        tl_fail "$1: succeeded: $out"
    fi
    grep -qi timeout <<<"$out" && tl_fail "$1: timed out instead of failing the handshake: $out"
    grep -Eq "$2" <<<"$out" || tl_fail "$1: no clear error (wanted /$2/): $out"
    tl_log "$1: $(grep 'no session' <<<"$out")"
}
tl_client_new stranger "localCert client-unknown-ca" "peerCert server"
tl_env stranger "$(cat "$TL_TMP/mgr/env")"
fails "agent refuses our certificate" \
    'no session with .*the agent sent alert unknown CA: it refused our certificate \(localCert\)' \
    stranger "dtlsudp:127.0.0.1:$p4"
tl_log_has plugin "refused client certificate SHA256 $(tl_fp client-unknown-ca)" ||
    tl_fail "the agent did not log its refusal"
# The other way round: the manager refuses the agent's certificate (its
# peerCert names another one, while its chain verifies).  The manager's
# alert is bad_certificate, so the agent's line points at its certificate,
# not at the cipher suites.
tl_client_new picky "localCert client" "peerCert client-ec" "trustCert ca"
tl_env picky "$(cat "$TL_TMP/mgr/env")"
fails "manager refuses the agent's certificate" 'no session with .*peer certificate refused' \
    picky "dtlsudp:127.0.0.1:$p4"
said=0
for _ in $(seq 50); do # the agent reads the alert on its next pump: 5 s at most
    tl_log_has plugin "handshake with 127.0.0.1:[0-9]* failed: the manager sent alert bad certificate: it refused our certificate" &&
        { said=1; break; }
    sleep 0.1
done
[ $said = 1 ] || tl_fail "the agent did not say that the manager refused its certificate: $(grep 'handshake with' "$(tl_log_file plugin)")"
tl_agent_stop plugin || tl_fail "plugin agent exit status"

tl_free_udp_port pl || exit 1
al_agent legacy "certSecName 10 $fp --sn alice" "rouser -s tsm alice authpriv" \
    "[snmp] tlsAlgorithms ECDHE-ECDSA-AES128-SHA"
tl_agent_listen legacy "dtlsudp:127.0.0.1:$pl"
al_agent_start legacy || tl_fail "legacy agent did not start"
fails "no cipher suite in common" \
    'no session with .*handshake failure: most often no cipher suite in common; ours \(tlsAlgorithms\) is the default' \
    mgr "dtlsudp:127.0.0.1:$pl"
tl_log_has legacy "handshake with 127.0.0.1:[0-9]* failed: no cipher suite in common with the manager; ours (tlsAlgorithms) is ECDHE-ECDSA-AES128-SHA" ||
    tl_fail "the agent did not log the cipher mismatch"
# The line dtlsudp(5) gives for legacy peers works.
tl_client_new modern "localCert client" "peerCert server" \
    "tlsAlgorithms ECDHE+AESGCM:ECDHE+CHACHA20:ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:!aNULL"
tl_env modern "$(cat "$TL_TMP/mgr/env")"
out=$(tl_client modern snmpget -v3 -r1 -t4 -On "dtlsudp:127.0.0.1:$pl" .1.3.6.1.2.1.1.5.0 2>&1) ||
    tl_fail "the documented tlsAlgorithms line for legacy peers: $out"
tl_agent_stop legacy

# Net-SNMP's own server, no plugin.
tl_free_udp_port pb || exit 1
tl_agent_new builtin
tl_conf builtin "[snmp] localCert server" "certSecName 10 $fp --sn alice" \
    "rouser -s tsm alice authpriv"
tl_agent_listen builtin "dtlsudp:127.0.0.1:$pb"
tl_agent_start builtin || tl_fail "built-in agent did not start"
out=$(ours snmpget -On "dtlsudp:127.0.0.1:$pb" .1.3.6.1.2.1.1.5.0) || tl_fail "built-in: GET"
echo "$out" | grep -q '^.1.3.6.1.2.1.1.5.0 = STRING' || tl_fail "built-in: GET output: $out"
tl_log_has builtin "dtlsudp [0-9.]* loaded" && tl_fail "built-in agent loaded the plugin?"
tl_agent_stop builtin
echo "PASS: client role against the plugin and against Net-SNMP's built-in server"
