#!/bin/sh
# make-certs.sh: throwaway certificates for tests and the demo, laid out the
# way Net-SNMP reads them (<confdir>/tls/{ca-certs,certs,private}).
#
# usage: make-certs.sh [-q] DIR
#
# Creates, under DIR:
#   tls/ca-certs/ca.crt            test CA (ECDSA P-256, self-signed)
#   tls/certs/NAME.crt             leaf certificates (see the list below)
#   tls/private/NAME.key           their keys (mode 0600, directory 0700)
#   unknown-ca/ca.crt, ca.key      a second CA that nobody trusts (kept out of tls/)
#   ca/                            the test CA's key and `openssl ca` database
#   fingerprints.txt               "NAME sha256 AA:BB:.." and "NAME sha1 AA:.." lines
#
# Leaf certificates (all CA-signed by the test CA unless said otherwise):
#   server, server-ec     ECDSA P-256, CN=localhost,
#                         SAN DNS:localhost, IP:127.0.0.1, IP:::1
#   server-rsa            the same identity with an RSA-2048 key
#   client, client-ec     ECDSA P-256, CN=NAME,
#   client-rsa            RSA-2048, same shape:
#                         SAN email:NAME@example.com, DNS:NAME.example.com, IP:127.0.0.1
#   client-expired        like client, valid 2020-01-01..2020-01-02 only
#   client-unknown-ca     like client, signed by unknown-ca
#   client-selfsigned     like client, self-signed
# "server" and "client" are separate key pairs with the same shape as
# server-ec/client-ec (not copies): Net-SNMP indexes certificates by
# fingerprint, and two files with one fingerprint make lookups ambiguous.
# Every leaf carries extendedKeyUsage serverAuth+clientAuth, so an agent can
# also use its certificate as a client (traps) and vice versa.
#
# Idempotent: existing certificates are kept (a new CA re-issues the leaves);
# fingerprints.txt is rewritten on every run and printed unless -q.
set -eu

quiet=0
if [ "${1:-}" = "-q" ]; then
    quiet=1
    shift
fi
if [ $# -ne 1 ]; then
    echo "usage: $0 [-q] DIR" >&2
    exit 2
fi
dir=$1
openssl=${OPENSSL:-openssl}

umask 077
mkdir -p "$dir/tls/ca-certs" "$dir/tls/certs" "$dir/tls/private" \
         "$dir/ca" "$dir/unknown-ca" "$dir/tmp"
chmod 0755 "$dir/tls" "$dir/tls/ca-certs" "$dir/tls/certs"
chmod 0700 "$dir/tls/private"
dir=$(cd "$dir" && pwd)
tls=$dir/tls
tmp=$dir/tmp

die() { echo "make-certs.sh: $*" >&2; exit 1; }

# run CMD...: run openssl quietly, show its output only when it fails.
run() {
    if ! "$openssl" "$@" >"$tmp/openssl.out" 2>&1; then
        cat "$tmp/openssl.out" >&2
        die "openssl $1 failed"
    fi
}

# genkey KIND FILE: KIND is ec (P-256) or rsa (2048 bits).
genkey() {
    case $1 in
    ec)  run genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$2" ;;
    rsa) run genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$2" ;;
    *)   die "unknown key kind $1" ;;
    esac
    chmod 0600 "$2"
}

# write_ca_config CADIR: a minimal `openssl ca` configuration.  The leaf's
# extensions come from a per-certificate file, never from the request.
write_ca_config() {
    cadir=$1
    mkdir -p "$cadir/issued"
    : >"$cadir/index.txt"
    [ -f "$cadir/index.txt.attr" ] || echo "unique_subject = no" >"$cadir/index.txt.attr"
    cat >"$cadir/ca.cnf" <<EOF
[ ca ]
default_ca = testca
[ testca ]
dir              = $cadir
database         = \$dir/index.txt
serial           = \$dir/serial
new_certs_dir    = \$dir/issued
certificate      = \$dir/ca.crt
private_key      = \$dir/ca.key
default_md       = sha256
default_days     = 3650
policy           = policy_any
unique_subject   = no
copy_extensions  = none
email_in_dn      = no
[ policy_any ]
organizationName = optional
commonName       = supplied
EOF
}

# make_ca CADIR CN: self-signed ECDSA P-256 CA.
make_ca() {
    cadir=$1
    cat >"$tmp/ca-ext.cnf" <<EOF
[ req ]
distinguished_name = dn
[ dn ]
[ v3_ca ]
basicConstraints       = critical, CA:TRUE
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
EOF
    genkey ec "$cadir/ca.key"
    run req -new -x509 -sha256 -days 3650 -key "$cadir/ca.key" \
        -subj "/O=dtlsudp tests/CN=$2" -config "$tmp/ca-ext.cnf" \
        -extensions v3_ca -out "$cadir/ca.crt"
    rm -f "$tmp/ca-ext.cnf"
    write_ca_config "$cadir"
}

# leaf_ext FILE KIND KEYKIND NAME: the extension section for a leaf.
leaf_ext() {
    case $3 in
    rsa) ku="critical, digitalSignature, keyEncipherment" ;;
    *)   ku="critical, digitalSignature" ;;
    esac
    case $2 in
    server) san="DNS:localhost, IP:127.0.0.1, IP:::1" ;;
    client) san="email:$4@example.com, DNS:$4.example.com, IP:127.0.0.1" ;;
    esac
    cat >"$1" <<EOF
[ req ]
distinguished_name = dn
[ dn ]
[ leaf ]
basicConstraints       = critical, CA:FALSE
keyUsage               = $ku
extendedKeyUsage       = serverAuth, clientAuth
subjectAltName         = $san
subjectKeyIdentifier   = hash
EOF
}

# make_leaf NAME KIND(server|client) KEYKIND(ec|rsa) SIGNER(ca|unknown-ca|self) [expired]
make_leaf() {
    name=$1 kind=$2 keykind=$3 signer=$4 expired=${5:-}
    crt=$tls/certs/$name.crt
    key=$tls/private/$name.key
    if [ -s "$crt" ] && [ -s "$key" ]; then
        return 0
    fi
    case $kind in
    server) cn=localhost ;;
    *)      cn=$name ;;
    esac
    leaf_ext "$tmp/$name.cnf" "$kind" "$keykind" "$name"
    genkey "$keykind" "$tmp/$name.key"
    if [ "$signer" = self ]; then
        run req -new -x509 -sha256 -days 3650 -key "$tmp/$name.key" \
            -subj "/O=dtlsudp tests/CN=$cn" -config "$tmp/$name.cnf" \
            -extensions leaf -out "$tmp/$name.crt"
    else
        run req -new -sha256 -key "$tmp/$name.key" \
            -subj "/O=dtlsudp tests/CN=$cn" -config "$tmp/$name.cnf" \
            -out "$tmp/$name.csr"
        if [ -n "$expired" ]; then
            # `openssl x509 -days` cannot go into the past; `openssl ca` can.
            validity="-startdate 20200101000000Z -enddate 20200102000000Z"
        else
            validity="-days 3650"
        fi
        # shellcheck disable=SC2086
        run ca -batch -notext -rand_serial -config "$dir/$signer/ca.cnf" \
            $validity -extfile "$tmp/$name.cnf" -extensions leaf \
            -in "$tmp/$name.csr" -out "$tmp/$name.crt"
        rm -f "$tmp/$name.csr"
    fi
    chmod 0644 "$tmp/$name.crt"
    mv "$tmp/$name.key" "$key"
    mv "$tmp/$name.crt" "$crt"
    rm -f "$tmp/$name.cnf"
}

if [ ! -s "$dir/ca/ca.crt" ] || [ ! -s "$dir/ca/ca.key" ]; then
    make_ca "$dir/ca" "dtlsudp test CA"
    # A new CA invalidates every leaf it signed.
    rm -f "$tls/certs/"*.crt "$tls/private/"*.key
fi
cp "$dir/ca/ca.crt" "$tls/ca-certs/ca.crt"
chmod 0644 "$tls/ca-certs/ca.crt"
if [ ! -s "$dir/unknown-ca/ca.crt" ] || [ ! -s "$dir/unknown-ca/ca.key" ]; then
    make_ca "$dir/unknown-ca" "dtlsudp unknown CA"
    rm -f "$tls/certs/client-unknown-ca.crt" "$tls/private/client-unknown-ca.key"
fi

make_leaf server            server ec  ca
make_leaf server-ec         server ec  ca
make_leaf server-rsa        server rsa ca
make_leaf client            client ec  ca
make_leaf client-ec         client ec  ca
make_leaf client-rsa        client rsa ca
make_leaf client-expired    client ec  ca expired
make_leaf client-unknown-ca client ec  unknown-ca
make_leaf client-selfsigned client ec  self

# fingerprints.txt: "NAME sha256 FP" and "NAME sha1 FP", FP as openssl prints it.
fp() {
    "$openssl" x509 -in "$1" -noout -fingerprint "-$2" | sed 's/^[^=]*=//'
}
{
    for f in "$tls/ca-certs/ca.crt" "$dir/unknown-ca/ca.crt" "$tls/certs/"*.crt; do
        case $f in
        "$dir/unknown-ca/ca.crt") name=unknown-ca ;;
        *) name=$(basename "$f" .crt) ;;
        esac
        echo "$name sha256 $(fp "$f" sha256)"
        echo "$name sha1 $(fp "$f" sha1)"
    done
} >"$tmp/fingerprints.txt"
chmod 0644 "$tmp/fingerprints.txt"
mv "$tmp/fingerprints.txt" "$dir/fingerprints.txt"
rm -f "$tmp/openssl.out"
rmdir "$tmp" 2>/dev/null || true

if [ "$quiet" = 0 ]; then
    cat "$dir/fingerprints.txt"
fi
