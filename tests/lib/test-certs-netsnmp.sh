#!/bin/bash
# The certificates of make-certs.sh, configured through snmpd.sh, work with
# Net-SNMP's own (D)TLS code: a real snmpd on dtlsudp (Debian's built-in
# DTLSUDP transport) and snmpget.  This is the baseline the plugin's
# integration tests build on:
#   - certSecName --cn / --dns map client certificates by their own
#     fingerprint to the expected securityNames (CN, SAN DNS), and the CA's
#     fingerprint with --rfc822 maps the clients the CA signed (SAN email);
#   - the manager accepts the agent by peerCert, or by trustCert + hostname
#     (the server SAN DNS:localhost);
#   - a self-signed client mapped by its own fingerprint is accepted (the
#     fingerprint is the trust anchor, RFC 6353 section 5.3.1);
#   - the wrong peerCert, an expired client, a client from an unknown CA and
#     an unmapped self-signed client are refused.
# Each refusal runs against its own snmpd: Net-SNMP 5.9.3's DTLSUDP agent
# stops answering every client after one handshake fails certificate
# verification (expired or unknown CA), so the refusals are not chained.
set -euo pipefail

srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$srcdir/tests/lib/snmpd.sh"

tl_require snmpd snmpget ss openssl
tl_init
tl_make_certs

exec 3>&2   # check() silences its command; diagnostics go to fd 3
failures=0
check() {
    local what=$1
    shift
    if "$@" >/dev/null 2>&1; then
        echo "ok - $what"
    else
        echo "not ok - $what"
        failures=$((failures + 1))
    fi
}

SYSDESCR=.1.3.6.1.2.1.1.1.0
MARK="dtlsudp certificate baseline"

# new_agent NAME [LINE...]: an snmpd on dtlsudp:127.0.0.1:<free port> with
# certificate maps by leaf fingerprint and extra config LINEs; sets $port.
# (A CA-fingerprint map is kept off these agents: when both a leaf map and
# its CA's map match, Net-SNMP 5.9.3 does not reliably pick the lower
# priority, so the resulting securityName would vary.)
new_agent() {
    tl_free_udp_port port
    tl_agent_new "$1"
    tl_agent_listen "$1" "dtlsudp:127.0.0.1:$port"
    tl_conf "$1" \
        "[snmp] localCert server" \
        "[snmp] trustCert ca" \
        "certSecName 10 --sha256 $(tl_fp client) --cn" \
        "certSecName 12 --sha256 $(tl_fp client-ec) --dns" \
        "certSecName 30 --sha256 $(tl_fp client-expired) --cn" \
        "certSecName 31 --sha256 $(tl_fp client-unknown-ca) --cn" \
        "rwuser -s tsm client authpriv" \
        "rwuser -s tsm client-ec.example.com authpriv" \
        "rwuser -s tsm client-expired authpriv" \
        "rwuser -s tsm client-unknown-ca authpriv" \
        "rwuser -s tsm client-selfsigned authpriv" \
        "sysDescr $MARK"
    tl_conf "$@"
    tl_agent_start "$1"
}

# get ARGS...: snmpget sysDescr.0 over dtlsudp with -T ARGS; true if answered.
# refused ARGS...: true if not answered (a refusal needs no retries).
get() { query "-r1 -t3" "$@"; }
refused() { ! query "-r0 -t1" "$@"; }
query() {
    local -a t=($1)
    shift
    local a
    for a in "$@"; do
        t+=(-T "$a")
    done
    tl_client mgr snmpget -v3 "${t[@]}" "dtlsudp:127.0.0.1:$port" "$SYSDESCR" \
        >"$TL_TMP/snmpget.out" 2>&1 || true
    if ! grep -q "STRING: \"$MARK\"" "$TL_TMP/snmpget.out"; then
        echo "# snmpget ${t[*]}:" >&3
        sed 's/^/#   /' "$TL_TMP/snmpget.out" >&3
        return 1
    fi
}

tl_client_new mgr

new_agent ok "certSecName 32 --sha256 $(tl_fp client-selfsigned) --cn"
check "client (--cn) is answered" get localCert=client peerCert=server
check "client-ec (--dns) is answered" get localCert=client-ec peerCert=server
check "peerCert by SHA-256 fingerprint" get localCert=client "peerCert=$(tl_fp server)"
check "trustCert ca + their_hostname=localhost" get localCert=client trustCert=ca their_hostname=localhost
check "self-signed client mapped by its fingerprint is answered" \
    get localCert=client-selfsigned peerCert=server
check "the agent logged no configuration error" \
    test -z "$(grep -i 'error.*line\|unknown token' "$(tl_log_file ok)")"
tl_agent_stop ok

# Map by the CA's fingerprint: the SAN email becomes the securityName.
tl_free_udp_port port
tl_agent_new byca
tl_agent_listen byca "dtlsudp:127.0.0.1:$port"
tl_conf byca "[snmp] localCert server" "[snmp] trustCert ca" \
    "certSecName 20 --sha256 $(tl_fp ca) --rfc822" \
    "rwuser -s tsm client-rsa@example.com authpriv" "sysDescr $MARK"
tl_agent_start byca
check "client-rsa (CA fingerprint, --rfc822) is answered" get localCert=client-rsa peerCert=server
check "client (mapped to client@example.com, no access) is not" \
    refused localCert=client peerCert=server
tl_agent_stop byca

tl_agent_new rsa
tl_free_udp_port port
tl_agent_listen rsa "dtlsudp:127.0.0.1:$port"
tl_conf rsa "[snmp] localCert server-rsa" \
    "certSecName 10 --sha256 $(tl_fp client) --cn" \
    "rwuser -s tsm client authpriv" "sysDescr $MARK"
tl_agent_start rsa
check "an RSA-2048 agent certificate is accepted" get localCert=client peerCert=server-rsa
check "the wrong peerCert is refused" refused localCert=client peerCert=server
tl_agent_stop rsa

for bad in client-expired client-unknown-ca client-selfsigned; do
    new_agent "$bad"
    check "$bad is refused" refused "localCert=$bad" peerCert=server
    tl_agent_stop "$bad"
done

if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed"
    exit 1
fi
echo "all checks passed"
