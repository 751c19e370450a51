#!/bin/sh
# dtlsudp-proxy is a consumer of libdtlsudp, not a layer: its sources may
# include only dtlsudp.h, their own proxy.h, config.h, and libc/OpenSSL
# headers, and the program must reach the library through its exported
# (dynamic) symbols only.  Fails if either is not so.
src="${top_srcdir:-$(dirname "$0")/../..}/transport/proxy"
bin="${top_builddir:-.}/transport/proxy/.libs/dtlsudp-proxy"
[ -d "$src" ] || { echo "layering.sh: $src not found"; exit 99; }
status=0

# 1. includes
bad=$(grep -nE '^[[:space:]]*#[[:space:]]*include' "$src"/*.c "$src"/*.h |
    grep -vE '#[[:space:]]*include[[:space:]]*("(config|proxy|dtlsudp)\.h"|<(openssl/)?[a-z0-9_/]+\.h>)' )
also=$(grep -nE '#[[:space:]]*include[[:space:]]*<(net-snmp|netsnmp)' "$src"/*.c "$src"/*.h)
if [ -n "$bad$also" ]; then
    echo "transport/proxy includes something other than dtlsudp.h, libc and OpenSSL:"
    printf '%s\n%s\n' "$bad" "$also" | sed '/^$/d'
    status=1
fi

# 2. no library internals by name (outside comments)
pattern='engine_internal|net_internal|snmp_internal|\<netsnmp_|\<dtlsudp_(net|snmp|cookie|admit|ctx|bio|outq|table|record)_[a-z_]*[[:space:]]*\('
found=$(for f in "$src"/*.c "$src"/*.h; do
    sed -e 's://.*$::' -e 's:/\*.*\*/::g' -e '/\/\*/,/\*\//s/.*//' "$f" | grep -nE "$pattern" | sed "s|^|$f:|"
done)
if [ -n "$found" ]; then
    echo "transport/proxy uses library internals:"
    echo "$found"
    status=1
fi

# 3. the program takes every dtlsudp_ symbol from the shared library
if [ -x "$bin" ]; then
    defined=$(nm -D --defined-only "$bin" 2>/dev/null | grep ' dtlsudp_')
    linked=$(nm "$bin" 2>/dev/null | grep -E ' [TtDdBb] dtlsudp_')
    if [ -n "$defined$linked" ]; then
        echo "dtlsudp-proxy carries library code instead of linking libdtlsudp.so:"
        printf '%s\n%s\n' "$defined" "$linked" | sed '/^$/d' | head
        status=1
    fi
    ldd "$bin" 2>/dev/null | grep -q 'libdtlsudp\.so' || {
        echo "dtlsudp-proxy does not link libdtlsudp.so"
        status=1
    }
    und=$(nm -D --undefined-only "$bin" | grep -c ' dtlsudp_')
    echo "dtlsudp-proxy: $und dtlsudp_* symbols, all from libdtlsudp.so"
else
    echo "note: $bin not built (static build?): symbol check skipped"
fi
[ $status -eq 0 ] && echo "transport/proxy: only dtlsudp.h, libc and OpenSSL"
exit $status
