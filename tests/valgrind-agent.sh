#!/bin/bash
# tests/valgrind-agent.sh: one integration scenario under valgrind memcheck:
# stock snmpd with dtlsudp.so, stock Net-SNMP clients over dtlsudp (GET,
# walk, a refused client, a SIGHUP, GET again), then SIGTERM.  Fails on any
# memcheck error, and on any definitely/indirectly lost block whose stack
# passes through the plugin.  Net-SNMP's own exit-time leaks (snmpd does
# not free everything it read from its configuration) are not ours: they
# are listed by tests/valgrind.supp or, when not suppressed, reported here
# but not counted (a loss record is ours when a frame is in dtlsudp.so or
# in one of the project's source files).
# Part of `make check-valgrind' (not of `make check': it is slow).
set -u
. "$top_srcdir/tests/lib/snmpd.sh"
. "$top_srcdir/tests/integration/agent-lib.sh"

command -v valgrind >/dev/null || tl_skip "valgrind not installed"
TL_START_TIMEOUT=180
TL_CLIENT_TIMEOUT=${TL_CLIENT_TIMEOUT:-200}
al_init
[ "$AL_ASAN" = 0 ] || tl_skip "ASan-built plugin: valgrind and ASan do not mix"
fp=$(tl_fp client) || exit 1
snmpd_bin=$(command -v "$TL_SNMPD") || tl_skip "no snmpd"

vglog=$TL_TMP/valgrind.log
wrapper=$TL_TMP/vg-snmpd
cat >"$wrapper" <<EOW
#!/bin/sh
exec valgrind --tool=memcheck --error-exitcode=1 --leak-check=full \\
    --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \\
    --num-callers=40 --suppressions="$top_srcdir/tests/valgrind.supp" \\
    --log-file="$vglog" ${VALGRIND_EXTRA:-} "$snmpd_bin" "\$@"
EOW
chmod +x "$wrapper"

tl_free_udp_port port || exit 1
al_agent agent "certSecName 10 $fp --sn alice" "rouser -s tsm alice authpriv"
tl_agent_listen agent "dtlsudp:127.0.0.1:$port"
# tl_daemon_stop checks the process name, which is valgrind's here: stop
# it ourselves (the pid is our child), also when the test fails early.
vg_stop() {
    local pid i
    pid=$(tl_pid agent)
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null
    for i in $(seq 1 1200); do
        tl_pid_alive "$pid" || break
        sleep 0.1
    done
    if tl_pid_alive "$pid"; then
        echo "snmpd under valgrind ignored SIGTERM; SIGKILL" >&2
        kill -KILL "$pid" 2>/dev/null
    fi
    tl_reap agent
}
tl_on_exit vg_stop
TL_SNMPD=$wrapper al_agent_start agent || tl_fail "agent under valgrind did not start"
pid=$(tl_pid agent)

al_client mgr
al_expect_ok "GET" tl_client mgr snmpget -v3 -r4 -t15 -On "dtlsudp:127.0.0.1:$port" .1.3.6.1.2.1.1.1.0
al_expect_ok "walk" tl_client mgr snmpwalk -v3 -r4 -t15 -On "dtlsudp:127.0.0.1:$port" .1.3.6.1.2.1.1
# A client the agent refuses (certificate from nowhere it trusts): the
# refusal path runs, then a valid client is served again.
tl_client_new stranger "localCert server" "peerCert server"
al_expect_fail "stranger" tl_client stranger snmpget -v3 -r1 -t3 "dtlsudp:127.0.0.1:$port" .1.3.6.1.2.1.1.1.0
kill -HUP "$pid"
for i in $(seq 1 600); do
    [ "$(grep -c '^NET-SNMP version' "$(tl_log_file agent)")" -ge 2 ] && break
    sleep 0.1
done
al_expect_ok "GET after SIGHUP" tl_client mgr snmpget -v3 -r4 -t15 -On "dtlsudp:127.0.0.1:$port" \
    .1.3.6.1.2.1.1.3.0
al_proof agent

vg_stop
rc=$(cat "$TL_TMP/agent/exit-status")
[ "$rc" != 137 ] || tl_fail "snmpd under valgrind had to be killed"

ours=$(awk '
    /^==[0-9]+== [0-9,]+ .*bytes in [0-9,]+ blocks are (definitely|indirectly) lost/ { rec = $0; inrec = 1; mine = 0; next }
    inrec && /^==[0-9]+== *$/ { if (mine) print rec; inrec = 0; next }
    inrec && /dtlsudp|\((transport|conn|listener|sockio|hooks|config|certs|secname|tmstate|domain|addr|plugin|engine|record|cookie|bio|outq|verify|table|fingerprint|errors)\.c:[0-9]+\)/ { mine = 1 }
' "$vglog")
other_errors=$(grep -E '^==[0-9]+== (Invalid|Conditional jump|Use of uninitialised|Syscall param|Mismatched free|Source and destination overlap)' "$vglog" | head -5)
grep -E 'ERROR SUMMARY|definitely lost:|indirectly lost:' "$vglog" | sed 's/^/# valgrind: /'
if [ -n "$other_errors" ]; then
    echo "$other_errors" >&2
    tl_fail "memcheck errors in snmpd with the plugin (log $vglog)"
fi
if [ -n "$ours" ]; then
    echo "$ours" >&2
    tl_fail "memory lost from the plugin's code (log $vglog)"
fi
if [ "$rc" != 0 ]; then
    # Only leak records outside the plugin remain: Net-SNMP's own.
    echo "# snmpd exit status $rc: leaks outside the plugin only (see $vglog)" >&2
fi
echo "PASS: snmpd + dtlsudp.so under valgrind: GET, walk, refusal, SIGHUP; no error, nothing lost from the plugin"
