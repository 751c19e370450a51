#!/bin/sh
# man-examples.sh - libdtlsudp(3) stays true: its example programs are
# extracted from docs/man/libdtlsudp.3.in, compiled (-Werror) against this
# build's header and library, the engine-only one is run (a client and an
# echo server on memory buffers, certificates from the openssl CLI), and
# every symbol the library exports (nm -D) is named in the page.
set -u
srcdir=${top_srcdir:-$(dirname "$0")/../..}
builddir=${top_builddir:-.}
page=$srcdir/docs/man/libdtlsudp.3.in
lib=$builddir/transport/.libs/libdtlsudp.so
cc=${CC:-cc}
srcdir=$(cd "$srcdir" && pwd) && builddir=$(cd "$builddir" && pwd) || exit 99
page=$srcdir/docs/man/libdtlsudp.3.in
lib=$builddir/transport/.libs/libdtlsudp.so
[ -f "$page" ] || { echo "man-examples.sh: $page not found"; exit 99; }
[ -f "$lib" ] || { echo "man-examples.sh: $lib not built (shared libraries off?)"; exit 77; }
tmp=$(mktemp -d /tmp/dtlsudp-manex.XXXXXX) || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }

# As a reader sees it: macro lines dropped, roff escapes turned back.
extract() {
    awk -v n="$1" '
        $0 ~ "^\\.\\\\\" libdtlsudp-example " n " begin$" { on = 1; next }
        $0 ~ "^\\.\\\\\" libdtlsudp-example " n " end$" { on = 0; next }
        on && !/^[.\x27]/ { print }' "$page" |
        sed -e 's/\\-/-/g' -e 's/\\(aq/'"'"'/g' -e 's/\\&//g' -e 's/\\e/\\/g'
}

# A sanitizer build's library needs its runtime first in the program.
sanitize=
if ldd "$lib" 2>/dev/null | grep -q libasan; then
    sanitize="-fsanitize=address,undefined"
fi

for ex in engine.c server.c client.c; do
    extract "$ex" >"$tmp/$ex"
    [ -s "$tmp/$ex" ] || fail "no example $ex in $page"
    $cc $sanitize -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -I"$srcdir/transport/include" \
        -o "$tmp/${ex%.c}" "$tmp/$ex" -L"$builddir/transport/.libs" -ldtlsudp -lssl -lcrypto ||
        fail "the $ex example of libdtlsudp(3) does not compile"
    echo "compiled: $ex"
done

cd "$tmp" || exit 99
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=man example CA" -keyout ca.key -out ca.pem \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign >/dev/null 2>&1 || exit 99
for name in server client; do
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$name" \
        -keyout $name.key -out $name.csr >/dev/null 2>&1 || exit 99
    printf 'basicConstraints=CA:FALSE\n' >$name.ext
    openssl x509 -req -in $name.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
        -extfile $name.ext -out $name.pem >/dev/null 2>&1 || exit 99
done
out=$(LD_LIBRARY_PATH="$builddir/transport/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
    timeout 20 ./engine server.pem server.key client.pem client.key ca.pem 2>&1) ||
    fail "the engine example exited non-zero: $out"
[ "$out" = "client got the echo: hello" ] || fail "the engine example printed '$out'"
echo "engine example: $out"
# Negative control: a client certificate from another CA is refused.
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=rogue" -keyout rogue.key -out rogue.pem >/dev/null 2>&1 || exit 99
if LD_LIBRARY_PATH="$builddir/transport/.libs" timeout 20 ./engine server.pem server.key \
    rogue.pem rogue.key ca.pem >/dev/null 2>&1; then
    fail "the engine example accepted a client its CA did not certify"
fi
cd "$OLDPWD" || exit 99

missing=
for sym in $(nm -D --defined-only "$lib" | awk '$2 == "T" { print $3 }'); do
    grep -q "fB$sym\\\\fR" "$page" || missing="$missing $sym"
done
[ -z "$missing" ] || fail "exported but not named in libdtlsudp(3):$missing"
echo "every exported symbol is named in libdtlsudp(3)"
exit 0
