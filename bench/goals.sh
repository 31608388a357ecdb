#!/usr/bin/env bash
# The performance goals, each measured against what it is compared with in the same
# run, alternating, medians: prints the README's table.
#   bench/goals.sh [BUILD_DIR]   (default build/release; as root, with the network)
source "$(dirname "$0")/lib.sh"
needs mmdebstrap mmdebstrap
compare() { python3 bench/compare.py "$@"; }
# How fast this machine is today (virtual machines of one kind vary from day to
# day): zlib at level 6 over a fixed input, for comparing tables of other days.
ref=$( { /usr/bin/time -f %e gzip -6 -c <(seq 1 10000000) >/dev/null; } 2>&1 )
echo "reference: gzip -6 of \`seq 1 10000000\` (78 MB) takes $ref s"
echo
echo "| what | dmc | compared with | ratio | goal |"
echo "| --- | --- | --- | --- | --- |"

# Cold: an empty cache and no lock each time, so that dmc resolves from the indexes
# as mmdebstrap does; mmdebstrap downloads everything each time too.
compare --runs 5 --goal "at most 0.10" \
    --label "cold nginx build, empty cache, amd64; against mmdebstrap --variant=essential --include=nginx" \
    --before-a "$work/aside $work/cold $HOME/.config/dmc" \
    --a "DMC_CACHEDIR=$work/cold $dmc -t nginx -A amd64 --imagedir $work/cold/images" \
    --before-b "rm -f $work/mm.tar" \
    --b "mmdebstrap --quiet --variant=essential --include=nginx trixie $work/mm.tar"
# The same with a lock (a CI machine's empty cache): no index is needed.
DMC_CACHEDIR=$work/locked "$dmc" -t nginx -A amd64 --imagedir "$work/locked/images" >/dev/null
compare --runs 5 --goal "(none: the lock's case)" \
    --label "the same, with the lock the first build wrote" \
    --before-a "$work/aside $work/cold" \
    --a "DMC_CACHEDIR=$work/cold $dmc -t nginx -A amd64 --imagedir $work/cold/images" \
    --before-b "rm -f $work/mm.tar" \
    --b "mmdebstrap --quiet --variant=essential --include=nginx trixie $work/mm.tar"

# Warm: nginx for both archs built once; then rebuilt with nothing changed.
export DMC_CACHEDIR=$work/cache
"$dmc" -t nginx --imagedir "$work/images" >"$work/first"
compare --runs 10 --goal "at most 2" \
    --label "warm rebuild of nginx, amd64 and arm64, same digest; against dmc -t nginx -l" \
    --a "$dmc -t nginx --imagedir $work/images" \
    --b "$dmc -t nginx -l"
"$dmc" -t nginx --imagedir "$work/images" | cmp -s - "$work/first" || { echo "DIGEST CHANGED" >&2; exit 1; }

# Resolving: the same verified indexes for both.
files=$(OUT_level=INFO "$dmc" -A amd64 -a setup 2>&1 | sed -n 's/.* verified: //p')
# shellcheck disable=SC2086
cat $files >"$work/Packages-amd64"
"$dmc" -A amd64 -a resolve nginx >/dev/null  # parsed once, as every later run finds it
compare --runs 5 --goal "at most 0.10 of the time, at most 0.5 of the memory" \
    --label "resolving nginx (amd64); against apt-get install -s over the same indexes" \
    --a "$dmc -A amd64 -a resolve nginx" \
    --b "bash tests/network/apt_simulate.sh $work/Packages-amd64 amd64 nginx"

# Four templates, two archs, the .debs cached: each run starts from a cache holding
# only the downloads.
four=nginx,php,mariadb,adminer
"$dmc" -t "$four" --imagedir "$work/four-ref" >"$work/four.digests"
mkdir -p "$work/primed"
for d in debs indexes lists parsed; do cp -al "$DMC_CACHEDIR/$d" "$work/primed/"; done
fresh="$work/aside $work/four $work/four-images; mkdir -p $work/four; cp -al $work/primed/. $work/four/"
runs=()
for i in 1 2 3; do
    bash -c "$fresh"
    start=$(date +%s.%N)
    DMC_CACHEDIR=$work/four "$dmc" -t "$four" --imagedir "$work/four-images" >"$work/four.out"
    runs+=("$(echo "$(date +%s.%N) - $start" | bc)")
    cmp -s "$work/four.out" <(sed "s|$work/four-ref|$work/four-images|" "$work/four.digests") \
        || { echo "DIGESTS CHANGED" >&2; exit 1; }
done
cold4=$(printf '%s\n' "${runs[@]}" | sort -n | sed -n 2p)
trees=$(du -sm "$work/four/rootfs" | cut -f1)
images=$(du -sm "$work/four-images" | cut -f1)
printf '| all four templates, amd64 and arm64, .debs cached | %.1f s; %d MB of rootfs trees and package store; %d MB in the image directory | | | at most 15 s, 0.6 GB |\n' \
    "$cold4" "$trees" "$images"
again=$(DMC_CACHEDIR=$work/four measure --runs 10 -- "$dmc" -t "$four" --imagedir "$work/four-images" \
    | sed 's/.*median \([0-9.]*\) s.*/\1/')
echo "| the same again, nothing changed | $again s | | | at most 0.3 s |"
echo
echo "digests: the same in every run ($(tr '\n' ' ' <"$work/four.digests" | awk '{print $3, $6, $9, $12}'))"
