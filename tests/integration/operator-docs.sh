#!/bin/bash
# The documentation works as written, and agrees with itself.
#
#  1. README.md's quick start: every block marked <!-- dtlsudp-quickstart
#     NAME --> runs, in order, with bash -e, in a temporary "root": /etc/snmp
#     is $TL_TMP/etcsnmp (SNMPCONFPATH for the agent side), ~ is
#     $TL_TMP/home, port 10161 a free port, the dlmod path the built plugin,
#     and dtlsudp-checkconf / dtlsudp-run the built ones.  The install block
#     is not run (the build tree stands in for make install), and
#     "systemctl restart snmpd" starts snmpd through tests/lib/snmpd.sh with
#     the same files (a Debian-style snmpd.conf that includes
#     snmpd.conf.d).  The manager reads both "/etc/snmp" and "~/.snmp", as
#     root's tools on the agent's host do, and its query must print what
#     the README says.
#  2. dtlsudp(5)'s EXAMPLES: the agent's snmpd.conf, the manager's snmp.conf
#     and the command, with the test certificates.
#  3. Statements that once disagreed: dtlsudp6:[::] is IPv6 only
#     everywhere, SHA-1 fingerprints are not called unreliable, no text
#     cites documents outside the tree, and dtlsudp(5) has an entry for
#     every token the plugin registers.
set -u
. "$top_srcdir/tests/lib/snmpd.sh"
. "$top_srcdir/tests/integration/package-lib.sh"

PLUGIN=$top_builddir/agent-plugin/.libs/dtlsudp.so
CHECK=$top_builddir/transport/checkconf/dtlsudp-checkconf
RUN=$top_builddir/snmplib-patches/dtlsudp-run
PAGE=$top_builddir/man/dtlsudp.5
for f in "$PLUGIN" "$CHECK" "$RUN" "$PAGE"; do
    [ -e "$f" ] || tl_skip "not built: $f"
done
tl_require snmpd snmpget openssl
tl_init
ASAN_SNMPD=()
if readelf -d "$PLUGIN" 2>/dev/null | grep -q libasan; then
    lib=$(${CC:-gcc} -print-file-name=libasan.so)
    ASAN_SNMPD=("LD_PRELOAD=$lib" "ASAN_OPTIONS=detect_leaks=0:abort_on_error=1")
    export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
fi

# --- 3. statements -------------------------------------------------------------
docs=("$top_srcdir/README.md" "$top_srcdir/docs/INSTALL.md" "$top_srcdir/docs/ARCHITECTURE.md"
    "$top_srcdir"/docs/man/*.in "$top_srcdir"/debian/*.README.Debian "$top_srcdir"/*/README)
if grep -n -i 'dtlsudp6:\[::\][^ ]*[^.]*dual' "${docs[@]}" | grep -v -i 'IPv6 only\|IPv6 alone\|v6 only' >&2; then
    tl_fail "a document calls dtlsudp6:[::] dual-stack"
fi
if grep -n -i 'fingerprints unreliabl' "${docs[@]}" >&2; then
    tl_fail "a document says SHA-1 fingerprints are unreliable (any hash works: certfind.c)"
fi
if grep -rn 'DESIGN\.md\|netsnmp-dtls-facts\|notes/' "${docs[@]}" "$top_srcdir/transport" \
    "$top_srcdir/agent-plugin" "$top_srcdir/snmplib-patches" >&2; then
    tl_fail "a text cites a document that is not in the tree"
fi
# Every token the plugin registers (the table in transport/snmp/config.c)
# has its entry in dtlsudp(5).
tokens=$(sed -n 's/^ *{"\(dtlsudp[A-Za-z0-9]*\)", ".*/\1/p' "$top_srcdir/transport/snmp/config.c")
[ "$(echo "$tokens" | wc -w)" -ge 15 ] || tl_fail "token table not found in transport/snmp/config.c"
for t in $tokens; do
    grep -q "^\.BI\? \"\?$t[ \"]" "$top_srcdir/docs/man/dtlsudp.5.in" || tl_fail "dtlsudp(5) does not document $t"
done

# --- 1. the README quick start -------------------------------------------------
readme_block() { # NAME: the shell block after <!-- dtlsudp-quickstart NAME -->
    awk -v n="$1" '
        $0 == "<!-- dtlsudp-quickstart " n " -->" { want = 1; next }
        want && /^```sh$/ { on = 1; want = 0; next }
        on && /^```$/ { exit }
        on { print }' "$top_srcdir/README.md"
}
names=$(sed -n 's/^<!-- dtlsudp-quickstart \([a-z]*\) -->$/\1/p' "$top_srcdir/README.md")
[ "$(echo $names)" = "install pki agent check manager" ] || tl_fail "quick start blocks: $(echo $names)"

tl_free_udp_port port || exit 1
ETC=$TL_TMP/etcsnmp
export HOME=$TL_TMP/home
mkdir -p "$HOME" "$TL_TMP/bin"
tl_agent_new etcsnmp
mkdir -p "$ETC/snmpd.conf.d"
tl_conf etcsnmp "includeDir $ETC/snmpd.conf.d"
tl_expect_port etcsnmp "$port"
[ ${#ASAN_SNMPD[@]} -eq 0 ] || tl_env etcsnmp "${ASAN_SNMPD[@]}"
printf '#!/bin/sh\nexec %s "$@"\n' "$CHECK" >"$TL_TMP/bin/dtlsudp-checkconf"
printf '#!/bin/sh\nexec %s "$@"\n' "$RUN" >"$TL_TMP/bin/dtlsudp-run"
chmod +x "$TL_TMP/bin/"*
group=Debian-snmp user=Debian-snmp
if [ "$(id -u)" != 0 ] || ! getent group Debian-snmp >/dev/null; then
    group=$(id -gn) user=$(id -un)
fi

# run_block NAME SNMPCONFPATH: the block as written, but for the sandbox.
run_block() {
    local code
    code=$(readme_block "$1" | sed \
        -e "s|/usr/local/lib/snmp/dlmod/dtlsudp.so|$PLUGIN|g" \
        -e "s|/etc/snmp|$ETC|g" \
        -e "s|:10161|:$port|g" \
        -e "s|-g Debian-snmp|-g $group|g" -e "s|-u Debian-snmp|-u $user|g" \
        -e "/^systemctl restart snmpd$/d")
    [ -n "$code" ] || tl_fail "empty quick start block $1"
    tl_log "quick start: $1"
    (cd "$TL_TMP" && PATH="$TL_TMP/bin:$PATH" SNMPCONFPATH=$2 SNMP_PERSISTENT_DIR="$TL_TMP/persist-$1" MIBS= \
        bash -e -c "$code") >"$TL_TMP/$1.out" 2>&1
    local rc=$?
    sed 's/^/#   /' "$TL_TMP/$1.out" >&2
    [ $rc -eq 0 ] || tl_fail "quick start block '$1' failed (exit $rc)"
}
run_block pki "$ETC"
run_block agent "$ETC"
run_block check "$ETC"
grep -q "served by the dtlsudp plugin on 127.0.0.1:$port" "$TL_TMP/check.out" ||
    tl_fail "checkconf does not show the quick start's address"
grep -q "^0 errors" "$TL_TMP/check.out" || tl_fail "checkconf finds errors in the quick start"
readme_block check | grep -qx "systemctl restart snmpd" || tl_fail "the check block no longer restarts snmpd"
tl_agent_start etcsnmp || tl_fail "snmpd did not start with the quick start's files"
tl_log_has etcsnmp "dtlsudp: listening on 127.0.0.1:$port" || tl_fail "the plugin does not serve the address"
# The tools read /etc/snmp as well as ~/.snmp (the path of a root user on
# the agent's host): the agent's certificate is then in both.
run_block manager "$ETC:$HOME/.snmp"
grep -q '^iso.3.6.1.2.1.1.1.0 = STRING: "' "$TL_TMP/manager.out" ||
    tl_fail "the quick start's query did not print what the README says"
grep -qF 'It prints `iso.3.6.1.2.1.1.1.0 = STRING: "' "$top_srcdir/README.md" ||
    tl_fail "README no longer says what the query prints"
tl_agent_stop etcsnmp

# --- 2. dtlsudp(5) EXAMPLES ------------------------------------------------------
tl_make_certs
tl_free_udp_port mport || exit 1
pkg_extract_example "$PAGE" snmpd.conf | sed -e "s|^dlmod dtlsudp .*|dlmod dtlsudp $PLUGIN|" \
    -e "s|:10161|:$mport|g" >"$TL_TMP/ex-snmpd.conf"
pkg_extract_example "$PAGE" snmp.conf >"$TL_TMP/ex-snmp.conf"
pkg_extract_example "$PAGE" command | sed "s|:10161|:$mport|g" >"$TL_TMP/ex-command"
tl_agent_new man
cat "$TL_TMP/ex-snmpd.conf" >>"$TL_TMP/man/snmpd.conf"
tl_expect_port man "$mport"
[ ${#ASAN_SNMPD[@]} -eq 0 ] || tl_env man "${ASAN_SNMPD[@]}"
env SNMPCONFPATH="$(tl_confpath man)" "$CHECK" -C -c "$TL_TMP/man/snmpd.conf" >"$TL_TMP/man-check.out" 2>&1 ||
    { cat "$TL_TMP/man-check.out" >&2; tl_fail "dtlsudp-checkconf rejects the dtlsudp(5) agent example"; }
tl_agent_start man || tl_fail "snmpd did not start with the dtlsudp(5) example"
tl_client_new manmgr
cat "$TL_TMP/ex-snmp.conf" >>"$TL_TMP/manmgr/snmp.conf"
read -r -a cmd <"$TL_TMP/ex-command"
[ "${cmd[0]}" = dtlsudp-run ] || tl_fail "the example command does not use dtlsudp-run"
out=$(tl_client manmgr "$RUN" "${cmd[@]:1}" 2>&1) || { echo "$out" >&2; tl_fail "the dtlsudp(5) example failed"; }
echo "$out" | grep -q '= STRING: ' || { echo "$out" >&2; tl_fail "the dtlsudp(5) example printed no answer"; }
exit 0
