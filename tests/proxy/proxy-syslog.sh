#!/bin/bash
# Syslog over DTLS (RFC 6012's use case) for a syslog daemon without DTLS:
#   logger (udp) -> proxy client -> DTLS -> proxy server -> rsyslogd (imudp)
# Every line sent by logger must arrive in rsyslogd's file, from separate
# logger processes (one association each) and from one logger sending many
# lines (one association, many records).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/lib/snmpd.sh"
. "$top_srcdir/tests/proxy/proxy-lib.sh"

tl_require logger ss openssl
rsyslogd=$(command -v rsyslogd || echo /usr/sbin/rsyslogd)
[ -x "$rsyslogd" ] || tl_skip "rsyslogd not found (Debian package rsyslog)"
tl_init
tl_make_certs
px_certs
tl_free_udp_port port

# rsyslogd with imudp only (no /dev/log, no klog), everything in our dir.
dir=$TL_TMP/rsyslog
mkdir -p "$dir/work"
cat >"$dir/rsyslog.conf" <<CONF
global(workDirectory="$dir/work")
module(load="imudp")
input(type="imudp" address="127.0.0.1" port="$port")
template(name="line" type="string" string="%syslogtag% %msg%\n")
*.* action(type="omfile" file="$dir/messages" template="line")
CONF
"$rsyslogd" -n -f "$dir/rsyslog.conf" -i "$dir/rsyslog.pid" </dev/null >"$dir/rsyslog.out" 2>&1 &
rpid=$!
tl_on_exit "kill $rpid 2>/dev/null; wait $rpid 2>/dev/null"
for ((i = 0; i < 200; i++)); do
    ss -Hulnp "sport = :$port" 2>/dev/null | grep -q "pid=$rpid," && break
    tl_pid_alive "$rpid" || { cat "$dir/rsyslog.out" >&2; tl_fail "rsyslogd exited"; }
    sleep 0.05
done
ss -Hulnp "sport = :$port" 2>/dev/null | grep -q "pid=$rpid," || tl_fail "rsyslogd did not bind $port"

px_start server "
[server syslog]
listen 127.0.0.1:0
forward 127.0.0.1:$port
cert $PX_SERVER_CERT
key $PX_SERVER_KEY
ca $PX_CA"
px_start client "
[client syslog]
listen 127.0.0.1:0
connect 127.0.0.1:$(px_port server syslog)
hostname localhost
ca $PX_CA
cert $PX_CLIENT_CERT
key $PX_CLIENT_KEY"
cport=$(px_port client syslog)

for i in 1 2 3 4 5; do
    logger -d -n 127.0.0.1 -P "$cport" -t proxytest "separate logger $i" || tl_fail "logger $i failed"
done
seq 1 20 | sed 's/^/one logger, line /' | logger -d -n 127.0.0.1 -P "$cport" -t proxytest ||
    tl_fail "logger (20 lines) failed"

want=25
for ((i = 0; i < 100; i++)); do
    [ "$(grep -c '^proxytest' "$dir/messages" 2>/dev/null)" -ge $want ] && break
    sleep 0.1
done
got=$(grep -c '^proxytest' "$dir/messages" 2>/dev/null)
[ "$got" -eq $want ] || { cat "$dir/messages" >&2; tl_fail "rsyslogd received $got of $want lines"; }
for i in 1 2 3 4 5; do
    grep -q "^proxytest.* separate logger $i\$" "$dir/messages" || tl_fail "line 'separate logger $i' missing"
done
for i in $(seq 1 20); do
    grep -q "^proxytest.* one logger, line $i\$" "$dir/messages" || tl_fail "line $i of 20 missing"
done
n=$(grep -c 'dtlsudp-proxy\[syslog\]: association ' "$(px_log server)")
[ "$n" -eq 6 ] || tl_fail "expected 6 associations (one per logger process), found $n"
echo "ok: $got syslog lines from 6 logger processes reached rsyslogd through the proxies"
px_stop client
px_stop server
exit 0
