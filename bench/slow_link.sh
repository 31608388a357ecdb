#!/usr/bin/env bash
# Cold builds over a slow link: the host's mirrors reached through a local proxy
# (bench/throttle_proxy.py) that carries RATE bytes a second in all, with a round
# trip of DELAY seconds before each answer. Every run starts from an empty cache.
#   bench/slow_link.sh [BUILD_DIR] [RATE] [DELAY] [OTHER_DMC]
# (defaults build/release, 20000000, 0.02; as root, with the network). With OTHER_DMC,
# that dmc runs too, alternating, for a before and after.
rate=${2:-20000000} delay=${3:-0.02} other=${4:-}
source "$(dirname "$0")/lib.sh"
# The mirrors dmc takes from the host's apt sources, as it fetches their indexes.
mirrors=$(OUT_level=INFO DMC_CACHEDIR=$work/probe "$dmc" -A amd64 -a setup 2>&1 |
    sed -n 's|.*fetched \(https\?://[^ ]*\)/dists/\([^/]*\)/.*|\1 \2|p' | awk '!seen[$0]++')
[ -n "$mirrors" ] || { echo "no mirror found in the host's apt sources" >&2; exit 1; }
python3 bench/throttle_proxy.py "$rate" "$delay" "$work/port" &
proxy=$!
trap 'kill $proxy 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
port=$(cat "$work/port")
{
    echo "mirrors:"
    while read -r url suite; do
        echo "  - url: http://127.0.0.1:$port/${url#*://}"
        echo "    suites: [\"$suite\"]"
    done <<<"$mirrors"
} >"$work/slow.yaml"
echo "$(echo "$rate / 1000000" | bc) MB/s, ${delay} s a round trip; mirrors: $(cut -d' ' -f1 <<<"$mirrors" | sort -u | tr '\n' ' ')"
run() { # DMC TEMPLATE: one cold build; prints its wall time
    local start
    # No cache and no lock (the config's, beside it): the indexes are fetched each time.
    "$work/aside" "$work/cache" "$work/slow.lock"
    start=$(date +%s.%N)
    DMC_CACHEDIR=$work/cache "$1" --config "$work/slow.yaml" -t "$2" -A amd64 \
        --imagedir "$work/cache/images" >/dev/null
    printf '%.2f\n' "$(echo "$(date +%s.%N) - $start" | bc)"
}
median() { sort -n | sed -n 2p; }
for t in nginx php; do
    a=() b=()
    for _ in 1 2 3; do
        a+=("$(run "$dmc" "$t")")
        [ -z "$other" ] || b+=("$(run "$other" "$t")")
    done
    line="$t amd64, cold: $(printf '%s\n' "${a[@]}" | median) s"
    [ -z "$other" ] || line+="; the other dmc: $(printf '%s\n' "${b[@]}" | median) s"
    echo "$line"
done
