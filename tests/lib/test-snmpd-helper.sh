#!/bin/bash
# Checks tests/lib/snmpd.sh against the real snmpd/snmptrapd: an agent it
# starts answers, readiness means the port is bound, stop ends exactly the
# pid it started (a second snmpd started by hand survives), a failed start
# is reported instead of hanging, the cleanup trap stops what is left, and
# snmptrapd receives a trap.
set -euo pipefail

srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$srcdir/tests/lib/snmpd.sh"

tl_require snmpd snmpget snmptrap ss
tl_init

failures=0
check() {
    local what=$1
    shift
    if "$@" >/dev/null 2>&1; then
        echo "ok - $what"
    else
        echo "not ok - $what"
        failures=$((failures + 1))
    fi
}
fails() { ! "$@"; }

SYSDESCR=.1.3.6.1.2.1.1.1.0

# --- helpers without daemons --------------------------------------------
rc=0
with_timeout 1 sleep 30 2>/dev/null || rc=$?
check "with_timeout stops a slow command (124)" test "$rc" -eq 124
rc=0
with_timeout 5 sh -c 'exit 3' || rc=$?
check "with_timeout passes the exit status through" test "$rc" -eq 3

p1=$(tl_free_udp_port)
check "free port is a number in 20000-59999" test "$p1" -ge 20000 -a "$p1" -le 59999
check "free port is not bound" fails tl_udp_port_in_use "$p1"

# --- one agent, plain UDP, v2c ------------------------------------------
tl_free_udp_port port
tl_agent_new a
tl_agent_listen a "udp:127.0.0.1:$port"
tl_conf a "rocommunity public 127.0.0.1" "sysDescr dtlsudp helper test agent"
check "agent starts" tl_agent_start a
apid=$(tl_pid a)
check "agent pid recorded" test -n "$apid"
check "agent pid is an snmpd" test "$(cat "/proc/$apid/comm")" = snmpd
check "agent port bound by that pid when start returns" \
    grep -q "pid=$apid," <<<"$(ss -Hulnp "sport = :$port")"
tl_client_new m
out=$(tl_client m snmpget -v2c -c public -r1 -t5 "udp:127.0.0.1:$port" "$SYSDESCR" 2>&1) || true
check "snmpget sysDescr.0 answers" grep -q 'STRING: "dtlsudp helper test agent"' <<<"$out"
check "agent logged its start line" tl_log_has a "^NET-SNMP version"
check "agent persistent dir is ours" test -d "$TL_TMP/a/persist"
tl_free_udp_port p2
check "a second port is different" test "$p2" != "$port"

# --- a failed start is reported, bounded --------------------------------
tl_agent_new clash
tl_agent_listen clash "udp:127.0.0.1:$port"
tl_conf clash "rocommunity public 127.0.0.1"
check "agent on a busy port fails to start" fails tl_agent_start clash
check "failed agent left no process" test -z "$(tl_pid clash)"

# --- stop kills exactly our pid -----------------------------------------
# A foreign snmpd, started here without the helper, must survive.
tl_free_udp_port fport
mkdir -p "$TL_TMP/foreign/persist"
printf 'agentAddress udp:127.0.0.1:%s\nrocommunity public 127.0.0.1\n' "$fport" \
    >"$TL_TMP/foreign/snmpd.conf"
SNMPCONFPATH=$TL_TMP/foreign SNMP_PERSISTENT_DIR=$TL_TMP/foreign/persist MIBS= \
    snmpd -f -I -smux -Lf "$TL_TMP/foreign/snmpd.log" -C -c "$TL_TMP/foreign/snmpd.conf" \
    </dev/null >/dev/null 2>&1 &
fpid=$!
stop_foreign() { kill -TERM "$fpid" 2>/dev/null; wait "$fpid" 2>/dev/null; }
tl_on_exit stop_foreign
for ((i = 0; i < 200; i++)); do
    grep -q "pid=$fpid," <<<"$(ss -Hulnp "sport = :$fport")" && break
    sleep 0.05
done

check "agent stops cleanly" tl_agent_stop a
check "agent pid is gone" fails tl_pid_alive "$apid"
check "agent port is free again" fails tl_udp_port_in_use "$port"
check "agent logged its SIGTERM shutdown" tl_log_has a "shutting down"
check "foreign snmpd is still alive" tl_pid_alive "$fpid"
out=$(tl_client m snmpget -v2c -c public -r1 -t5 "udp:127.0.0.1:$fport" "$SYSDESCR" 2>&1) || true
check "foreign snmpd still answers" grep -q "STRING:" <<<"$out"
check "stopping again is harmless" tl_agent_stop a
stop_foreign

# A pid that is not this shell's child is never signalled, even if it is
# recorded as a daemon's (a stale or reused pid).
( sleep 300 </dev/null >/dev/null 2>&1 & echo $! >"$TL_TMP/orphan.pid" )
opid=$(cat "$TL_TMP/orphan.pid")
stop_orphan() { kill -TERM "$opid" 2>/dev/null; }
tl_on_exit stop_orphan
tl_agent_new stale
echo "$opid" >"$TL_TMP/stale/started.pid"
check "stop refuses a pid that is not our child" fails tl_agent_stop stale
check "that process is untouched" tl_pid_alive "$opid"
stop_orphan

# --- ASan builds: libasan preloaded into a stock snmpd -------------------
tl_agent_new noasan
DTLSUDP_ASAN=0 tl_asan_env noasan
check "tl_asan_env does nothing outside ASan builds" test ! -s "$TL_TMP/noasan/env"
tl_agent_new asan
DTLSUDP_ASAN=1 tl_asan_env asan
check "tl_asan_env preloads libasan" grep -q '^LD_PRELOAD=/.*libasan' "$TL_TMP/asan/env"
tl_free_udp_port aport
tl_agent_listen asan "udp:127.0.0.1:$aport"
tl_conf asan "rocommunity public 127.0.0.1"
check "snmpd starts with libasan preloaded" tl_agent_start asan
check "libasan is mapped in that snmpd" grep -q libasan "/proc/$(tl_pid asan)/maps"
check "it stops cleanly" tl_agent_stop asan

# --- the cleanup trap stops daemons a test leaves behind ----------------
rc=0
bash -c '
    set -euo pipefail
    . "$1/tests/lib/snmpd.sh"
    tl_init
    echo "$TL_TMP" >"$2/child-tmp"
    port=$(tl_free_udp_port)
    tl_agent_new c
    tl_agent_listen c "udp:127.0.0.1:$port"
    tl_conf c "rocommunity public 127.0.0.1"
    tl_agent_start c
    tl_pid c >"$2/child-pid"
    exit 3
' child "$srcdir" "$TL_TMP" 2>"$TL_TMP/child.err" || rc=$?
cpid=$(cat "$TL_TMP/child-pid" 2>/dev/null || echo none)
check "child test exits with its own status" test "$rc" -eq 3
check "child started an agent" test "$cpid" != none
check "cleanup stopped the child's agent" fails tl_pid_alive "$cpid"
check "cleanup removed the child's temp dir" test ! -e "$(cat "$TL_TMP/child-tmp")"
check "cleanup showed the agent log on failure" grep -q "NET-SNMP version" "$TL_TMP/child.err"

# --- a sanitizer report is shown from its first line ---------------------
mkdir -p "$TL_TMP/fake"
{
    echo "==1==ERROR: AddressSanitizer: heap-use-after-free marker-first-line"
    for ((i = 0; i < 60; i++)); do echo "    #$i frame"; done
} >"$TL_TMP/fake/snmpd.out"
tl_show_log fake 2>"$TL_TMP/fake/shown"
check "tl_show_log shows a sanitizer report from its start" \
    grep -q "marker-first-line" "$TL_TMP/fake/shown"

# --- snmptrapd ----------------------------------------------------------
if command -v snmptrapd >/dev/null 2>&1; then
    tl_free_udp_port tport
    tl_trapd_new t
    tl_trapd_listen t "udp:127.0.0.1:$tport"
    tl_conf t "disableAuthorization yes"
    check "snmptrapd starts" tl_trapd_start t
    tpid=$(tl_pid t)
    check "snmptrapd port bound by that pid" \
        grep -q "pid=$tpid," <<<"$(ss -Hulnp "sport = :$tport")"
    tl_client m snmptrap -v2c -c public "udp:127.0.0.1:$tport" "" \
        .1.3.6.1.6.3.1.1.5.4 .1.3.6.1.2.1.1.4.0 s helper-trap-marker >/dev/null 2>&1 || true
    for ((i = 0; i < 200; i++)); do
        tl_log_has t helper-trap-marker && break
        sleep 0.05
    done
    check "snmptrapd logged the trap" tl_log_has t helper-trap-marker
    check "snmptrapd stops" tl_trapd_stop t
    check "snmptrapd pid is gone" fails tl_pid_alive "$tpid"
else
    echo "ok - snmptrapd checks # SKIP snmptrapd not installed"
fi

if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed"
    exit 1
fi
echo "all checks passed"
