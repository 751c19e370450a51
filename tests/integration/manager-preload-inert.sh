#!/bin/sh
# The preload library must change nothing for programs that do not link
# libnetsnmp: same output, same exit status, and the transport plugin is
# never loaded into them.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/manager-lib.sh"

need_file "$preload_so" "$dtlsudp_run"

out=$("$dtlsudp_run" /bin/echo hello world) || fail "echo failed under dtlsudp-run"
[ "$out" = "hello world" ] || fail "echo printed '$out'"

"$dtlsudp_run" /bin/sh -c 'exit 7'
rc=$?
[ $rc -eq 7 ] || fail "exit status changed: $rc instead of 7"

# Nothing but the preload library itself may be loaded.
LD_DEBUG=files "$dtlsudp_run" /bin/true 2>"$workdir/ld.debug" || fail "true failed"
grep -q 'libdtlsudp-preload' "$workdir/ld.debug" || fail "the preload library was not loaded at all"
if grep -E 'dtlsudp-transport|libnetsnmp|libssl' "$workdir/ld.debug" >/dev/null; then
    grep -E 'dtlsudp-transport|libnetsnmp|libssl' "$workdir/ld.debug" | head -5 >&2
    fail "the preload library pulled libraries into a program without libnetsnmp"
fi

# The constructor says why it did nothing when asked.
msg=$(DTLSUDP_PRELOAD_DEBUG=1 "$dtlsudp_run" /bin/true 2>&1)
case "$msg" in
*"no libnetsnmp"*) ;;
*) fail "unexpected debug output: $msg" ;;
esac

# A missing library is a clear error, not a silent run without the transport.
DTLSUDP_PRELOAD=$workdir/missing.so "$dtlsudp_run" /bin/true 2>"$workdir/err"
rc=$?
[ $rc -eq 127 ] || fail "missing preload library: status $rc"
grep -q 'not found' "$workdir/err" || fail "missing preload library: no message"
note "ok"
