# tests/lib/snmpd.sh: run real snmpd/snmptrapd/Net-SNMP apps on loopback for
# integration tests.  Source it from bash:
#
#   . "$top_srcdir/tests/lib/snmpd.sh"
#   tl_init                                  # temp dir + cleanup trap
#   tl_make_certs                            # $TL_CERTS/tls/... (make-certs.sh)
#   tl_free_udp_port port                    # sets $port
#   tl_agent_new agent
#   tl_agent_listen agent "dtlsudp:127.0.0.1:$port"
#   tl_conf agent "[snmp] localCert server" "rwuser -s tsm client authpriv"
#   tl_agent_start agent                     # returns once snmpd serves the port
#   tl_client_new mgr "localCert client" "peerCert server"
#   tl_client mgr snmpget -v3 -r0 -t2 "dtlsudp:127.0.0.1:$port" .1.3.6.1.2.1.1.1.0
#   tl_agent_stop agent                      # optional: cleanup stops it anyway
#
# Every daemon gets its own directory $TL_TMP/NAME holding its config file,
# persistent dir (SNMP_PERSISTENT_DIR), log, pid file and environment.  Daemons
# and apps see only our files: config comes from -C -c FILE (daemons) or
# SNMPCONFPATH (apps), certificates from <dir>/tls for every dir of
# SNMPCONFPATH (Net-SNMP scans them all; see cert_util.c _cert_indexes_load),
# and MIBS is empty so no MIB files are parsed.  Processes are stopped by the
# pid this file started, never by name.
#
# Variables a caller may set before tl_init:
#   TL_SNMPD, TL_SNMPTRAPD   daemon binaries (default snmpd, snmptrapd from PATH)
#   TL_SNMPD_ARGS            arguments before the caller's (default "-I -smux")
#   TL_START_TIMEOUT         seconds to wait for a daemon to be ready (15)
#   TL_STOP_TIMEOUT          seconds to wait after SIGTERM before SIGKILL (10)
#   TL_KEEP_TMP=1            keep $TL_TMP after the test
# Per-daemon extra environment (LD_PRELOAD=..., ASAN_OPTIONS=...):
#   tl_env NAME VAR=VALUE ...
# The test suite's environment has DTLSUDP_ASAN=1 in ASan builds; then
#   tl_asan_env NAME
# preloads libasan into NAME's processes (for an ASan-built plugin).

# shellcheck shell=bash

TL_SNMPD=${TL_SNMPD:-snmpd}
TL_SNMPTRAPD=${TL_SNMPTRAPD:-snmptrapd}
# smux would bind tcp 127.0.0.1:199 in every snmpd (and clash between them).
TL_SNMPD_ARGS=${TL_SNMPD_ARGS--I -smux}
TL_START_TIMEOUT=${TL_START_TIMEOUT:-15}
TL_STOP_TIMEOUT=${TL_STOP_TIMEOUT:-10}
TL_TMP=${TL_TMP:-}
TL_CERTS=${TL_CERTS:-}
TL_DAEMONS=()          # names of daemons started, for cleanup
TL_EXIT_HOOKS=()       # commands run at exit, last registered first
TL_PORTS_GIVEN=" "     # ports handed out by tl_free_udp_port in this shell

# The directory holding this file (make-certs.sh lives next to it).
TL_LIBDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

tl_log() { echo "# $*" >&2; }
tl_fail() { echo "FAIL: $*" >&2; exit 1; }

# tl_skip REASON: exit with automake's SKIP status.
tl_skip() { echo "SKIP: $*" >&2; exit 77; }

# tl_require CMD...: skip the test when a program is missing.
tl_require() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || tl_skip "$c not found"
    done
}

# with_timeout SECS CMD...: run CMD (a program, not a shell function), kill it
# after SECS seconds (SIGKILL 5 s later if it ignores SIGTERM).  Returns CMD's
# status, 124 on timeout.
with_timeout() {
    local secs=$1 rc=0
    shift
    timeout --kill-after=5 "$secs" "$@" || rc=$?
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        echo "with_timeout: '$*' did not finish within ${secs}s" >&2
    fi
    return "$rc"
}

# tl_on_exit CMD: run CMD (eval'd) when the test exits.
tl_on_exit() {
    TL_EXIT_HOOKS+=("$1")
}

# tl_init: make $TL_TMP and install the cleanup trap.
tl_init() {
    # Under make check the temporary directory lives in the build tree,
    # away from anything that cleans /tmp by pattern.
    if [ -z "$TL_TMP" ] && [ -n "${top_builddir:-}" ] && [ -d "$top_builddir" ]; then
        mkdir -p "$top_builddir/test-tmp"
        echo '*' >"$top_builddir/test-tmp/.gitignore"
        TL_TMP=$(mktemp -d "$top_builddir/test-tmp/$(basename "$0" .sh).XXXXXX")
    elif [ -z "$TL_TMP" ]; then
        TL_TMP=$(mktemp -d "${TMPDIR:-/tmp}/dtlsudp-harness.XXXXXX")
    fi
    mkdir -p "$TL_TMP"
    trap 'tl_cleanup' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# tl_cleanup: the EXIT trap.  Stops every daemon we started, runs the hooks,
# shows daemon logs when the test failed, removes $TL_TMP.
tl_cleanup() {
    local rc=$? i name
    trap - EXIT
    set +e
    for ((i = ${#TL_EXIT_HOOKS[@]} - 1; i >= 0; i--)); do
        eval "${TL_EXIT_HOOKS[$i]}"
    done
    for name in "${TL_DAEMONS[@]}"; do
        tl_daemon_stop "$name" >/dev/null 2>&1
    done
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
        for name in "${TL_DAEMONS[@]}"; do
            tl_show_log "$name"
        done
    fi
    if [ -n "$TL_TMP" ] && [ "${TL_KEEP_TMP:-0}" != 1 ]; then
        rm -rf "$TL_TMP"
    elif [ -n "$TL_TMP" ]; then
        tl_log "kept $TL_TMP"
    fi
    exit "$rc"
}

# tl_show_log NAME [LINES]: the tail of a daemon's log, to stderr, and any
# sanitizer report in its output from the start of the report.
tl_show_log() {
    local dir=$TL_TMP/$1 f first
    for f in "$dir"/*.log "$dir"/*.out; do
        [ -s "$f" ] || continue
        first=$(grep -n -m1 -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$f" | cut -d: -f1)
        if [ -n "$first" ]; then
            echo "----- $f (sanitizer report, from line $first) -----" >&2
            tail -n "+$first" "$f" | head -n 120 >&2
        else
            echo "----- $f (last ${2:-40} lines) -----" >&2
            tail -n "${2:-40}" "$f" >&2
        fi
    done
}

# tl_udp_port_in_use PORT: true when anything has a UDP socket bound to PORT
# (any address, IPv4 or IPv6).
tl_udp_port_in_use() {
    [ -n "$(ss -Hauln "sport = :$1" 2>/dev/null)" ]
}

# tl_free_udp_port [VAR]: a UDP port nobody has bound, from 20000-59999,
# stored in VAR or printed.  Random, so parallel tests rarely collide; with
# VAR (same shell, not $(...)) never the same port twice in one test.  The
# caller binds it soon after.
tl_free_udp_port() {
    local _tl_try _tl_port
    for ((_tl_try = 0; _tl_try < 200; _tl_try++)); do
        # Below the kernel's ephemeral range (32768-60999), so that no client
        # socket can take the port between this check and the daemon's bind.
        _tl_port=$((20000 + (RANDOM * 32768 + RANDOM + $$) % 12000))
        case $TL_PORTS_GIVEN in *" $_tl_port "*) continue ;; esac
        if ! tl_udp_port_in_use "$_tl_port"; then
            TL_PORTS_GIVEN="$TL_PORTS_GIVEN$_tl_port "
            if [ $# -gt 0 ]; then
                printf -v "$1" '%s' "$_tl_port"
            else
                echo "$_tl_port"
            fi
            return 0
        fi
    done
    echo "tl_free_udp_port: no free UDP port found" >&2
    return 1
}

# tl_make_certs: make test certificates (tests/lib/make-certs.sh) and set
# TL_CERTS to a private copy in $TL_TMP/certs.  Within a build tree the
# certificates are made once into $top_builddir/tests/lib/certs.cache and
# copied, which keeps the suite fast.
tl_make_certs() {
    local cache
    TL_CERTS=$TL_TMP/certs
    if [ -n "${top_builddir:-}" ] && [ -d "$top_builddir/tests/lib" ]; then
        cache=$top_builddir/tests/lib/certs.cache
        mkdir -p "$cache"
        # git ignores the whole cache, lock included (in-tree builds).
        echo '*' >"$cache/.gitignore"
        # One writer at a time: tests run in parallel under make -j.
        (
            flock 9
            if [ ! -s "$cache/fingerprints.txt" ] ||
               [ "$TL_LIBDIR/make-certs.sh" -nt "$cache/fingerprints.txt" ]; then
                rm -rf "${cache:?}"/*
                sh "$TL_LIBDIR/make-certs.sh" -q "$cache" || exit 1
            fi
        ) 9>"$cache/.lock" || tl_fail "make-certs.sh failed"
        rm -rf "$TL_CERTS"
        cp -a "$cache" "$TL_CERTS"
        rm -f "$TL_CERTS/.lock" "$TL_CERTS/.gitignore"
    else
        sh "$TL_LIBDIR/make-certs.sh" -q "$TL_CERTS" || tl_fail "make-certs.sh failed"
    fi
}

# tl_fp NAME [sha256|sha1]: a certificate's fingerprint (AA:BB:..) from
# $TL_CERTS/fingerprints.txt.
tl_fp() {
    local fp
    fp=$(awk -v n="$1" -v h="${2:-sha256}" '$1 == n && $2 == h { print $3 }' \
        "$TL_CERTS/fingerprints.txt")
    [ -n "$fp" ] || { echo "tl_fp: no ${2:-sha256} fingerprint for $1" >&2; return 1; }
    echo "$fp"
}

# tl_confpath NAME: the SNMPCONFPATH for NAME: its own dir, then the certs.
tl_confpath() {
    echo "$TL_TMP/$1${TL_CERTS:+:$TL_CERTS}"
}

# tl_env NAME VAR=VALUE...: extra environment for NAME's processes.
tl_env() {
    local name=$1
    shift
    printf '%s\n' "$@" >>"$TL_TMP/$name/env"
}

# tl_asan_env NAME: in ASan builds (DTLSUDP_ASAN=1), give NAME's processes
# what a stock binary needs to load an ASan-built plugin: libasan preloaded
# (it must come first), leak checking off (Net-SNMP itself leaks at exit),
# and errors fatal.  Does nothing in other builds.
tl_asan_env() {
    local lib
    [ "${DTLSUDP_ASAN:-0}" = 1 ] || return 0
    lib=$(${CC:-cc} -print-file-name=libasan.so 2>/dev/null)
    case $lib in
    /*) ;;
    *) tl_fail "tl_asan_env: libasan.so not found (via ${CC:-cc} -print-file-name)" ;;
    esac
    tl_env "$1" "LD_PRELOAD=$lib" \
        "ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:halt_on_error=1" \
        "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1"
}

# tl_conf NAME LINE...: append lines to NAME's config file.
tl_conf() {
    local name=$1
    shift
    printf '%s\n' "$@" >>"$(cat "$TL_TMP/$name/conffile")"
}

# tl_newdir NAME CONFFILE: a fresh directory for a daemon or app.
tl_newdir() {
    local dir=$TL_TMP/$1
    [ -n "$TL_TMP" ] || tl_fail "call tl_init first"
    [ ! -e "$dir" ] || tl_fail "$1 already exists in $TL_TMP"
    mkdir -p "$dir/persist/cert_indexes"
    : >"$dir/env"
    : >"$dir/ports"
    echo "$dir/$2" >"$dir/conffile"
    {
        echo "# generated by tests/lib/snmpd.sh for '$1'"
    } >"$dir/$2"
}

# tl_agent_new NAME: a new snmpd configuration (no listener yet).
tl_agent_new() {
    tl_newdir "$1" snmpd.conf
    echo snmpd >"$TL_TMP/$1/kind"
}

# tl_agent_listen NAME SPEC: add "agentAddress SPEC" (e.g. udp:127.0.0.1:PORT,
# dtlsudp:127.0.0.1:PORT); start waits until the trailing port is bound.
tl_agent_listen() {
    tl_conf "$1" "agentAddress $2"
    tl_expect_port "$1" "${2##*:}"
}

# tl_trapd_new NAME: a new snmptrapd configuration.
tl_trapd_new() {
    tl_newdir "$1" snmptrapd.conf
    echo snmptrapd >"$TL_TMP/$1/kind"
}

# tl_trapd_listen NAME SPEC: add "snmpTrapdAddr SPEC".
tl_trapd_listen() {
    tl_conf "$1" "snmpTrapdAddr $2"
    tl_expect_port "$1" "${2##*:}"
}

# tl_expect_port NAME PORT: readiness also requires the daemon to have PORT bound.
tl_expect_port() {
    echo "$2" >>"$TL_TMP/$1/ports"
}

# tl_pid_alive PID: the process exists and is not a zombie.
tl_pid_alive() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [ "${stat%% *}" != Z ]
}

# tl_pid NAME: the pid of NAME's daemon as started by us (empty if none).
tl_pid() {
    cat "$TL_TMP/$1/started.pid" 2>/dev/null
}

# tl_agent_start NAME [ARGS...]: start snmpd for NAME, extra ARGS appended;
# returns 0 once it is ready, non-zero (with its log shown) otherwise.
tl_agent_start() {
    local name=$1
    shift
    [ "$(cat "$TL_TMP/$name/kind")" = snmpd ] || tl_fail "$name is not an agent"
    # shellcheck disable=SC2086
    tl_daemon_start "$name" "$TL_SNMPD" $TL_SNMPD_ARGS "$@"
}

# tl_trapd_start NAME [ARGS...]: start snmptrapd for NAME.
tl_trapd_start() {
    local name=$1
    shift
    [ "$(cat "$TL_TMP/$name/kind")" = snmptrapd ] || tl_fail "$name is not a trap receiver"
    tl_daemon_start "$name" "$TL_SNMPTRAPD" "$@"
}

tl_daemon_start() {
    local name=$1 bin=$2 dir=$TL_TMP/$1 kind pid
    shift 2
    kind=$(cat "$dir/kind")
    if [ -n "$(tl_pid "$name")" ]; then
        tl_fail "$name is already running (pid $(tl_pid "$name"))"
    fi
    local -a envs=(
        "SNMPCONFPATH=$(tl_confpath "$name")"
        "SNMP_PERSISTENT_DIR=$dir/persist"
        "HOME=$dir"
        "MIBS="
    )
    local -a extra=()
    mapfile -t extra <"$dir/env"
    rm -f "$dir/$kind.log" "$dir/$kind.pid"
    # -f: stay in the foreground so $! is the daemon; -C -c: read only our file.
    env "${envs[@]}" "${extra[@]}" "$bin" -f -Lf "$dir/$kind.log" \
        -C -c "$(cat "$dir/conffile")" -p "$dir/$kind.pid" "$@" \
        </dev/null >"$dir/$kind.out" 2>&1 &
    pid=$!
    echo "$pid" >"$dir/started.pid"
    TL_DAEMONS+=("$name")
    if ! tl_wait_ready "$name"; then
        tl_show_log "$name"
        return 1
    fi
}

# tl_wait_ready NAME: poll (bounded by TL_START_TIMEOUT) until the daemon
# logged its "NET-SNMP version" line, which Net-SNMP prints after opening
# every listener, and every expected port is bound by that pid.
tl_wait_ready() {
    local name=$1 dir=$TL_TMP/$1 pid kind i port ok
    pid=$(tl_pid "$name")
    kind=$(cat "$dir/kind")
    for ((i = 0; i < TL_START_TIMEOUT * 20; i++)); do
        if ! tl_pid_alive "$pid"; then
            echo "tl_wait_ready: $kind '$name' (pid $pid) exited during startup" >&2
            tl_reap "$name"
            return 1
        fi
        if grep -q "^NET-SNMP version" "$dir/$kind.log" 2>/dev/null; then
            ok=1
            while read -r port; do
                [ -n "$port" ] || continue
                if ! ss -Haulnp "sport = :$port" 2>/dev/null | grep -q "pid=$pid,"; then
                    ok=0
                    break
                fi
            done <"$dir/ports"
            [ "$ok" = 1 ] && return 0
        fi
        sleep 0.05
    done
    echo "tl_wait_ready: $kind '$name' (pid $pid) not ready after ${TL_START_TIMEOUT}s" >&2
    return 1
}

# tl_reap NAME: collect the exit status of NAME's daemon (it is our child)
# into $TL_TMP/NAME/exit-status and forget its pid.
tl_reap() {
    local dir=$TL_TMP/$1 pid rc=0
    pid=$(tl_pid "$1")
    [ -n "$pid" ] || return 0
    wait "$pid" 2>/dev/null || rc=$?
    echo "$rc" >"$dir/exit-status"
    rm -f "$dir/started.pid"
}

# tl_ppid PID: the parent pid of PID (empty if PID is gone).
tl_ppid() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
    stat=${stat##*) }
    set -- $stat
    echo "$2"
}

# tl_daemon_stop NAME: SIGTERM the pid we started, wait (bounded), SIGKILL if
# it is still there.  Touches no other process: the pid is signalled only
# while it is this shell's child (an unreaped child's pid cannot be reused).
# Returns the daemon's exit status (0 for a clean SIGTERM shutdown).
tl_daemon_stop() {
    local name=$1 dir=$TL_TMP/$1 pid kind i
    pid=$(tl_pid "$name")
    [ -n "$pid" ] || return 0
    kind=$(cat "$dir/kind")
    if tl_pid_alive "$pid"; then
        if [ "$(tl_ppid "$pid")" != "$BASHPID" ]; then
            echo "tl_daemon_stop: pid $pid is not a child of this shell; not signalling it" >&2
            rm -f "$dir/started.pid"
            return 1
        fi
        kill -TERM "$pid" 2>/dev/null
        for ((i = 0; i < TL_STOP_TIMEOUT * 20; i++)); do
            tl_pid_alive "$pid" || break
            sleep 0.05
        done
        if tl_pid_alive "$pid"; then
            echo "tl_daemon_stop: $kind '$name' (pid $pid) ignored SIGTERM; SIGKILL" >&2
            kill -KILL "$pid" 2>/dev/null
            for ((i = 0; i < 100; i++)); do
                tl_pid_alive "$pid" || break
                sleep 0.05
            done
        fi
    fi
    tl_reap "$name"
    return "$(cat "$dir/exit-status")"
}

tl_agent_stop() { tl_daemon_stop "$@"; }
tl_trapd_stop() { tl_daemon_stop "$@"; }

# tl_log_has NAME REGEX: grep NAME's daemon log.
tl_log_has() {
    grep -q -- "$2" "$TL_TMP/$1/$(cat "$TL_TMP/$1/kind").log"
}

# tl_log_file NAME: the path of NAME's daemon log.
tl_log_file() {
    echo "$TL_TMP/$1/$(cat "$TL_TMP/$1/kind").log"
}

# tl_client_new NAME [LINE...]: a directory for Net-SNMP apps with an
# snmp.conf holding LINEs (e.g. "localCert client", "peerCert server").
tl_client_new() {
    local name=$1
    shift
    tl_newdir "$name" snmp.conf
    echo app >"$TL_TMP/$name/kind"
    [ $# -eq 0 ] || tl_conf "$name" "$@"
}

# tl_client NAME CMD ARGS...: run a Net-SNMP app (snmpget, snmptrap, ...) with
# NAME's configuration and certificates, bounded by TL_CLIENT_TIMEOUT (30 s).
tl_client() {
    local name=$1 dir=$TL_TMP/$1
    shift
    local -a envs=(
        "SNMPCONFPATH=$(tl_confpath "$name")"
        "SNMP_PERSISTENT_DIR=$dir/persist"
        "HOME=$dir"
        "MIBS="
    )
    # ASan builds: a stock Net-SNMP program that loads the instrumented
    # transport reports libnetsnmp's own exit-time leaks (TSM state, PDU
    # clones, transport configs), so leak checking is off for apps; the
    # transport's memory is checked by the unit tests under LSan and by
    # make check-valgrind.
    [ "${DTLSUDP_ASAN:-0}" != 1 ] ||
        envs+=("ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0")
    local -a extra=()
    mapfile -t extra <"$dir/env"
    with_timeout "${TL_CLIENT_TIMEOUT:-30}" env "${envs[@]}" "${extra[@]}" "$@"
}
