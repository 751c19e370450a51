#!/bin/bash
# Checks tests/lib/make-certs.sh: layout and modes Net-SNMP needs, chains that
# verify (and the bad ones that must not), key types, subjectAltNames, the
# fingerprints file, and idempotence.
set -euo pipefail

srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
make_certs=$srcdir/tests/lib/make-certs.sh

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
fails() { ! "$@"; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/dtlsudp-certs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
d=$tmp/certs

sh "$make_certs" "$d" >"$tmp/out1"

good="server server-ec server-rsa client client-ec client-rsa"
bad="client-expired client-unknown-ca client-selfsigned"
ca=$d/tls/ca-certs/ca.crt

mode() { stat -c %a "$1"; }

# --- layout and modes ---------------------------------------------------
check "ca certificate in tls/ca-certs" test -s "$ca"
check "private dir is 0700" test "$(mode "$d/tls/private")" = 700
check "unknown CA kept out of tls/" test ! -e "$d/tls/ca-certs/unknown-ca.crt"
for n in $good $bad; do
    check "$n.crt exists" test -s "$d/tls/certs/$n.crt"
    check "$n.key exists" test -s "$d/tls/private/$n.key"
    check "$n.key is 0600" test "$(mode "$d/tls/private/$n.key")" = 600
    check "$n.crt is world-readable" test "$(mode "$d/tls/certs/$n.crt")" = 644
    # The key belongs to the certificate.
    check "$n.key matches $n.crt" test \
        "$(openssl x509 -in "$d/tls/certs/$n.crt" -noout -pubkey)" = \
        "$(openssl pkey -in "$d/tls/private/$n.key" -pubout)"
done
check "no stray files in tls/certs" test \
    "$(find "$d/tls/certs" -type f | wc -l)" -eq 9
check "no keys outside tls/private" test \
    -z "$(find "$d/tls/certs" "$d/tls/ca-certs" -name '*.key')"

# --- chains -------------------------------------------------------------
for n in $good; do
    check "$n verifies against the CA" \
        openssl verify -CAfile "$ca" "$d/tls/certs/$n.crt"
done
verify_err() {
    openssl verify -CAfile "$ca" "$d/tls/certs/$1.crt" 2>&1 || true
}
check "client-expired does not verify" fails openssl verify -CAfile "$ca" "$d/tls/certs/client-expired.crt"
check "client-expired fails because it expired" grep -q "has expired" <<<"$(verify_err client-expired)"
check "client-unknown-ca does not verify" fails openssl verify -CAfile "$ca" "$d/tls/certs/client-unknown-ca.crt"
check "client-unknown-ca verifies against its own CA" \
    openssl verify -CAfile "$d/unknown-ca/ca.crt" "$d/tls/certs/client-unknown-ca.crt"
check "client-selfsigned does not verify" fails openssl verify -CAfile "$ca" "$d/tls/certs/client-selfsigned.crt"
check "client-selfsigned is self-signed" \
    openssl verify -CAfile "$d/tls/certs/client-selfsigned.crt" "$d/tls/certs/client-selfsigned.crt"
check "client-expired expired on 2020-01-02" grep -q "notAfter=Jan  2 00:00:00 2020 GMT" \
    <<<"$(openssl x509 -in "$d/tls/certs/client-expired.crt" -noout -enddate)"
check "client-expired chain is fine apart from the dates" \
    openssl verify -no_check_time -CAfile "$ca" "$d/tls/certs/client-expired.crt"

# --- key types and names ------------------------------------------------
text() { openssl x509 -in "$d/tls/certs/$1.crt" -noout -text; }
for n in server server-ec client client-ec; do
    check "$n is ECDSA P-256" grep -q "NIST CURVE: P-256" <<<"$(text "$n")"
done
for n in server-rsa client-rsa; do
    check "$n is RSA-2048" grep -q "Public-Key: (2048 bit)" <<<"$(text "$n")"
done
for n in server server-ec server-rsa; do
    san=$(text "$n" | grep -A1 "Subject Alternative Name" | tail -1)
    check "$n SAN has DNS:localhost" grep -q "DNS:localhost" <<<"$san"
    check "$n SAN has IP 127.0.0.1" grep -q "IP Address:127.0.0.1" <<<"$san"
    check "$n SAN has IP ::1" grep -q "IP Address:0:0:0:0:0:0:0:1" <<<"$san"
    check "$n CN is localhost" grep -q "CN *= *localhost" <<<"$(openssl x509 -in "$d/tls/certs/$n.crt" -noout -subject)"
done
for n in client client-ec client-rsa client-expired; do
    san=$(text "$n" | grep -A1 "Subject Alternative Name" | tail -1)
    check "$n SAN has email:$n@example.com" grep -q "email:$n@example.com" <<<"$san"
    check "$n SAN has DNS:$n.example.com" grep -q "DNS:$n.example.com" <<<"$san"
    check "$n CN is $n" grep -q "CN *= *$n\$" <<<"$(openssl x509 -in "$d/tls/certs/$n.crt" -noout -subject)"
done
check "server and client are distinct from server-ec and client-ec" test \
    "$(openssl x509 -in "$d/tls/certs/server.crt" -noout -fingerprint -sha256)" != \
    "$(openssl x509 -in "$d/tls/certs/server-ec.crt" -noout -fingerprint -sha256)"
check "CA is a CA" grep -q "CA:TRUE" <<<"$(openssl x509 -in "$ca" -noout -text)"
check "leaves are not CAs" grep -q "CA:FALSE" <<<"$(text client)"

# --- fingerprints -------------------------------------------------------
fpfile=$d/fingerprints.txt
check "fingerprints.txt is printed" cmp -s "$tmp/out1" "$fpfile"
for n in $good $bad ca unknown-ca; do
    case $n in
    ca) f=$ca ;;
    unknown-ca) f=$d/unknown-ca/ca.crt ;;
    *) f=$d/tls/certs/$n.crt ;;
    esac
    for h in sha256 sha1; do
        want=$(openssl x509 -in "$f" -noout -fingerprint "-$h" | sed 's/^[^=]*=//')
        got=$(awk -v n="$n" -v h="$h" '$1 == n && $2 == h { print $3 }' "$fpfile")
        check "$n $h fingerprint matches openssl" test -n "$want" -a "$got" = "$want"
    done
done
check "fingerprints.txt has one line per name and hash" test "$(wc -l <"$fpfile")" -eq 22

# --- idempotence --------------------------------------------------------
before=$(cat "$fpfile")
sh "$make_certs" -q "$d" >"$tmp/out2"
check "-q prints nothing" test ! -s "$tmp/out2"
check "a second run keeps every certificate" test "$before" = "$(cat "$fpfile")"
rm "$d/tls/certs/client-rsa.crt"
sh "$make_certs" -q "$d"
check "a missing certificate is re-issued" test -s "$d/tls/certs/client-rsa.crt"
check "re-issued client-rsa verifies" openssl verify -CAfile "$ca" "$d/tls/certs/client-rsa.crt"
check "re-issued client-rsa key matches" test \
    "$(openssl x509 -in "$d/tls/certs/client-rsa.crt" -noout -pubkey)" = \
    "$(openssl pkey -in "$d/tls/private/client-rsa.key" -pubout)"
check "the others are kept" test \
    "$(grep -v '^client-rsa ' <<<"$before")" = "$(grep -v '^client-rsa ' "$fpfile")"

if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed"
    exit 1
fi
echo "all checks passed"
