#!/bin/sh
# echo-example.sh - the example programs end to end on loopback: the echo
# server (osnet and router, IPv4 and dual-stack) and two clients (IPv4,
# IPv6), openssl s_client against the server and the client against
# openssl s_server; certificates from the openssl CLI.  Kills only the pids it started.
set -u
builddir=${top_builddir:-.}
server=$builddir/examples/dtls-echo-server
client=$builddir/examples/dtls-echo-client
tmp=$(mktemp -d /tmp/dtlsudp-echo.XXXXXX) || exit 99
server_pid=
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; fi
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

fail() {
    echo "FAIL: $*"
    if [ -n "$server_pid" ]; then
        sleep 1 # let a dying server finish its report
        if kill -0 "$server_pid" 2>/dev/null; then echo "(server $server_pid running)"
        else echo "(server $server_pid has exited)"; fi
    fi
    [ -f "$tmp/server.out" ] && cat "$tmp/server.out"
    exit 1
}

# A CA and two leaves (EC P-256).
cd "$tmp" || exit 99
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=echo test CA" -keyout ca.key -out ca.pem \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign >/dev/null 2>&1 || exit 99
for name in server client; do
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$name" \
        -keyout $name.key -out $name.csr >/dev/null 2>&1 || exit 99
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nbasicConstraints=CA:FALSE\n' > $name.ext
    openssl x509 -req -in $name.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
        -extfile $name.ext -out $name.pem >/dev/null 2>&1 || exit 99
done
fp=$(openssl x509 -in server.pem -noout -fingerprint -sha256 | sed 's/.*=//')
cd - >/dev/null || exit 99
tls="--cert $tmp/client.pem --key $tmp/client.key --ca $tmp/ca.pem"

printf 'first line\nsecond line\nlast line\n' > "$tmp/input"

start_server() { # args: server options...; sets $port
    attempt=0
    while [ $attempt -lt 10 ]; do
        attempt=$((attempt + 1))
        # a random port in 20000..32767, below Linux's ephemeral range (so no
        # client socket holds it); another test may still, hence the retries
        port=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 12768))
        rm -f "$tmp/server.out" # the previous server's "listening" must not count
        "$server" --port "$port" --cert "$tmp/server.pem" --key "$tmp/server.key" --ca "$tmp/ca.pem" "$@" \
            > "$tmp/server.out" 2>&1 &
        server_pid=$!
        i=0
        while [ $i -lt 100 ] && kill -0 "$server_pid" 2>/dev/null; do
            grep -q "^listening on .*:$port " "$tmp/server.out" 2>/dev/null && return 0
            i=$((i + 1))
            sleep 0.1
        done
        kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; server_pid=
    done
    return 1
}

stop_server() {
    kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; server_pid=
}

check_client() { # args: client options + host port
    timeout 30 "$client" $tls "$@" < "$tmp/input" > "$tmp/client.out" 2> "$tmp/client.err" \
        || fail "client $* exited $?: $(cat "$tmp/client.err")"
    cmp -s "$tmp/input" "$tmp/client.out" || fail "client $*: echoes differ: $(cat "$tmp/client.out")"
}

for demux in osnet router; do
    for family in 4 6; do
        if [ $family = 6 ]; then
            start_server --demux $demux -6 || fail "server ($demux, [::]) did not start"
            check_client -6 ::1 $port
            check_client 127.0.0.1 $port   # IPv4 client on the dual-stack listener
            # server pinned by fingerprint; its chain does not verify here
            pin="--cert $tmp/client.pem --key $tmp/client.key --ca $tmp/client.pem"
            timeout 30 "$client" $pin --peer-fingerprint "$fp" ::1 $port < "$tmp/input" > "$tmp/client.out" \
                2> "$tmp/client.err" || fail "pinned client exited $?: $(cat "$tmp/client.err")"
            cmp -s "$tmp/input" "$tmp/client.out" || fail "pinned client: echoes differ"
            if timeout 30 "$client" $pin ::1 $port < "$tmp/input" > "$tmp/client.out" 2> "$tmp/client.err"; then
                fail "a server that neither verifies nor matches a pin was accepted"
            fi
            grep -q "peer certificate refused" "$tmp/client.err" || fail "unclear error: $(cat "$tmp/client.err")"
        else
            start_server --demux $demux || fail "server ($demux, 0.0.0.0) did not start"
            check_client 127.0.0.1 $port
        fi
        sleep 0.2
        grep -q "^closed .*: association closed" "$tmp/server.out" || fail "no close_notify seen by the server"
        stop_server
        echo "ok: $demux IPv$family"
    done
done

# --no-accept: the router listener serves every client through
# dtlsudp_listener_recv() (one polled fd), as bench/holdmany uses it.
for demux in router osnet; do
    start_server --demux $demux --no-accept --max-assocs 50 --idle-timeout 0 ||
        fail "server ($demux, --no-accept) did not start"
    check_client 127.0.0.1 $port
    check_client 127.0.0.1 $port
    stop_server
    echo "ok: $demux --no-accept"
done

# --threads: two loops, each with its own listener on the same port
# (reuse_port, router); clients from eight ports are all served, and
# SIGTERM stops both threads with exit status 0 and close_notify to a
# client still connected.
for mode in accept no-accept; do
    extra=
    [ $mode = no-accept ] && extra=--no-accept
    start_server --threads 2 $extra || fail "server (--threads 2 $extra) did not start"
    grep -q "^listening on .*(router demux, 2 threads)" "$tmp/server.out" || fail "not two threads"
    for i in 1 2 3 4 5 6 7 8; do check_client 127.0.0.1 $port; done
    # a client that stays connected until the server goes away
    mkfifo "$tmp/hold.in" || exit 99
    "$client" $tls 127.0.0.1 "$port" < "$tmp/hold.in" > "$tmp/hold.out" 2> "$tmp/hold.err" &
    hold_pid=$!
    exec 5> "$tmp/hold.in"
    echo "held line" >&5
    i=0
    while [ $i -lt 100 ] && ! grep -q "held line" "$tmp/hold.out" 2>/dev/null; do i=$((i + 1)); sleep 0.1; done
    grep -q "held line" "$tmp/hold.out" || fail "--threads 2 $extra: held client got no echo"
    kill -TERM "$server_pid"
    i=0
    while [ $i -lt 100 ] && kill -0 "$server_pid" 2>/dev/null; do i=$((i + 1)); sleep 0.1; done
    kill -0 "$server_pid" 2>/dev/null && fail "--threads 2 $extra: still running 10 s after SIGTERM"
    wait "$server_pid"
    rc=$?
    server_pid=
    [ "$rc" -eq 0 ] || fail "--threads 2 $extra: exit status $rc after SIGTERM"
    # the held client reads close_notify and ends although its stdin is open
    i=0
    while [ $i -lt 100 ] && kill -0 "$hold_pid" 2>/dev/null; do i=$((i + 1)); sleep 0.1; done
    if kill -0 "$hold_pid" 2>/dev/null; then
        kill "$hold_pid"; exec 5>&-; fail "--threads 2 $extra: no close_notify to a connected client"
    fi
    exec 5>&-
    wait "$hold_pid" 2>/dev/null
    rm -f "$tmp/hold.in"
    echo "ok: --threads 2 $extra"
done
"$server" --threads 2 --demux osnet --cert "$tmp/server.pem" --key "$tmp/server.key" --ca "$tmp/ca.pem" \
    > "$tmp/server.out" 2>&1
[ $? -eq 2 ] || fail "--threads 2 --demux osnet was not refused"
grep -q "needs --demux router" "$tmp/server.out" || fail "--threads with osnet: unclear error"
echo "ok: --threads 2 --demux osnet refused"

# openssl s_client against the echo server, one AEAD suite at a time: the
# server hands its record keys off after the handshake, so the records
# s_client seals are opened, and the echoes sealed, by the engine's own
# record layer; the last line is longer than one s_client read would
# merge with the others.
long=$(head -c 900 /dev/zero | tr '\0' 'x')
printf 'one\ntwo\n%s\n' "$long" > "$tmp/lines"
start_server --demux osnet || fail "server (osnet) for s_client did not start"
for suite in ECDHE-ECDSA-AES128-GCM-SHA256 ECDHE-ECDSA-AES256-GCM-SHA384 ECDHE-ECDSA-CHACHA20-POLY1305; do
    # stdin stays open 2 s so that the echoes come back before s_client exits
    ( cat "$tmp/lines"; sleep 2 ) | timeout 20 openssl s_client -dtls1_2 -connect "127.0.0.1:$port" \
        -cert "$tmp/client.pem" -key "$tmp/client.key" -CAfile "$tmp/ca.pem" -verify_return_error \
        -cipher "$suite" -quiet > "$tmp/s_client.out" 2> "$tmp/s_client.err"
    grep -qx "$long" "$tmp/s_client.out" && grep -qx one "$tmp/s_client.out" && grep -qx two "$tmp/s_client.out" ||
        fail "s_client $suite: echoes missing: $(cat "$tmp/s_client.out" "$tmp/s_client.err")"
    grep -q "accepted 127.0.0.1:[0-9]* (DTLSv1.2, $suite)" "$tmp/server.out" || fail "s_client $suite: not negotiated"
    echo "ok: openssl s_client $suite"
done
stop_server
# The echo client against openssl s_server, one AEAD suite at a time.  The
# client hands its record keys off once the handshake is done, so its
# records are sealed and s_server's opened by the engine's own record
# layer.  s_server has no echo mode for DTLS: it prints what it receives
# and sends what it reads on stdin, so each side's line is written only
# after the other side has shown the previous one.  Its stdin and the
# client's are fifos held open by this script.
mkfifo "$tmp/ss.in" "$tmp/cl.in" || exit 99
ss_pid=
client_pid=
stop_pair() {
    exec 3>&- 4>&- 2>/dev/null
    for p in $client_pid $ss_pid; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    ss_pid=
    client_pid=
}
# wait_file FILE TEXT PID: up to 10 s while PID lives.
wait_file() {
    i=0
    while [ $i -lt 100 ] && kill -0 "$3" 2>/dev/null; do
        grep -qF "$2" "$1" 2>/dev/null && return 0
        i=$((i + 1))
        sleep 0.1
    done
    grep -qF "$2" "$1" 2>/dev/null
}
pair_fail() {
    echo "--- s_server:"; cat "$tmp/ss.out"; echo "--- client:"; cat "$tmp/cl.out" "$tmp/cl.err"
    stop_pair
    fail "$@"
}
for suite in ECDHE-ECDSA-AES128-GCM-SHA256 ECDHE-ECDSA-AES256-GCM-SHA384 ECDHE-ECDSA-CHACHA20-POLY1305; do
    attempt=0
    while [ $attempt -lt 10 ]; do
        attempt=$((attempt + 1))
        port=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 12768))
        openssl s_server -dtls1_2 -accept "127.0.0.1:$port" -cert "$tmp/server.pem" -key "$tmp/server.key" \
            -CAfile "$tmp/ca.pem" -Verify 2 -verify_return_error -cipher "$suite" \
            < "$tmp/ss.in" > "$tmp/ss.out" 2>&1 &
        ss_pid=$!
        exec 3> "$tmp/ss.in"
        wait_file "$tmp/ss.out" ACCEPT "$ss_pid" && break
        stop_pair
    done
    [ -n "$ss_pid" ] || fail "openssl s_server did not start"
    "$client" $tls 127.0.0.1 "$port" < "$tmp/cl.in" > "$tmp/cl.out" 2> "$tmp/cl.err" &
    client_pid=$!
    exec 4> "$tmp/cl.in"
    echo "line from the echo client" >&4
    wait_file "$tmp/ss.out" "line from the echo client" "$ss_pid" || pair_fail "s_server $suite: client line not received"
    grep -q "CIPHER is $suite" "$tmp/ss.out" || pair_fail "s_server $suite: not negotiated"
    echo "line from s_server" >&3
    wait_file "$tmp/cl.out" "line from s_server" "$client_pid" || pair_fail "s_server $suite: server line not received"
    exec 4>&-
    i=0
    while [ $i -lt 100 ] && kill -0 "$client_pid" 2>/dev/null; do i=$((i + 1)); sleep 0.1; done
    wait "$client_pid"
    rc=$?
    client_pid=
    [ "$rc" -eq 0 ] || pair_fail "s_server $suite: echo client exited $rc"
    # close_notify from the client (RFC 6353 5.4), sealed by the engine:
    # s_server prints DONE for it (ERROR for anything else)
    wait_file "$tmp/ss.out" "DONE" "$ss_pid" ||
        pair_fail "s_server $suite: no close_notify seen"
    stop_pair
    echo "ok: echo client against openssl s_server $suite"
done
exit 0
