# tests/integration/agent-lib.sh: shared set-up for the agent-*.sh tests:
# stock Debian snmpd with the dtlsudp.so plugin, stock Net-SNMP clients.
# Source after tests/lib/snmpd.sh.
#
#   al_init                      tl_init + certificates + plugin checks
#   al_agent NAME [LINES...]     a new agent: dlmod line first, then LINES
#   al_agent_start NAME          start it with -Ddtlsudp (proof of the plugin)
#   al_client NAME [LINES...]    a client config (localCert client, peerCert server)
#   al_ours NAME CMD ARGS...     run CMD as NAME through this project's client role
#   al_proof NAME                fail unless NAME's log shows that the plugin
#                                (not the built-in DTLSUDP) served traffic
#
# ASan builds: the plugin needs the ASan runtime first in the process, so
# snmpd runs with LD_PRELOAD=libasan.so and ASAN_OPTIONS=detect_leaks=0 (the
# stock snmpd is not instrumented; its own leaks are not ours to report).

# shellcheck shell=bash

AL_PLUGIN=${AL_PLUGIN:-$top_builddir/agent-plugin/.libs/dtlsudp.so}

al_init() {
    tl_require snmpd snmpget snmpwalk snmpbulkwalk snmpset ss
    [ -f "$AL_PLUGIN" ] || tl_skip "plugin not built: $AL_PLUGIN"
    tl_init
    tl_make_certs
    AL_ASAN=0
    if readelf -d "$AL_PLUGIN" 2>/dev/null | grep -q 'libasan'; then
        AL_ASAN=1
        AL_ASAN_LIB=$(${CC:-gcc} -print-file-name=libasan.so)
        [ -f "$AL_ASAN_LIB" ] || tl_skip "ASan build but no libasan.so to preload"
    fi
}

# al_agent NAME [LINE...]: agent config with the plugin loaded first.
al_agent() {
    local name=$1
    shift
    tl_agent_new "$name"
    tl_conf "$name" "dlmod dtlsudp $AL_PLUGIN"
    tl_conf "$name" "[snmp] localCert server"
    [ $# -eq 0 ] || tl_conf "$name" "$@"
    if [ "$AL_ASAN" = 1 ]; then
        tl_env "$name" "LD_PRELOAD=$AL_ASAN_LIB" \
            "ASAN_OPTIONS=detect_leaks=0:abort_on_error=1" \
            "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1"
    fi
}

al_agent_start() {
    local name=$1
    shift
    tl_agent_start "$name" -Ddtlsudp "$@"
}

al_client() {
    local name=$1
    shift
    tl_client_new "$name" "localCert client" "peerCert server" "$@"
}

# al_proof NAME: the plugin announced itself and handled messages.
al_proof() {
    tl_log_has "$1" "dtlsudp [0-9.]* loaded" || tl_fail "$1: no 'dtlsudp ... loaded' line"
    tl_log_has "$1" "dtlsudp: recv [0-9]* bytes from DTLSUDP" ||
        tl_fail "$1: the plugin received no message (built-in transport used?)"
}

# al_ours NAME CMD ARGS...: run a Net-SNMP app as NAME with -Ddtlsudp; fail
# unless this project's client role carried it (NAME's environment puts it
# in the app: the test preload shim).  Prints the app's output without the
# debug lines.
al_ours() {
    local name=$1 cmd=$2 out
    shift 2
    out=$(tl_client "$name" "$cmd" -Ddtlsudp "$@" 2>&1) || {
        echo "$out" >&2
        return 1
    }
    echo "$out" | grep -q "dtlsudp: opened client transport" || {
        echo "$out" >&2
        echo "the client did not use this project's transport" >&2
        return 1
    }
    echo "$out" | grep -v '^dtlsudp'
}

# al_expect_ok DESC CMD...: run a client command, fail with its output if
# it fails.
al_expect_ok() {
    local desc=$1 out
    shift
    if ! out=$("$@" 2>&1); then
        echo "$out" >&2
        tl_fail "$desc"
    fi
    AL_OUT=$out
}

# al_expect_fail DESC CMD...: the command must fail.
al_expect_fail() {
    local desc=$1
    shift
    if AL_OUT=$("$@" 2>&1); then
        echo "$AL_OUT" >&2
        tl_fail "$desc: unexpectedly succeeded"
    fi
}
