#!/bin/bash
# mibs-smilint.sh: every MIB module in mibs/ passes `smilint -l 3` without a
# single message (smilint exits 0 even when it reports errors, so its output
# is what counts).
set -eu
. "${top_srcdir:?}/tests/lib/snmpd.sh"
. "$top_srcdir/tests/integration/mibs-lib.sh"

tl_require smilint
tl_init

fail=0
n=0
for mib in "$top_srcdir"/mibs/*.txt; do
    # -c /dev/null: no system smi.conf (its paths and message filters);
    # SMIPATH replaces the default search path.
    out=$(SMIPATH=$(mibs_path) smilint -c /dev/null -l 3 "$mib" 2>&1) || {
        echo "smilint failed on $mib: $out" >&2
        fail=1
        continue
    }
    if [ -n "$out" ]; then
        echo "smilint -l 3 $mib:" >&2
        echo "$out" >&2
        fail=1
    fi
    n=$((n + 1))
done
[ "$n" -ge 3 ] || tl_fail "expected at least 3 MIB modules in mibs/, linted $n"
[ "$fail" = 0 ] || tl_fail "smilint reported problems"
echo "smilint -l 3: $n modules clean"
