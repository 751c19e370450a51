#!/bin/bash
# tests/fuzz/run-fuzzers.sh: run every libFuzzer target for SECONDS each and
# fail if any of them finds a crash, leak, sanitizer report or timeout.
#
# usage: tests/fuzz/run-fuzzers.sh [options] SECONDS [TARGET...]
#   --builddir DIR   a tree configured with CC=clang --enable-fuzzers
#                    (default: build/fuzz, configured and built if missing)
#   --jobs N         targets run N at a time (default 2: the machine is shared)
#   --out DIR        logs, crash artifacts and new corpus entries (default
#                    BUILDDIR/tests/fuzz/out)
#   --merge          merge the inputs found into tests/fuzz/corpus/<target>
#                    (minimised, only inputs adding coverage) after the run
# TARGETs: record record_open engine_server engine_client fingerprint addr snmp_config snmp_addr verify
# (default: all).  CI: tests/fuzz/run-fuzzers.sh 60.
#
# Each target starts from a scratch copy of its seed corpus, so the source
# tree is only touched with --merge.  The summary line per target gives
# exec/s, coverage (cov: edges, ft: features) and corpus size at the end.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
builddir=$top/build/fuzz
jobs=2
out=
merge=0
all_targets=(record record_open engine_server engine_client fingerprint addr snmp_config snmp_addr verify)

while [ $# -gt 0 ]; do
    case $1 in
    --builddir) builddir=$2; shift ;;
    --jobs) jobs=$2; shift ;;
    --out) out=$2; shift ;;
    --merge) merge=1 ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) break ;;
    esac
    shift
done
[ $# -ge 1 ] || { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
seconds=$1
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
case $builddir in /*) ;; *) builddir=$PWD/$builddir ;; esac
out=${out:-$builddir/tests/fuzz/out}

if [ ! -f "$builddir/Makefile" ]; then
    command -v clang >/dev/null || { echo "clang not found (Debian: clang libfuzzer-14-dev)" >&2; exit 1; }
    [ -f "$top/configure" ] || (cd "$top" && autoreconf -fi)
    mkdir -p "$builddir"
    (cd "$builddir" && "$top/configure" CC=clang --enable-fuzzers --enable-werror >configure.out 2>&1) || {
        tail -20 "$builddir/configure.out" >&2
        exit 1
    }
fi
make -C "$builddir" -n tests/fuzz/fuzz_record >/dev/null 2>&1 ||
    { echo "$builddir is not configured with --enable-fuzzers" >&2; exit 1; }
bins=()
for t in "${targets[@]}"; do bins+=("tests/fuzz/fuzz_$t"); done
make -C "$builddir" -j2 "${bins[@]}" >/dev/null

mkdir -p "$out"
pids=()
names=()
status=0

# One target: a scratch corpus seeded from the tree, libFuzzer for SECONDS.
# Leak detection is on (ASan's LSan); -timeout catches hangs, -rss_limit_mb
# unbounded growth.
run_one() {
    local t=$1
    local dir=$out/$t
    rm -rf "$dir"
    mkdir -p "$dir/corpus" "$dir/artifacts"
    cp "$top/tests/fuzz/corpus/$t/"* "$dir/corpus/" 2>/dev/null || true
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
        "$builddir/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -max_len=8192 -print_final_stats=1 -artifact_prefix="$dir/artifacts/" \
        "$dir/corpus" >"$dir/log" 2>&1
}

summary() {
    local t=$1 rc=$2 last execs
    local dir=$out/$t
    last=$(grep -E '^#[0-9]+' "$dir/log" | tail -1 || true)
    execs=$(grep -E '^stat::number_of_executed_units' "$dir/log" | awk '{print $2}' || true)
    printf '%-14s rc=%s runs=%s %s\n' "$t" "$rc" "${execs:-?}" \
        "$(echo "$last" | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]* .*exec/s: [0-9]+ rss: [0-9]+Mb' || echo "$last")"
}

wait_one() {
    local i=$1 rc=0
    wait "${pids[$i]}" || rc=$?
    summary "${names[$i]}" "$rc"
    if [ "$rc" -ne 0 ]; then
        status=1
        echo "---- ${names[$i]}: failure (log $out/${names[$i]}/log) ----" >&2
        grep -E 'ERROR|SUMMARY|check failed|Test unit written|runtime error|deadly signal' \
            "$out/${names[$i]}/log" | head -20 >&2 || true
    fi
}

echo "fuzzing ${targets[*]} for ${seconds}s each, $jobs at a time (logs in $out)"
for t in "${targets[@]}"; do
    if [ ${#pids[@]} -ge "$jobs" ]; then
        wait_one 0
        pids=("${pids[@]:1}")
        names=("${names[@]:1}")
    fi
    run_one "$t" &
    pids+=("$!")
    names+=("$t")
done
while [ ${#pids[@]} -gt 0 ]; do
    wait_one 0
    pids=("${pids[@]:1}")
    names=("${names[@]:1}")
done

if [ "$merge" = 1 ] && [ "$status" = 0 ]; then
    for t in "${targets[@]}"; do
        "$builddir/tests/fuzz/fuzz_$t" -merge=1 "$top/tests/fuzz/corpus/$t" "$out/$t/corpus" \
            >"$out/$t/merge.log" 2>&1 || { echo "merge of $t failed" >&2; status=1; }
    done
fi

if [ "$status" = 0 ]; then
    echo "run-fuzzers: PASS (${#targets[@]} targets, ${seconds}s each)"
else
    echo "run-fuzzers: FAIL (crash artifacts under $out/*/artifacts)"
fi
exit "$status"
