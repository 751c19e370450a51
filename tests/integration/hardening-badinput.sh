#!/bin/bash
# Bad input reports of the agent plugin (stock snmpd + dtlsudp.so):
#  1. every bad dtlsudp* configuration line is reported with the file, the
#     line number and the token, and the agent still starts (the value is
#     ignored);
#  2. a refused peer is logged with its address, certificate fingerprint and
#     the reason, once, however often it retries;
#  3. a flood of garbage datagrams and of cookie-less ClientHellos from
#     many (loopback) sources adds nothing to the log, and the agent keeps
#     serving;
#  4. refused peers with ever new certificates: the refusal log stays
#     bounded (at most 10 refusal lines a minute in all).
set -u
. "$top_srcdir/tests/lib/snmpd.sh"
. "$top_srcdir/tests/integration/agent-lib.sh"

tl_require python3 openssl
al_init
fp=$(tl_fp client) || exit 1

# --- 1. configuration errors -------------------------------------------
tl_free_udp_port port || exit 1
al_agent agent "certSecName 10 $fp --sn alice" "rouser -s tsm alice authpriv"
bad_lines=(
    "dtlsudpMTU 10"
    "dtlsudpDemux carrier-pigeon"
    "dtlsudpIdleTimeout soon"
    "dtlsudpMaxHalfOpen"
    "dtlsudpHandshakeTimeout -5"
    "dtlsudpCookieRotation 99999999999999999999999"
    "[snmp] dtlsudpMTU6 1279"
)
tl_conf agent "${bad_lines[@]}"
tl_agent_listen agent "dtlsudp:127.0.0.1:$port"
al_agent_start agent || tl_fail "agent did not start with bad dtlsudp lines (they must be ignored)"
conf=$(cat "$TL_TMP/agent/conffile")
log=$(tl_log_file agent)
for l in "${bad_lines[@]}"; do
    n=$(grep -nxF -- "$l" "$conf" | head -1 | cut -d: -f1)
    token=${l#\[snmp\] }
    token=${token%% *}
    grep -F -- "$conf: line $n:" "$log" | grep -qF -- "$token" ||
        tl_fail "config error for '$l' does not name file, line $n and token: $(grep -F "$token" "$log")"
done
tl_log "config errors name file, line and token: ${#bad_lines[@]} lines checked"

# The agent serves with the defaults in place of the bad values.
al_client mgr
al_expect_ok "GET with defaults" tl_client mgr snmpget -v3 -r3 -t3 -On "dtlsudp:127.0.0.1:$port" .1.3.6.1.2.1.1.1.0

# --- 2. a refused peer: address, fingerprint, reason, once ---------------
tl_client_new stranger "localCert client-unknown-ca" "peerCert server"
sfp=$(tl_fp client-unknown-ca)
for i in 1 2 3 4 5; do
    al_expect_fail "stranger attempt $i" tl_client stranger snmpget -v3 -r0 -t2 "dtlsudp:127.0.0.1:$port" \
        .1.3.6.1.2.1.1.1.0
done
lines=$(grep -F "refused client certificate SHA256 $sfp" "$log")
[ "$(echo "$lines" | grep -c .)" -eq 1 ] || tl_fail "refusal logged $(echo "$lines" | grep -c .) times: $lines"
echo "$lines" | grep -qE "from 127\.0\.0\.1:[0-9]+: .+" || tl_fail "refusal line lacks address or reason: $lines"
tl_log "refusal: $lines"

# --- 3. floods: garbage and cookie-less ClientHellos ----------------------
before=$(wc -l <"$log")
python3 - "$port" <<'EOF' || tl_fail "flood sender failed"
import os, random, socket, sys
port = int(sys.argv[1])
rnd = random.Random(6353)
def hello():
    body = bytes([0xfe, 0xfd]) + bytes(rnd.getrandbits(8) for _ in range(32)) + b"\x00\x00" + \
        b"\x00\x04\xc0\x2b\xc0\x2f" + b"\x01\x00"
    hs = bytes([1]) + len(body).to_bytes(3, "big") + b"\x00\x00" + b"\x00\x00\x00" + len(body).to_bytes(3, "big") + body
    return bytes([22, 0xfe, 0xff]) + bytes(8) + len(hs).to_bytes(2, "big") + hs
socks = []
for n in range(2, 202):          # 200 loopback source addresses
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.%d" % n, 0))
    socks.append(s)
for i in range(4000):
    s = socks[i % len(socks)]
    if i % 2:
        d = hello()
    else:
        d = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 1400)))
    s.sendto(d, ("127.0.0.1", port))
for s in socks:
    s.close()
EOF
al_expect_ok "GET after the flood" tl_client mgr snmpget -v3 -r3 -t3 -On "dtlsudp:127.0.0.1:$port" .1.3.6.1.2.1.1.3.0
after=$(wc -l <"$log")
# -Ddtlsudp debug lines for our own GET are allowed; warnings are not.
new_warnings=$(tail -n +"$((before + 1))" "$log" | grep -v '^dtlsudp:\(engine\|net\|cert\|config\)\?:\? ' |
    grep -ciE 'refused|error|warning|drop|malformed' || true)
[ "$new_warnings" -le 2 ] || tl_fail "4000 flood datagrams added $new_warnings warning lines to the log"
tl_log "flood of 4000 datagrams from 200 sources: $((after - before)) log lines (debug included), $new_warnings warnings"

# --- 4. refused peers with ever new certificates --------------------------
# Self-signed client certificates made on the spot: each is a new peer the
# agent refuses.  Refusals are logged once per certificate and reason, and
# at most 10 lines a minute in all, so such a stream cannot fill the log.
n_certs=${HARDENING_CERTS:-14}
refused_before=$(grep -c "refused client certificate" "$log")
for i in $(seq 1 "$n_certs"); do
    d=$TL_TMP/selfsigned-$i
    mkdir -p "$d/tls/certs" "$d/tls/private"
    chmod 700 "$d/tls/private"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=flood$i" \
        -keyout "$d/tls/private/flood.key" -out "$d/tls/certs/flood.crt" 2>/dev/null ||
        tl_fail "openssl req failed"
    cp "$TL_CERTS/tls/certs/server.crt" "$d/tls/certs/"
    printf 'localCert flood\npeerCert server\n' >"$d/snmp.conf"
    env "SNMPCONFPATH=$d:$TL_CERTS" "SNMP_PERSISTENT_DIR=$d" "HOME=$d" "MIBS=" \
        timeout 20 snmpget -v3 -r0 -t2 "dtlsudp:127.0.0.1:$port" .1.3.6.1.2.1.1.1.0 >/dev/null 2>&1 &&
        tl_fail "self-signed flood client $i was accepted"
done
refused_new=$(($(grep -c "refused client certificate" "$log") - refused_before))
tl_log "$n_certs peers with new certificates: $refused_new refusal lines"
if [ "$refused_new" -ge "$n_certs" ]; then
    tl_fail "refusal log is not rate-limited: $refused_new lines for $n_certs new certificates"
fi
refused_total=$(grep -c "refused client certificate" "$log")
[ "$refused_total" -le 10 ] || tl_fail "$refused_total refusal lines within a minute (at most 10)"
al_expect_ok "GET at the end" tl_client mgr snmpget -v3 -r3 -t3 -On "dtlsudp:127.0.0.1:$port" .1.3.6.1.2.1.1.1.0
al_proof agent
tl_agent_stop agent || tl_fail "agent exit status $?"
echo "PASS: config errors name file/line/token; one refusal line with address, fingerprint, reason; floods leave the log alone ($refused_new lines for $n_certs new refused certificates)"
