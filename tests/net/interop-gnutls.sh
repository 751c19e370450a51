#!/bin/sh
# interop-gnutls.sh - the library against GnuTLS, a DTLS 1.2 implementation
# that shares no code with OpenSSL:
#  - gnutls-cli --udp against the echo server, once per AEAD suite.  The
#    server hands its record keys off after the handshake, so GnuTLS's
#    records are opened, and the echoes sealed, by the engine's own record
#    layer (RFC 5288 / RFC 7905 nonces, RFC 6347 4.1 sequence numbers);
#  - the echo client against gnutls-serv --udp --echo (GnuTLS's own
#    HelloVerifyRequest, client certificate required).
# Mutual authentication both ways; certificates from the openssl CLI.
# Kills only the pids it started.
set -u
builddir=${top_builddir:-.}
server=$builddir/examples/dtls-echo-server
client=$builddir/examples/dtls-echo-client
command -v gnutls-cli >/dev/null 2>&1 && command -v gnutls-serv >/dev/null 2>&1 ||
    { echo "SKIP: gnutls-bin is not installed"; exit 77; }
tmp=$(mktemp -d /tmp/dtlsudp-gnutls.XXXXXX) || exit 99
pid=
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; fi
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

fail() {
    echo "FAIL: $*"
    for f in server.out serv.out; do [ -f "$tmp/$f" ] && tail -n 20 "$tmp/$f"; done
    exit 1
}

cd "$tmp" || exit 99
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=interop CA" -keyout ca.key -out ca.pem \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign >/dev/null 2>&1 || exit 99
for name in server client; do
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$name" \
        -keyout $name.key -out $name.csr >/dev/null 2>&1 || exit 99
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' > $name.ext
    openssl x509 -req -in $name.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
        -extfile $name.ext -out $name.pem >/dev/null 2>&1 || exit 99
done
cd - >/dev/null || exit 99

# A free-looking port below Linux's ephemeral range; the callers retry.
pick_port() { port=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 12768)); }

# wait_for FILE PATTERN: up to 10 s while $pid lives.
wait_for() {
    i=0
    while [ $i -lt 100 ] && kill -0 "$pid" 2>/dev/null; do
        grep -q "$2" "$1" 2>/dev/null && return 0
        i=$((i + 1))
        sleep 0.1
    done
    return 1
}

stop() { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=; }

# --- gnutls-cli -> dtls-echo-server ------------------------------------------
attempt=0
until [ $attempt -ge 10 ]; do
    attempt=$((attempt + 1))
    pick_port
    rm -f "$tmp/server.out"
    "$server" --port "$port" --cert "$tmp/server.pem" --key "$tmp/server.key" --ca "$tmp/ca.pem" \
        > "$tmp/server.out" 2>&1 &
    pid=$!
    wait_for "$tmp/server.out" "^listening on .*:$port " && break
    stop
done
[ -n "$pid" ] || fail "echo server did not start"

long=$(head -c 900 /dev/zero | tr '\0' 'x')
printf 'one\ntwo\n%s\n' "$long" > "$tmp/lines"
for suite in AES-128-GCM AES-256-GCM CHACHA20-POLY1305; do
    # stdin stays open 2 s so that the echoes come back before gnutls-cli exits
    ( cat "$tmp/lines"; sleep 2 ) | timeout 20 gnutls-cli --udp --port "$port" \
        --x509cafile "$tmp/ca.pem" --x509certfile "$tmp/client.pem" --x509keyfile "$tmp/client.key" \
        --priority "NORMAL:-VERS-ALL:+VERS-DTLS1.2:-CIPHER-ALL:+$suite" 127.0.0.1 \
        > "$tmp/cli.out" 2> "$tmp/cli.err"
    grep -qx "$long" "$tmp/cli.out" && grep -qx one "$tmp/cli.out" && grep -qx two "$tmp/cli.out" ||
        fail "gnutls-cli $suite: echoes missing: $(tail -n 5 "$tmp/cli.out" "$tmp/cli.err")"
    case $suite in
    AES-128-GCM) want=ECDHE-ECDSA-AES128-GCM-SHA256 ;;
    AES-256-GCM) want=ECDHE-ECDSA-AES256-GCM-SHA384 ;;
    *) want=ECDHE-ECDSA-CHACHA20-POLY1305 ;;
    esac
    grep -q "accepted 127.0.0.1:[0-9]* (DTLSv1.2, $want)" "$tmp/server.out" || fail "gnutls-cli $suite: not negotiated"
    echo "ok: gnutls-cli $suite"
done
# A client without a certificate is refused (the echo server requires one).
( printf 'hello\n'; sleep 1 ) | timeout 20 gnutls-cli --udp --port "$port" --x509cafile "$tmp/ca.pem" \
    --priority "NORMAL:-VERS-ALL:+VERS-DTLS1.2" 127.0.0.1 > "$tmp/cli.out" 2> "$tmp/cli.err"
grep -qx hello "$tmp/cli.out" && fail "gnutls-cli without a certificate got an echo"
echo "ok: gnutls-cli without a certificate refused"
stop

# --- dtls-echo-client -> gnutls-serv -----------------------------------------
printf 'first line\nsecond line\nlast line\n' > "$tmp/input"
attempt=0
until [ $attempt -ge 10 ]; do
    attempt=$((attempt + 1))
    pick_port
    rm -f "$tmp/serv.out"
    gnutls-serv --udp --echo --port "$port" --x509certfile "$tmp/server.pem" --x509keyfile "$tmp/server.key" \
        --x509cafile "$tmp/ca.pem" --require-client-cert > "$tmp/serv.out" 2>&1 &
    pid=$!
    wait_for "$tmp/serv.out" "listening on IPv4 .* port $port\\.\\.\\.done" && break
    stop
done
[ -n "$pid" ] || fail "gnutls-serv did not start"
timeout 30 "$client" --cert "$tmp/client.pem" --key "$tmp/client.key" --ca "$tmp/ca.pem" 127.0.0.1 "$port" \
    < "$tmp/input" > "$tmp/client.out" 2> "$tmp/client.err" || fail "echo client exited $?: $(cat "$tmp/client.err")"
cmp -s "$tmp/input" "$tmp/client.out" || fail "echo client: echoes differ: $(cat "$tmp/client.out")"
echo "ok: dtls-echo-client against gnutls-serv"
# The wrong CA: the client refuses gnutls-serv's certificate.
if timeout 30 "$client" --cert "$tmp/client.pem" --key "$tmp/client.key" --ca "$tmp/client.pem" 127.0.0.1 "$port" \
    < "$tmp/input" > "$tmp/client.out" 2> "$tmp/client.err"; then
    fail "a gnutls-serv certificate from an unknown CA was accepted"
fi
echo "ok: gnutls-serv with an unknown CA refused"
stop
exit 0
