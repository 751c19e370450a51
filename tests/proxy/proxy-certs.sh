#!/bin/bash
# Wrong certificates are refused in both directions, and SIGHUP reloads the
# server's certificate without dropping associations.
#   client with an unknown CA, an expired or a self-signed certificate
#     -> the proxy server refuses the handshake; nothing reaches the service
#   server not matching the client's host name or pin
#     -> the proxy client refuses the server
#   positive controls: the same setups with the right certificate/name/pin
#   SIGHUP with a new server certificate: the open association keeps
#     working, new ones see the new certificate; a broken file or another
#     key type is refused and the old identity stays
#   SIGHUP with a CRL revoking a client: its association is closed
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/lib/snmpd.sh"
. "$top_srcdir/tests/proxy/proxy-lib.sh"

tl_require python3 ss openssl
tl_init
tl_make_certs
px_certs
tool="python3 $top_srcdir/tests/proxy/udp-tool.py"
certs=$TL_CERTS/tls

tl_free_udp_port eport
$tool echo 127.0.0.1 "$eport" >"$TL_TMP/echo.out" 2>&1 &
epid=$!
tl_on_exit "kill $epid 2>/dev/null; wait $epid 2>/dev/null"
for ((i = 0; i < 200; i++)); do grep -q listening "$TL_TMP/echo.out" && break; sleep 0.05; done

# A CRL of our own CA, empty at first; a copy of the CA's database, so the
# shared certificate cache is never written to.
crl=$TL_TMP/ca.crl
sed "s|^dir .*|dir = $TL_CERTS/ca|" "$TL_CERTS/ca/ca.cnf" >"$TL_TMP/ca.cnf"
openssl ca -config "$TL_TMP/ca.cnf" -gencrl -crldays 2 -out "$crl" >/dev/null 2>&1 || tl_fail "cannot make a CRL"

# The server's identity lives in files the test replaces before SIGHUP.
mkdir -p "$TL_TMP/id"
cp "$PX_SERVER_CERT" "$TL_TMP/id/cert.pem"
cp "$PX_SERVER_KEY" "$TL_TMP/id/key.pem"
px_start server "
[server echo]
listen 127.0.0.1:0
forward 127.0.0.1:$eport
cert $TL_TMP/id/cert.pem
key $TL_TMP/id/key.pem
ca $PX_CA
[server pinned]
listen 127.0.0.1:0
forward 127.0.0.1:$eport
cert $TL_TMP/id/cert.pem
key $TL_TMP/id/key.pem
pin $(tl_fp client-selfsigned sha256)
[server revocable]
listen 127.0.0.1:0
forward 127.0.0.1:$eport
cert $PX_SERVER_CERT
key $PX_SERVER_KEY
ca $PX_CA
crl $crl"
sport=$(px_port server echo)
rport=$(px_port server revocable)
pport=$(px_port server pinned)

client_section() { # NAME SERVER_PORT CERT_NAME EXTRA_LINES
    printf '[client %s]\nlisten 127.0.0.1:0\nconnect 127.0.0.1:%s\ncert %s\nkey %s\n%s\n' \
        "$1" "$2" "$certs/certs/$3.crt" "$certs/private/$3.key" "$4"
}
chain="ca $PX_CA
hostname localhost"
px_start clients "
$(client_section good "$sport" client "$chain")
$(client_section unknownca "$sport" client-unknown-ca "$chain")
$(client_section expired "$sport" client-expired "$chain")
$(client_section selfsigned "$sport" client-selfsigned "$chain")
$(client_section selfpinned "$pport" client-selfsigned "pin $(tl_fp server sha256)")
$(client_section wrongname "$sport" client "ca $PX_CA
hostname wrong.example.com")
$(client_section wrongpin "$sport" client "pin $(tl_fp client sha256)")
$(client_section rightpin "$sport" client "pin $(tl_fp server sha256)")
$(client_section revocable "$rport" client-ec "$chain")"

# One probe per client service, all at once (each from its own source, so
# each opens its own association).  A refused one must stay unanswered.
specs=()
for pair in good=ok rightpin=ok selfpinned=ok revocable=ok unknownca=refused expired=refused selfsigned=refused \
    wrongname=refused wrongpin=refused; do
    specs+=("$(px_port clients "${pair%%=*}")=${pair#*=}")
done
$tool expect 127.0.0.1 4 "${specs[@]}" >"$TL_TMP/expect.out" 2>&1 ||
    tl_fail "certificate outcomes: $(cat "$TL_TMP/expect.out")"
echo "ok: accepted good, rightpin, selfpinned, revocable; refused unknownca, expired, selfsigned, wrongname, wrongpin"

clog=$(px_log clients)
slog=$(px_log server)
for svc in unknownca expired selfsigned wrongname wrongpin; do
    grep -q "dtlsudp-proxy\[$svc\]: no association for 127.0.0.1:[0-9]*: " "$clog" ||
        tl_fail "$svc: the client proxy did not say why"
done
grep -q 'dtlsudp-proxy\[wrongname\]: no association for .*: peer certificate refused' "$clog" ||
    tl_fail "wrongname: not refused as a peer certificate"
grep -q 'dtlsudp-proxy\[wrongpin\]: no association for .*: peer certificate refused' "$clog" ||
    tl_fail "wrongpin: not refused as a peer certificate"
# Exactly four associations reached the service: good, rightpin, selfpinned, revocable.
n=$(grep -c ': association 127.0.0.1:[0-9]* via ' "$slog")
[ "$n" -eq 4 ] || tl_fail "expected 4 authenticated associations at the server, found $n"
grep -q 'dtlsudp-proxy\[pinned\]: association .*CN=client-selfsigned.* trust=pinned' "$slog" ||
    tl_fail "the pinned self-signed client is not logged as pinned"
echo "ok: refusals logged with their reasons, only authenticated peers reached the service"

# --- SIGHUP ---------------------------------------------------------------
old_fp=$(tl_fp server sha256)
new_fp=$(tl_fp server-ec sha256)
$tool hold 127.0.0.1 "$(px_port clients rightpin)" "$TL_TMP/go" >"$TL_TMP/hold.out" 2>&1 &
hpid=$!
for ((i = 0; i < 200; i++)); do grep -q 'first' "$TL_TMP/hold.out" && break; sleep 0.05; done
grep -q 'first ok' "$TL_TMP/hold.out" || tl_fail "held association: $(cat "$TL_TMP/hold.out")"
before=$(grep -c ': association 127.0.0.1:[0-9]* via ' "$slog")

# A broken identity first: refused, the old one stays.
cp "$certs/private/server-rsa.key" "$TL_TMP/id/key.pem" # does not match cert.pem
px_signal server HUP
for ((i = 0; i < 200; i++)); do grep -q 'reload refused' "$slog" && break; sleep 0.05; done
grep -q "dtlsudp-proxy\[echo\]: reload refused, still using the previous certificates: key $TL_TMP/id/key.pem does not match certificate $TL_TMP/id/cert.pem" "$slog" ||
    tl_fail "a mismatched key was not refused"
$tool expect 127.0.0.1 4 "$(px_port clients good)=ok" >/dev/null ||
    tl_fail "new associations fail after a refused reload"

# A key of another type cannot replace the running one (OpenSSL would keep
# the old certificate beside it): refused, with the reason.
cp "$certs/certs/server-rsa.crt" "$TL_TMP/id/cert.pem"
px_signal server HUP
for ((i = 0; i < 200; i++)); do grep -q 'another type' "$slog" && break; sleep 0.05; done
grep -q "dtlsudp-proxy\[echo\]: reload refused, still using the previous certificates: key $TL_TMP/id/key.pem is of another type (rsaEncryption) than the running one (id-ecPublicKey): restart to change it" "$slog" ||
    tl_fail "a key type change was not refused: $(grep reload "$slog")"

# Now a good one: the server-ec identity (same shape, another key pair).
cp "$certs/certs/server-ec.crt" "$TL_TMP/id/cert.pem"
cp "$certs/private/server-ec.key" "$TL_TMP/id/key.pem"
px_signal server HUP
for ((i = 0; i < 200; i++)); do grep -q 'echo\]: certificates reloaded' "$slog" && break; sleep 0.05; done
open=$(grep -c 'dtlsudp-proxy\[echo\]: association 127.0.0.1:[0-9]* via' "$slog")
grep -q "dtlsudp-proxy\[echo\]: certificates reloaded; $open associations kept, 0 revoked" "$slog" ||
    tl_fail "no reload line: $(grep reload "$slog")"
touch "$TL_TMP/go"
wait "$hpid" || tl_fail "the association open across SIGHUP stopped working: $(cat "$TL_TMP/hold.out")"
# New associations: every one now presents the new certificate.
good=$(px_port clients good)
$tool expect 127.0.0.1 4 "$good=ok" "$good=ok" "$good=ok" >"$TL_TMP/expect.out" 2>&1 ||
    tl_fail "new associations after the reload: $(cat "$TL_TMP/expect.out")"
after_lines=$(grep 'dtlsudp-proxy\[good\]: association for' "$clog" | tail -n 3)
echo "$after_lines" | grep -q "sha256=$old_fp" && tl_fail "a new association still got the old certificate:
$after_lines"
[ "$(echo "$after_lines" | grep -c "sha256=$new_fp")" -eq 3 ] || tl_fail "new certificate not presented:
$after_lines"
# The held association's server did not change: no new association for it.
[ "$(grep -c 'dtlsudp-proxy\[rightpin\]: association for' "$clog")" -eq 2 ] ||
    tl_fail "the held association was re-made"
echo "ok: SIGHUP reloaded the certificate; the open association survived; new ones get the new certificate"

# A CRL revoking client-ec: SIGHUP closes its open association (close_notify
# to the client proxy) and refuses it from then on.
openssl ca -config "$TL_TMP/ca.cnf" -revoke "$certs/certs/client-ec.crt" >/dev/null 2>&1 || tl_fail "revoke failed"
openssl ca -config "$TL_TMP/ca.cnf" -gencrl -crldays 2 -out "$crl" >/dev/null 2>&1 || tl_fail "gencrl failed"
# Earlier SIGHUPs reloaded this service too: wait for one more line.
reloads=$(grep -c 'revocable\]: certificates reloaded' "$slog")
px_signal server HUP
for ((i = 0; i < 200; i++)); do
    [ "$(grep -c 'revocable\]: certificates reloaded' "$slog")" -gt "$reloads" ] && break
    sleep 0.05
done
grep -q 'dtlsudp-proxy\[revocable\]: certificates reloaded; 0 associations kept, 1 revoked' "$slog" ||
    tl_fail "the revoked association was not closed: $(grep 'revocable.*reload' "$slog")"
for ((i = 0; i < 200; i++)); do grep -q 'revocable\]: association for .*: association closed' "$clog" && break; sleep 0.05; done
grep -q 'dtlsudp-proxy\[revocable\]: association for 127.0.0.1:[0-9]*: association closed' "$clog" ||
    tl_fail "the client proxy did not see the close_notify"
$tool expect 127.0.0.1 4 "$(px_port clients revocable)=refused" "$good=ok" >"$TL_TMP/expect.out" 2>&1 ||
    tl_fail "after the CRL: $(cat "$TL_TMP/expect.out")"
grep -q 'dtlsudp-proxy\[revocable\]: assoc [0-9]*: client certificate .* refused: certificate revoked' "$slog" ||
    tl_fail "no 'revoked' refusal at the server: $(grep revocable "$slog" | tail -3)"
echo "ok: SIGHUP with a new CRL closed the revoked association and refuses the certificate"
px_stop clients
px_stop server
exit 0
