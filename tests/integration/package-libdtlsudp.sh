#!/bin/bash
# package-libdtlsudp.sh: the installed libdtlsudp-dev (or `make install`),
# not the build tree: the server and client of the installed libdtlsudp(3)
# page, compiled with `pkg-config dtlsudp` and run on loopback: the client's
# message comes back.  Run by `scripts/check --package`.
set -euo pipefail
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/lib/snmpd.sh"
. "$top_srcdir/tests/integration/package-lib.sh"

tl_require pkg-config "${CC:-cc}"
pkg-config --exists dtlsudp || tl_fail "pkg-config does not know dtlsudp (libdtlsudp-dev not installed?)"
case $(pkg-config --variable=includedir dtlsudp) in
"$top_srcdir"/*) tl_fail "pkg-config finds dtlsudp in the source tree" ;;
esac

tl_init
tl_make_certs
page=$(pkg_man_page 3 libdtlsudp)
tl_log "examples from $page"
for prog in server client; do
    pkg_extract_example "$page" "$prog.c" >"$TL_TMP/$prog.c"
    # shellcheck disable=SC2046
    "${CC:-cc}" -Wall -Wextra -Werror -o "$TL_TMP/$prog" "$TL_TMP/$prog.c" \
        $(pkg-config --cflags --libs dtlsudp) || tl_fail "the $prog example does not build"
done

tls=$TL_CERTS/tls
tl_free_udp_port port
"$TL_TMP/server" "127.0.0.1:$port" "$tls/certs/server.crt" "$tls/private/server.key" \
    "$tls/ca-certs/ca.crt" >"$TL_TMP/server.out" 2>&1 &
server=$!
tl_on_exit "kill $server 2>/dev/null; wait $server 2>/dev/null"
for ((i = 0; i < 200; i++)); do
    ss -Haulnp "sport = :$port" 2>/dev/null | grep -q "pid=$server," && break
    tl_pid_alive "$server" || { cat "$TL_TMP/server.out" >&2; tl_fail "the server example exited"; }
    sleep 0.05
done
out=$(with_timeout 30 "$TL_TMP/client" localhost "$port" "$tls/certs/client.crt" \
    "$tls/private/client.key" "$tls/ca-certs/ca.crt" "hello from the manual") ||
    tl_fail "the client example failed"
[ "$out" = "hello from the manual" ] || tl_fail "unexpected echo: '$out'"
echo "PASS: the libdtlsudp(3) examples build with pkg-config dtlsudp and echo on 127.0.0.1:$port"
