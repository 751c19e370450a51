#!/bin/sh
# Which code serves dtlsudp:?  The loader paths, checked with a stand-in
# plugin (manager-test-plugin.so) and, once built, the real one:
#  - stock libnetsnmp: nothing (built-in), dtlsudp-run (plugin), and the
#    other domains unchanged;
#  - patched libnetsnmp (DTLSUDP_NETSNMP_PREFIX, see snmplib-patches/build):
#    transportPlugin in snmp.conf, SNMP_TRANSPORT_PLUGINS, the environment
#    overriding the file, errors naming file and line, and the
#    netsnmp_tdomain_unregister fix.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/manager-lib.sh"

need_file "$probe" "$test_plugin_so" "$preload_so" "$dtlsudp_run"
isolate_netsnmp_config

# expect SPEC OBJECT-PATTERN OUTPUT: the probe's line for SPEC matches.
expect() {
    line=$(printf '%s\n' "$3" | awk -v spec="$1" '$1 == spec' | head -n 1)
    case "$line" in
    "$1 "$2) ;;
    *) fail "$1: expected $2, got '${line:-nothing}' (${4:-})" ;;
    esac
}

dtls_specs="dtlsudp:127.0.0.1:10161 dtls:127.0.0.1:10161 dtlsudp6:[::1]:10161 dtls6:[::1]:10161"

# 1. Stock programs, no loader: Debian's built-in DTLSUDP.
out=$("$probe" dtlsudp:127.0.0.1:10161 udp:127.0.0.1:161 2>&1)
expect dtlsudp:127.0.0.1:10161 'libnetsnmp.so*' "$out" "no loader"
expect udp:127.0.0.1:161 'libnetsnmp.so*' "$out" "no loader"

# 2. dtlsudp-run with the stand-in plugin: every DTLS prefix is the
# plugin's, clients and listeners; the other domains stay built-in.
out=$(DTLSUDP_TRANSPORT_PLUGIN=$test_plugin_so "$dtlsudp_run" "$probe" \
    $dtls_specs udp:127.0.0.1:161 udp6:[::1]:161 2>&1)
for s in $dtls_specs; do
    expect "$s" manager-test-plugin.so "$out" "dtlsudp-run, client"
done
expect udp:127.0.0.1:161 'libnetsnmp.so*' "$out" "dtlsudp-run"
expect udp6:[::1]:161 'libnetsnmp.so*' "$out" "dtlsudp-run"
out=$(DTLSUDP_TRANSPORT_PLUGIN=$test_plugin_so "$dtlsudp_run" "$probe" -l dtlsudp:127.0.0.1:0 2>&1)
expect dtlsudp:127.0.0.1:0 manager-test-plugin.so "$out" "dtlsudp-run, listener"

# 3. dtlsudp-run with the real plugin, once the transport is built.
if [ -e "$plugin_so" ]; then
    out=$("$dtlsudp_run" "$probe" dtlsudp:127.0.0.1:10161 dtls6:[::1]:10161 2>&1)
    expect dtlsudp:127.0.0.1:10161 dtlsudp-transport.so "$out" "dtlsudp-run, real plugin"
    expect dtls6:[::1]:10161 dtlsudp-transport.so "$out" "dtlsudp-run, real plugin"
else
    note "dtlsudp-transport.so not built yet: real plugin not checked"
fi

if [ -z "$netsnmp_prefix" ]; then
    note "ok (stock libnetsnmp; set DTLSUDP_NETSNMP_PREFIX or run snmplib-patches/build --test for the patched library)"
    exit 0
fi
[ -e "$netsnmp_prefix/lib/libnetsnmp.so" ] || fail "no libnetsnmp in $netsnmp_prefix"

# 4. Patched libnetsnmp without plugins: still the built-in.
out=$(with_netsnmp "$probe" dtlsudp:127.0.0.1:10161 2>&1)
expect dtlsudp:127.0.0.1:10161 'libnetsnmp.so*' "$out" "patched, no plugin"
# ...and it really is the patched one.
with_netsnmp ldd "$probe" | grep -q "$netsnmp_prefix/lib/libnetsnmp" ||
    fail "the probe does not use $netsnmp_prefix/lib/libnetsnmp"

# 5. transportPlugin in snmp.conf (after init: the override API).
echo "transportPlugin dtlsudp $test_plugin_so" >"$workdir/conf/snmp.conf"
out=$(with_netsnmp "$probe" $dtls_specs udp:127.0.0.1:161 2>&1)
for s in $dtls_specs; do
    expect "$s" manager-test-plugin.so "$out" "transportPlugin"
done
expect udp:127.0.0.1:161 'libnetsnmp.so*' "$out" "transportPlugin"
out=$(with_netsnmp "$probe" -l dtlsudp:127.0.0.1:0 2>&1)
expect dtlsudp:127.0.0.1:0 manager-test-plugin.so "$out" "transportPlugin, listener"

# 6. The environment replaces the file; empty disables.
out=$(SNMP_TRANSPORT_PLUGINS= with_netsnmp "$probe" dtlsudp:127.0.0.1:10161 2>&1)
expect dtlsudp:127.0.0.1:10161 'libnetsnmp.so*' "$out" "SNMP_TRANSPORT_PLUGINS empty"
: >"$workdir/conf/snmp.conf"
out=$(SNMP_TRANSPORT_PLUGINS="dtlsudp:$test_plugin_so" with_netsnmp "$probe" dtls:127.0.0.1:10161 2>&1)
expect dtls:127.0.0.1:10161 manager-test-plugin.so "$out" "SNMP_TRANSPORT_PLUGINS"

# 7. Errors say where and why.
printf '# line 1\ntransportPlugin dtlsudp %s\n' "$workdir/missing.so" >"$workdir/conf/snmp.conf"
out=$(with_netsnmp "$probe" udp:127.0.0.1:161 2>&1)
printf '%s\n' "$out" | grep "snmp.conf: line 2" | grep -q "cannot load transport plugin dtlsudp" ||
    fail "missing plugin: no file/line error: $out"
expect udp:127.0.0.1:161 'libnetsnmp.so*' "$out" "after a failed plugin"
printf 'transportPlugin dtlsudp %s\n' "$probe" >"$workdir/conf/snmp.conf"
out=$(with_netsnmp "$probe" udp:127.0.0.1:161 2>&1)
printf '%s\n' "$out" | grep -q "cannot load transport plugin dtlsudp\|has no dtlsudp_transport_init" ||
    fail "not a plugin: no error: $out"
printf 'transportPlugin ../bad %s\n' "$test_plugin_so" >"$workdir/conf/snmp.conf"
out=$(with_netsnmp "$probe" udp:127.0.0.1:161 2>&1)
printf '%s\n' "$out" | grep -q 'bad transport plugin name' || fail "bad name accepted: $out"
out=$(SNMP_TRANSPORT_PLUGINS="dtlsudp:$workdir/missing.so" with_netsnmp "$probe" udp:127.0.0.1:161 2>&1)
printf '%s\n' "$out" | grep -q 'SNMP_TRANSPORT_PLUGINS: cannot load transport plugin dtlsudp' ||
    fail "missing plugin from the environment: $out"
: >"$workdir/conf/snmp.conf"

# 8. netsnmp_tdomain_unregister with a struct of one's own removes that
# domain only (0001).
out=$(with_netsnmp "$probe" -u dtlsudp:127.0.0.1:10161 udp:127.0.0.1:161 udp6:[::1]:161 2>&1)
expect unregister 1 "$out" "unregister"
expect dtlsudp:127.0.0.1:10161 none "$out" "after unregister"
expect udp:127.0.0.1:161 'libnetsnmp.so*' "$out" "after unregister"
expect udp6:[::1]:161 'libnetsnmp.so*' "$out" "after unregister"

# 9. The real plugin through transportPlugin.
if [ -e "$plugin_so" ]; then
    echo "transportPlugin dtlsudp $plugin_so" >"$workdir/conf/snmp.conf"
    out=$(with_netsnmp "$probe" dtlsudp:127.0.0.1:10161 udp:127.0.0.1:161 2>&1)
    expect dtlsudp:127.0.0.1:10161 dtlsudp-transport.so "$out" "transportPlugin, real plugin"
    expect udp:127.0.0.1:161 'libnetsnmp.so*' "$out" "transportPlugin, real plugin"
    : >"$workdir/conf/snmp.conf"
fi
note "ok (stock and patched libnetsnmp)"
