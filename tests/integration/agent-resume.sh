#!/bin/bash
# Session resumption between stock snmpget (through dtlsudp-run, the
# manager loader) and stock snmpd with the plugin, one process per query:
#
#   - with dtlsudpSessionFile the second snmpget resumes (abbreviated
#     handshake) from a session file that is 0600 in a 0700 directory;
#     without it every snmpget runs a full handshake (control);
#   - a changed certSecName mapping (SIGHUP) applies to the next resumed
#     session: the securityName is the new one;
#   - a CRL that revokes the manager (SIGHUP) refuses the ticket, and the
#     full handshake refuses the manager;
#   - a different localCert never resumes the other identity's session;
#   - a repeat snmpget resumes without reading its private key (the
#     certificate lines as resolved before), and a certificate file
#     replaced under the same name is seen: a new localCert runs a full
#     handshake with the new certificate, a new peerCert pin refuses the
#     agent;
#   - after an agent restart the old ticket is refused (new keys) and the
#     snmpget falls back to a full handshake;
#   - the agent counts resumed handshakes and refused tickets in
#     DTLSUDP-MIB.
# RESUME_AGENT_CONF: one more agent line (agent-resume-cache.sh: the
# agent's session cache instead of tickets; then no ticket is issued).
set -u
. "$top_srcdir/tests/lib/snmpd.sh"
. "$top_srcdir/tests/integration/agent-lib.sh"

al_init
RUN=$top_builddir/snmplib-patches/dtlsudp-run
for f in "$RUN" "$top_builddir/snmplib-patches/.libs/libdtlsudp-preload.so" \
         "$top_builddir/snmplib-patches/.libs/dtlsudp-transport.so"; do
    [ -e "$f" ] || tl_skip "$(basename "$f") is not built"
done
command -v openssl >/dev/null || tl_skip "openssl not found"

SYSNAME=.1.3.6.1.2.1.1.5.0
SYSDESCR=.1.3.6.1.2.1.1.1.0
RESUMED=.1.3.6.1.3.6353.1.1.29.0  # dtlsudpHandshakesResumed
ISSUED=.1.3.6.1.3.6353.1.1.30.0   # dtlsudpTicketsIssued
REFUSED=.1.3.6.1.3.6353.1.1.31.0  # dtlsudpTicketsRefused

tl_free_udp_port port || exit 1
target=dtlsudp:127.0.0.1:$port
fp=$(tl_fp client) || exit 1
fp_ec=$(tl_fp client-ec) || exit 1

# The agent: client -> alice (everything), client-ec -> carol; bob may read
# only sysName.
agent_conf() {
    al_agent agent "certSecName 10 $fp --sn ${1:-alice}" "certSecName 20 $fp_ec --sn carol" \
        "rouser -s tsm alice authpriv" "rouser -s tsm carol authpriv" \
        "view bobview included .1.3.6.1.2.1.1.5" "rouser -s tsm bob authpriv -V bobview" \
        "agentAddress $target" ${RESUME_AGENT_CONF:+"$RESUME_AGENT_CONF"}
    tl_expect_port agent "$port"
}
agent_conf
al_agent_start agent || tl_fail "agent did not start"

# get MGR OID: one snmpget through the loader, with -Ddtlsudp; the output
# in $OUT, the status in $RC.
get() {
    RC=0
    OUT=$(tl_client "$1" "$RUN" snmpget -Ddtlsudp -v3 -r1 -t3 -On "$target" "$2" 2>&1) || RC=$?
}
resumed() { grep -q 'established (.*, resumed)' <<<"$OUT"; }
full() { grep -q 'association [0-9]* established' <<<"$OUT" && ! resumed; }
expect() { # expect DESC CMD...
    local desc=$1
    shift
    "$@" || { echo "$OUT" | grep -v 'dtlsudp:engine\|dtlsudp:config' >&2; tl_fail "$desc"; }
    tl_log "ok: $desc"
}
not() { ! "$@"; }
ok() { [ "$RC" = 0 ] && grep -q "^$1 = [A-Za-z0-9]*: " <<<"$OUT"; }
value() { sed -n "s/^$1 = [A-Za-z0-9]*: //p" <<<"$OUT"; }
counter() { get mgr "$1"; value "$1"; }

reload() {
    local n
    n=$(grep -c "init again" "$(tl_log_file agent)")
    kill -HUP "$(tl_pid agent)" || tl_fail "SIGHUP"
    for ((i = 0; i < 100; i++)); do
        [ "$(grep -c "init again" "$(tl_log_file agent)")" -gt "$n" ] && return 0
        sleep 0.1
    done
    tl_fail "the agent did not reload"
}

# --- resumption across processes, and the file it needs -----------------
al_client mgr "dtlsudpSessionFile yes"
get mgr $SYSNAME
expect "first snmpget: served" ok $SYSNAME
expect "first snmpget: full handshake" full
sessions=$TL_TMP/mgr/persist/dtlsudp/sessions
expect "the session file exists" test -s "$sessions"
expect "the session file is 0600" [ "$(stat -c %a "$sessions")" = 600 ]
expect "its directory is 0700" [ "$(stat -c %a "$(dirname "$sessions")")" = 700 ]
get mgr $SYSNAME
expect "second snmpget (a new process): served" ok $SYSNAME
expect "second snmpget: resumed" resumed
n=$(counter $RESUMED)
expect "dtlsudpHandshakesResumed counts them ($n)" [ "$n" -ge 2 ]
if [ -n "${RESUME_AGENT_CONF:-}" ]; then
    n=$(counter $ISSUED)
    expect "$RESUME_AGENT_CONF: resumed without tickets (issued $n)" [ "$n" = 0 ]
fi

# control: without the file, one-shot tools cannot resume
al_client plain
get plain $SYSNAME
get plain $SYSNAME
expect "no session file: served" ok $SYSNAME
expect "no session file: full handshake" full
# a group- or world-readable directory is not used
al_client loose "dtlsudpSessionFile yes"
mkdir -p "$TL_TMP/loose/persist/dtlsudp" && chmod 755 "$TL_TMP/loose/persist/dtlsudp"
get loose $SYSNAME
expect "open directory: served" ok $SYSNAME
expect "open directory: no session file written" test ! -e "$TL_TMP/loose/persist/dtlsudp/sessions"
expect "open directory: said why" grep -q "session file .* not used: the directory must belong to this user" <<<"$OUT"

# --- a changed certSecName mapping applies to the resumed session -------
get mgr $SYSDESCR
expect "as alice: sysDescr readable" ok $SYSDESCR
expect "as alice: resumed" resumed
conf=$(cat "$TL_TMP/agent/conffile")
sed -i "s/^certSecName 10 $fp --sn alice\$/certSecName 10 $fp --sn bob/" "$conf"
grep -q -- "--sn bob" "$conf" || tl_fail "cannot edit the agent's configuration"
reload
get mgr $SYSNAME
expect "as bob: sysName readable" ok $SYSNAME
expect "as bob: resumed (the listener and its ticket keys survive SIGHUP)" resumed
get mgr $SYSDESCR
expect "as bob: sysDescr is not (the new securityName applies)" not ok $SYSDESCR
tl_log_has agent "mapped to securityName bob" || tl_fail "the agent did not map the resumed session to bob"
sed -i "s/^certSecName 10 $fp --sn bob\$/certSecName 10 $fp --sn alice/" "$conf"
reload

# --- a different localCert does not use the other identity's session ----
al_client other "localCert client-ec" "peerCert server" "dtlsudpSessionFile yes"
mkdir -m 700 -p "$TL_TMP/other/persist/dtlsudp" &&
    cp -p "$sessions" "$TL_TMP/other/persist/dtlsudp/sessions" || tl_fail "copy the session file"
get other $SYSNAME
expect "client-ec: served" ok $SYSNAME
expect "client-ec: full handshake" full
tl_log_has agent "mapped to securityName carol" || tl_fail "the agent did not see client-ec"

# --- certificates as resolved before, and files replaced under a name ---
# A manager with certificates of its own, "me" and "agent" in
# $TL_TMP/memo/tls (searched before the shared directory).  A directory
# changed in the last 2 s is not remembered, hence the pauses.
tl_client_new memo "localCert me" "peerCert agent" "dtlsudpSessionFile yes"
mine=$TL_TMP/memo/tls
mkdir -p "$mine/certs" "$mine/private" || tl_fail "mkdir"
install -m 644 "$TL_CERTS/tls/certs/client.crt" "$mine/certs/me.crt"
install -m 600 "$TL_CERTS/tls/private/client.key" "$mine/private/me.key"
install -m 644 "$TL_CERTS/tls/certs/server.crt" "$mine/certs/agent.crt"
sleep 2.2
get memo $SYSNAME
expect "memo: served" ok $SYSNAME
get memo $SYSNAME
expect "memo: resumed" resumed
expect "memo: the identity was not loaded to resume" grep -q "identity .*/me.crt loaded only if needed" <<<"$OUT"
carol_before=$(grep -c "mapped to securityName carol" "$(tl_log_file agent)")
install -m 644 "$TL_CERTS/tls/certs/client-ec.crt" "$mine/certs/me.crt"
install -m 600 "$TL_CERTS/tls/private/client-ec.key" "$mine/private/me.key"
sleep 2.2
get memo $SYSNAME
expect "me.crt replaced: served" ok $SYSNAME
expect "me.crt replaced: full handshake" full
carol_after=$(grep -c "mapped to securityName carol" "$(tl_log_file agent)")
expect "me.crt replaced: the agent saw the new certificate" [ "$carol_after" -gt "$carol_before" ]
get memo $SYSNAME
expect "me.crt replaced: then resumed" resumed
install -m 644 "$TL_CERTS/tls/certs/client.crt" "$mine/certs/agent.crt"
sleep 2.2
get memo $SYSNAME
expect "agent.crt replaced: the agent no longer matches the pin" [ "$RC" != 0 ]
expect "agent.crt replaced: refused, not resumed" not resumed

# --- an agent restart: new keys, the old ticket gets a full handshake ----
get mgr $SYSNAME
expect "before the restart: served" ok $SYSNAME
tl_agent_stop agent || tl_fail "agent exit status"
al_agent_start agent || tl_fail "agent did not restart"
get mgr $SYSNAME
expect "after the restart: served" ok $SYSNAME
expect "after the restart: full handshake" full
get mgr $SYSNAME
expect "then resumed again" resumed
n=$(counter $REFUSED)
expect "the restarted agent counted the old ticket ($n)" [ "$n" -ge 1 ]

# --- revocation applies to the next handshake, resumed or not -----------
get mgr $SYSNAME
expect "before the CRL: resumed" resumed
refused_before=$(counter $REFUSED)
ca=$TL_TMP/ca
cp -a "$TL_CERTS/ca" "$ca"
sed -i "s|^dir *=.*|dir = $ca|" "$ca/ca.cnf"
openssl ca -config "$ca/ca.cnf" -revoke "$TL_CERTS/tls/certs/client.crt" -batch >/dev/null 2>&1 &&
    openssl ca -config "$ca/ca.cnf" -gencrl -crldays 1 -out "$TL_TMP/client-revoked.crl" -batch >/dev/null 2>&1 ||
    tl_fail "cannot make a CRL"
echo "[snmp] x509CRLFile $TL_TMP/client-revoked.crl" >>"$conf"
reload
get mgr $SYSNAME
expect "revoked: refused" [ "$RC" != 0 ]
tl_log_has agent "refused client certificate SHA256 $fp" ||
    tl_log_has agent "client certificate SHA256 $fp.*refused" || tl_fail "the agent did not log the refusal"
get other $REFUSED
expect "client-ec still served" ok $REFUSED
n=$(value $REFUSED)
expect "dtlsudpTicketsRefused counted the revoked ticket ($refused_before -> $n)" [ "$n" -gt "$refused_before" ]

al_proof agent
tl_agent_stop agent || tl_fail "agent exit status"
echo "PASS: resumption across processes, mapping, revocation, identity, restart"
