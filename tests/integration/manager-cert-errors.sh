#!/bin/bash
# A manager using this project's transport refuses a server it cannot
# authenticate, and says why instead of timing out (RFC 6353 section
# 5.3.1: the session fails when the server certificate does not verify):
#  - wrong server fingerprint (peerCert names another certificate),
#  - hostname mismatch (trustCert + peerHostname that the certificate does
#    not carry),
#  - unknown CA (the agent presents a certificate from a CA the manager
#    does not trust).
# The agents are stock snmpd with Net-SNMP's built-in DTLSUDP, so only the
# manager side is under test.  With DTLSUDP_NETSNMP_PREFIX the patched
# snmpget loads the plugin through transportPlugin instead of preloading.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
[ -f "$top_srcdir/tests/lib/snmpd.sh" ] || { echo "SKIP: tests/lib/snmpd.sh is missing"; exit 77; }
. "$top_srcdir/tests/lib/snmpd.sh"

preload_so=$top_builddir/snmplib-patches/.libs/libdtlsudp-preload.so
plugin_so=$top_builddir/snmplib-patches/.libs/dtlsudp-transport.so
dtlsudp_run=$top_builddir/snmplib-patches/dtlsudp-run
prefix=${DTLSUDP_NETSNMP_PREFIX:-}

tl_require openssl ss timeout snmpd snmpget
for f in "$preload_so" "$plugin_so" "$dtlsudp_run"; do
    [ -e "$f" ] || tl_skip "$(basename "$f") is not built yet (the transport/snmp client role)"
done

tl_init
tl_make_certs
client_fp=$(tl_fp client sha256)

# agent NAME CERT: a built-in DTLSUDP snmpd presenting CERT.
agent() {
    local port
    tl_free_udp_port port
    tl_agent_new "$1"
    tl_agent_listen "$1" "dtlsudp:127.0.0.1:$port"
    tl_conf "$1" \
        "[snmp] localCert $2" \
        "[snmp] trustCert ca" \
        "certSecName 10 --sha256 $client_fp --cn" \
        "rouser -s tsm client authpriv"
    tl_agent_start "$1" || tl_fail "snmpd $1 did not start"
    echo "dtlsudp:127.0.0.1:$port" >"$TL_TMP/$1/target"
}
agent good server
# One agent per refusal: after a client refused it and left at once, the
# built-in DTLSUDP server may not answer the next ClientHello for several
# seconds (it retransmits to the peer that is gone), which is the stock
# server's behaviour, not the manager's under test.
agent good2 server
agent foreign client-unknown-ca

tl_client_new mgr "trustCert ca"
if [ -n "$prefix" ]; then
    tl_conf mgr "transportPlugin dtlsudp $plugin_so"
    tl_env mgr "LD_LIBRARY_PATH=$prefix/lib"
    snmpget=("$prefix/bin/snmpget")
else
    snmpget=("$dtlsudp_run" snmpget)
fi

# get AGENT ARGS...: snmpget sysUpTime.0 from AGENT; sets out and rc.  No
# retry, 4 s: a failure that waits for the SNMP timeout says "Timeout".
get() {
    local target
    target=$(cat "$TL_TMP/$1/target")
    shift
    rc=0
    out=$(tl_client mgr "${snmpget[@]}" -v3 -r0 -t4 -T localCert=client "$@" \
        "$target" .1.3.6.1.2.1.1.3.0 2>&1) || rc=$?
}

# refused WHAT PATTERN: the last get failed, not by timing out, and said
# something matching PATTERN (case-insensitive).
refused() {
    [ "$rc" -ne 0 ] || tl_fail "$1: snmpget succeeded: $out"
    if grep -qi 'timeout' <<<"$out"; then
        tl_fail "$1: the manager timed out instead of failing the handshake: $out"
    fi
    grep -Eqi "$2" <<<"$out" || tl_fail "$1: no clear error (wanted /$2/): $out"
    tl_log "$1: refused: $(tr '\n' ' ' <<<"$out")"
}

# control: the right server is accepted, by fingerprint and by CA + name
get good -T peerCert=server
[ "$rc" -eq 0 ] || tl_fail "control (peerCert=server) failed: $out"
get good -T peerHostname=localhost
[ "$rc" -eq 0 ] || tl_fail "control (trustCert ca + peerHostname=localhost) failed: $out"

get good -T peerCert="$(tl_fp server-ec sha256)"
refused "wrong server fingerprint" 'refused server certificate SHA256 .*does not match the expected fingerprint'

get good2 -T peerHostname=wrong.example.com
refused "hostname mismatch" 'refused server certificate SHA256 .*does not name the expected host wrong.example.com'

get foreign -T peerHostname=client.example.com
refused "unknown CA" 'refused server certificate SHA256 .*unable to get local issuer certificate'

echo "PASS: certificate errors are reported, not timed out"
