#!/bin/sh
# A secure-execution process (AT_SECURE: setuid or setgid, file
# capabilities) must not let its environment choose code to load:
#  - libdtlsudp-preload.so ignores DTLSUDP_TRANSPORT_PLUGIN (and
#    DTLSUDP_PRELOAD_DEBUG) and loads only the dtlsudp-transport.so next to
#    itself;
#  - with a patched libnetsnmp (DTLSUDP_NETSNMP_PREFIX, snmplib-patches/0003)
#    SNMP_TRANSPORT_PLUGINS is ignored, and transportPlugin lines (which a
#    user's own ~/.snmp/snmp.conf or SNMPCONFPATH can supply) load only from
#    the dlmod directory.
# A program linked against the library (a setuid program gets no
# LD_PRELOAD from an ordinary path) is run as nobody twice, plain and
# setuid root, with the same environment; a stand-in plugin prints the file
# it was loaded from.  Root only; skipped on a nosuid file system.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/manager-lib.sh"

need_file "$preload_so"
[ "$(id -u)" = 0 ] || skip "needs root (a setuid-root program run as nobody)"
for tool in setpriv findmnt "${CC:-cc}"; do
    command -v "$tool" >/dev/null 2>&1 || skip "$tool is not installed"
done
id nobody >/dev/null 2>&1 || skip "no user nobody"
case ",$(findmnt -n -o OPTIONS --target "$workdir")," in
*,nosuid,*) skip "$workdir is on a nosuid file system" ;;
esac

src=$top_srcdir/tests/integration
# Everything nobody runs or loads lives in the scratch directory (the build
# tree need not be reachable for nobody), readable and not writable by it.
sec=$workdir/secure
mkdir "$sec" && chmod 755 "$workdir" "$sec" || fail "cannot prepare $sec"
as_nobody() {
    setpriv --reuid="$(id -u nobody)" --regid="$(id -g nobody)" --clear-groups -- "$@"
}
as_nobody test -r "$sec" -a -x "$sec" ||
    skip "nobody cannot reach $sec (a parent directory is closed; set TMPDIR)"

cc=${CC:-cc}
build_plugin() {
    "$cc" -shared -fPIC -o "$1" "$src/manager-preload-secure-plugin.c" ||
        fail "cannot build the stand-in plugin"
}
# The default plugin, next to the preload library, and one named by the
# environment.
cp "$preload_so" "$sec/libdtlsudp-preload.so" || fail "cannot copy the preload library"
build_plugin "$sec/dtlsudp-transport.so"
mkdir "$sec/env" && chmod 755 "$sec/env" || fail "mkdir"
build_plugin "$sec/env/from-env.so"
"$cc" -o "$sec/prog" "$src/manager-preload-secure-prog.c" \
    -L"$sec" -Wl,--no-as-needed -ldtlsudp-preload -lnetsnmp -Wl,-rpath,"$sec" ||
    fail "cannot build the test program"

# run NAME MODE PROG ARGS...: NAME is a copy of PROG with MODE (root-owned),
# run as nobody with the environment of the caller; output in $workdir/NAME.*
run() {
    name=$1 mode=$2
    shift 2
    cp "$1" "$sec/$name" && chown root:root "$sec/$name" && chmod "$mode" "$sec/$name" ||
        fail "cannot install $sec/$name"
    shift
    as_nobody "$sec/$name" "$@" >"$workdir/$name.out" 2>"$workdir/$name.err"
    rc=$?
    [ $rc -eq 0 ] || { cat "$workdir/$name.err" >&2; fail "$name exited with $rc"; }
}
# expect_secure NAME 0|1: the kernel did (not) run NAME in secure mode.
expect_secure() {
    grep -qx "secure $2" "$workdir/$1.out" && return 0
    if [ "$2" = 1 ]; then
        # e.g. no_new_privs set on this test's process tree
        skip "a setuid-root program does not run in secure-execution mode here: $(head -n 1 "$workdir/$1.out")"
    fi
    fail "$1: expected 'secure $2', got: $(head -n 1 "$workdir/$1.out")"
}
loaded() {
    grep -qx "plugin loaded: $2" "$workdir/$1.out"
}

isolate_netsnmp_config
chmod 755 "$workdir/conf" "$workdir/persist"
DTLSUDP_TRANSPORT_PLUGIN=$sec/env/from-env.so
DTLSUDP_PRELOAD_DEBUG=1
export DTLSUDP_TRANSPORT_PLUGIN DTLSUDP_PRELOAD_DEBUG

# 1. Positive control: the same program without the setuid bit follows
# the environment.
run plain 0755 "$sec/prog"
expect_secure plain 0
loaded plain "$sec/env/from-env.so" ||
    fail "plain program: the plugin named by DTLSUDP_TRANSPORT_PLUGIN was not loaded: $(cat "$workdir/plain.out" "$workdir/plain.err")"
grep -q 'dtlsudp-preload: registered' "$workdir/plain.err" ||
    fail "plain program: DTLSUDP_PRELOAD_DEBUG had no effect: $(cat "$workdir/plain.err")"

# 2. Setuid root, run by nobody: AT_SECURE; the environment is ignored and
# the plugin next to the library is loaded, silently.
run setuid 4755 "$sec/prog"
expect_secure setuid 1
if loaded setuid "$sec/env/from-env.so"; then
    fail "setuid program: loaded the plugin named by DTLSUDP_TRANSPORT_PLUGIN ($sec/env/from-env.so)"
fi
loaded setuid "$sec/dtlsudp-transport.so" ||
    fail "setuid program: the default plugin next to the library was not loaded: $(cat "$workdir/setuid.out" "$workdir/setuid.err")"
if grep -q 'dtlsudp-preload: registered' "$workdir/setuid.err"; then
    fail "setuid program: DTLSUDP_PRELOAD_DEBUG was honoured: $(cat "$workdir/setuid.err")"
fi

# 3. The same with setgid (root's group) instead of setuid.
run setgid 2755 "$sec/prog"
expect_secure setgid 1
if loaded setgid "$sec/env/from-env.so"; then
    fail "setgid program: loaded the plugin named by DTLSUDP_TRANSPORT_PLUGIN"
fi
loaded setgid "$sec/dtlsudp-transport.so" || fail "setgid program: the default plugin was not loaded"
unset DTLSUDP_TRANSPORT_PLUGIN DTLSUDP_PRELOAD_DEBUG

if [ -z "$netsnmp_prefix" ]; then
    note "ok (preload; set DTLSUDP_NETSNMP_PREFIX or run snmplib-patches/build --test for the patched library)"
    exit 0
fi

# 4. Patched libnetsnmp (a copy next to the program, no preload library):
# SNMP_TRANSPORT_PLUGINS and transportPlugin with a path.
lib=$(ls "$netsnmp_prefix"/lib/libnetsnmp.so.[0-9]* 2>/dev/null | head -n 1)
[ -n "$lib" ] || fail "no libnetsnmp in $netsnmp_prefix/lib"
soname=$(objdump -p "$lib" | awk '$1 == "SONAME" { print $2 }')
mkdir "$sec/patched" && chmod 755 "$sec/patched" || fail "mkdir"
cp -L "$lib" "$sec/patched/$soname" && ln -s "$soname" "$sec/patched/libnetsnmp.so" ||
    fail "cannot copy $lib"
"$cc" -o "$sec/prog-patched" "$src/manager-preload-secure-prog.c" \
    -L"$sec/patched" -Wl,--no-as-needed -lnetsnmp -Wl,-rpath,"$sec/patched" ||
    fail "cannot build the test program against $lib"

SNMP_TRANSPORT_PLUGINS=dtlsudp:$sec/env/from-env.so
export SNMP_TRANSPORT_PLUGINS
run env-plain 0755 "$sec/prog-patched" init
expect_secure env-plain 0
loaded env-plain "$sec/env/from-env.so" ||
    fail "plain program: SNMP_TRANSPORT_PLUGINS was not followed: $(cat "$workdir/env-plain.out" "$workdir/env-plain.err")"
run env-setuid 4755 "$sec/prog-patched" init
expect_secure env-setuid 1
if loaded env-setuid "$sec/env/from-env.so"; then
    fail "setuid program: loaded the plugin named by SNMP_TRANSPORT_PLUGINS"
fi
unset SNMP_TRANSPORT_PLUGINS

echo "transportPlugin dtlsudp $sec/env/from-env.so" >"$workdir/conf/snmp.conf"
chmod 644 "$workdir/conf/snmp.conf"
run conf-plain 0755 "$sec/prog-patched" init
expect_secure conf-plain 0
loaded conf-plain "$sec/env/from-env.so" ||
    fail "plain program: transportPlugin was not followed: $(cat "$workdir/conf-plain.out" "$workdir/conf-plain.err")"
run conf-setuid 4755 "$sec/prog-patched" init
expect_secure conf-setuid 1
if loaded conf-setuid "$sec/env/from-env.so"; then
    fail "setuid program: transportPlugin loaded a plugin by path from $SNMPCONFPATH"
fi
grep -q 'not loaded from .* in a setuid/setgid program' "$workdir/conf-setuid.err" ||
    fail "setuid program: a refused transportPlugin line was not reported: $(cat "$workdir/conf-setuid.err")"
note "ok (preload and patched libnetsnmp)"
