#!/bin/bash
# Revocation at the agent (x509CRLFile), RFC 6353 5.3.2 and RFC 5280 6.3.
#
#  pinned: bob is mapped by his own leaf fingerprint and the CA is not a
#          trustCert: a leaf accepted by its pin must still not be revoked
#          by a loaded CRL of its issuer (R4).  bob refused (log line),
#          alice (same CA, pinned, not revoked) served.
#  trusted: the same with trustCert ca (a CA-verified path): bob refused,
#          alice served.
#  broken: x509CRLFile names a file that is no CRL, or no file at all: the
#          agent fails closed (R5): it does not serve the dtlsudp listener
#          (snmpd exits when an agentAddress cannot be opened) and its log
#          names the file.  The good-CRL agents above are the control.
#  reload: a changed x509CRLFile line applies at the next SIGHUP.  bob
#          revoked and refused; the line naming a broken file + SIGHUP:
#          every client refused (fail closed); the revoking CRL named again
#          + SIGHUP: bob refused, alice served.  (A removed line keeps its
#          last CRL: clearing it would also drop one given on the command
#          line, which is never read again.)
set -u
. "$top_srcdir/tests/lib/snmpd.sh"
. "$top_srcdir/tests/integration/agent-lib.sh"
. "$top_srcdir/tests/security/sec-lib.sh"

sec_init

SYSLOCATION=.1.3.6.1.2.1.1.6.0
SHARED=shared-location

# agent NAME CRLFILE [LINE...]: an agent mapping alice and bob by their
# leaf fingerprints, reading CRLFILE; sets $target.
agent() {
    local name=$1 crl=$2 port
    shift 2
    tl_free_udp_port port || exit 1
    al_agent "$name" "$@" "[snmp] x509CRLFile $crl" \
        "certSecName 10 $(tl_fp alice) --sn alice" \
        "certSecName 20 $(tl_fp bob) --sn bob" \
        "rouser -s tsm alice authpriv" "rouser -s tsm bob authpriv" \
        "sysLocation $SHARED"
    tl_agent_listen "$name" "dtlsudp:127.0.0.1:$port"
    target=127.0.0.1:$port
}

# revoked_case LABEL [LINE...]
revoked_case() {
    local c=$1 out
    shift
    agent "$c" "$TL_CERTS/crl/bob-revoked.pem" "$@"
    al_agent_start "$c" || tl_fail "$c: agent with a good CRL did not start"
    sec_peer out --connect "$target" $(sec_as alice) --get $SYSLOCATION
    sec_check "$c: control: alice (not revoked) is served" has "$out" "value 0x04 \"$SHARED\""
    sec_peer out --connect "$target" $(sec_as bob) --get $SYSLOCATION
    sec_check "$c: revoked bob does not get an answer" lacks "$out" "$SHARED"
    sec_check "$c: revoked bob is refused (handshake fails)" [ "$SEC_RC" -eq 1 ]
    sec_check "$c: refusal logged for bob's fingerprint" \
        sec_refusal_logged "$(tl_log_file "$c")" client bob
    sec_peer out --connect "$target" $(sec_as alice) --get $SYSLOCATION
    sec_check "$c: alice still served after the refusal" has "$out" "value 0x04 \"$SHARED\""
    tl_agent_stop "$c" || sec_fail "$c: agent exit status"
}

revoked_case pinned
revoked_case trusted "[snmp] trustCert ca"

# broken_case LABEL FILE: the agent must not serve dtlsudp with FILE.
broken_case() {
    local c=$1 crl=$2 out dir started=0
    agent "$c" "$crl" "[snmp] trustCert ca"
    dir=$TL_TMP/$c
    # A fixed agent exits at once; one that stays up without its listener
    # is not ready either, so the wait is kept short.
    if TL_START_TIMEOUT=5 al_agent_start "$c" 2>"$dir/start.err"; then
        started=1
        sec_peer out --connect "$target" $(sec_as alice) --get $SYSLOCATION
        sec_check "$c: not served with a broken x509CRLFile (fail closed)" lacks "$out" "handshake ok"
    fi
    tl_agent_stop "$c" >/dev/null 2>&1
    tl_log "$c: agent started: $started"
    sec_check "$c: the log names the CRL file $(basename "$crl")" \
        grep -qF "$crl" "$dir/snmpd.log" "$dir/snmpd.out"
}

broken_case garbage "$TL_CERTS/crl/garbage.pem"
broken_case missing "$TL_CERTS/crl/missing.pem"

# reload NAME: SIGHUP, and wait until the plugin has read the files again.
reload() {
    local log n i
    log=$(tl_log_file "$1")
    n=$(grep -c "init again" "$log")
    kill -HUP "$(tl_pid "$1")" || sec_fail "$1: SIGHUP"
    for ((i = 0; i < 100; i++)); do
        [ "$(grep -c "init again" "$log")" -gt "$n" ] && return 0
        sleep 0.1
    done
    sec_fail "$1: the agent did not reload"
}

# served NAME WHO: does the agent answer WHO?
served() {
    local out
    sec_peer out --connect "$target" $(sec_as "$2") --get $SYSLOCATION
    case $out in *"value 0x04 \"$SHARED\""*) return 0 ;; esac
    return 1
}
refused() { ! served "$@"; }

reload_case() {
    local c=reload conf
    agent "$c" "$TL_CERTS/crl/bob-revoked.pem" "[snmp] trustCert ca"
    al_agent_start "$c" || tl_fail "$c: agent with a good CRL did not start"
    conf=$(cat "$TL_TMP/$c/conffile")
    sec_check "$c: control: alice is served" served "$c" alice
    sec_check "$c: revoked bob is refused" refused "$c" bob

    sed -i '/x509CRLFile/d' "$conf"
    echo "[snmp] x509CRLFile $TL_CERTS/crl/garbage.pem" >>"$conf"
    reload "$c"
    sec_check "$c: broken x509CRLFile + SIGHUP: alice is refused (fail closed)" refused "$c" alice
    sec_check "$c: the log names the broken file" grep -qF "$TL_CERTS/crl/garbage.pem" "$(tl_log_file "$c")"

    sed -i '/x509CRLFile/d' "$conf"
    echo "[snmp] x509CRLFile $TL_CERTS/crl/bob-revoked.pem" >>"$conf"
    reload "$c"
    sec_check "$c: revoking CRL again + SIGHUP: bob is refused" refused "$c" bob
    sec_check "$c: revoking CRL again + SIGHUP: alice is served" served "$c" alice
    tl_agent_stop "$c" || sec_fail "$c: agent exit status"
}

reload_case

sec_done "revoked certificates are refused, a broken CRL fails closed, a changed x509CRLFile applies at SIGHUP"
