#!/usr/bin/env bash
# dmc's resolver against apt's own choice over the same signed indexes of the real
# Debian archive: trixie and bookworm, amd64 and arm64, for the packages of the
# templates and two common ones. The package sets must be equal.
set -euo pipefail
source "$DMC_SOURCE_DIR/tests/lib.sh"
export DMC_CACHEDIR=${DMC_TEST_CACHE:-$DMC_BINARY_DIR/test-cache}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOME=$work/home DMC_BUILDDIR=$work/build
unset OUT_level LOG_level LOG_dir DMC_CONFIG || true

packages=(nginx php-fpm mariadb-server adminer curl python3)
compared=0
for dist in trixie bookworm; do
    for arch in amd64 arm64; do
        # setup fetches and verifies the indexes and names the files it keeps.
        log=$(OUT_level=INFO "$DMC" -D "$dist" -A "$arch" -a setup 2>&1) || { echo "$log"; fail "setup $dist $arch"; }
        files=$(sed -n 's/.* verified: //p' <<<"$log")
        [ -n "$files" ] || fail "setup named no index files: $log"
        # shellcheck disable=SC2086
        cat $files >"$work/Packages-$dist-$arch"
        for pkg in "${packages[@]}"; do
            "$DMC" -D "$dist" -A "$arch" -a resolve "$pkg" 2>"$work/err" | sort >"$work/dmc" \
                || { cat "$work/err"; fail "dmc resolve $pkg on $dist $arch"; }
            bash "$DMC_SOURCE_DIR/tests/network/apt_simulate.sh" "$work/Packages-$dist-$arch" "$arch" "$pkg" \
                | sort >"$work/apt"
            [ -s "$work/apt" ] || fail "apt chose nothing for $pkg on $dist $arch"
            if ! diff -u "$work/apt" "$work/dmc" >"$work/diff"; then
                cat "$work/diff"
                fail "$pkg on $dist $arch: dmc and apt differ"
            fi
            compared=$((compared + 1))
            pass "$pkg $dist $arch: $(wc -l <"$work/dmc") packages, same as apt"
        done
    done
done
[ "$compared" = 24 ] || fail "compared $compared cases, expected 24"
