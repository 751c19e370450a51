#!/bin/bash
# mibs-walk.sh: the plugin's MIB modules in a real snmpd, walked over plain
# udp with SNMPv2c.  snmpd loads the test dlmod mibs-testmod.so: the MIB
# library (agent-plugin/mib/libdtlsudpmib.la) over a fake statistics provider
# whose values are known (see mibs-testmod.c), so every value is checked
# exactly, and the names resolve through the MIB files in mibs/.
set -eu
. "${top_srcdir:?}/tests/lib/snmpd.sh"
. "$top_srcdir/tests/integration/mibs-lib.sh"

so=${top_builddir:?}/tests/integration/.libs/mibs-testmod.so
[ -e "$so" ] || tl_skip "$so not built (make check builds it)"
tl_require snmpd snmpwalk snmpget snmpset

tl_init
port=$(tl_free_udp_port)
target=udp:127.0.0.1:$port
fp_sha1=AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01
fp_sha256=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff

tl_agent_new agent
tl_agent_listen agent "$target"
mibs_dlmod_env agent "$so"
tl_conf agent \
    "rocommunity public 127.0.0.1" \
    "rwcommunity private 127.0.0.1 .1.3.6.1.2.1.198" \
    "rwcommunity tsmrw 127.0.0.1 .1.3.6.1.2.1.190.1.2" \
    "dlmod dtlsudpmibtest $so" \
    "certSecName 10 $fp_sha1 --sn alice" \
    "certSecName 20 --sha256 $fp_sha256 --cn" \
    "snmpTlstmParams p1 --sha256 $fp_sha256" \
    "snmpTlstmAddr a1 --sha256 $fp_sha256 server.example.com"
tl_agent_start agent
tl_log_has agent "mibs-testmod: MIB modules registered" || tl_fail "the test dlmod did not register"

walk() { mibs_app snmpwalk -v2c -c public -On -Oq -Oe -Ot -t 5 -r 1 "$target" "$@"; }

check_counters() {
    local out n v
    # SNMP-TLS-TM-MIB snmpTlstmSession 1..10 = libnetsnmp STAT_TLSTM_*
    out=$(walk .1.3.6.1.2.1.198.2.1)
    expect_eq "snmpTlstmSession objects" "$(wc -l <<<"$out")" 10
    for n in $(seq 1 10); do
        expect_eq "snmpTlstmSession.$n" "$(mibs_value "$out" .1.3.6.1.2.1.198.2.1.$n.0)" "$n"
    done
    # SNMP-TSM-MIB snmpTsmStats 1..4 and snmpTsmConfigurationUsePrefix
    out=$(walk .1.3.6.1.2.1.190.1)
    expect_eq "SNMP-TSM-MIB objects" "$(wc -l <<<"$out")" 5
    for n in 1 2 3 4; do
        expect_eq "snmpTsmStats.$n" "$(mibs_value "$out" .1.3.6.1.2.1.190.1.1.$n.0)" "$((100 + n))"
    done
    expect_eq "snmpTsmConfigurationUsePrefix" "$(mibs_value "$out" .1.3.6.1.2.1.190.1.2.1.0)" 2 # false(2)

    # DTLSUDP-MIB: 31 scalars + count + 2 listener rows x 33 columns
    out=$(walk .1.3.6.1.3.6353)
    expect_eq "DTLSUDP-MIB objects" "$(wc -l <<<"$out")" $((31 + 1 + 2 * 33))
    for n in $(seq 1 26); do
        case $n in
        10) v=4294967295 ;;       # Gauge32 clamps 2^32 + 10
        25) v=$(((1 << 33) + 25)) ;; # Counter64 above 2^32
        *) v=$((3000 + 2 * n)) ;;
        esac
        expect_eq "dtlsudpStats.$n" "$(mibs_value "$out" .1.3.6.1.3.6353.1.1.$n.0)" "$v"
        expect_eq "listener 1 field $n" "$(mibs_value "$out" .1.3.6.1.3.6353.1.3.1.$((n + 3)).1)" $((1000 + n))
        expect_eq "listener 2 field $n" "$(mibs_value "$out" .1.3.6.1.3.6353.1.3.1.$((n + 3)).2)" $((2000 + n))
    done
    expect_eq "dtlsudpListenerCount" "$(mibs_value "$out" .1.3.6.1.3.6353.1.2.0)" 2
    expect_eq "listener 1 address" "$(mibs_value "$out" .1.3.6.1.3.6353.1.3.1.2.1)" '"127.0.0.1:10161"'
    expect_eq "listener 2 address" "$(mibs_value "$out" .1.3.6.1.3.6353.1.3.1.2.2)" '"[::1]:10161"'
    expect_eq "listener 1 demux" "$(mibs_value "$out" .1.3.6.1.3.6353.1.3.1.3.1)" 1
    expect_eq "listener 2 demux" "$(mibs_value "$out" .1.3.6.1.3.6353.1.3.1.3.2)" 2
}

# snmpTlstmCertificateMapping; $1 = expected snmpTlstmCertToTSNCount
check_mapping() {
    local out b=.1.3.6.1.2.1.198.2.2.1
    out=$(walk $b)
    expect_eq "snmpTlstmCertToTSNCount" "$(mibs_value "$out" $b.1.0)" "$1"
    expect_eq "snmpTlstmParamsCount" "$(mibs_value "$out" $b.4.0)" 1
    expect_eq "snmpTlstmAddrCount" "$(mibs_value "$out" $b.7.0)" 1
    expect_eq "snmpTlstmParamsTableLastChanged" "$(mibs_value "$out" $b.5.0)" 0
    expect_eq "snmpTlstmAddrTableLastChanged" "$(mibs_value "$out" $b.8.0)" 0
    # certSecName 10 <sha1 fp> --sn alice
    expect_eq "CertToTSNFingerprint.10" "$(mibs_value "$out" $b.3.1.2.10)" \
        "\"02 ${fp_sha1//:/ } \""
    expect_eq "CertToTSNMapType.10" "$(mibs_value "$out" $b.3.1.3.10)" .1.3.6.1.2.1.198.1.1.1
    expect_eq "CertToTSNData.10" "$(mibs_value "$out" $b.3.1.4.10)" '"alice"'
    expect_eq "CertToTSNStorageType.10" "$(mibs_value "$out" $b.3.1.5.10)" 4
    expect_eq "CertToTSNRowStatus.10" "$(mibs_value "$out" $b.3.1.6.10)" 1
    # certSecName 20 --sha256 <fp> --cn
    expect_eq "CertToTSNMapType.20" "$(mibs_value "$out" $b.3.1.3.20)" .1.3.6.1.2.1.198.1.1.6
    expect_eq "CertToTSNData.20" "$(mibs_value "$out" $b.3.1.4.20)" '""'
    # snmpTlstmParams p1 (IMPLIED index "p1" = 112.49), snmpTlstmAddr a1 (97.49)
    local fp256
    fp256=$(sed 's/../& /g; s/ $//' <<<"$fp_sha256" | tr a-f A-F)
    expect_eq "ParamsClientFingerprint.p1" "$(mibs_value "$out" $b.6.1.1.112.49)" "\"04 $fp256 \""
    expect_eq "ParamsStorageType.p1" "$(mibs_value "$out" $b.6.1.2.112.49)" 4
    expect_eq "ParamsRowStatus.p1" "$(mibs_value "$out" $b.6.1.3.112.49)" 1
    expect_eq "AddrServerFingerprint.a1" "$(mibs_value "$out" $b.9.1.1.97.49)" "\"04 $fp256 \""
    expect_eq "AddrServerIdentity.a1" "$(mibs_value "$out" $b.9.1.2.97.49)" '"server.example.com"'
    expect_eq "AddrRowStatus.a1" "$(mibs_value "$out" $b.9.1.4.97.49)" 1
}

check_counters
check_mapping 2
out=$(walk .1.3.6.1.2.1.198.2.2.1.2)
expect_eq "snmpTlstmCertToTSNTableLastChanged at start" "$(mibs_value "$out" .1.3.6.1.2.1.198.2.2.1.2.0)" 0

# Names: with the MIB files every object we serve has a name.
mibs="DTLSUDP-MIB:SNMP-TLS-TM-MIB:SNMP-TSM-MIB"
for tree in .1.3.6.1.3.6353:DTLSUDP-MIB .1.3.6.1.2.1.198:SNMP-TLS-TM-MIB .1.3.6.1.2.1.190:SNMP-TSM-MIB; do
    named=$(mibs_app snmpwalk -v2c -c public -m "$mibs" -t 5 -r 1 "$target" "${tree%%:*}" 2>&1)
    unnamed=$(grep -v "^${tree#*:}::" <<<"$named" || true)
    [ -z "$unnamed" ] || tl_fail "objects under ${tree%%:*} without a ${tree#*:} name: $unnamed"
done
named=$(mibs_app snmpget -v2c -c public -m "$mibs" "$target" \
    DTLSUDP-MIB::dtlsudpCookiesSent.0 DTLSUDP-MIB::dtlsudpListenerAddress.2 \
    SNMP-TLS-TM-MIB::snmpTlstmSessionAccepts.0)
grep -q '^DTLSUDP-MIB::dtlsudpCookiesSent.0 = Counter64: 3002$' <<<"$named" || tl_fail "named get: $named"
grep -q '^DTLSUDP-MIB::dtlsudpListenerAddress.2 = STRING: \[::1\]:10161$' <<<"$named" ||
    tl_fail "named get: $named"
grep -q '^SNMP-TLS-TM-MIB::snmpTlstmSessionAccepts.0 = Counter32: 4$' <<<"$named" ||
    tl_fail "named get: $named"

# GETBULK walks the same objects as GETNEXT.
for tree in .1.3.6.1.3.6353 .1.3.6.1.2.1.198 .1.3.6.1.2.1.190; do
    bulk=$(mibs_app snmpbulkwalk -v2c -c public -On -Oq -Oe -Ot -Cr7 -t 5 -r 1 "$target" "$tree")
    expect_eq "bulkwalk of $tree" "$bulk" "$(walk "$tree")"
done

# Read-only: a SET that passes access control still fails, and changes nothing.
if out=$(mibs_app snmpset -v2c -c private "$target" .1.3.6.1.2.1.198.2.2.1.3.1.4.10 s bob 2>&1); then
    tl_fail "SET on snmpTlstmCertToTSNData succeeded: $out"
fi
grep -qi 'notWritable' <<<"$out" || tl_fail "SET on snmpTlstmCertToTSNData: $out"
check_mapping 2

# SIGHUP: snmpd re-reads its configuration and re-runs the dlmod's init.
# The handlers stay registered exactly once, the counters keep their values,
# and the new certSecName line shows up with LastChanged moving off 0.
tl_conf agent "certSecName 30 $fp_sha1 --any"
registered=$(grep -c "mibs-testmod: MIB modules registered" "$(tl_log_file agent)")
kill -HUP "$(tl_pid agent)"
for ((i = 0; i < 100; i++)); do
    [ "$(grep -c "mibs-testmod: MIB modules registered" "$(tl_log_file agent)")" -gt "$registered" ] && break
    sleep 0.1
done
[ "$i" -lt 100 ] || tl_fail "snmpd did not re-run the dlmod init after SIGHUP"
check_counters
check_mapping 3
out=$(walk .1.3.6.1.2.1.198.2.2.1.2)
changed=$(mibs_value "$out" .1.3.6.1.2.1.198.2.2.1.2.0)
[ "$changed" -gt 0 ] || tl_fail "snmpTlstmCertToTSNTableLastChanged after a reload that added a row: $changed"
expect_eq "CertToTSNMapType.30" "$(mibs_value "$(walk .1.3.6.1.2.1.198.2.2.1.3.1.3)" \
    .1.3.6.1.2.1.198.2.2.1.3.1.3.30)" .1.3.6.1.2.1.198.1.1.5

# snmpTsmConfigurationUsePrefix is read-write (SNMP-TSM-MIB): a SET changes
# libnetsnmp's tsmUseTransportPrefix at once, bad values are refused, and a
# value set over SNMP survives a restart (persistent snmp.conf).
up=.1.3.6.1.2.1.190.1.2.1.0
set_prefix() { mibs_app snmpset -v2c -c tsmrw -On -Oq -Oe -t 5 -r 1 "$target" "$up" i "$1"; }
get_prefix() { mibs_value "$(walk .1.3.6.1.2.1.190.1.2)" "$up"; }
set_prefix 1 >/dev/null || tl_fail "SET snmpTsmConfigurationUsePrefix true"
expect_eq "usePrefix after SET true" "$(get_prefix)" 1
if out=$(set_prefix 3 2>&1); then tl_fail "SET usePrefix 3 accepted: $out"; fi
grep -qi 'wrongValue' <<<"$out" || tl_fail "SET usePrefix 3: not wrongValue: $out"
expect_eq "usePrefix after a refused SET" "$(get_prefix)" 1
tl_agent_stop agent || tl_fail "snmpd did not exit cleanly"
grep -qx 'dtlsudpTsmUsePrefix true' "$TL_TMP/agent/persist/snmpd.conf" ||
    tl_fail "usePrefix not persisted: $(cat "$TL_TMP/agent/persist/snmpd.conf")"
# The harness runs snmpd with -C (only our file); a normal start reads the
# persistent file after the configuration files, as here.
echo "$(cat "$TL_TMP/agent/conffile"),$TL_TMP/agent/persist/snmpd.conf" >"$TL_TMP/agent/conffile"
tl_agent_start agent || tl_fail "snmpd did not restart"
expect_eq "usePrefix after a restart (persisted)" "$(get_prefix)" 1
set_prefix 2 >/dev/null || tl_fail "SET snmpTsmConfigurationUsePrefix false"
expect_eq "usePrefix after SET false" "$(get_prefix)" 2

tl_agent_stop agent || tl_fail "snmpd did not exit cleanly"
echo "mibs-walk: all values and names as expected"
