#!/bin/bash
# snmpget -v2c through the chain, IPv4 and IPv6:
#   snmpget (udp) -> proxy client -> DTLS -> proxy server -> snmpd (udp, v2c)
# The proxy server gives every association its own upstream socket (the
# agent sees one peer per association) and closes it when the association
# ends (here: the client side's idle timeout, with close_notify).  The IPv4
# client authenticates the server by CA and host name, the IPv6 one by pin.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/lib/snmpd.sh"
. "$top_srcdir/tests/proxy/proxy-lib.sh"

tl_require snmpd snmpget snmpwalk ss openssl
tl_init
tl_make_certs
px_certs
tl_free_udp_port port

tl_agent_new agent
tl_agent_listen agent "udp:127.0.0.1:$port"
tl_agent_listen agent "udp6:[::1]:$port"
tl_conf agent "rocommunity public 127.0.0.1" "rocommunity6 public ::1" "sysName proxied-agent"
tl_agent_start agent || tl_fail "snmpd did not start"

px_start server "
[server snmp4]
listen 127.0.0.1:0
forward 127.0.0.1:$port
cert $PX_SERVER_CERT
key $PX_SERVER_KEY
ca $PX_CA
[server snmp6]
listen [::1]:0
forward [::1]:$port
cert $PX_SERVER_CERT
key $PX_SERVER_KEY
ca $PX_CA"
s4=$(px_port server snmp4)
s6=$(px_port server snmp6)

px_start client "
[client snmp4]
listen 127.0.0.1:0
connect 127.0.0.1:$s4
hostname localhost
ca $PX_CA
cert $PX_CLIENT_CERT
key $PX_CLIENT_KEY
idle-timeout 2
[client snmp6]
listen [::1]:0
connect [::1]:$s6
pin $(tl_fp server sha256)
cert $PX_CLIENT_CERT
key $PX_CLIENT_KEY"
c4=$(px_port client snmp4)
c6=$(px_port client snmp6)

# The clients' persistent directory is the test's own, and only stdout is
# compared: Net-SNMP reports on stderr when it creates a directory there
# ("Created directory: .../cert_indexes", on a new machine in
# /var/lib/snmp).
mkdir -p "$TL_TMP/client-persist"
export MIBS= SNMPCONFPATH=$TL_TMP HOME=$TL_TMP SNMP_PERSISTENT_DIR=$TL_TMP/client-persist
sysname=.1.3.6.1.2.1.1.5.0
for target in "udp:127.0.0.1:$c4" "udp6:[::1]:$c6"; do
    out=$(with_timeout 30 snmpget -v2c -c public -r2 -t3 -Oqv "$target" "$sysname" 2>"$TL_TMP/snmpget.err") ||
        tl_fail "snmpget $target through the proxies: $out $(cat "$TL_TMP/snmpget.err")"
    [ "$out" = "\"proxied-agent\"" ] || tl_fail "snmpget $target: '$out' $(cat "$TL_TMP/snmpget.err")"
    echo "ok: snmpget -v2c $target reached snmpd through both proxies"
done

# A walk is many datagrams on one association; it must equal the direct one.
direct=$(with_timeout 30 snmpwalk -v2c -c public -r2 -t3 -On "udp:127.0.0.1:$port" .1.3.6.1.2.1.1 2>&1 |
    grep -v sysUpTime | grep -v '1\.3\.0 =') || tl_fail "direct walk failed"
proxied=$(with_timeout 30 snmpwalk -v2c -c public -r2 -t3 -On "udp:127.0.0.1:$c4" .1.3.6.1.2.1.1 2>&1 |
    grep -v '1\.3\.0 =') || tl_fail "walk through the proxies failed"
[ "$direct" = "$proxied" ] || tl_fail "walk differs: direct
$direct
proxied
$proxied"
[ "$(echo "$proxied" | wc -l)" -ge 5 ] || tl_fail "walk too short: $proxied"
echo "ok: snmpwalk through the proxies equals the direct walk"

# Three more snmpget processes: three more local sources, associations and
# upstream sockets, each one connected to snmpd.
for i in 1 2 3; do
    with_timeout 30 snmpget -v2c -c public -r2 -t3 -Oqv "udp:127.0.0.1:$c4" "$sysname" >/dev/null 2>&1 ||
        tl_fail "snmpget $i failed"
done
spid=$(px_pid server)
upstream() { ss -Hunp "dst 127.0.0.1:$port" 2>/dev/null | grep -c "pid=$spid,"; }
n=$(upstream)
[ "$n" -ge 4 ] || tl_fail "expected at least 4 upstream sockets toward snmpd, found $n"
vias=$(grep 'dtlsudp-proxy\[snmp4\]: association ' "$(px_log server)" | sed 's/.* via \([^:]*:[0-9]*\):.*/\1/' | sort -u | wc -l)
[ "$vias" -ge 5 ] || tl_fail "expected 5 associations with distinct upstream sources, found $vias"
grep -q 'dtlsudp-proxy\[snmp4\]: association 127.0.0.1:[0-9]* via 127.0.0.1:[0-9]*: subject=.*CN=client sha256=[0-9A-F:]* trust=chain' \
    "$(px_log server)" || tl_fail "no per-association identity line"
# snmpd itself saw those distinct sources.
seen=$(grep -o 'Connection from UDP: \[127.0.0.1\]:[0-9]*' "$TL_TMP/agent/snmpd.log" | sort -u | wc -l)
[ "$seen" -ge 5 ] || tl_fail "snmpd saw $seen distinct sources, expected 5"
echo "ok: one upstream socket per association ($n open, snmpd saw $seen sources), identity logged"

# The client's idle timeout (2 s) closes its associations with close_notify;
# the server closes their upstream sockets.
for ((i = 0; i < 100; i++)); do
    [ "$(upstream)" -eq 0 ] && break
    sleep 0.1
done
[ "$(upstream)" -eq 0 ] || tl_fail "upstream sockets still open after the associations ended: $(upstream)"
grep -q 'dtlsudp-proxy\[snmp4\]: association 127.0.0.1:[0-9]* ended: association closed' "$(px_log server)" ||
    tl_fail "no 'ended' line"
echo "ok: upstream sockets closed with their associations"

# A new request after that opens a new association.
out=$(with_timeout 30 snmpget -v2c -c public -r2 -t3 -Oqv "udp:127.0.0.1:$c4" "$sysname" 2>&1) ||
    tl_fail "snmpget after idle expiry: $out"
px_stop client
px_stop server
grep -q 'associations 0 open' "$(px_log server)" || tl_fail "server still had associations after the client's close_notify"
echo "ok: clean shutdown"
exit 0
