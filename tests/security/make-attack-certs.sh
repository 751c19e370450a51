#!/bin/sh
# make-attack-certs.sh: certificates for the adversarial tests
# (tests/security/), made with the openssl CLI.
#
# usage: make-attack-certs.sh DIR
#
# What the victims load sits in Net-SNMP's layout (<confdir>/tls/...); what
# only the attacking peer (tests/security/dtls-peer) presents sits in
# DIR/peer/, out of Net-SNMP's sight, so that a victim learns those
# certificates from the wire only:
#   tls/ca-certs/ca.crt         the test CA (ECDSA P-256, self-signed)
#   tls/certs/server.crt        CA-issued server leaf, CN=localhost,
#                               SAN DNS:localhost, IP:127.0.0.1, IP:::1,
#                               extendedKeyUsage serverAuth   (+ private/server.key)
#   tls/certs/alice.crt         CA-issued client leaf, CN=alice, EKU clientAuth
#                               (+ private/alice.key; a manager's identity)
#   peer/NAME.crt, NAME.key     for every leaf below (alice and server too)
#     alice, bob                CA-issued client leaves (EKU clientAuth)
#     server                    copy of tls/certs/server.*
#     rogue                     self-signed server leaf, CN=localhost, same SAN
#     server-clientauth         CA-issued, CN=localhost, same SAN, EKU clientAuth only
#     client-serverauth         CA-issued, CN=carol, EKU serverAuth only
#     deep4, deep5              client leaves (CN=deep4/deep5, EKU clientAuth)
#                               issued by int4 / int5, where ca -> int1 -> ...
#                               -> int5: deep4 has 4 intermediate CAs between
#                               it and the CA, deep5 has 5
#   peer/intN.crt               the intermediate CAs (N = 1..5)
#   peer/ca.crt                 copy of the CA certificate
#   crl/bob-revoked.pem         CRL from the CA revoking bob (PEM)
#   crl/garbage.pem             a file that is no CRL at all
#   crl/missing.pem             does not exist (an unreadable x509CRLFile)
#   ca/                         the CA's key and `openssl ca` database
#   fingerprints.txt            "NAME sha256 AA:BB:.." and "NAME sha1 .." lines
#                               (the format tests/lib/snmpd.sh's tl_fp reads)
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
openssl=${OPENSSL:-openssl}
umask 077
dir=$1
mkdir -p "$dir/tls/ca-certs" "$dir/tls/certs" "$dir/tls/private" "$dir/peer" \
    "$dir/crl" "$dir/ca/issued" "$dir/tmp"
dir=$(cd "$dir" && pwd)
chmod 0755 "$dir" "$dir/tls" "$dir/tls/ca-certs" "$dir/tls/certs" "$dir/peer" "$dir/crl"
chmod 0700 "$dir/tls/private"
tmp=$dir/tmp

die() { echo "make-attack-certs.sh: $*" >&2; exit 1; }

# run ARGS...: openssl, quiet unless it fails.
run() {
    "$openssl" "$@" >"$tmp/openssl.out" 2>&1 || {
        cat "$tmp/openssl.out" >&2
        die "openssl $1 failed"
    }
}

genkey() { run genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }

# ext FILE SECTION-BODY: an extension file with one section, [ext].
ext() {
    printf '[ req ]\ndistinguished_name = dn\n[ dn ]\n[ ext ]\n%s\n' "$2" >"$1"
}

ca_ext='basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always'

# --- the CA, with an `openssl ca` database (revocation, CRL) -------------
ext "$tmp/ca.cnf" "basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash"
genkey "$dir/ca/ca.key"
run req -new -x509 -sha256 -days 3650 -key "$dir/ca/ca.key" \
    -subj "/O=dtlsudp security tests/CN=attack test CA" -config "$tmp/ca.cnf" \
    -extensions ext -out "$dir/ca/ca.crt"
: >"$dir/ca/index.txt"
echo "unique_subject = no" >"$dir/ca/index.txt.attr"
echo 1000 >"$dir/ca/crlnumber"
cat >"$dir/ca/openssl-ca.cnf" <<EOF
[ ca ]
default_ca = testca
[ testca ]
dir              = $dir/ca
database         = \$dir/index.txt
serial           = \$dir/serial
new_certs_dir    = \$dir/issued
certificate      = \$dir/ca.crt
private_key      = \$dir/ca.key
crlnumber        = \$dir/crlnumber
default_md       = sha256
default_days     = 3650
default_crl_days = 3650
policy           = policy_any
unique_subject   = no
copy_extensions  = none
[ policy_any ]
organizationName = optional
commonName       = supplied
EOF

server_san='subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1'

# leaf NAME CN EKU SIGNER [EXTRA-EXTENSION]: a leaf in peer/NAME.{crt,key}.
# SIGNER: ca (`openssl ca`, recorded in the database), self, or intN.
leaf() {
    name=$1 cn=$2 eku=$3 signer=$4 extra=${5:-}
    ext "$tmp/$name.cnf" "basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = $eku
subjectKeyIdentifier = hash
$extra"
    genkey "$dir/peer/$name.key"
    case $signer in
    self)
        run req -new -x509 -sha256 -days 3650 -key "$dir/peer/$name.key" \
            -subj "/O=dtlsudp security tests/CN=$cn" -config "$tmp/$name.cnf" \
            -extensions ext -out "$dir/peer/$name.crt" ;;
    ca)
        run req -new -sha256 -key "$dir/peer/$name.key" \
            -subj "/O=dtlsudp security tests/CN=$cn" -config "$tmp/$name.cnf" -out "$tmp/$name.csr"
        run ca -batch -notext -rand_serial -config "$dir/ca/openssl-ca.cnf" \
            -extfile "$tmp/$name.cnf" -extensions ext -in "$tmp/$name.csr" \
            -out "$dir/peer/$name.crt" ;;
    *)
        run req -new -sha256 -key "$dir/peer/$name.key" \
            -subj "/O=dtlsudp security tests/CN=$cn" -config "$tmp/$name.cnf" -out "$tmp/$name.csr"
        run x509 -req -sha256 -days 3650 -in "$tmp/$name.csr" -CA "$dir/peer/$signer.crt" \
            -CAkey "$dir/peer/$signer.key" -set_serial "0x$("$openssl" rand -hex 8)" \
            -extfile "$tmp/$name.cnf" -extensions ext -out "$dir/peer/$name.crt" ;;
    esac
}

leaf alice alice clientAuth ca
leaf bob bob clientAuth ca
leaf server localhost serverAuth ca "$server_san"
leaf rogue localhost serverAuth self "$server_san"
leaf server-clientauth localhost clientAuth ca "$server_san"
leaf client-serverauth carol serverAuth ca

# --- ca -> int1 -> ... -> int5, and a leaf under int4 and under int5 -----
ext "$tmp/int.cnf" "$ca_ext"
issuer_crt=$dir/ca/ca.crt
issuer_key=$dir/ca/ca.key
for n in 1 2 3 4 5; do
    genkey "$dir/peer/int$n.key"
    run req -new -sha256 -key "$dir/peer/int$n.key" \
        -subj "/O=dtlsudp security tests/CN=intermediate CA $n" -config "$tmp/int.cnf" \
        -out "$tmp/int$n.csr"
    run x509 -req -sha256 -days 3650 -in "$tmp/int$n.csr" -CA "$issuer_crt" -CAkey "$issuer_key" \
        -set_serial "0x$("$openssl" rand -hex 8)" -extfile "$tmp/int.cnf" -extensions ext \
        -out "$dir/peer/int$n.crt"
    issuer_crt=$dir/peer/int$n.crt
    issuer_key=$dir/peer/int$n.key
done
leaf deep4 deep4 clientAuth int4
leaf deep5 deep5 clientAuth int5

# --- CRLs ------------------------------------------------------------------
run ca -config "$dir/ca/openssl-ca.cnf" -revoke "$dir/peer/bob.crt" -crl_reason keyCompromise
run ca -config "$dir/ca/openssl-ca.cnf" -gencrl -out "$dir/crl/bob-revoked.pem"
printf 'this is not a CRL\n-----BEGIN X509 CRL-----\nZ2FyYmFnZQ==\n-----END X509 CRL-----\n' \
    >"$dir/crl/garbage.pem"
rm -f "$dir/crl/missing.pem"

# --- Net-SNMP's layout for the victims -----------------------------------
cp "$dir/ca/ca.crt" "$dir/tls/ca-certs/ca.crt"
cp "$dir/ca/ca.crt" "$dir/peer/ca.crt"
for n in server alice; do
    cp "$dir/peer/$n.crt" "$dir/tls/certs/$n.crt"
    cp "$dir/peer/$n.key" "$dir/tls/private/$n.key"
done
chmod 0644 "$dir"/tls/ca-certs/*.crt "$dir"/tls/certs/*.crt "$dir"/peer/*.crt "$dir"/crl/*.pem
chmod 0600 "$dir"/tls/private/*.key "$dir"/peer/*.key

fp() { "$openssl" x509 -in "$1" -noout -fingerprint "-$2" | sed 's/^[^=]*=//'; }
for f in "$dir/peer/"*.crt; do
    name=$(basename "$f" .crt)
    echo "$name sha256 $(fp "$f" sha256)"
    echo "$name sha1 $(fp "$f" sha1)"
done >"$dir/fingerprints.txt"
chmod 0644 "$dir/fingerprints.txt"
rm -rf "$tmp"
