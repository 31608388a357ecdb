#!/usr/bin/env bash
# Runs that do not end well, against a small archive served here and a real
# registry: SIGINT and SIGTERM at moments spread over whole builds and pushes
# (download, unpack, pack, push), a full cache, image or log directory (a small
# tmpfs each), and three dmc at once on one cache and one image directory. After
# each: the cache holds only whole, verified files, no image looks whole that is
# not, no lock is held, and the next run succeeds with the digests of an
# undisturbed build.
set -euo pipefail
source "$DMC_SOURCE_DIR/tests/lib.sh"
here=$DMC_SOURCE_DIR/tests/integration
source "$here/make_archive.sh"
for tool in python3 gpg gpgv gpgconf apt-ftparchive dpkg-deb xz flock docker-registry; do
    command -v "$tool" >/dev/null || { echo "skipped: $tool is not installed"; exit 77; }
done
work=$(mktemp -d)
mounts=()
source "$DMC_SOURCE_DIR/tests/registry/lib.sh"
cleanup() {
    cleanup_registry
    stop_archive_server
    for m in "${mounts[@]}"; do umount "$m" 2>/dev/null || true; done
    stop_keys "$work/key"
    rm -rf "$work"
}
trap cleanup EXIT
unset DMC_PLUGIN_PATH DMC_ARCHS DMC_DIST DMC_MIRROR DMC_IMAGEDIR IMAGEDIR DMC_ROOTFSDIR DMC_BUILDDIR \
    DMC_SOURCEDIR DMC_LOCK_FILE DMC_SNAPSHOT DMC_SNAPSHOT_URL SOURCE_DATE_EPOCH GNUPGHOME LOG_dir || true
export DMC_DOCKER_ARCHIVE=1  # interrupted archive writes must leave nothing half-written either

# --- an archive whose packages take a while to fetch, unpack and pack -------------------
make_key "$work/key"
debs=$work/debs
pkg() {  # pkg NAME VERSION MIB [FIELD...]: /usr/bin/T and MIB MiB of random data in /usr/share/T
    local name=$1 version=$2 mib=$3 s=$work/stage/$1 t=${1%-bin}
    shift 3
    rm -rf "$s"
    mkdir -p "$s/usr/bin" "$s/usr/share/$t"
    printf '#!/bin/sh\necho %s\n' "$name" >"$s/usr/bin/$t"
    chmod 0755 "$s/usr/bin/$t"
    [ "$mib" = 0 ] || head -c "${mib}M" /dev/urandom >"$s/usr/share/$t/data"
    build_deb "$debs" "$s" "$name" "$version" amd64 "$@"
}
pkg alpha-bin 1.0 6 "Depends: libshared"
pkg libshared 1.0 2
pkg beta-bin 1.0 6 "Depends: libold | libnew"
pkg libold 1.0 0
pkg gamma-bin 1.0 4
pkg delta-bin 1.0 4
pkg base-files 13.8 0
srv=$work/srv/dmc
add_to_pool "$srv" main "$debs"/*.deb
publish "$srv" dmctest "$work/key" amd64 main
start_archive_server
start_registry reg
registry=127.0.0.1:$REG_PORT
# The rounds push through a proxy that lets 8 MB/s through, so that a push lasts
# long enough to be stopped in the middle of a blob.
start_proxy slow "$registry" --throttle 8000000
slow=127.0.0.1:$PROXY_PORT

cat >"$work/dmc.yaml" <<EOF
dist: dmctest
archs: [amd64]
mirrors:
  - url: $base/ok/dmc
    keyring: $work/key/key.gpg
EOF
plugins=$work/plugins
mkdir -p "$plugins"
cp "$DMC_TEST_PLUGINS"/current/*.so "$plugins/"
cache=$work/cache
images=$work/images
# dmc_in CACHE IMAGES [ARGS...]: the four images of the group, into IMAGES
dmc_in() {
    local c=$1 i=$2
    shift 2
    DMC_CACHEDIR=$c "$DMC" --config "$work/dmc.yaml" --plugin-dir "$plugins" -g current --imagedir "$i" "$@"
}
# digests OUT: "template digest" lines of what a run printed, sorted
digests() { awk '$3 ~ /^sha256:/ {print $1, $3}' "$1" | sort; }

# consistent CACHE IMAGES: every cached package and index is whole (named by its
# SHA256), every image layout present is complete, and nobody holds the run lock
consistent() {
    local c=$1 i=$2 f
    for f in "$c"/debs/*.deb "$c"/indexes/*; do
        [ -f "$f" ] || continue
        [ "$(sha256sum <"$f" | cut -d' ' -f1)" = "$(basename "$f" .deb)" ] || fail "$f is not whole"
    done
    python3 - "$i" <<'PY' || fail "an image looks whole but is not"
import hashlib, json, os, sys, tarfile
root = sys.argv[1]
def blob(layout, digest):
    p = os.path.join(layout, "blobs", "sha256", digest.split(":", 1)[1])
    data = open(p, "rb").read()
    assert "sha256:" + hashlib.sha256(data).hexdigest() == digest, p + " is damaged"
    return data
def walk(layout, desc):
    data = blob(layout, desc["digest"])
    assert len(data) == desc["size"], desc["digest"] + " has the wrong size"
    doc = json.loads(data)
    for m in doc.get("manifests", []):
        walk(layout, m)
    for d in ([doc["config"]] if "config" in doc else []) + doc.get("layers", []):
        assert len(blob(layout, d["digest"])) == d["size"]
for name in os.listdir(root) if os.path.isdir(root) else []:
    path = os.path.join(root, name)
    if name.endswith(".docker.tar"):
        with tarfile.open(path) as t:
            assert "manifest.json" in t.getnames(), path
    elif name.endswith(".spdx.json") or name.endswith(".cdx.json"):
        json.load(open(path))
    elif os.path.isfile(os.path.join(path, "index.json")):
        for m in json.load(open(os.path.join(path, "index.json")))["manifests"]:
            walk(path, m)
PY
    flock -n "$c/run.lock" true || fail "the run lock of $c is still held"
}

# --- the reference: one undisturbed build and push -----------------------------------------
dmc_in "$work/ref-cache" "$work/ref-images" -H "$registry/ref" >"$work/ref.out" 2>"$work/ref.err" \
    || fail "the reference build: $(cat "$work/ref.err")"
[ "$(digests "$work/ref.out" | wc -l)" = 4 ] || fail "the reference build printed: $(cat "$work/ref.out")"

# --- SIGINT and SIGTERM, in every step ---------------------------------------------------
# Each round starts over (no images, build or rootfs; every third without packages),
# pushes to a repository of its own and uploads every blob again (no mounts from
# earlier rounds), and is stopped a random moment after one of its steps began,
# the steps taken in turn.
# A round is stopped within 20 ms of its step's start (a push, slowed by the proxy,
# within 300 ms); rounds go on past the first 24 until a rootfs, a pack and a push
# step have each been stopped, 64 rounds at most.
rounds=${DMC_INTERRUPT_ROUNDS:-24}
targets=(rootfs collect pack index push rootfs pack push)
declare -A stopped_in=()
missing() { for step in rootfs pack push; do [ -n "${stopped_in[$step]:-}" ] || echo "$step"; done; }
round=0
while [ "$round" -lt "$rounds" ] || { [ -n "$(missing)" ] && [ "$round" -lt 64 ]; }; do
    round=$((round + 1))
    rm -rf "$images" "$cache/build" "$cache/rootfs" "$cache/registry-blobs.json"
    [ $((round % 3)) != 1 ] || rm -rf "$cache/debs"
    sig=INT
    [ $((round % 2)) = 0 ] && sig=TERM
    target=${targets[$((round % ${#targets[@]}))]}
    templates=(alpha beta gamma delta)
    tmpl=${templates[$((RANDOM % 4))]}
    : >"$work/round.err"
    # Started with SIGINT at its default: bash has background commands ignore it.
    env DMC_CACHEDIR="$cache" python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execv(sys.argv[1], sys.argv[1:])' "$DMC" --config "$work/dmc.yaml" --plugin-dir "$plugins" -g current \
        --imagedir "$images" -H "$slow/round$round" >"$work/round.out" 2>"$work/round.err" &
    pid=$!
    for _ in $(seq 1 3000); do
        grep -qE "^TASK +[0-9]+ $tmpl(\.amd64)?\.$target " "$work/round.err" && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.01
    done
    if [ "$target" = push ]; then sleep "0.$((RANDOM % 3))"; else sleep "0.00$((RANDOM % 10))"; fi
    kill -"$sig" "$pid" 2>/dev/null || true
    rc=0
    wait "$pid" || rc=$?
    step=$(grep -oE '^TASK +[0-9]+ [a-z]+(\.amd64)?\.[a-z]+' "$work/round.err" | tail -1 | awk '{print $3}')
    [ "$rc" = 0 ] && step=finished
    stopped_in[${step##*.}]=1
    consistent "$cache" "$images"
done
[ -z "$(missing)" ] || fail "in $round rounds, none was stopped in a $(missing | head -1) step (stopped in: ${!stopped_in[*]})"
dmc_in "$cache" "$images" -H "$registry/after" >"$work/after.out" 2>"$work/after.err" \
    || fail "the run after the interruptions: $(cat "$work/after.err")"
[ "$(digests "$work/after.out")" = "$(digests "$work/ref.out")" ] || fail "other digests after the interruptions"
consistent "$cache" "$images"
left=$(find "$cache" "$images" -name '.*.tmp.*' | head -3)
[ -z "$left" ] || fail "temporary files were left: $left"
pass "$round runs stopped by SIGINT or SIGTERM (in: ${!stopped_in[*]}): the cache whole, no half image, no lock held; the next run gives the same digests"

# --- full disks ------------------------------------------------------------------------------
# small DIR MIB: a tmpfs of that size at DIR
small() {
    mkdir -p "$1"
    mount -t tmpfs -o "size=$2m" tmpfs "$1" || { echo "skipped: cannot mount a tmpfs (not root?)"; exit 77; }
    mounts+=("$1")
}
# full SETTING PATTERN -- CMD...: CMD fails with one FAIL line matching PATTERN
full() {
    local pattern=$2 err rc=0
    shift 3
    err=$("$@" 2>&1 >/dev/null) || rc=$?
    [ "$rc" != 0 ] || fail "$1: a full disk was not noticed"
    why=$(grep '^FAIL' <<<"$err" | grep -v 'failed; fix the cause and resume' || true)
    [ "$(wc -l <<<"$why")" = 1 ] || fail "a full disk gave not one line: $err"
    grep -qE -- "$pattern" <<<"$why" || fail "a full disk did not say /$pattern/: $why"
}
small "$work/full-cache" 8
full cache "cachedir $work/full-cache is full.*free some space" -- dmc_in "$work/full-cache" "$work/full-images"
consistent "$work/full-cache" "$work/full-images"
small "$work/full-images" 3
full images "imagedir $work/full-images is full.*free some space" -- dmc_in "$work/ref-cache" "$work/full-images"
consistent "$work/ref-cache" "$work/full-images"
small "$work/full-logs" 1
head -c 2M /dev/zero >"$work/full-logs/filler" 2>/dev/null || true  # full to the last block
full logs "log_dir $work/full-logs took no more of this run.s log \(.*No space left on device\); the run itself completed; free some space" -- env LOG_dir="$work/full-logs" LOG_level=ALL \
    DMC_CACHEDIR="$work/ref-cache" "$DMC" --config "$work/dmc.yaml" --plugin-dir "$plugins" -g current \
    --imagedir "$work/logs-images"
for d in full-cache full-images full-logs; do umount "$work/$d"; done
mounts=()
dmc_in "$work/full-cache" "$work/full-images" >"$work/full.out" 2>"$work/full.err" \
    || fail "after the full disks: $(cat "$work/full.err")"
[ "$(digests "$work/full.out")" = "$(digests "$work/ref.out")" ] || fail "other digests after the full disks"
pass "a full cache, image or log directory: one line naming it; the next run completes with the same digests"

# --- three at once -----------------------------------------------------------------------------
rm -rf "$cache/build" "$cache/rootfs" "$images"
DMC_CACHEDIR=$cache "$DMC" --config "$work/dmc.yaml" --plugin-dir "$plugins" -t alpha --imagedir "$images" >"$work/p1.out" 2>"$work/p1.err" &
p1=$!
DMC_CACHEDIR=$cache "$DMC" --config "$work/dmc.yaml" --plugin-dir "$plugins" -t alpha --imagedir "$images" >"$work/p2.out" 2>"$work/p2.err" &
p2=$!
DMC_CACHEDIR=$cache "$DMC" --config "$work/dmc.yaml" --plugin-dir "$plugins" -t beta,gamma,delta --imagedir "$images" >"$work/p3.out" 2>"$work/p3.err" &
p3=$!
for p in 1 2 3; do
    pid_var=p$p
    wait "${!pid_var}" || fail "concurrent run $p: $(cat "$work/p$p.err")"
done
[ "$(cat "$work/p1.out" "$work/p3.out" | awk '$3 ~ /^sha256:/ {print $1, $3}' | sort)" = "$(digests "$work/ref.out")" ] \
    || fail "three at once built other images: $(cat "$work/p1.out" "$work/p3.out")"
[ "$(digests "$work/p2.out")" = "$(digests "$work/p1.out")" ] || fail "two identical runs differ"
for t in alpha beta gamma delta; do
    cmp -s "$images/$t-amd64.docker.tar" "$work/ref-images/$t-amd64.docker.tar" || fail "$t: the archive differs from the sequential build"
done
consistent "$cache" "$images"
pass "three dmc at once on one cache and image directory: all succeed, byte-identical to sequential builds"
