# bench/report.sh: the table, the Markdown report and the chart of
# bench/run.  Sourced by bench/run after the measurements; reads the
# results store through get/kv/calc and writes $OUT (.md) and its .png.
# shellcheck shell=bash

# num VALUE: VALUE if it is a number, empty otherwise.
num() {
    case $1 in
    '' | *[!0-9.eE+-]*) echo "" ;;
    *) echo "$1" ;;
    esac
}

# cell KEY [UNIT] [SCALE]: a table cell from the store: the number (times
# SCALE, 3 significant digits) with UNIT, "failed (...)" as stored, or "–".
cell() {
    local v n
    v=$(get "$1")
    n=$(num "$v")
    if [ -n "$n" ]; then
        awk -v v="$n" -v s="${3:-1}" -v u="${2:-}" 'BEGIN {
            x = v * s; a = x < 0 ? -x : x
            if (a >= 100) f = sprintf("%.0f", x); else if (a >= 10) f = sprintf("%.1f", x);
            else f = sprintf("%.2f", x)
            printf "%s%s", f, (u == "" ? "" : " " u) }'
    elif [ -n "$v" ]; then
        echo "$v"
    else
        echo "–"
    fi
}

# ratio A B: A/B to two decimals, or "–".
ratio() {
    local a b
    a=$(num "$(get "$1")")
    b=$(num "$(get "$2")")
    if [ -n "$a" ] && [ -n "$b" ] && awk -v b="$b" 'BEGIN { exit !(b != 0) }'; then
        awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a / b }'
    else
        echo "–"
    fi
}

# verdict EXPR-OR-EMPTY: "met" / "MISSED" / "n/a" from an awk condition over
# numbers already substituted (empty means a value was missing).
verdict() {
    if [ -z "$1" ]; then
        echo "n/a"
    elif awk "BEGIN { exit !($1) }"; then
        echo "met"
    else
        echo "MISSED"
    fi
}

# have KEY...: every KEY holds a number.
have() {
    local k
    for k in "$@"; do
        [ -n "$(num "$(get "$k")")" ] || return 1
    done
}

ROWS=()
row() { # ID MEASUREMENT BUILTIN OURS UDP RATIO TARGET VERDICT
    ROWS+=("| $1 | $2 | $3 | $4 | $5 | $6 | $7 | $8 |")
}

build_rows() {
    local v n k
    ROWS=()
    # 1. New session.
    if have newproc.ours newproc.builtin; then
        v=$(verdict "$(get newproc.ours) <= $(get newproc.builtin)")
    else v="n/a"; fi
    row 1 "new snmpget process (handshake + GET), median (fastest)" \
        "$(cell newproc.builtin ms) ($(cell newproc.builtin.min ms))" \
        "$(cell newproc.ours ms) ($(cell newproc.ours.min ms))" \
        "$(cell newproc.udp ms) ($(cell newproc.udp.min ms))" \
        "$(ratio newproc.ours newproc.udp) × udp; built-in $(ratio newproc.builtin newproc.udp) × udp" \
        "≤ built-in" "$v"
    # 2. Throughput.
    if have tput.ours.rate tput.udp.rate; then
        v=$(verdict "$(get tput.ours.rate) >= 0.95 * $(get tput.udp.rate)")
    else v="n/a"; fi
    row 2a "GETs/s on one session" "$(cell tput.builtin.rate /s)" "$(cell tput.ours.rate /s)" \
        "$(cell tput.udp.rate /s) (agent with the plugin: $(cell tput.oursudp.rate /s))" \
        "$(ratio tput.ours.rate tput.udp.rate) × udp ($(ratio tput.ours.rate tput.oursudp.rate) × udp on the same agent); built-in $(ratio tput.builtin.rate tput.udp.rate) × udp" \
        "≥ 0.95 × udp" "$v"
    row 2b "GET latency p50 / p99 on one session" \
        "$(cell tput.builtin.p50 µs) / $(cell tput.builtin.p99 µs)" \
        "$(cell tput.ours.p50 µs) / $(cell tput.ours.p99 µs)" \
        "$(cell tput.udp.p50 µs) / $(cell tput.udp.p99 µs)" \
        "p50 $(ratio tput.ours.p50 tput.udp.p50) × udp" "–" "–"
    # 3. Handshakes.
    for k in ec rsa; do
        local label=P-256
        [ "$k" = rsa ] && label=RSA-2048
        row 3 "sequential sessions/s (open+GET+close), $label" \
            "$(cell hs.$k.builtin.rate /s)" "$(cell hs.$k.ours.rate /s)" "$(cell hs.$k.udp.rate /s)" \
            "$(ratio hs.$k.ours.rate hs.$k.builtin.rate) × built-in" "–" "–"
        if [ "$k" = rsa ] && have hs.rsa.ours.cpu_ms hs.floor.rsa; then
            v=$(verdict "$(get hs.rsa.ours.cpu_ms) <= 1.5 * $(get hs.floor.rsa)")
        else v="–"; [ "$k" = rsa ] && v="n/a"; fi
        local eng=""
        [ -n "$(num "$(get hs.engine.$k)")" ] && eng="; engine alone in one process $(cell hs.engine.$k ms)"
        row 3 "agent CPU per session (handshake + GET), $label (crypto floor $(cell hs.floor.$k ms)$eng)" \
            "$(cell hs.$k.builtin.cpu_ms ms)" "$(cell hs.$k.ours.cpu_ms ms)" "$(cell hs.$k.udp.cpu_ms ms)" \
            "$(ratio hs.$k.ours.cpu_ms hs.floor.$k) × floor; built-in $(ratio hs.$k.builtin.cpu_ms hs.floor.$k) × floor" \
            "$([ "$k" = rsa ] && echo "≤ 1.5 × floor" || echo "–")" "$v"
    done
    # 4. Memory per idle association.
    for n in $P_MEM_NS; do
        if have mem.ours.$n.per_assoc_b && [ "$(get mem.ours.$n.established)" -gt 0 ] 2>/dev/null; then
            v=$(verdict "$(get mem.ours.$n.per_assoc_b) <= 40 * 1024")
        else v="n/a"; fi
        row 4 "agent RSS per idle association, $n held" \
            "$(mem_cell builtin "$n")" "$(mem_cell ours "$n")" "–" \
            "$(ratio mem.ours.$n.per_assoc_b mem.builtin.$n.per_assoc_b) × built-in" "≤ 40 KB" "$v"
    done
    # 5. Leaks.
    leak_rows
    # 6. Flood.
    if have flood.ours.growth_kb; then
        v=$(verdict "$(get flood.ours.growth_kb) < 1024")
    else v="n/a"; fi
    row 6a "agent RSS growth, $P_FLOOD_N spoofed ClientHellos at $P_FLOOD_RATE/s (per hello)" \
        "$(flood_cell builtin)" "$(flood_cell ours)" "–" \
        "$(ratio flood.ours.growth_kb flood.builtin.growth_kb) × built-in" "< 1 MB, 0 B per peer" "$v"
    v=$(pct_verdict "$(get flood.ours.during)")
    row 6b "real clients during the flood: success, latency" "$(get flood.builtin.during)" \
        "$(get flood.ours.during)" "–" "–" "≥ 99 %" "$v"
    v=$(pct_verdict "$(get flood.ours.after)")
    row 6c "real clients after the flood (${P_AFTER_SECS} s)" "$(get flood.builtin.after)" \
        "$(get flood.ours.after)" "–" "–" "≥ 99 %" "$v"
    # 7. Concurrency.
    for n in $P_MEM_NS; do
        if have mem.ours.$n.served; then
            v=$(verdict "$(get mem.ours.$n.established) >= $n && $(get mem.ours.$n.served) >= $n")
        else v="n/a"; fi
        row 7 "associations held / served of $n" "$(conc_cell builtin "$n")" "$(conc_cell ours "$n")" \
            "–" "–" "$n held and served" "$v"
    done
    # 8. Loss.
    for n in $LOSS_RATES; do
        local target="–" v="–"
        case $n in
        5 | 10 | 20) target="≥ 99 %" ;;
        30) target="≥ 95 %" ;;
        esac
        if [ "$target" != "–" ]; then
            if have loss.ours.$n; then
                v=$(verdict "$(get loss.ours.$n) >= $(echo "$target" | tr -dc '0-9')")
            else v="n/a"; fi
        fi
        row 8 "session opens at $n % loss each way: success (ok/runs), p50 / p90 / max" \
            "$(loss_cell builtin "$n")" "$(loss_cell ours "$n") [built-in manager: $(loss_cell mixed "$n")]" \
            "$(loss_cell udp "$n")" "–" "$target" "$v"
    done
    if have loss.ours.0; then
        row 8 "datagrams per open at 0 % loss (handshake + probe + GET, both directions)" \
            "$(cell loss.builtin.0.dgrams)" "$(cell loss.ours.0.dgrams) [built-in manager: $(cell loss.mixed.0.dgrams)]" \
            "$(cell loss.udp.0.dgrams)" "–" "≤ 2 × before" "see text"
    fi
    # 9. Half-open handshakes from the clients' own address.
    if want halfopen; then
        v=$(halfopen_verdict quiet)
        row 9a "sessions from 127.0.0.1, quiet ($P_HO_K back to back): success, p50, p99" \
            "$(get halfopen.builtin.quiet)" "$(halfopen_ours quiet)" "–" "–" "≥ 99 %" "$v"
        v=$(halfopen_verdict flood)
        row 9b "sessions from 127.0.0.1 ($P_HO_K over ${P_HO_SECS} s) while 127.0.0.1 starts $P_HO_RATE half-open handshakes/s (cookie answered, then silent): success, p50, p99" \
            "$(halfopen_flood_cell builtin)" "$(halfopen_ours flood)" "–" "–" "≥ 99 %" "$v"
    fi
    # 10. Resumption.
    if want resume; then
        if have resume.new.resumed resume.new.udp; then
            v=$(verdict "$(get resume.new.resumed) <= 1.5 * $(get resume.new.udp)")
        else v="n/a"; fi
        row 10a "new snmpget process, repeat manager, median (fastest): resumed from the session file; full handshake" \
            "$(cell resume.new.builtin ms) ($(cell resume.new.builtin.min ms))" \
            "resumed $(cell resume.new.resumed ms) ($(cell resume.new.resumed.min ms)); full $(cell resume.new.full ms) ($(cell resume.new.full.min ms))" \
            "$(cell resume.new.udp ms) ($(cell resume.new.udp.min ms))" \
            "resumed $(ratio resume.new.resumed resume.new.udp) × udp; full $(ratio resume.new.full resume.new.udp) × udp; built-in $(ratio resume.new.builtin resume.new.udp) × udp" \
            "resumed ≤ 1.5 × udp" "$v"
        row 10b "sequential sessions/s (open+GET+close) in one process: resumed from memory; full" \
            "$(cell resume.hs.builtin.rate /s)" \
            "resumed $(cell resume.hs.resumed.rate /s); full $(cell resume.hs.full.rate /s)" \
            "$(cell resume.hs.udp.rate /s)" \
            "resumed $(ratio resume.hs.resumed.rate resume.hs.full.rate) × full" "–" "–"
        if have resume.hs.resumed.cpu_ms; then
            v=$(verdict "$(get resume.hs.resumed.cpu_ms) <= 0.3")
        else v="n/a"; fi
        row 10c "agent CPU per session (handshake + GET): resumed; full" \
            "$(cell resume.hs.builtin.cpu_ms ms)" \
            "resumed $(cell resume.hs.resumed.cpu_ms ms); full $(cell resume.hs.full.cpu_ms ms)" \
            "$(cell resume.hs.udp.cpu_ms ms)" \
            "resumed $(ratio resume.hs.resumed.cpu_ms resume.hs.full.cpu_ms) × full" "resumed ≤ 0.3 ms" "$v"
    fi
}
halfopen_flood_cell() { # LABEL
    local k=halfopen.$1
    echo "$(get "$k.flood")$([ -n "$(get "$k.silent_during")" ] && echo " [$(get "$k.silent_during") half-open during, $(get "$k.silent") in all; agent CPU $(cell "$k.cpu_s" s)]")"
}
halfopen_ours() { # quiet|flood
    if [ "$1" = flood ]; then
        echo "osnet: $(halfopen_flood_cell osnet); router: $(halfopen_flood_cell router)"
    else
        echo "osnet: $(get halfopen.osnet.quiet); router: $(get halfopen.router.quiet)"
    fi
}
halfopen_verdict() { # quiet|flood
    local a b
    a=$(pct_verdict "$(get halfopen.osnet.$1)")
    b=$(pct_verdict "$(get halfopen.router.$1)")
    if [ "$a" = met ] && [ "$b" = met ]; then echo met
    elif [ "$a" = MISSED ] || [ "$b" = MISSED ]; then echo MISSED
    else echo n/a; fi
}

mem_cell() { # IMPL N
    local k=mem.$1.$2
    if [ "$(get "$k")" != ok ]; then
        cell "$k"
        return
    fi
    if [ "$(get "$k.established")" -gt 0 ] 2>/dev/null; then
        echo "$(cell "$k.per_assoc_b" KB 0.0009765625) ($(get "$k.established") held, RSS $(cell "$k.rss_open_kb" MB 0.0009765625))"
    else
        echo "none established"
    fi
}
conc_cell() { # IMPL N
    local k=mem.$1.$2
    if [ "$(get "$k")" != ok ]; then
        cell "$k"
        return
    fi
    local alive=""
    [ "$(get "$k.alive")" = 0 ] && alive=", agent died"
    echo "$(get "$k.established") / $(get "$k.served")$( [ "$(get "$k.established")" -lt "$2" ] 2>/dev/null && echo " (open phase $(get "$k.open_secs") s)")$alive"
}
flood_cell() { # IMPL
    local k=flood.$1
    if [ "$(get "$k")" != ok ]; then
        cell "$k"
        return
    fi
    local extra=""
    [ -n "$(get "$k.rcvbuf_drops")" ] && [ "$(get "$k.rcvbuf_drops")" -gt 0 ] 2>/dev/null &&
        extra="; $(get "$k.rcvbuf_drops") hellos overflowed the socket, $(cell "$k.per_read_hello_b" B) per hello read"
    echo "$(cell "$k.growth_kb" MB 0.0009765625) ($(cell "$k.per_hello_b" B) per hello sent$extra)"
}
loss_cell() { # IMPL PCT
    local k=loss.$1.$2
    if [ -z "$(num "$(get "$k")")" ]; then
        cell "$k"
        return
    fi
    echo "$(cell "$k" %) ($(get "$k.ok")), $(cell "$k.p50" ms) / $(cell "$k.p90" ms) / $(cell "$k.max" ms)"
}
pct_verdict() {
    local p=${1%%\%*}
    if [ -n "$(num "$p")" ]; then
        verdict "$p >= 99"
    else
        echo "n/a"
    fi
}
leak_rows() {
    local what unit v n_b n_o n_u
    for what in get session; do
        if [ "$what" = get ]; then
            unit="per GET after warm-up ($P_LEAK_GETS GETs)"
        else
            unit="per closed session after warm-up ($P_LEAK_SESSIONS sessions)"
        fi
        # RSS grows in pages and malloc arenas (a few hundred KB either
        # way): growth above 512 KB in all is a leak; within it, "no leak"
        # is only claimed over at least 1000 items.
        if have leak.ours.dtls.$what; then
            local count total
            count=$(get "leak.ours.dtls.${what}s")
            total=$(calc "$(get leak.ours.dtls.$what) * $count")
            if awk -v t="$total" 'BEGIN { exit !(t > 512 * 1024) }'; then
                v=MISSED
            elif [ "${count:-0}" -ge 1000 ] 2>/dev/null; then
                v=met
            else
                v="inconclusive ($count too few)"
            fi
        else v="n/a"; fi
        row 5 "agent RSS growth $unit" "$(cell leak.builtin.dtls.$what B)" \
            "$(cell leak.ours.dtls.$what B)" "$(cell leak.udp.udp.$what B)" "–" \
            "0 (growth ≤ 512 KB in all)" "$v"
    done
}

chart() { # PNG
    local png=$1 d=$TL_TMP/chart n impl pct
    mkdir -p "$d"
    for impl in builtin ours; do
        : >"$d/mem-$impl.dat"
        for n in $P_MEM_NS; do
            if [ "$(get mem.$impl.$n)" = ok ] && [ "$(get mem.$impl.$n.established)" -gt 0 ] 2>/dev/null; then
                echo "$n $(calc "($(get mem.$impl.$n.rss_open_kb) - $(get mem.$impl.$n.rss0_kb)) / 1024") $(calc "100 * $(get mem.$impl.$n.served) / $n") $(get mem.$impl.$n.established)" >>"$d/mem-$impl.dat"
            fi
        done
    done
    for impl in udp builtin ours; do
        : >"$d/loss-$impl.dat"
        echo "0 100" >>"$d/loss-$impl.dat"
        for pct in $LOSS_RATES; do
            [ -n "$(num "$(get loss.$impl.$pct)")" ] && echo "$pct $(get loss.$impl.$pct)" >>"$d/loss-$impl.dat"
        done
    done
    cat >"$d/plot.gp" <<EOF
set terminal pngcairo size 1500,450 font ",10" noenhanced
set output "$png.tmp"
set multiplot layout 1,3 title "dtlsudp bench $(date -u +%Y-%m-%d) ($MODE_LABEL): built-in DTLSUDP vs this project"
set grid
set key bottom right box opaque
set style line 1 lc rgb "#d62728" lw 2 pt 7
set style line 2 lc rgb "#1f77b4" lw 2 pt 5
set style line 3 lc rgb "#7f7f7f" lw 2 pt 9
set logscale xy
set xlabel "associations established (log)"
set ylabel "agent RSS growth (MB, log)"
set title "agent memory vs associations established"
plot "$d/mem-builtin.dat" using 4:2 with linespoints ls 1 title "built-in", \
     "$d/mem-ours.dat" using 4:2 with linespoints ls 2 title "this project"
unset logscale y
set logscale x
set xlabel "associations attempted (N, log)"
set ylabel "associations served (% of N)"
set title "concurrency: served vs attempted"
set yrange [0:105]
set key center right box opaque
plot "$d/mem-builtin.dat" using 1:3 with linespoints ls 1 title "built-in", \
     "$d/mem-ours.dat" using 1:3 with linespoints ls 2 title "this project"
unset logscale x
set xlabel "datagram loss each way (%)"
set ylabel "snmpget session opens succeeding (%)"
set title "packet loss (snmpget defaults: -t 1 -r 5)"
set xrange [0:35]
set key bottom left box opaque
plot "$d/loss-udp.dat" using 1:2 with linespoints ls 3 title "udp v2c", \
     "$d/loss-builtin.dat" using 1:2 with linespoints ls 1 title "built-in", \
     "$d/loss-ours.dat" using 1:2 with linespoints ls 2 title "this project"
unset multiplot
EOF
    if timeout 60 gnuplot "$d/plot.gp" 2>"$d/gnuplot.err" && [ -s "$png.tmp" ]; then
        mv "$png.tmp" "$png"
        return 0
    fi
    rm -f "$png.tmp"
    head -n 3 "$d/gnuplot.err" >&2
    return 1
}

ensure_gnuplot() {
    command -v gnuplot >/dev/null 2>&1 && return 0
    [ "$INSTALL" = 1 ] || return 1
    [ "$(id -u)" = 0 ] || return 1
    command -v apt-get >/dev/null 2>&1 || return 1
    log "installing gnuplot-nox (apt-get)"
    DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -q --no-install-recommends \
        gnuplot-nox >"$TL_TMP/apt.log" 2>&1 ||
        { DEBIAN_FRONTEND=noninteractive timeout 300 apt-get update -q >>"$TL_TMP/apt.log" 2>&1 &&
          DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -q --no-install-recommends \
              gnuplot-nox >>"$TL_TMP/apt.log" 2>&1; }
    command -v gnuplot >/dev/null 2>&1
}

bench_report() {
    local date_s md png header sep r
    MODE_LABEL=$([ "$QUICK" = 1 ] && echo "quick" || echo "full")
    date_s=$(date -u +%Y-%m-%d)
    if [ -z "$OUT" ]; then
        mkdir -p "$SRCDIR/bench/results"
        if [ "$QUICK" = 1 ]; then
            OUT=$SRCDIR/bench/results/$date_s-quick.md
        else
            OUT=$SRCDIR/bench/results/$date_s.md
        fi
    fi
    mkdir -p "$(dirname "$OUT")"
    md=$OUT
    png=${OUT%.md}.png
    build_rows
    header="| # | measurement | built-in DTLSUDP | this project | udp v2c | ratio | target | verdict |"
    sep="|---|---|---|---|---|---|---|---|"

    echo
    echo "$header"
    echo "$sep"
    for r in "${ROWS[@]}"; do echo "$r"; done
    echo

    local chart_line
    if ensure_gnuplot && chart "$png"; then
        chart_line="![scaling curves]($(basename "$png"))"
        log "chart: $png"
    else
        chart_line="(no chart: gnuplot not available or failed)"
        log "no chart (gnuplot missing or failed)"
    fi

    {
        echo "# dtlsudp bench, $date_s ($MODE_LABEL run)"
        echo
        echo "Command: \`bench/run$([ "$QUICK" = 1 ] && echo " --quick")$([ "$ONLY" != all ] && echo " --only $ONLY")\`, $(get elapsed) s."
        echo "Machine: $(nproc) CPUs ($(awk -F: '/model name/ { gsub(/^ +/, "", $2); print $2; exit }' /proc/cpuinfo)), $(uname -sr);"
        echo "load average at the start: $LOAD_START, at the end: $(cut -d' ' -f1-3 /proc/loadavg) (shared machine: numbers are noisy)."
        echo "Net-SNMP $(snmpd -v 2>/dev/null | awk '/NET-SNMP version/ { print $NF; exit }'),"
        echo "$(openssl version 2>/dev/null), commit $(git -C "$SRCDIR" rev-parse --short HEAD 2>/dev/null || echo '?')."
        echo
        if [ "${#MISSING[@]}" -gt 0 ]; then
            echo "Missing pieces at run time:"
            for r in "${MISSING[@]}"; do echo "- $r"; done
            echo
        fi
        if [ "${#SKIPPED[@]}" -gt 0 ]; then
            echo "Skipped (time budget of ${P_BUDGET} s used up): ${SKIPPED[*]}"
            echo
        fi
        echo "$header"
        echo "$sep"
        for r in "${ROWS[@]}"; do echo "$r"; done
        echo
        echo "$chart_line"
        echo
        cat <<'EOF'
How each row is measured (bench/README has the details):
built-in = Debian's snmpd with its own DTLSUDP and stock snmpget/libnetsnmp;
this project = the same snmpd with `dlmod dtlsudp` and the same clients with
LD_PRELOAD=libdtlsudp-preload.so; udp v2c = the same snmpd over plain UDP.
Rows 4, 6, 7 and 9 use the same load generators (bench/holdassoc on libdtlsudp,
bench/hello-flood, bench/halfopen-flood) against both agents.  Agent CPU is utime+stime from
/proc/PID/stat (10 ms ticks) over the whole run divided by the sessions;
the crypto floor is the server's share of one mutually authenticated ECDHE
handshake from `openssl speed` (one sign, the client's CertificateVerify and
certificate-signature verifies, two X25519 operations).
EOF
        echo
        echo "## Raw results"
        echo
        echo '```'
        sort "$RES"
        echo '```'
    } >"$md"
    log "report: $md"
}
