#!/usr/bin/env bash
# A program that needs libraries Debian reaches only through update-alternatives,
# from the real archive: emmax needs libblas.so.3 and liblapack.so.3, whose links
# libblas3's and liblapack3's postinsts make. The image holds their link chains
# through /etc/alternatives; emmax runs under runc (amd64) and under qemu in a
# chroot of the image (arm64). With libopenblas0-pthread and libblas3 both there, auto
# mode takes OpenBLAS (priority 100), and a pin takes the reference BLAS back.
set -euo pipefail
source "$DMC_SOURCE_DIR/tests/lib.sh"
source "$DMC_SOURCE_DIR/tests/runtime/lib.sh"
need_root
command -v qemu-aarch64-static >/dev/null || { echo "skipped: no qemu-aarch64-static"; exit 77; }
start_work
plugins=$work/plugins
mkdir -p "$plugins"
cp "$DMC_TEST_PLUGINS/effects/effects.so" "$plugins/"

# build NAME PACKAGES [PIN]: emmax's image for both archs with those packages
build() {
    {
        echo "templates:"
        echo "  effects:"
        echo "    packages: $2"
        echo "    program: /usr/bin/emmax"
        [ -z "${3:-}" ] || echo "    pin: $3"
    } >"$work/$1.yaml"
    OUT_level=INFO "$DMC" --config "$work/$1.yaml" --plugin-dir "$plugins" -t effects -A amd64,arm64 \
        --imagedir "$work/images-$1" >"$work/$1.out" 2>"$work/$1.err" || fail "$1: $(tail -3 "$work/$1.err")"
    local arch
    for arch in amd64 arm64; do
        umoci raw unpack --image "$work/images-$1/effects:latest-$arch" "$work/$1-$arch" >/dev/null 2>&1 \
            || fail "umoci cannot unpack $1 for $arch"
    done
}
# chosen NAME ARCH LIB: where the image's LIB link leads, through /etc/alternatives
chosen() {
    local r=$work/$1-$2 triplet
    triplet=$([ "$2" = amd64 ] && echo x86_64-linux-gnu || echo aarch64-linux-gnu)
    [ "$(readlink "$r/usr/lib/$triplet/$3")" = "/etc/alternatives/$3-$triplet" ] \
        || fail "$1 $2: /usr/lib/$triplet/$3 is not the alternative's link: $(readlink "$r/usr/lib/$triplet/$3")"
    readlink "$r/etc/alternatives/$3-$triplet"
}
# runs NAME: emmax of both archs prints its usage, so every library it needs loaded
runs() {
    run_image "$work/images-$1/effects:latest-amd64" "emmax-$1" emmax
    local i
    for i in $(seq 1 40); do [ "$(container_status "emmax-$1")" = running ] || break; sleep 0.25; done
    runc delete -f "emmax-$1" >/dev/null 2>&1 || true
    grep -q '^Usage: emmax' "$work/emmax-$1.log" || fail "$1: emmax under runc: $(cat "$work/emmax-$1.log")"
    # qemu's -L resolves the image's absolute links on the host: run it inside a chroot.
    cp "$(command -v qemu-aarch64-static)" "$work/$1-arm64/qemu"
    out=$(chroot "$work/$1-arm64" /qemu /usr/bin/emmax 2>&1 || true)
    rm "$work/$1-arm64/qemu"
    grep -q '^Usage: emmax' <<<"$out" || fail "$1: arm64 emmax under qemu: $out"
}
make_netns emmax

build auto emmax
[ "$(chosen auto amd64 libblas.so.3)" = /usr/lib/x86_64-linux-gnu/blas/libblas.so.3 ] || fail "amd64 BLAS"
[ "$(chosen auto arm64 liblapack.so.3)" = /usr/lib/aarch64-linux-gnu/lapack/liblapack.so.3 ] || fail "arm64 LAPACK"
[ -f "$work/auto-arm64/usr/lib/aarch64-linux-gnu/blas/libblas.so.3" ] || fail "arm64: no reference BLAS"
grep -q "effects arm64: alternative libblas.so.3-aarch64-linux-gnu: .* (priority 10, from libblas3)" "$work/auto.err" \
    || fail "the log does not say which BLAS was taken"
runs auto
pass "emmax's BLAS and LAPACK come through /etc/alternatives, and it runs on amd64 (runc) and arm64 (qemu)"

build openblas "emmax libopenblas0-pthread libblas3"
for arch in amd64 arm64; do
    chosen openblas $arch libblas.so.3 | grep -q '/openblas-pthread/libblas.so.3$' || fail "$arch: auto mode did not take OpenBLAS"
done
runs openblas
build pinned "emmax libopenblas0-pthread libblas3" "libblas.so.3-@MULTIARCH@=/usr/lib/@MULTIARCH@/blas/libblas.so.3"
[ "$(chosen pinned arm64 libblas.so.3)" = /usr/lib/aarch64-linux-gnu/blas/libblas.so.3 ] || fail "the pin was not followed"
chosen pinned arm64 liblapack.so.3 | grep -q '/openblas-pthread/liblapack.so.3$' || fail "an alternative not pinned changed"
runs pinned
pass "OpenBLAS wins on priority; a pin takes the reference BLAS back, the rest staying OpenBLAS"
