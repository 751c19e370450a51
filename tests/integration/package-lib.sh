# package-lib.sh: helpers of the package tests (sourced, bash), on top of
# tests/lib/snmpd.sh.  The package tests check what `make install` or the
# Debian packages put on the system, never the build tree.
#
#   DTLSUDP_MANDIR   where the installed manual pages are (default: found with
#                    `man -w`, else /usr/share/man)
# shellcheck shell=bash

# pkg_man_page SECTION NAME: the path of an installed manual page.
pkg_man_page() {
    local sec=$1 name=$2 dir f
    if [ -n "${DTLSUDP_MANDIR:-}" ]; then
        dir=$DTLSUDP_MANDIR
    else
        f=$(man -w "$sec" "$name" 2>/dev/null) && [ -f "$f" ] && { echo "$f"; return 0; }
        dir=/usr/share/man
    fi
    for f in "$dir/man$sec/$name.$sec.gz" "$dir/man$sec/$name.$sec"; do
        [ -f "$f" ] && { echo "$f"; return 0; }
    done
    tl_fail "manual page $name($sec) is not installed (looked in $dir)"
}

# pkg_extract_example PAGE NAME: print the example NAME of an installed
# manual page, the lines between the comments `.\" ...-example NAME begin'
# and `... end', as a reader sees them: macro lines dropped, the roff escapes
# the pages use (\- \e \& \(aq) turned back into plain characters.
pkg_extract_example() {
    local page=$1 name=$2 out
    out=$(case $page in *.gz) zcat "$page" ;; *) cat "$page" ;; esac |
        awk -v n="$name" '
            $0 ~ "^\\.\\\\\" [a-z]*-example " n " begin$" { on = 1; next }
            $0 ~ "^\\.\\\\\" [a-z]*-example " n " end$" { on = 0; next }
            on && !/^[.\x27]/ { print }' |
        sed -e 's/\\-/-/g' -e 's/\\(aq/'"'"'/g' -e 's/\\&//g' -e 's/\\e/\\/g')
    [ -n "$out" ] || tl_fail "no example '$name' in $page"
    printf '%s\n' "$out"
}

# pkg_upstream_version VERSION: a Debian version without epoch and revision.
pkg_upstream_version() {
    local v=${1#*:}
    echo "${v%-*}"
}
