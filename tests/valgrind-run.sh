#!/bin/bash
# tests/valgrind-run.sh: run test programs under valgrind memcheck with
# errors fatal; `make check-valgrind' calls it with every non-script test of
# the suite (unit suites, fuzz corpus replays) and then the snmpd scenario
# tests/valgrind-agent.sh.
#
# usage: tests/valgrind-run.sh PROGRAM...   (paths relative to the build tree)
#
# Valgrind runs on the real binary behind each libtool wrapper (libtool
# --mode=execute), with
#   --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect
# so any invalid access, use of uninitialised memory, or definitely/indirectly
# lost block fails the program.  Suppressions: tests/valgrind.supp (empty of
# project code by rule; see the file).  Logs: test-tmp/valgrind/<name>.log.
# VALGRIND_EXTRA: more valgrind options (e.g. --track-origins=yes).
set -u

: "${top_srcdir:?}" "${top_builddir:?}"
export top_srcdir top_builddir
command -v valgrind >/dev/null || { echo "valgrind not installed (Debian: valgrind)" >&2; exit 1; }
libtool=$top_builddir/libtool
logdir=$top_builddir/test-tmp/valgrind
mkdir -p "$logdir"

VALGRIND_OPTS=(--tool=memcheck --error-exitcode=1 --leak-check=full
    --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect
    --num-callers=30 --suppressions="$top_srcdir/tests/valgrind.supp")
# shellcheck disable=SC2206
VALGRIND_OPTS+=(${VALGRIND_EXTRA:-})
export VALGRIND_OPTS_STR="${VALGRIND_OPTS[*]}"

status=0
pass=0
fail=0
start=$(date +%s)
for prog in "$@"; do
    name=$(echo "$prog" | tr / _)
    log=$logdir/$name.log
    t0=$(date +%s)
    # CMocka and the replays print to stdout; valgrind's report goes to the log.
    if (cd "$top_builddir" && "$libtool" --mode=execute valgrind "${VALGRIND_OPTS[@]}" \
            --log-file="$log" "./$prog") >"$logdir/$name.out" 2>&1; then
        echo "PASS: $prog ($(($(date +%s) - t0))s)"
        pass=$((pass + 1))
    else
        echo "FAIL: $prog ($(($(date +%s) - t0))s; valgrind log $log, output $logdir/$name.out)"
        grep -E 'Invalid|uninitialised|definitely lost|indirectly lost|ERROR SUMMARY' "$log" | head -10
        tail -5 "$logdir/$name.out"
        fail=$((fail + 1))
        status=1
    fi
done
echo "valgrind: $pass passed, $fail failed in $(($(date +%s) - start))s"
exit "$status"
