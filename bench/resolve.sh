#!/usr/bin/env bash
# Index parsing plus resolving, dmc against `apt-get install -s` over the same
# verified trixie indexes, amd64 and arm64, in the same run.
#   bench/resolve.sh [BUILD_DIR]   (default build/release; needs the network once)
source "$(dirname "$0")/lib.sh"
export DMC_CACHEDIR=$work/cache
for arch in amd64 arm64; do
    # Cold: the indexes are fetched and verified too.
    rm -rf "$DMC_CACHEDIR"
    measure --runs 1 --label "dmc cold (fetch+verify+parse+resolve) nginx $arch" -- "$dmc" -A "$arch" -a resolve nginx
    files=$(OUT_level=INFO "$dmc" -A "$arch" -a setup 2>&1 | sed -n 's/.* verified: //p')
    # shellcheck disable=SC2086
    cat $files >"$work/Packages-$arch"
done
cat "$work/Packages-amd64" "$work/Packages-arm64" >"$work/Packages-both"
echo "index: $(du -m "$work/Packages-amd64" | cut -f1) MB amd64, $(grep -c '^Package:' "$work/Packages-amd64") stanzas"

for arch in amd64 arm64; do
    measure --label "dmc warm: parse+resolve nginx $arch" -- "$dmc" -A "$arch" -a resolve nginx
    measure --label "dmc warm: parse+resolve nginx php-fpm mariadb-server adminer $arch" -- \
        "$dmc" -A "$arch" -a resolve nginx php-fpm mariadb-server adminer
    measure --label "apt-get install -s nginx $arch" -- \
        bash tests/network/apt_simulate.sh "$work/Packages-$arch" "$arch" nginx
    measure --label "apt-get install -s nginx php-fpm mariadb-server adminer $arch" -- \
        bash tests/network/apt_simulate.sh "$work/Packages-$arch" "$arch" nginx php-fpm mariadb-server adminer
done
# Both archs in one go, as the 1.7 s / 130 MB apt reference was measured.
measure --label "dmc warm: nginx, amd64 and arm64" -- "$dmc" -A amd64,arm64 -a resolve nginx
measure --label "apt-get install -s nginx, amd64 index + arm64 foreign" -- \
    bash tests/network/apt_simulate.sh --foreign arm64 "$work/Packages-both" amd64 nginx
