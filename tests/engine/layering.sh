#!/bin/sh
# The engine is buffer in / buffer out: no socket calls, no Net-SNMP.
# Fails if transport/engine mentions any of them outside comments.
src="${top_srcdir:-$(dirname "$0")/../..}/transport/engine"
[ -d "$src" ] || { echo "layering.sh: $src not found"; exit 99; }
pattern='\<(socket|sendto|recvfrom|sendmsg|recvmsg|connect|bind|listen|accept|select|poll|epoll_[a-z]+)[[:space:]]*\(|net-snmp/|netsnmp_|<sys/socket\.h>'
# Blank out comments first (line numbers kept; line-wise, good enough for
# our style).
found=$(for f in "$src"/*.c "$src"/*.h; do
    sed -e 's://.*$::' -e 's:/\*.*\*/::g' -e '/\/\*/,/\*\//s/.*//' "$f" | grep -nE "$pattern" | sed "s|^|$f:|"
done)
if [ -n "$found" ]; then
    echo "layering violation in transport/engine:"
    echo "$found"
    exit 1
fi
echo "transport/engine: no socket calls, no Net-SNMP"
exit 0
