# scripts/lib.sh: shared by scripts/check and scripts/demo (sourced, bash).
# shellcheck shell=bash

# Debian 12 packages the build, the tests and the demo need.
DTLSUDP_PACKAGES=(
    build-essential autoconf automake libtool pkg-config
    libssl-dev openssl libsnmp-dev libcmocka-dev
    snmp snmpd snmptrapd smitools rsyslog gnutls-bin
    valgrind clang libfuzzer-14-dev abigail-tools
    iproute2 procps util-linux coreutils git
)

DTLSUDP_SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

say() { echo "==> $*"; }
warn() { echo "WARNING: $*" >&2; }
die() { echo "ERROR: $*" >&2; exit 1; }

# now_s: seconds since the epoch (for timings).
now_s() { date +%s; }

# missing_packages PKG...: print the packages dpkg does not have installed.
missing_packages() {
    local p
    for p in "$@"; do
        if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
            echo "$p"
        fi
    done
}

# ensure_packages: install whatever is missing from DTLSUDP_PACKAGES with
# apt-get (one `apt-get update`, then one install).  Nothing happens, and no
# root is needed, when everything is installed already.
ensure_packages() {
    local -a missing
    if ! command -v dpkg-query >/dev/null 2>&1; then
        warn "dpkg-query not found: not a Debian system; skipping package installation"
        return 0
    fi
    mapfile -t missing < <(missing_packages "${DTLSUDP_PACKAGES[@]}")
    if [ "${#missing[@]}" -eq 0 ]; then
        say "packages: all ${#DTLSUDP_PACKAGES[@]} required packages are installed"
        return 0
    fi
    say "packages: installing ${missing[*]}"
    if [ "$(id -u)" -ne 0 ]; then
        die "missing packages (${missing[*]}); run as root or: sudo apt-get install ${missing[*]}"
    fi
    DEBIAN_FRONTEND=noninteractive apt-get update -q ||
        die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" ||
        die "apt-get install failed"
    # Debian's snmpd/snmptrapd packages may start system daemons on the
    # standard ports (udp 161/162).  Nothing here uses those ports: tests pick
    # free high ports and the demo uses 10161, so they are left alone.
}

# The source tree configure runs from: DTLSUDP_SRCDIR, or a copy of it when
# it is configured in place (see configure_tree).
DTLSUDP_BUILD_SRCDIR=$DTLSUDP_SRCDIR

# copy_sources: autoconf refuses out-of-tree builds of a tree configured in
# place, so copy the tracked and untracked-but-not-ignored files (the working
# tree as it is, uncommitted edits included) to build/src.  tar keeps the
# modification times, so make rebuilds only what changed.
copy_sources() {
    local copy=$DTLSUDP_SRCDIR/build/src
    command -v git >/dev/null 2>&1 && git -C "$DTLSUDP_SRCDIR" rev-parse >/dev/null 2>&1 ||
        die "$DTLSUDP_SRCDIR is configured in place and is not a git checkout; run 'make distclean' there first"
    say "note: $DTLSUDP_SRCDIR is configured in place; building from a copy in $copy"
    mkdir -p "$copy"
    (cd "$DTLSUDP_SRCDIR" && git ls-files -z -c -o --exclude-standard |
        tar --null -T - -cf -) | tar -C "$copy" -xf - ||
        die "copying the sources to $copy failed"
    DTLSUDP_BUILD_SRCDIR=$copy
}

# configure_tree BUILDDIR ARGS...: autoreconf the source tree if it has no
# configure script yet, then configure BUILDDIR (out of tree) with ARGS unless
# it is already configured with exactly those ARGS.
configure_tree() {
    local builddir=$1
    shift
    local args="$*"
    if [ -f "$DTLSUDP_SRCDIR/config.status" ]; then
        copy_sources
    fi
    if [ ! -x "$DTLSUDP_BUILD_SRCDIR/configure" ]; then
        say "autoreconf -fi"
        (cd "$DTLSUDP_BUILD_SRCDIR" && autoreconf -fi) || die "autoreconf failed"
    fi
    mkdir -p "$builddir"
    args="$args (source $DTLSUDP_BUILD_SRCDIR)"
    if [ -f "$builddir/config.status" ] && [ -f "$builddir/.configure-args" ] &&
       [ "$(cat "$builddir/.configure-args")" = "$args" ]; then
        say "configure: $builddir already configured ($args)"
        return 0
    fi
    say "configure $* (in $builddir)"
    rm -f "$builddir/.configure-args"
    (cd "$builddir" && "$DTLSUDP_BUILD_SRCDIR/configure" "$@") >"$builddir/configure.out" 2>&1 || {
        tail -n 40 "$builddir/configure.out" >&2
        die "configure failed (full output: $builddir/configure.out, $builddir/config.log)"
    }
    echo "$args" >"$builddir/.configure-args"
}

# build_tree BUILDDIR: make -j2 (the machine is shared: never more).
build_tree() {
    say "make -j2 (in $1)"
    make -C "$1" -j2 || die "build failed in $1"
}

# ---------------------------------------------------------------------------
# scripts/check --package: Debian packages, installed, tested as installed.
# ---------------------------------------------------------------------------

# What building and checking the packages needs beyond DTLSUDP_PACKAGES.
DTLSUDP_PACKAGE_TOOLS=(debhelper dpkg-dev lintian man-db)

# export_sources DIR: the working tree as it is (tracked and untracked but
# not ignored files, uncommitted edits included) copied to DIR/src, so that
# dpkg-buildpackage never sees a build or configure of the source tree.
export_sources() {
    local dest=$1/src
    command -v git >/dev/null 2>&1 && git -C "$DTLSUDP_SRCDIR" rev-parse >/dev/null 2>&1 ||
        die "--package needs a git checkout (it builds from the files git knows)"
    rm -rf "$dest"
    mkdir -p "$dest"
    (cd "$DTLSUDP_SRCDIR" && git ls-files -z -c -o --exclude-standard |
        tar --null -T - -cf -) | tar -C "$dest" -xf - ||
        die "copying the sources to $dest failed"
}

# build_packages DIR: dpkg-buildpackage -us -uc -b in DIR/src; the .debs
# land in DIR.  Its output goes to DIR/build.log.
build_packages() {
    local dir=$1
    rm -f "$dir"/*.deb "$dir"/*.changes "$dir"/*.buildinfo
    say "dpkg-buildpackage -us -uc -b -j2 (in $dir/src, log $dir/build.log)"
    (cd "$dir/src" && dpkg-buildpackage -us -uc -b -j2) >"$dir/build.log" 2>&1 || {
        tail -n 60 "$dir/build.log" >&2
        die "dpkg-buildpackage failed (full log: $dir/build.log)"
    }
}

# lintian_packages DIR: lintian on the .changes; fails on errors only, shows
# every tag (warnings, info, pedantic) in DIR/lintian.txt.
lintian_packages() {
    local dir=$1
    say "lintian (log $dir/lintian.txt)"
    lintian -I --pedantic --fail-on error "$dir"/*.changes >"$dir/lintian.txt" 2>&1 || {
        cat "$dir/lintian.txt" >&2
        die "lintian reports errors"
    }
    grep -v '^running with root privileges' "$dir/lintian.txt" || true
}

# install_packages DIR: install (or reinstall, the version may not change
# between builds) the packages built in DIR, with their dependencies.
install_packages() {
    local dir=$1 debs=()
    mapfile -t debs < <(ls "$dir"/*.deb | grep -v -- '-dbgsym_')
    [ "$(id -u)" -eq 0 ] || die "installing the packages needs root: sudo apt-get install ${debs[*]}"
    say "apt-get install --reinstall ${debs[*]##*/}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --reinstall --no-install-recommends \
        "${debs[@]}" >"$dir/install.log" 2>&1 || {
        cat "$dir/install.log" >&2
        die "installing the packages failed"
    }
}
