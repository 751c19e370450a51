#!/bin/bash
# Stock snmpd + dtlsudp.so, stock Net-SNMP clients (their built-in DTLS
# client): GET, GETNEXT, walk, bulkwalk, SET, on IPv4 and IPv6, with both
# demultiplexers.
set -u
. "$top_srcdir/tests/lib/snmpd.sh"
. "$top_srcdir/tests/integration/agent-lib.sh"

al_init
fp=$(tl_fp client) || exit 1

for demux in osnet router; do
    tl_free_udp_port p4 || exit 1
    tl_free_udp_port p6 || exit 1
    a=agent-$demux
    al_agent "$a" "dtlsudpDemux $demux" \
        "certSecName 10 $fp --sn alice" \
        "rwuser -s tsm alice authpriv"
    # Both families, and the IPv6 one through the dtlsudp6 prefix.
    tl_conf "$a" "agentAddress dtlsudp:127.0.0.1:$p4,dtlsudp6:[::1]:$p6"
    tl_expect_port "$a" "$p4"
    tl_expect_port "$a" "$p6"
    al_agent_start "$a" || tl_fail "$demux: agent did not start"
    ss -Hauln "sport = :$p6" | grep -q '\[::1\]' || tl_fail "$demux: dtlsudp6 did not bind ::1"

    c=mgr-$demux
    al_client "$c"
    for target in "dtlsudp:127.0.0.1:$p4" "dtlsudp6:[::1]:$p6"; do
        al_expect_ok "$demux $target: GET" tl_client "$c" snmpget -v3 -r3 -t3 -On "$target" \
            .1.3.6.1.2.1.1.1.0
        echo "$AL_OUT" | grep -q '^.1.3.6.1.2.1.1.1.0 = STRING' || tl_fail "$demux $target: GET output: $AL_OUT"
        al_expect_ok "$demux $target: GETNEXT" tl_client "$c" snmpgetnext -v3 -r3 -t3 -On "$target" \
            .1.3.6.1.2.1.1.1
        echo "$AL_OUT" | grep -q '^.1.3.6.1.2.1.1.1.0 = ' || tl_fail "$demux $target: GETNEXT output: $AL_OUT"
        al_expect_ok "$demux $target: walk" tl_client "$c" snmpwalk -v3 -r3 -t3 -On "$target" \
            .1.3.6.1.2.1.1
        [ "$(echo "$AL_OUT" | grep -c '^.1.3.6.1.2.1.1.')" -ge 7 ] || tl_fail "$demux $target: walk: $AL_OUT"
        al_expect_ok "$demux $target: bulkwalk" tl_client "$c" snmpbulkwalk -v3 -r3 -t3 -On "$target" \
            .1.3.6.1.2.1.1
        [ "$(echo "$AL_OUT" | grep -c '^.1.3.6.1.2.1.1.')" -ge 7 ] || tl_fail "$demux $target: bulkwalk: $AL_OUT"
    done
    # SET on a writable object (rwuser), read back over the other family.
    al_expect_ok "$demux: SET sysContact" tl_client "$c" snmpset -v3 -r3 -t3 \
        "dtlsudp:127.0.0.1:$p4" .1.3.6.1.2.1.1.4.0 s "set-over-dtls-$demux"
    al_expect_ok "$demux: GET after SET" tl_client "$c" snmpget -v3 -r3 -t3 -Ov \
        "dtlsudp6:[::1]:$p6" .1.3.6.1.2.1.1.4.0
    echo "$AL_OUT" | grep -q "set-over-dtls-$demux" || tl_fail "$demux: SET not visible: $AL_OUT"

    al_proof "$a"
    tl_log_has "$a" "listening on 127.0.0.1:$p4 ($demux demux)" || tl_fail "$demux: demux not in use"
    tl_agent_stop "$a" || tl_fail "$demux: agent exit status $?"
done
# "dtlsudp:[::]:PORT": one dual-stack listener for IPv4 and IPv6 clients.
tl_free_udp_port pd || exit 1
al_agent dual "certSecName 10 $fp --sn alice" "rouser -s tsm alice authpriv" \
    "dtlsudpMTU 100" "dtlsudpDemux sideways"
tl_agent_listen dual "dtlsudp:[::]:$pd"
al_agent_start dual || tl_fail "dual: agent did not start"
# ss shows the IPv6 wildcard as "*" (dual-stack) or "[::]".
ss -Hauln "sport = :$pd" | grep -qE '(\[::\]|\*):'"$pd" || tl_fail "dual: not bound to [::]"
al_client mgr-dual
for target in "dtlsudp:127.0.0.1:$pd" "dtlsudp6:[::1]:$pd"; do
    al_expect_ok "dual $target: GET" tl_client mgr-dual snmpget -v3 -r3 -t3 -On "$target" .1.3.6.1.2.1.1.3.0
done
al_proof dual
# Bad token values are reported with file and line, and ignored.
tl_log_has dual "snmpd.conf: line [0-9]*: Error: dtlsudpMTU '100': value out of range" ||
    tl_fail "dual: no file/line error for a bad dtlsudpMTU"
tl_log_has dual "Error: dtlsudpDemux 'sideways': expected osnet or router" ||
    tl_fail "dual: no error for a bad dtlsudpDemux"
tl_agent_stop dual || tl_fail "dual: agent exit status $?"
# "dtlsudp:PORT,dtlsudp6:[::]:PORT": dtlsudp6 binds IPv6 only (IPV6_V6ONLY),
# so both wildcards share the port number, as with udp/udp6.
tl_free_udp_port pb || exit 1
al_agent both "certSecName 10 $fp --sn alice" "rouser -s tsm alice authpriv"
tl_agent_listen both "dtlsudp:$pb,dtlsudp6:[::]:$pb"
al_agent_start both || tl_fail "both: agent did not start with dtlsudp:$pb,dtlsudp6:[::]:$pb"
al_client mgr-both
for target in "dtlsudp:127.0.0.1:$pb" "dtlsudp6:[::1]:$pb"; do
    al_expect_ok "both $target: GET" tl_client mgr-both snmpget -v3 -r3 -t3 -On "$target" .1.3.6.1.2.1.1.3.0
done
al_proof both
tl_agent_stop both || tl_fail "both: agent exit status $?"
echo "PASS: GET/GETNEXT/walk/bulkwalk/SET over dtlsudp and dtlsudp6, osnet and router; dual-stack [::]; dtlsudp + dtlsudp6 wildcards on one port"
