#!/usr/bin/env bash
# Pushing images to a local registry: dmc against `skopeo copy` of the same OCI
# layout to the same registry, in the same run. Not part of the tests: run it by
# hand (root not needed; the network only to build the images the first time).
#
#   bench/push_bench.sh [-n RUNS] [-t nginx,adminer] [--dmc PATH] [--imagedir DIR]
#
# Builds the templates for amd64 and arm64 (unless --imagedir already has them),
# then for each run and each tool starts docker-registry on 127.0.0.1 with empty
# storage and times
#   cold: the first push of the image index, both archs, every blob uploaded;
#   warm: the same push again (every blob and manifest already there).
# The registry's start is not timed. dmc runs with a fresh cache directory, so
# that it cannot mount blobs from an earlier run. Prints the median of the runs.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=5 templates=nginx,adminer dmc=build/release/bin/dmc imagedir=
while [ $# -gt 0 ]; do
    case $1 in
        -n) runs=$2; shift 2 ;;
        -t) templates=$2; shift 2 ;;
        --dmc) dmc=$2; shift 2 ;;
        --imagedir) imagedir=$2; shift 2 ;;
        *) echo "usage: $0 [-n RUNS] [-t TEMPLATES] [--dmc PATH] [--imagedir DIR]" >&2; exit 2 ;;
    esac
done
[ -x "$dmc" ] || { echo "no dmc binary; build the release preset first" >&2; exit 1; }
dmc=$(realpath "$dmc")
command -v docker-registry skopeo >/dev/null || { echo "needs docker-registry and skopeo" >&2; exit 1; }

work=$(mktemp -d)
reg_pid=
cleanup() {
    [ -n "$reg_pid" ] && kill "$reg_pid" 2>/dev/null && wait "$reg_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
[ -n "$imagedir" ] || imagedir=$work/images
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

start_registry() {
    rm -rf "$work/data"
    printf 'version: 0.1\nlog: {level: error}\nstorage:\n  filesystem: {rootdirectory: %s}\nhttp:\n  addr: 127.0.0.1:%s\n' \
        "$work/data" "$port" >"$work/registry.yml"
    docker-registry serve "$work/registry.yml" >>"$work/registry.log" 2>&1 &
    reg_pid=$!
    for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/v2/" && return; sleep 0.05; done
    echo "the registry did not start" >&2; exit 1
}
stop_registry() { kill "$reg_pid"; wait "$reg_pid" 2>/dev/null || true; reg_pid=; }

now() { date +%s.%N; }
push() {  # push TOOL TEMPLATE
    case $1 in
        dmc) DMC_CACHEDIR=$work/dmc-cache "$dmc" -a load -t "$2" -A amd64,arm64 --imagedir "$imagedir" \
                 -H "127.0.0.1:$port/bench" >/dev/null 2>"$work/dmc.err" || { cat "$work/dmc.err" >&2; exit 1; } ;;
        skopeo) skopeo copy -q --all --preserve-digests --dest-tls-verify=false "oci:$imagedir/$2:latest" \
                    "docker://127.0.0.1:$port/bench/$2:latest" >/dev/null ;;
    esac
}

IFS=, read -r -a names <<<"$templates"
for t in "${names[@]}"; do
    if [ ! -f "$imagedir/$t/index.json" ]; then
        echo "building $t ..." >&2
        "$dmc" -t "$t" -A amd64,arm64 --imagedir "$imagedir" >/dev/null 2>"$work/build.log" \
            || { tail -5 "$work/build.log" >&2; exit 1; }
    fi
done

median() { python3 -c 'import statistics,sys; print("%.3f" % statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }
printf '%-8s %-7s %9s %9s %9s\n' template tool "size MB" "cold s" "warm s"
for t in "${names[@]}"; do
    size=$(du -sm --apparent-size "$imagedir/$t/blobs" | cut -f1)
    declare -A cold=() warm=()
    for i in $(seq 1 "$runs"); do
        # Alternate which tool goes first, so that neither always gets the warmer page cache.
        tools=(dmc skopeo); [ $((i % 2)) = 0 ] && tools=(skopeo dmc)
        for tool in "${tools[@]}"; do
            rm -rf "$work/dmc-cache"
            start_registry
            a=$(now); push "$tool" "$t"; b=$(now); push "$tool" "$t"; c=$(now)
            stop_registry
            cold[$tool]+="$(python3 -c "print($b - $a)") "
            warm[$tool]+="$(python3 -c "print($c - $b)") "
        done
    done
    for tool in dmc skopeo; do
        # shellcheck disable=SC2086
        printf '%-8s %-7s %9s %9s %9s\n' "$t" "$tool" "$size" "$(median ${cold[$tool]})" "$(median ${warm[$tool]})"
    done
    unset cold warm
done
