#!/bin/bash
# The library's defences hold through the proxy:
#  1. a spoofed ClientHello flood (bench/hello-flood: 6000 cookie-less
#     hellos from distinct 127/8 addresses) at the proxy server while real
#     snmpget requests go through the chain: every request is answered,
#     every hello costs a HelloVerifyRequest and nothing else (no
#     association, no upstream socket);
#  2. a lossy relay (fixed seed, 5% each way) between the proxy client and
#     the proxy server: every one of 10 snmpget processes (one handshake
#     each) is answered; lost handshake flights are retransmitted by the
#     library, lost requests by snmpget.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/lib/snmpd.sh"
. "$top_srcdir/tests/proxy/proxy-lib.sh"

flood=$top_builddir/bench/hello-flood
relay=$top_builddir/bench/lossy-relay
hellos=${PROXY_FLOOD_COUNT:-6000}
loss=${PROXY_LOSS_PERCENT:-5}
seed=${PROXY_LOSS_SEED:-42}
count=${PROXY_LOSS_COUNT:-10}

tl_require snmpd snmpget ss openssl
for f in "$flood" "$relay"; do
    [ -x "$f" ] || tl_skip "$(basename "$f") is not built"
done
tl_init
tl_make_certs
px_certs
tl_free_udp_port port

tl_agent_new agent
tl_agent_listen agent "udp:127.0.0.1:$port"
tl_conf agent "rocommunity public 127.0.0.1" "sysName proxied-agent"
tl_agent_start agent || tl_fail "snmpd did not start"

px_start server "
[server snmp]
listen 127.0.0.1:0
forward 127.0.0.1:$port
cert $PX_SERVER_CERT
key $PX_SERVER_KEY
ca $PX_CA"
sport=$(px_port server snmp)

# The relay, between the two proxies for part 2; our child, stopped by pid.
"$relay" -l 0 -t "$sport" -p "$loss" -s "$seed" -d 300 -P "$TL_TMP/relay.port" >"$TL_TMP/relay.out" 2>&1 &
relay_pid=$!
tl_on_exit "kill $relay_pid 2>/dev/null; wait $relay_pid 2>/dev/null"
for ((i = 0; i < 100; i++)); do [ -s "$TL_TMP/relay.port" ] && break; sleep 0.05; done
rport=$(cat "$TL_TMP/relay.port" 2>/dev/null) || tl_fail "the relay did not start"

client_section() { # NAME PORT
    printf '[client %s]\nlisten 127.0.0.1:0\nconnect 127.0.0.1:%s\nhostname localhost\nca %s\ncert %s\nkey %s\n' \
        "$1" "$2" "$PX_CA" "$PX_CLIENT_CERT" "$PX_CLIENT_KEY"
}
px_start client "$(client_section direct "$sport")
$(client_section lossy "$rport")"
direct=$(px_port client direct)
lossy=$(px_port client lossy)

# The clients' own persistent directory (see proxy-snmp.sh).
mkdir -p "$TL_TMP/client-persist"
export MIBS= SNMPCONFPATH=$TL_TMP HOME=$TL_TMP SNMP_PERSISTENT_DIR=$TL_TMP/client-persist
# The value on stdout; what snmpget says besides goes to the log.
get() { # PORT TIMEOUT RETRIES
    with_timeout 60 snmpget -v2c -c public -t "$2" -r "$3" -Oqv "udp:127.0.0.1:$1" .1.3.6.1.2.1.1.5.0 \
        2>>"$TL_TMP/snmpget.err"
}

# --- 1. flood -------------------------------------------------------------
"$flood" -a 127.0.0.1 -p "$sport" -n "$hellos" -r 3000 >"$TL_TMP/flood.out" 2>&1 &
flood_pid=$!
tl_on_exit "kill $flood_pid 2>/dev/null; wait $flood_pid 2>/dev/null"
answered=0 asked=0
while tl_pid_alive "$flood_pid" && [ $asked -lt 40 ]; do
    asked=$((asked + 1))
    out=$(get "$direct" 1 5) && [ "$out" = '"proxied-agent"' ] && answered=$((answered + 1))
done
wait "$flood_pid" || tl_fail "hello-flood failed: $(cat "$TL_TMP/flood.out")"
flood_pid=
sent=$(sed -n 's/.*sent=\([0-9]*\).*/\1/p' "$TL_TMP/flood.out")
[ "${sent:-0}" -ge $((hellos * 9 / 10)) ] || tl_fail "the flood sent only ${sent:-0} hellos"
[ $asked -ge 2 ] || tl_fail "the flood ended before the requests started ($asked)"
[ $answered -eq $asked ] || tl_fail "$answered of $asked requests answered during the flood"

px_signal server USR1
for ((i = 0; i < 100; i++)); do grep -q 'handshakes' "$(px_log server)" && break; sleep 0.05; done
report=$(grep 'dtlsudp-proxy\[snmp\]: associations' "$(px_log server)" | tail -n 1)
cookies=$(echo "$report" | sed -n 's/.*cookies \([0-9]*\) sent.*/\1/p')
opened=$(echo "$report" | sed -n 's/.* open, \([0-9]*\) opened.*/\1/p')
started=$(grep -c 'dtlsudp-proxy\[direct\]: association for' "$(px_log client)")
# Every spoofed hello was answered statelessly (the socket buffer may drop
# a few under load); only the real client's handshakes made associations.
[ "${cookies:-0}" -ge $((sent * 8 / 10)) ] || tl_fail "only ${cookies:-0} HelloVerifyRequests for $sent hellos: $report"
[ "$opened" -eq "$started" ] || tl_fail "$opened associations at the server for $started real ones: $report"
echo "ok: $answered/$asked requests answered during a flood of $sent spoofed hellos ($cookies cookies sent, $opened associations, all real)"

# --- 2. loss --------------------------------------------------------------
ok=0
for ((i = 1; i <= count; i++)); do
    out=$(get "$lossy" 2 5) && [ "$out" = '"proxied-agent"' ] && ok=$((ok + 1))
done
kill "$relay_pid" 2>/dev/null
wait "$relay_pid" 2>/dev/null
tl_log "relay: $(cat "$TL_TMP/relay.out")"
[ "$ok" -eq "$count" ] || tl_fail "only $ok/$count GETs answered through ${loss}% loss"
grep -q "dropped=[1-9]" "$TL_TMP/relay.out" || tl_log "note: relay output: $(cat "$TL_TMP/relay.out")"
echo "ok: $count/$count snmpget processes answered through ${loss}% loss each way between the proxies"
px_stop client
px_stop server
exit 0
