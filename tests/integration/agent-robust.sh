#!/bin/bash
# The plugin under abuse, with stock Net-SNMP clients: garbage datagrams,
# a flood of cookie-less ClientHellos from fresh ports (answered statelessly
# with HelloVerifyRequests, RFC 6347 4.2.1), 50 clients at once (both
# demultiplexers), SIGHUP during traffic (the plugin is pinned and init is
# idempotent), and close_notify to a connected peer when snmpd stops
# (RFC 6353 5.4).  The agent must keep serving throughout.
set -u
. "$top_srcdir/tests/lib/snmpd.sh"
. "$top_srcdir/tests/integration/agent-lib.sh"

al_init
tl_require python3 openssl
PROBE="python3 $top_srcdir/tests/integration/dtls-probe.py"
fp=$(tl_fp client) || exit 1
al_client mgr
SHIM=$top_builddir/tests/integration/.libs/dtlsudp-preload-shim.so
[ -f "$SHIM" ] || tl_skip "preload shim not built"
al_client ours
if [ "$AL_ASAN" = 1 ]; then
    tl_env ours "LD_PRELOAD=$AL_ASAN_LIB $SHIM" "ASAN_OPTIONS=detect_leaks=0:abort_on_error=1"
else
    tl_env ours "LD_PRELOAD=$SHIM"
fi
rcvbuf_errors() { awk '/^Udp:/ { n++ } /^Udp:/ && n == 2 { print $6 }' /proc/net/snmp; }

get_ok() { # get_ok TARGET
    tl_client mgr snmpget -v3 -r3 -t3 -Ov "$1" .1.3.6.1.2.1.1.5.0 >/dev/null 2>&1
}

for demux in osnet router; do
    tl_free_udp_port p || exit 1
    a=agent-$demux
    # The 50-client bursts below come from one address.  With the default
    # per-source cap (8 idle handshakes, 64 in all) an ASan agent on a
    # loaded host (load 9-18, 1706 UDP receive-buffer drops during the
    # burst) still saw 8 of the burst's handshakes silent for 3 s at once
    # and evicted one: that client failed at once with "the agent sent
    # alert internal error" (49 of 50 ok).  This test is about concurrency,
    # not that cap (tests/security/test_halfopen_flood and
    # tests/engine/test_admission are), so the cap fits the burst.
    al_agent "$a" "dtlsudpDemux $demux" "certSecName 10 $fp --sn alice" "rouser -s tsm alice authpriv" \
        "dtlsudpMaxHalfOpenPerSource 64"
    tl_conf "$a" "agentAddress dtlsudp:127.0.0.1:$p,dtlsudp6:[::1]:$p"
    tl_expect_port "$a" "$p"
    al_agent_start "$a" || tl_fail "$demux: agent did not start"
    t4="dtlsudp:127.0.0.1:$p"
    if [ "$demux" = osnet ]; then
        keep_p=$p
        keep_t4=$t4
    fi

    out=$($PROBE garbage 127.0.0.1 "$p" 400) || tl_fail "$demux: probe"
    tl_log "$demux: $out"
    echo "$out" | grep -q "replies 0$" || tl_fail "$demux: garbage was answered: $out"
    $PROBE garbage ::1 "$p" 100 >/dev/null || tl_fail "$demux: probe v6"
    get_ok "$t4" || tl_fail "$demux: no service after garbage"

    out=$($PROBE hellos 127.0.0.1 "$p" 500) || tl_fail "$demux: probe"
    tl_log "$demux: $out"
    n=$(echo "$out" | sed -n 's/.*hello_verify_requests \([0-9]*\)$/\1/p')
    # UDP on loopback may drop a few under load; most must be answered.
    [ "${n:-0}" -ge 400 ] || tl_fail "$demux: cookie exchange answered only ${n:-0}/500"
    get_ok "$t4" || tl_fail "$demux: no service after the hello flood"

    # 50 clients at once, twice: this project's client role (the test-only
    # preload shim), which must all succeed, then Net-SNMP's stock client.
    # The stock client only resends handshake messages on SNMP retries and
    # stalls under load (measured here with an ASan agent at load 20: 0/50
    # failures with ours, 2-11/50 with the stock client, same agent, same
    # burst); it must get at least 45 of 50 through.
    burst() { # burst NAME MIN_OK
        local i pid fails=0 drops_before
        local -a pids=()
        drops_before=$(rcvbuf_errors)
        for i in $(seq 1 50); do
            tl_client "$1" snmpget -v3 -r4 -t4 -Ov "$t4" .1.3.6.1.2.1.1.5.0 \
                >"$TL_TMP/c50-$demux-$1-$i.out" 2>&1 &
            pids+=($!)
        done
        for pid in "${pids[@]}"; do
            wait "$pid" || fails=$((fails + 1))
        done
        tl_log "$demux: $1: $((50 - fails)) of 50 concurrent clients ok"
        if [ $((50 - fails)) -lt "$2" ]; then
            grep -L 'STRING' "$TL_TMP"/c50-"$demux"-"$1"-*.out | head -3 | xargs cat >&2
            # Host-wide UDP receive-buffer drops during the burst, and the
            # plugin's own counters (DTLSUDP-MIB, experimental.6353).
            tl_log "UDP RcvbufErrors during the burst: $(($(rcvbuf_errors) - drops_before))"
            tl_client mgr snmpwalk -v3 -r3 -t5 -On "$t4" .1.3.6.1.3.6353.1.1 2>&1 >&2
            tl_fail "$demux: $1: $fails of 50 concurrent clients failed"
        fi
    }
    burst ours 50
    burst mgr 45
    tl_pid_alive "$(tl_pid "$a")" || tl_fail "$demux: agent died"
    al_proof "$a"
    [ "$demux" = osnet ] || tl_agent_stop "$a" || tl_fail "$demux: agent exit status"
done

# SIGHUP during traffic (osnet agent still running).
a=agent-osnet
p=$keep_p
t4=$keep_t4
pid=$(tl_pid "$a")
(
    rc=0
    for i in $(seq 1 15); do get_ok "$t4" || rc=1; done
    exit $rc
) &
traffic=$!
for i in 1 2 3; do
    sleep 0.3
    kill -HUP "$pid" || tl_fail "SIGHUP"
done
wait "$traffic" || tl_fail "requests failed across SIGHUP"
get_ok "$t4" || tl_fail "no service after SIGHUP"
tl_pid_alive "$pid" || tl_fail "agent died on SIGHUP"
[ "$(grep -c 'dtlsudp [0-9.]* loaded' "$(tl_log_file "$a")")" -eq 1 ] ||
    tl_fail "the plugin announced itself more than once (not idempotent)"
tl_log_has "$a" "init again" || tl_fail "the plugin was not re-initialised on SIGHUP"

# close_notify when snmpd stops: a connected peer (openssl s_client) sees
# an alert record with level warning(1), description close_notify(0).
C=$TL_CERTS/tls
( sleep 20 | with_timeout 25 openssl s_client -dtls1_2 -connect "127.0.0.1:$p" \
    -cert "$C/certs/client.crt" -key "$C/private/client.key" -msg -quiet \
    >"$TL_TMP/s_client.out" 2>&1 ) &
sc=$!
for i in $(seq 1 100); do
    tl_log_has "$a" "association [0-9]* established" && break
    sleep 0.1
done
sleep 0.3
tl_agent_stop "$a" || tl_fail "agent exit status"
wait "$sc"
grep -A1 '^<<< .*content_type=21) \[length 0002\]' "$TL_TMP/s_client.out" | grep -q '^ *01 00' ||
    { cat "$TL_TMP/s_client.out" >&2; tl_fail "no close_notify from the stopping agent"; }
echo "PASS: garbage, cookie-less hellos, 50 clients, SIGHUP, close_notify"
