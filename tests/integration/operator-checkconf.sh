#!/bin/bash
# dtlsudp-checkconf on good and broken configurations: each mistake is
# reported with its file and line, the value and the fix, and the exit
# status says whether snmpd would run as configured.  No daemon is
# started: the checker only reads files and loads the plugin to see that
# it loads.
set -u
. "$top_srcdir/tests/lib/snmpd.sh"

CHECK=$top_builddir/transport/checkconf/dtlsudp-checkconf
PLUGIN=$top_builddir/agent-plugin/.libs/dtlsudp.so
[ -x "$CHECK" ] || tl_skip "dtlsudp-checkconf not built"
[ -f "$PLUGIN" ] || tl_skip "plugin not built: $PLUGIN"
if readelf -d "$PLUGIN" 2>/dev/null | grep -q libasan; then
    # The checker is ASan-built too: the plugin loads into it as it is.
    export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
fi
tl_require openssl python3
tl_init
tl_make_certs

OUT=$TL_TMP/out
# run CONFFILE [ARGS...]: the checker on CONFFILE as snmpd -C -c reads it,
# certificates from $TL_CERTS; output in $OUT, exit status in $RC.
run() {
    local conf=$1
    shift
    env SNMPCONFPATH="$TL_CERTS" HOME="$TL_TMP/home" "$CHECK" -C -c "$conf" "$@" >"$OUT" 2>&1
    RC=$?
}
has() { grep -qF -- "$1" "$OUT" || { cat "$OUT" >&2; tl_fail "expected in the output: $1"; }; }
hasnt() { ! grep -qF -- "$1" "$OUT" || { cat "$OUT" >&2; tl_fail "not expected in the output: $1"; }; }
rc_is() { [ "$RC" -eq "$1" ] || { cat "$OUT" >&2; tl_fail "$2: exit status $RC, expected $1"; }; }

mkdir -p "$TL_TMP/home"
fp_client=$(tl_fp client) || exit 1
fp_server=$(tl_fp server) || exit 1

# --- a good agent configuration (positive control) ---------------------
good=$TL_TMP/good.conf
cat >"$good" <<CONF
dlmod dtlsudp $PLUGIN
agentAddress dtlsudp:127.0.0.1:10161,dtlsudp6:[::1]:10161
agentAddress udp:127.0.0.1:1161
[snmp] localCert server
[snmp] trustCert ca
certSecName 10 $fp_client --cn
rwuser -s tsm client authpriv
dtlsudpIdleTimeout 60
CONF
run "$good"
rc_is 0 "good configuration"
has "$good:1: ok: dlmod dtlsudp $PLUGIN: loads"
has "$good:2: ok: agentAddress dtlsudp:127.0.0.1:10161: served by the dtlsudp plugin on 127.0.0.1:10161, IPv4"
has "$good:2: ok: agentAddress dtlsudp6:[::1]:10161: served by the dtlsudp plugin on [::1]:10161, IPv6 only"
has "$good:4: ok: localCert server: $TL_CERTS/tls/certs/server.crt"
has "sha256: $fp_server"
has "$good:4: ok: localCert server: private key $TL_CERTS/tls/private/server.key"
has "$good:5: ok: trustCert ca: $TL_CERTS/tls/ca-certs/ca.crt"
has "$good:6: ok: certSecName 10"
has "client.crt (O = dtlsudp tests, CN = client) -> securityName 'client'"
has "0 errors, 0 warnings"
# The same as JSON, for scripts.
run "$good" --json
rc_is 0 "good configuration, --json"
python3 - "$OUT" "$good" "$fp_server" <<'PY' || tl_fail "--json output"
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["app"] == "snmpd" and doc["errors"] == 0, doc
assert doc["files"] == [sys.argv[2]], doc["files"]
served = [f["address"] for f in doc["findings"] if f["kind"] == "address"]
assert served == ["127.0.0.1:10161", "[::1]:10161"], served
cert = [f for f in doc["findings"] if f["kind"] == "certificate" and f["token"] == "localCert"]
assert cert and cert[0]["sha256"] == sys.argv[3] and cert[0]["line"] == 4, cert
PY

# --- a dlmod path that does not load: the built-in would serve ---------
bad=$TL_TMP/bad-dlmod.conf
sed "s|^dlmod dtlsudp .*|dlmod dtlsudp $TL_TMP/nowhere/dtlsudp.so|" "$good" >"$bad"
run "$bad"
rc_is 1 "wrong dlmod path"
has "$bad:1: error: dlmod dtlsudp $TL_TMP/nowhere/dtlsudp.so: cannot load $TL_TMP/nowhere/dtlsudp.so"
has "$bad:2: error: agentAddress dtlsudp:127.0.0.1:10161: would fall to Net-SNMP's built-in DTLSUDP"
has "$bad:8: error: dtlsudpIdleTimeout 60: no dlmod line loads the plugin"
has "fix: dlmod dtlsudp "

# --- a plugin token before the dlmod line ------------------------------
order=$TL_TMP/order.conf
{ echo "dtlsudpIdleTimeout 60"; grep -v '^dtlsudpIdleTimeout' "$good"; } >"$order"
run "$order"
rc_is 1 "token before dlmod"
has "$order:1: error: dtlsudpIdleTimeout 60: comes before the dlmod line that loads the plugin"
has "fix: move the dlmod line ($order:2) above this one"
# A misspelt token of ours is named (a warning: snmpd only ignores it).
printf 'dtlsudpIdelTimeout 60\n' >>"$order"
run "$order"
has "$order:9: warning: dtlsudpIdelTimeout: unknown token"

# --- certificates beside the file, which -c FILE does not search -------
conf=$TL_TMP/etc/snmpd.conf
mkdir -p "$TL_TMP/etc"
cp -a "$TL_CERTS/tls" "$TL_TMP/etc/"
cp "$good" "$conf"
env -u SNMPCONFPATH HOME="$TL_TMP/home" "$CHECK" -C -c "$conf" >"$OUT" 2>&1
RC=$?
rc_is 1 "certificates not on the search path"
has "$conf:4: error: localCert server: no certificate file server.crt"
has "searched: tls/certs and tls/ca-certs (keys: tls/private) under /etc/snmp, "
has "$TL_TMP/home/.snmp (Net-SNMP's default path; SNMPCONFPATH is not set)"
has "fix: $TL_TMP/etc/tls/certs/server.crt is there, but Net-SNMP does not search that directory: run the daemon with SNMPCONFPATH=$TL_TMP/etc"
has "$conf:5: error: trustCert ca: no certificate file ca.crt"
# ... and with SNMPCONFPATH as the fix says, everything resolves.
env SNMPCONFPATH="$TL_TMP/etc" HOME="$TL_TMP/home" "$CHECK" -C -c "$conf" >"$OUT" 2>&1
RC=$?
rc_is 0 "SNMPCONFPATH as suggested"

# --- listeners that cannot all bind -------------------------------------
conflict=$TL_TMP/conflict.conf
sed "s|^agentAddress dtlsudp:.*|agentAddress dtlsudp:[::]:10161,dtlsudp:10161|" "$good" >"$conflict"
run "$conflict"
rc_is 1 "dual-stack and IPv4 listeners on one port"
has "$conflict:2: error: agentAddress dtlsudp:10161: conflicts with dtlsudp:[::]:10161 ($conflict:2): both bind UDP port 10161"
sed "s|^agentAddress dtlsudp:.*|agentAddress dtlsudp:10161,dtlsudp6:[::]:10161|" "$good" >"$conflict"
run "$conflict"
rc_is 0 "IPv4 plus IPv6-only listeners share a port"
has "served by the dtlsudp plugin on [::]:10161, IPv6 only"
sed "s|^agentAddress dtlsudp:.*|agentAddress dtlsudp:[::]:10161|" "$good" >"$conflict"
run "$conflict"
has "served by the dtlsudp plugin on [::]:10161, IPv4 and IPv6 (dual-stack)"

# --- key permissions ------------------------------------------------------
keyconf=$TL_TMP/keys/snmpd.conf
mkdir -p "$TL_TMP/keys"
cp -a "$TL_CERTS/tls" "$TL_TMP/keys/"
sed "s|^dlmod .*|dlmod dtlsudp $PLUGIN|" "$good" >"$keyconf"
chmod 644 "$TL_TMP/keys/tls/private/server.key"
env SNMPCONFPATH="$TL_TMP/keys" HOME="$TL_TMP/home" "$CHECK" -C -c "$keyconf" >"$OUT" 2>&1
RC=$?
rc_is 1 "world-readable key"
has "private key $TL_TMP/keys/tls/private/server.key is world-readable or writable (mode 0644"
chmod 600 "$TL_TMP/keys/tls/private/server.key"
if getent passwd nobody >/dev/null && [ "$(id -un)" != nobody ]; then
    env SNMPCONFPATH="$TL_TMP/keys" HOME="$TL_TMP/home" "$CHECK" -C -c "$keyconf" -u nobody >"$OUT" 2>&1
    RC=$?
    rc_is 0 "a key the run user cannot read is a warning"
    has "private key $TL_TMP/keys/tls/private/server.key (mode 0600, owner $(id -un):$(id -gn)) is not readable by nobody"
    has "fix: chgrp nobody"
fi

# --- expiry, CRLs and fingerprints ---------------------------------------
soon=$TL_TMP/soon
mkdir -p "$soon/tls/certs" "$soon/tls/private"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 10 -subj /CN=soon \
    -keyout "$soon/tls/private/soon.key" -out "$soon/tls/certs/soon.crt" 2>/dev/null ||
    tl_fail "openssl req"
chmod 600 "$soon/tls/private/soon.key"
openssl ca -config "$TL_CERTS/ca/ca.cnf" -gencrl -crl_lastupdate 20200101000000Z \
    -crl_nextupdate 20200102000000Z -out "$TL_TMP/old.crl" 2>/dev/null || tl_fail "openssl ca -gencrl"
misc=$TL_TMP/misc.conf
# certSecName 20 has a 33-byte fingerprint (AB first: a first octet of 01..06 would read as the SnmpTLSFingerprint
# hash octet in front of a 32-byte fingerprint, which is valid.)
cat >"$misc" <<CONF
dlmod dtlsudp $PLUGIN
agentAddress dtlsudp:127.0.0.1:10161
[snmp] localCert soon
[snmp] trustCert ca
[snmp] x509CRLFile $TL_TMP/old.crl
certSecName 10 $fp_client --cn
certSecName 20 AB:${fp_client} --sn broken
rwuser -s tsm client authpriv
CONF
env SNMPCONFPATH="$soon:$TL_CERTS" HOME="$TL_TMP/home" "$CHECK" -C -c "$misc" >"$OUT" 2>&1
RC=$?
rc_is 1 "expired CRL"
has "$misc:3: warning: localCert soon: $soon/tls/certs/soon.crt expires on "
has "$misc:5: error: x509CRLFile $TL_TMP/old.crl: the CRL of "
has "expired on 2020-01-02 00:00:00 UTC"
has "$misc:7: error: certSecName: AB:${fp_client} is a fingerprint of 33 bytes, which is no hash's length"
openssl ca -config "$TL_CERTS/ca/ca.cnf" -gencrl -crldays 30 -out "$TL_TMP/new.crl" 2>/dev/null ||
    tl_fail "openssl ca -gencrl"
sed -i "s|old.crl|new.crl|; /--sn broken/d" "$misc"
env SNMPCONFPATH="$soon:$TL_CERTS" HOME="$TL_TMP/home" "$CHECK" -C -c "$misc" >"$OUT" 2>&1
RC=$?
rc_is 0 "a current CRL"
has "$misc:5: ok: x509CRLFile $TL_TMP/new.crl: CRL of "
hasnt "error:"

# --- a manager's snmp.conf ---------------------------------------------------
mgr=$TL_TMP/mgr
mkdir -p "$mgr"
printf 'localCert client\npeerCert nosuch\n' >"$mgr/snmp.conf"
env SNMPCONFPATH="$mgr:$TL_CERTS" HOME="$TL_TMP/home" "$CHECK" -a snmp >"$OUT" 2>&1
RC=$?
rc_is 1 "manager: peerCert names no certificate"
has "$mgr/snmp.conf:1: ok: localCert client: $TL_CERTS/tls/certs/client.crt"
has "$mgr/snmp.conf:2: error: peerCert nosuch: no certificate file nosuch.crt"
has "under $mgr, $TL_CERTS (SNMPCONFPATH)"
printf 'localCert client\npeerCert %s\n' "$fp_server" >"$mgr/snmp.conf"
env SNMPCONFPATH="$mgr:$TL_CERTS" HOME="$TL_TMP/home" "$CHECK" -a snmp >"$OUT" 2>&1
RC=$?
rc_is 0 "manager: peerCert by fingerprint"
has "$mgr/snmp.conf:2: ok: peerCert $fp_server: $TL_CERTS/tls/certs/server.crt"

# --- usage ----------------------------------------------------------------------
"$CHECK" -C >"$OUT" 2>&1
RC=$?
rc_is 2 "-C without -c"
exit 0
