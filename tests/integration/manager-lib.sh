# manager-lib.sh: shared helpers for the manager integration tests
# (tests/integration/manager-*.sh).  Sourced, not run.
#
# Environment (set by `make check`): top_srcdir, top_builddir.
# Optional: DTLSUDP_NETSNMP_PREFIX = a prefix built by snmplib-patches/build
# (patched libnetsnmp + apps + snmpd); tests that need it skip without it.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir

test_name=$(basename "$0" .sh)

skip() {
    echo "SKIP: $test_name: $*"
    exit 77
}

fail() {
    echo "FAIL: $test_name: $*" >&2
    exit 1
}

note() {
    echo "$test_name: $*"
}

# Scratch directory and the processes we started, cleaned up on exit.
workdir=$(mktemp -d "${TMPDIR:-/tmp}/dtlsudp-$test_name.XXXXXX") || fail "mktemp"
started_pids=
cleanup() {
    for pid in $started_pids; do
        kill "$pid" 2>/dev/null
    done
    for pid in $started_pids; do
        # bounded wait, then insist
        i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
            sleep 0.1
            i=$((i + 1))
        done
        kill -9 "$pid" 2>/dev/null
    done
    if [ -n "$KEEP_WORKDIR" ]; then
        echo "$test_name: kept $workdir"
    else
        rm -rf "$workdir"
    fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# ASan builds: the probe is instrumented, libnetsnmp's own transports leak
# what they allocate when opened; keep leak checking for everything else.
printf '%s\n' 'leak:netsnmp_udpipv4base_transport_init' \
    'leak:netsnmp_udpipv6base_transport_init' \
    'leak:netsnmp_dtlsudp_create_tstring' >"$workdir/lsan.supp"
LSAN_OPTIONS="suppressions=$workdir/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export LSAN_OPTIONS

remember_pid() {
    started_pids="$started_pids $1"
}

# Build products.
preload_so=$top_builddir/snmplib-patches/.libs/libdtlsudp-preload.so
plugin_so=$top_builddir/snmplib-patches/.libs/dtlsudp-transport.so
agent_so=$top_builddir/agent-plugin/.libs/dtlsudp.so
dtlsudp_run=$top_builddir/snmplib-patches/dtlsudp-run
probe=$top_builddir/tests/integration/manager-tdomain-probe
test_plugin_so=$top_builddir/tests/integration/.libs/manager-test-plugin.so

need_file() {
    for f in "$@"; do
        [ -e "$f" ] || skip "$(basename "$f") is not built yet ($f)"
    done
}

# Programs: Debian's (stock libnetsnmp with its built-in DTLSUDP) or, with
# DTLSUDP_NETSNMP_PREFIX, the ones built by snmplib-patches/build.
netsnmp_prefix=${DTLSUDP_NETSNMP_PREFIX:-}
netsnmp_bin() {
    if [ -n "$netsnmp_prefix" ]; then
        case "$1" in
        snmpd|snmptrapd) echo "$netsnmp_prefix/sbin/$1" ;;
        *) echo "$netsnmp_prefix/bin/$1" ;;
        esac
    else
        case "$1" in
        snmpd|snmptrapd) echo "/usr/sbin/$1" ;;
        *) command -v "$1" || echo "/usr/bin/$1" ;;
        esac
    fi
}

# Run a command with the patched libnetsnmp (if any) first in the path.
with_netsnmp() {
    if [ -n "$netsnmp_prefix" ]; then
        LD_LIBRARY_PATH="$netsnmp_prefix/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$@"
    else
        "$@"
    fi
}

# An isolated Net-SNMP configuration: no system or user snmp.conf, no
# persistent state outside the scratch directory.
isolate_netsnmp_config() {
    mkdir -p "$workdir/conf" "$workdir/persist"
    SNMPCONFPATH=$workdir/conf
    SNMP_PERSISTENT_DIR=$workdir/persist
    # Debian ships no standard MIB modules (non-free): numeric OIDs only,
    # and no MIB loading noise.
    MIBS=
    export SNMPCONFPATH SNMP_PERSISTENT_DIR MIBS
    unset SNMP_TRANSPORT_PLUGINS
}

# A free UDP port on 127.0.0.1 (best effort: the kernel picks one).
free_udp_port() {
    python3 - <<'PY'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
PY
}
