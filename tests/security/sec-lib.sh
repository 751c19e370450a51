# tests/security/sec-lib.sh: shared set-up for the adversarial tests
# (tests/security/*.sh).  Source after tests/lib/snmpd.sh and
# tests/integration/agent-lib.sh:
#
#   sec_init [noagent]             tl_init + attack certificates (TL_CERTS);
#                                  noagent: no snmpd/plugin needed
#   sec_peer OUTVAR ARGS...        run dtls-peer (bounded); its stdout in
#                                  $OUTVAR, its exit status in $SEC_RC
#   sec_chain NAME...              "--chain FILE" arguments for peer/NAME.crt
#   sec_as NAME                    "--cert/--key" arguments for peer/NAME
#   sec_check DESC CMD...          record a failure (and go on) unless CMD succeeds
#   sec_fail DESC                  record a failure
#   sec_done MESSAGE               exit 1 if a failure was recorded, else PASS
#   sec_listen NAME PORT ARGS...   dtls-peer --listen in the background
#   sec_listen_wait NAME           wait for its end: SEC_RC, SEC_OUT
#   sec_require_loader             skip unless dtlsudp-run and its libraries are built
#   sec_attempt LABEL MGR PEER-ARGS -- APP ARGS...
#                                  a dtls-peer agent, then a manager app
#                                  through dtlsudp-run against it
#   sec_reached / sec_not_reached  did the app's request reach the peer?
#   sec_app_failed_fast            the app failed, not by a timeout
#   sec_sent_exactly OUTPUT NAME...
#                                  dtls-peer sent exactly those certificates
#   sec_refusal_logged FILE ROLE NAME
#                                  FILE has "refused ROLE certificate SHA256
#                                  <NAME's fingerprint>"
#
# A test states every assertion it makes with sec_check, so that one run
# shows every attack that got through, not just the first.

# shellcheck shell=bash

SEC_PEER=${SEC_PEER:-$top_builddir/tests/security/dtls-peer}
SEC_FAILS=0
SEC_PEER_TIMEOUT=${SEC_PEER_TIMEOUT:-4000}

# sec_init: prerequisites, $TL_TMP, certificates in $TL_CERTS (made once per
# build tree into tests/security/certs.cache, copied per test), and the
# agent-lib variables (plugin path, ASan preloading) without its own
# certificates.
sec_init() {
    local cache
    tl_require openssl ss timeout flock
    [ -x "$SEC_PEER" ] || tl_skip "dtls-peer is not built: $SEC_PEER"
    if [ "${1:-}" != noagent ]; then
        tl_require snmpd
        [ -f "$AL_PLUGIN" ] || tl_skip "plugin not built: $AL_PLUGIN"
    fi
    tl_init
    TL_CERTS=$TL_TMP/certs
    cache=$top_builddir/tests/security/certs.cache
    mkdir -p "$cache"
    echo '*' >"$cache/.gitignore"
    (
        flock 9
        if [ ! -s "$cache/fingerprints.txt" ] ||
           [ "$top_srcdir/tests/security/make-attack-certs.sh" -nt "$cache/fingerprints.txt" ]; then
            find "$cache" -mindepth 1 -maxdepth 1 ! -name .lock ! -name .gitignore -exec rm -rf {} +
            sh "$top_srcdir/tests/security/make-attack-certs.sh" "$cache" || exit 1
        fi
    ) 9>"$cache/.lock" || tl_fail "make-attack-certs.sh failed"
    cp -a "$cache" "$TL_CERTS"
    rm -f "$TL_CERTS/.lock" "$TL_CERTS/.gitignore"
    AL_ASAN=0
    if readelf -d "$AL_PLUGIN" 2>/dev/null | grep -q 'libasan'; then
        AL_ASAN=1
        AL_ASAN_LIB=$(${CC:-gcc} -print-file-name=libasan.so)
        [ -f "$AL_ASAN_LIB" ] || tl_skip "ASan build but no libasan.so to preload"
    fi
}

sec_as() { echo "--cert $TL_CERTS/peer/$1.crt --key $TL_CERTS/peer/$1.key"; }

sec_chain() {
    local n
    for n in "$@"; do
        printf -- '--chain %s ' "$TL_CERTS/peer/$n.crt"
    done
}

# sec_peer OUTVAR ARGS...: dtls-peer -v ARGS, bounded; output also logged.
sec_peer() {
    local _var=$1 _out
    shift
    SEC_RC=0
    _out=$(with_timeout 30 "$SEC_PEER" -v --timeout "$SEC_PEER_TIMEOUT" "$@" 2>&1) || SEC_RC=$?
    printf -v "$_var" '%s' "$_out"
    tl_log "dtls-peer $* -> $SEC_RC"
    sed 's/^/#   /' <<<"$_out" >&2
}

# sec_sent_exactly OUTPUT NAME...: dtls-peer -v OUTPUT shows that the
# Certificate message it sent held exactly peer/NAME.crt... in that order.
sec_sent_exactly() {
    local out=$1 want="" got n i=0
    shift
    for n in "$@"; do
        want+="sent certificate $i: SHA256 $(tl_fp "$n")"$'\n'
        i=$((i + 1))
    done
    got=$(sed -n 's/^\(sent certificate [0-9]*: \).* \(SHA256 .*\)$/\1\2/p' <<<"$out")
    [ "$got"$'\n' = "$want" ]
}

# sec_listen NAME PORT ARGS...: dtls-peer --listen 127.0.0.1:PORT -v ARGS
# in the background (a rogue or honest agent), bounded by its --timeout
# and by timeout(1); returns once it listens.  sec_listen_wait NAME then
# waits for its end and sets SEC_RC and SEC_OUT.
sec_listen() {
    local name=$1 port=$2 out=$TL_TMP/peer-$1.out i
    shift 2
    timeout --kill-after=2 30 "$SEC_PEER" -v --timeout "${SEC_LISTEN_TIMEOUT:-8000}" \
        --listen "127.0.0.1:$port" "$@" >"$out" 2>&1 </dev/null &
    echo $! >"$TL_TMP/peer-$name.pid"
    tl_on_exit "sec_listen_stop $name"
    tl_log "dtls-peer --listen 127.0.0.1:$port $* (pid $!)"
    for ((i = 0; i < 100; i++)); do
        grep -q '^listening on' "$out" 2>/dev/null && return 0
        tl_pid_alive "$(cat "$TL_TMP/peer-$name.pid")" || break
        sleep 0.05
    done
    cat "$out" >&2
    tl_fail "dtls-peer $name did not start listening"
}

# sec_listen_stop NAME: end it if it still runs (our child only).
sec_listen_stop() {
    local pid
    pid=$(cat "$TL_TMP/peer-$1.pid" 2>/dev/null) || return 0
    rm -f "$TL_TMP/peer-$1.pid"
    if tl_pid_alive "$pid" && [ "$(tl_ppid "$pid")" = "$BASHPID" ]; then
        kill -TERM "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
}

sec_listen_wait() {
    local pid
    pid=$(cat "$TL_TMP/peer-$1.pid")
    SEC_RC=0
    wait "$pid" || SEC_RC=$?
    rm -f "$TL_TMP/peer-$1.pid"
    SEC_OUT=$(cat "$TL_TMP/peer-$1.out")
    tl_log "dtls-peer $1 -> $SEC_RC"
    sed 's/^/#   /' <<<"$SEC_OUT" >&2
}

# sec_require_loader: skip unless the manager-side loader is built.
SEC_RUN=$top_builddir/snmplib-patches/dtlsudp-run
sec_require_loader() {
    local f
    for f in "$top_builddir/snmplib-patches/.libs/libdtlsudp-preload.so" \
             "$top_builddir/snmplib-patches/.libs/dtlsudp-transport.so" "$SEC_RUN"; do
        [ -e "$f" ] || tl_skip "$(basename "$f") is not built"
    done
}

# sec_attempt LABEL MGR PEER-ARGS -- APP ARGS...: a dtls-peer agent with
# PEER-ARGS on a fresh port, then the app (snmpget/snmptrap through the
# loader) with ARGS, the target, and ${AFTER[@]} (the OID, the trap).
# Sets APP_RC, APP_OUT, SEC_RC, SEC_OUT.
sec_attempt() {
    local label=$1 mgr=$2 port
    local -a peer_args=()
    shift 2
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        peer_args+=("$1")
        shift
    done
    shift
    tl_free_udp_port port || exit 1
    sec_listen "$label" "$port" "${peer_args[@]}"
    APP_RC=0
    APP_OUT=$(tl_client "$mgr" "$SEC_RUN" "$@" "dtlsudp:127.0.0.1:$port" "${AFTER[@]}" 2>&1) ||
        APP_RC=$?
    tl_log "$label: $* -> $APP_RC"
    sed 's/^/#   /' <<<"$APP_OUT" >&2
    sec_listen_wait "$label"
}

# sec_reached / sec_not_reached: did the request get to the peer?
sec_reached() { has "$SEC_OUT" "handshake ok" && has "$SEC_OUT" "bytes of application data"; }
sec_not_reached() { lacks "$SEC_OUT" "bytes of application data"; }
# sec_app_failed_fast: the app failed, and not by waiting for its timeout
# (a refused handshake fails the request at once, RFC 6353 5.3.1).
sec_app_failed_fast() { [ "$APP_RC" -ne 0 ] && ! grep -qi timeout <<<"$APP_OUT"; }

sec_fail() {
    echo "FAIL: $*" >&2
    SEC_FAILS=$((SEC_FAILS + 1))
}

sec_check() {
    local desc=$1
    shift
    if "$@"; then
        tl_log "ok: $desc"
    else
        sec_fail "$desc"
    fi
}

sec_done() {
    if [ "$SEC_FAILS" -ne 0 ]; then
        echo "FAIL: $SEC_FAILS assertion(s) failed" >&2
        exit 1
    fi
    echo "PASS: $*"
}

sec_refusal_logged() {
    grep -qF "refused $2 certificate SHA256 $(tl_fp "$3")" "$1"
}

# has TEXT PATTERN / lacks TEXT PATTERN: fixed-string tests on an output.
has() { grep -qF -- "$2" <<<"$1"; }
lacks() { ! grep -qF -- "$2" <<<"$1"; }
