#!/usr/bin/env bash
# Sources of builds from source, against a small signed archive served here: a
# Debian source package (hello 1.0, then 1.1) in the Sources index, its .dsc signed
# by an uploader's key. Checked without building (setup's sources step and update's
# lock): the .dsc's signature against source_keyring, a signature by another key,
# the source recorded in the lock and followed until update takes the new version,
# a tampered tarball and a damaged cached file, and nothing half-written after each.
set -euo pipefail
source "$DMC_SOURCE_DIR/tests/lib.sh"
here=$DMC_SOURCE_DIR/tests/integration
source "$here/make_archive.sh"
for tool in python3 gpg gpgv gpgconf apt-ftparchive dpkg-deb dpkg-source xz; do
    command -v "$tool" >/dev/null || { echo "skipped: $tool is not installed"; exit 77; }
done
work=$(mktemp -d)
cleanup() {
    stop_archive_server
    stop_keys "$work/key" "$work/uploader" "$work/stranger"
    rm -rf "$work"
}
trap cleanup EXIT
unset DMC_PLUGIN_PATH DMC_ARCHS DMC_DIST DMC_MIRROR DMC_IMAGEDIR IMAGEDIR DMC_ROOTFSDIR DMC_BUILDDIR \
    DMC_SOURCEDIR DMC_LOCK_FILE DMC_SNAPSHOT DMC_SNAPSHOT_URL DMC_SOURCE_KEYRING SOURCE_DATE_EPOCH \
    GNUPGHOME || true
export DMC_CACHEDIR=$work/cache IMAGEDIR=$work/images

make_key "$work/key"
make_key "$work/uploader"
make_key "$work/stranger"
srv=$work/srv/dmc
mkdir -p "$work/stage/base"
echo 'PRETTY_NAME="dmc test"' >"$work/stage/base/os-release"
mkdir -p "$work/stage/base/usr/lib" && mv "$work/stage/base/os-release" "$work/stage/base/usr/lib/"
build_deb "$work/debs" "$work/stage/base" base-files 13.8 amd64
add_to_pool "$srv" main "$work/debs/base-files_13.8_amd64.deb"
# source VERSION: hello VERSION as a native Debian source package in the pool, its
# .dsc signed by the uploader
source_package() {
    local v=$1 d=$work/src/hello-$1 pool=$srv/pool/main/h/hello
    mkdir -p "$d/debian/source" "$pool"
    printf 'all:\n\techo hello %s\n' "$v" >"$d/Makefile"
    echo '3.0 (native)' >"$d/debian/source/format"
    printf 'Source: hello\nMaintainer: dmc test <t@example.invalid>\nBuild-Depends: make\n\nPackage: hello\nArchitecture: any\nDescription: hello\n hello\n' \
        >"$d/debian/control"
    printf 'hello (%s) unstable; urgency=low\n\n  * Test.\n\n -- dmc test <t@example.invalid>  Mon, 01 Jan 2024 00:00:00 +0000\n' "$v" \
        >"$d/debian/changelog"
    (cd "$work/src" && dpkg-source -q -b "hello-$v" >/dev/null 2>&1)
    GNUPGHOME=$work/uploader gpg --batch --quiet --yes --clearsign \
        -o "$pool/hello_$v.dsc" "$work/src/hello_$v.dsc"
    cp "$work/src/hello_$v.tar.xz" "$pool/"
}
source_package 1.0
publish "$srv" dmctest "$work/key" amd64 main
[ -s "$srv/dists/dmctest/main/source/Sources.xz" ] || fail "the test archive has no Sources index"

start_archive_server
cat >"$work/dmc.yaml" <<EOF
dist: dmctest
archs: [amd64]
mirrors:
  - url: $base/ok/dmc
    keyring: $work/key/key.gpg
source_keyring: $work/uploader/key.gpg
EOF
lock=$work/dmc.lock
dmc() { OUT_level=INFO "$DMC" --config "$work/dmc.yaml" --plugin-dir "$DMC_TEST_PLUGINS/source" "$@"; }
sources=$DMC_CACHEDIR/sources

# --- setup fetches and verifies the source, signed by the uploader --------------------------
dmc -a setup -t hello-src -e setup.sources >"$work/setup.out" 2>"$work/setup.err" \
    || fail "setup's sources step failed: $(cat "$work/setup.err")"
grep -q "hello_1.0.dsc: signed by a key of $work/uploader/key.gpg" "$work/setup.err" \
    || fail "the .dsc's signature was not checked: $(cat "$work/setup.err")"
grep -q "source hello 1.0 .*fetched and verified, 2 files" "$work/setup.err" \
    || fail "setup did not report the source: $(cat "$work/setup.err")"
cmp -s "$sources/$(sha256sum <"$srv/pool/main/h/hello/hello_1.0.tar.xz" | cut -d' ' -f1)" \
    "$srv/pool/main/h/hello/hello_1.0.tar.xz" || fail "the tarball is not in the cache by its SHA256"
grep -q "setup.buildenv" <<<"$(dmc -a setup -l -t hello-src)" || fail "setup -t lists no buildenv task"
pass "setup fetches a source package and checks the .dsc's signature"

# --- a .dsc signed by a key the keyring does not have is refused ----------------------------
DMC_CACHEDIR=$work/cache2 DMC_SOURCE_KEYRING=$work/stranger/key.gpg \
    expect_fail 1 "hello_1.0.dsc: not signed by a key of .*stranger/key.gpg; set source_keyring" -- dmc -a setup -t hello-src -e setup.sources
DMC_CACHEDIR=$work/cache2 DMC_SOURCE_KEYRING=$work/none.gpg \
    expect_fail 1 "source_keyring .*none.gpg does not exist" -- dmc -a setup -t hello-src -e setup.sources
pass "a .dsc signed by an unknown key, or a missing keyring, stops the run"

# --- the lock records the source, and builds follow it until update -------------------------
dmc -a update -t hello-src -e update.lock >"$work/update1.out" 2>"$work/update1.err" \
    || fail "update failed: $(cat "$work/update1.err")"
dsc_sha=$(sha256sum <"$srv/pool/main/h/hello/hello_1.0.dsc" | cut -d' ' -f1)
grep -q "source: {name: \"hello\", version: \"1.0\", url: \"$base/ok/dmc/pool/main/h/hello/hello_1.0.dsc\", sha256: \"$dsc_sha\"}" "$lock" \
    || fail "the lock does not record the source: $(cat "$lock")"
source_package 1.1
publish "$srv" dmctest "$work/key" amd64 main
DMC_CACHEDIR=$work/cache3 dmc -a setup -t hello-src -e setup.sources 2>"$work/setup3.err" \
    || fail "setup after 1.1 failed: $(cat "$work/setup3.err")"
grep -q "source hello 1.0 " "$work/setup3.err" || fail "the locked source 1.0 was not kept: $(cat "$work/setup3.err")"
dmc -a update -t hello-src -e update.lock >"$work/update2.out" 2>"$work/update2.err" \
    || fail "update failed: $(cat "$work/update2.err")"
grep -q "hello-src amd64: source hello 1.0 -> 1.1" "$work/update2.out" \
    || fail "update did not report the new source: $(cat "$work/update2.out")"
grep -q 'source: {name: "hello", version: "1.1"' "$lock" || fail "the lock did not take hello 1.1"
pass "the lock records the source; builds keep it; update takes the new version and says so"

# --- a tampered tarball is refused, and nothing of it is kept -------------------------------
tarball=$srv/pool/main/h/hello/hello_1.1.tar.xz
good_sha=$(sha256sum <"$tarball" | cut -d' ' -f1)
cp "$tarball" "$work/good.tar.xz"
printf 'x' >>"$tarball"
DMC_CACHEDIR=$work/cache4 expect_fail 1 "hello_1.1.tar.xz: more than the [0-9]+ bytes" -- \
    dmc -a setup -t hello-src -e setup.sources
cp "$work/good.tar.xz" "$tarball"
printf 'x' | dd of="$tarball" bs=1 seek=100 conv=notrunc status=none
DMC_CACHEDIR=$work/cache4 expect_fail 1 "hello_1.1.tar.xz.*(SHA256|sha256|hash)" -- \
    dmc -a setup -t hello-src -e setup.sources
[ -z "$(ls "$work/cache4/sources" | grep -v "^$(sha256sum <"$srv/pool/main/h/hello/hello_1.1.dsc" | cut -d' ' -f1)\$")" ] \
    || fail "a tampered tarball left something in the cache: $(ls -a "$work/cache4/sources")"
cp "$work/good.tar.xz" "$tarball"
DMC_CACHEDIR=$work/cache4 dmc -a setup -t hello-src -e setup.sources 2>/dev/null \
    || fail "the restored tarball was not taken"
cmp -s "$work/cache4/sources/$good_sha" "$tarball" || fail "the restored tarball is not cached"
pass "a tarball that does not match the Sources index stops the run and is not kept"
