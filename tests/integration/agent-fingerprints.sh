#!/bin/bash
# Every certificate token by a fingerprint of every hash: localCert and
# trustCert on the agent, localCert and peerCert (snmp.conf and -T) on the
# manager (this project's client role, through the test preload shim), with
# SHA-1, SHA-224, SHA-256, SHA-384 and SHA-512 fingerprints.  The agent's and
# the client's certificates are signed with sha512, so Net-SNMP's store
# indexes them only by their SHA-512 fingerprint; a second agent uses the
# sha256-signed certificates with net-snmp-cert-style SHA-1 fingerprints.
set -u
. "$top_srcdir/tests/lib/snmpd.sh"
. "$top_srcdir/tests/integration/agent-lib.sh"

al_init
SHIM=$top_builddir/tests/integration/.libs/dtlsudp-preload-shim.so
[ -f "$SHIM" ] || tl_skip "preload shim not built"

# sign512 NAME KIND: a P-256 leaf signed by the test CA with sha512, in
# Net-SNMP's layout (tls/certs/NAME.crt, tls/private/NAME.key).
sign512() {
    local name=$1 kind=$2 ext
    ext=$TL_TMP/$name.ext
    case $kind in
    server) printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$ext" ;;
    *) printf 'subjectAltName=DNS:%s.example.com\nextendedKeyUsage=clientAuth\n' "$name" >"$ext" ;;
    esac
    openssl ecparam -name prime256v1 -genkey -noout -out "$TL_CERTS/tls/private/$name.key" 2>/dev/null &&
        chmod 0600 "$TL_CERTS/tls/private/$name.key" &&
        openssl req -new -key "$TL_CERTS/tls/private/$name.key" -subj "/O=dtlsudp tests/CN=$name" \
            -out "$TL_TMP/$name.csr" 2>/dev/null &&
        openssl x509 -req -in "$TL_TMP/$name.csr" -CA "$TL_CERTS/ca/ca.crt" -CAkey "$TL_CERTS/ca/ca.key" \
            -set_serial "0x$(openssl rand -hex 8)" -days 30 -sha512 -extfile "$ext" \
            -out "$TL_CERTS/tls/certs/$name.crt" 2>/dev/null ||
        tl_fail "cannot make $name"
}

# fp FILE HASH: the fingerprint as openssl prints it (AA:BB:..).
fp() { openssl x509 -in "$1" -noout -fingerprint "-$2" | sed 's/^.*=//'; }

sign512 server512 server
sign512 client512 client
openssl x509 -in "$TL_CERTS/tls/certs/server512.crt" -noout -text | grep -q 'sha512WithRSA\|ecdsa-with-SHA512' ||
    tl_fail "server512 is not signed with sha512"

# ours NAME ARGS... TARGET: sysName.0 as NAME through this project's
# client role (checked).
ours() { al_ours "$1" snmpget -v3 -r2 -t3 -Ov "${@:2}" .1.3.6.1.2.1.1.5.0; }

client_env() {
    if [ "$AL_ASAN" = 1 ]; then
        tl_env "$1" "LD_PRELOAD=$AL_ASAN_LIB $SHIM" "ASAN_OPTIONS=detect_leaks=0:abort_on_error=1"
    else
        tl_env "$1" "LD_PRELOAD=$SHIM"
    fi
}

ca=$TL_CERTS/tls/ca-certs/ca.crt
n=0
for h in sha1 sha224 sha256 sha384 sha512; do
    n=$((n + 1))
    tl_free_udp_port port || exit 1
    al_agent "a-$h" "[snmp] localCert $(fp "$TL_CERTS/tls/certs/server512.crt" "$h")" \
        "[snmp] trustCert $(fp "$ca" "$h")" \
        "certSecName 10 $(fp "$TL_CERTS/tls/certs/client512.crt" "$h") --sn alice" \
        "rouser -s tsm alice authpriv" "sysName fingerprints-$h"
    tl_agent_listen "a-$h" "dtlsudp:127.0.0.1:$port"
    al_agent_start "a-$h" || tl_fail "agent with $h fingerprints for localCert/trustCert did not start"
    tl_client_new "m-$h" "localCert $(fp "$TL_CERTS/tls/certs/client512.crt" "$h")" \
        "peerCert $(fp "$TL_CERTS/tls/certs/server512.crt" "$h")"
    client_env "m-$h"
    al_expect_ok "$h: snmp.conf localCert + peerCert by $h fingerprint" ours "m-$h" "dtlsudp:127.0.0.1:$port"
    echo "$AL_OUT" | grep -q "fingerprints-$h" || tl_fail "$h: wrong answer: $AL_OUT"
    # -T on the command line, the snmp.conf peerCert left out.
    tl_client_new "t-$h" "localCert $(fp "$TL_CERTS/tls/certs/client512.crt" "$h")"
    client_env "t-$h"
    al_expect_ok "$h: -T peerCert by $h fingerprint" ours "t-$h" \
        -T "peerCert=$(fp "$TL_CERTS/tls/certs/server512.crt" "$h")" "dtlsudp:127.0.0.1:$port"
    # a fingerprint of the right length that names nothing: refused
    tl_client_new "x-$h" "localCert $(fp "$TL_CERTS/tls/certs/client512.crt" "$h")"
    client_env "x-$h"
    al_expect_fail "$h: -T peerCert naming another certificate" ours "x-$h" \
        -T "peerCert=$(fp "$TL_CERTS/tls/certs/client512.crt" "$h")" "dtlsudp:127.0.0.1:$port"
    al_proof "a-$h"
    tl_agent_stop "a-$h"
done
[ "$n" = 5 ] || tl_fail "not every hash was tried"

# net-snmp-cert prints SHA-1 (`net-snmp-cert showcerts --fingerprint`):
# the sha256-signed certificates by their SHA-1 fingerprints, and the
# `sha1:` prefix a peerCert may carry.
tl_free_udp_port port || exit 1
al_agent legacy "[snmp] localCert $(tl_fp server sha1)" "[snmp] trustCert $(tl_fp ca sha1)" \
    "certSecName 10 $(tl_fp client sha1) --sn alice" "rouser -s tsm alice authpriv"
tl_agent_listen legacy "dtlsudp:127.0.0.1:$port"
al_agent_start legacy || tl_fail "agent with SHA-1 localCert/trustCert did not start"
tl_client_new m-legacy "localCert $(tl_fp client sha1)" "peerCert sha1:$(tl_fp server sha1)"
client_env m-legacy
al_expect_ok "SHA-1 localCert and sha1:-prefixed peerCert" ours m-legacy "dtlsudp:127.0.0.1:$port"
al_proof legacy
tl_agent_stop legacy

# A fingerprint of no hash's length (31 bytes) is a configuration error
# with file and line, and the line is ignored; the agent serves the rest.
short=$(tl_fp client sha256 | cut -c1-92)
tl_free_udp_port port || exit 1
al_agent short "[snmp] trustCert ca" "certSecName 5 $short --sn mallory" \
    "certSecName 10 $(tl_fp client sha256) --sn alice" "rouser -s tsm alice authpriv"
tl_agent_listen short "dtlsudp:127.0.0.1:$port"
al_agent_start short || tl_fail "agent with a short fingerprint did not start"
grep -E "snmpd.conf: line [0-9]+: .*certSecName: $short is a fingerprint of 31 bytes, which is no hash's length" \
    "$(tl_log_file short)" >/dev/null || tl_fail "no configuration error naming the file, line and length"
al_expect_ok "the other rows still serve" ours m-legacy -T peerCert=server "dtlsudp:127.0.0.1:$port"
tl_log_has short "mapped to securityName alice" || tl_fail "alice not mapped beside the bad row"
echo "PASS: every token by every fingerprint hash"
