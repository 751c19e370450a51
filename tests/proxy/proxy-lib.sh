# tests/proxy/proxy-lib.sh: run dtlsudp-proxy in integration tests (bash,
# sourced after tests/lib/snmpd.sh and tl_init).
#
#   px_start NAME CONFIG_TEXT [ARGS...]   start one proxy process with this
#                                         configuration file; returns once
#                                         every service logged its address
#   px_port NAME SERVICE                  the port SERVICE listens on
#                                         (services listen on port 0)
#   px_signal NAME SIG                    signal the proxy we started
#   px_stop NAME                          SIGTERM, wait (bounded); fails on
#                                         a non-zero exit or sanitizer report
#   px_log NAME                           its log file
# Every proxy is stopped by the pid this file started, never by name.
# shellcheck shell=bash

PX_BIN=$top_builddir/transport/proxy/dtlsudp-proxy
PX_NAMES=()

px_log() { echo "$TL_TMP/$1/proxy.log"; }

px_start() {
    local name=$1 conf=$2 dir=$TL_TMP/$1 i want pid
    shift 2
    [ -x "$PX_BIN" ] || tl_skip "dtlsudp-proxy is not built"
    mkdir -p "$dir"
    printf '%s\n' "$conf" >"$dir/proxy.conf"
    want=$(grep -c '^\[' "$dir/proxy.conf")
    "$PX_BIN" -c "$dir/proxy.conf" "$@" </dev/null >"$dir/proxy.log" 2>&1 &
    pid=$!
    echo "$pid" >"$dir/pid"
    PX_NAMES+=("$name")
    for ((i = 0; i < 200; i++)); do
        if ! tl_pid_alive "$pid"; then
            cat "$dir/proxy.log" >&2
            tl_fail "proxy $name exited during startup"
        fi
        [ "$(grep -c ': listening on ' "$dir/proxy.log")" -ge "$want" ] && return 0
        sleep 0.05
    done
    cat "$dir/proxy.log" >&2
    tl_fail "proxy $name not ready after 10 s"
}

px_port() {
    local line
    line=$(grep -m1 "^<[0-9]>dtlsudp-proxy\[$2\]: listening on " "$(px_log "$1")") ||
        tl_fail "proxy $1 has no service $2"
    line=${line#*listening on }
    line=${line%% *}
    echo "${line##*:}"
}

px_pid() { cat "$TL_TMP/$1/pid" 2>/dev/null; }

px_signal() {
    local pid
    pid=$(px_pid "$1")
    [ -n "$pid" ] && tl_pid_alive "$pid" && kill "-$2" "$pid"
}

px_stop() {
    local name=$1 pid i rc=0
    pid=$(px_pid "$name")
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 200; i++)); do
        tl_pid_alive "$pid" || break
        sleep 0.05
    done
    if tl_pid_alive "$pid"; then
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        rm -f "$TL_TMP/$name/pid"
        tl_fail "proxy $name ignored SIGTERM for 10 s"
    fi
    wait "$pid" 2>/dev/null || rc=$?
    rm -f "$TL_TMP/$name/pid"
    if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$(px_log "$name")"; then
        cat "$(px_log "$name")" >&2
        tl_fail "proxy $name: sanitizer report"
    fi
    [ "$rc" -eq 0 ] || { cat "$(px_log "$name")" >&2; tl_fail "proxy $name exited with status $rc"; }
}

# Stop whatever is still running when the test ends (failures included).
px_cleanup() {
    local name pid
    for name in "${PX_NAMES[@]}"; do
        pid=$(px_pid "$name")
        [ -n "$pid" ] || continue
        kill -TERM "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        if [ "${PX_SHOW_LOGS:-1}" = 1 ]; then
            echo "----- proxy $name log (last 30 lines) -----" >&2
            tail -n 30 "$TL_TMP/$name/proxy.log" >&2
        fi
    done
}
tl_on_exit px_cleanup

# px_certs: file names of the test certificates (tl_make_certs first).
px_certs() {
    PX_CA=$TL_CERTS/tls/ca-certs/ca.crt
    PX_SERVER_CERT=$TL_CERTS/tls/certs/server.crt
    PX_SERVER_KEY=$TL_CERTS/tls/private/server.key
    PX_CLIENT_CERT=$TL_CERTS/tls/certs/client.crt
    PX_CLIENT_KEY=$TL_CERTS/tls/private/client.key
}
