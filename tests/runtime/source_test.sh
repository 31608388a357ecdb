#!/usr/bin/env bash
# Images built from source in the build environment dmc makes (mmdebstrap, cached in
# the test cache): nginx-src for amd64, served over HTTP with runc; lighttpd-src from
# Debian's source package, cross-built for arm64 and run under qemu-user. The lock
# records both sources; setup and update keep the environments. Bad input
# stops the build at its step with the log's last lines, and the environment stays
# usable: a wrong SHA256, a build dependency that does not exist, a failing compile.
set -euo pipefail
source "$DMC_SOURCE_DIR/tests/lib.sh"
source "$DMC_SOURCE_DIR/tests/runtime/lib.sh"
need_root
start_work
export DMC_LOCK_FILE=$work/dmc.lock
mkdir -p "$work/images"
build() {  # build TEMPLATE ARCH [more dmc args]
    local t=$1 a=$2
    shift 2
    "$DMC" -t "$t" -A "$a" --imagedir "$work/images" "$@"
}

# --- nginx-src for amd64 ---------------------------------------------------------------
out=$(build nginx-src amd64 2>"$work/nginx.log") || { cat "$work/nginx.log"; fail "dmc -t nginx-src failed"; }
grep -qE '^nginx-src .*/images/nginx-src:latest sha256:[0-9a-f]{64}$' <<<"$out" || fail "no digest: $out"
digest=$(awk '{print $3}' <<<"$out")
umoci unpack --image "$work/images/nginx-src:latest-amd64" "$work/src-bundle" >/dev/null || fail "umoci unpack"
root=$work/src-bundle/rootfs
[ -x "$root/usr/sbin/nginx" ] || fail "no nginx binary"
[ ! -e "$root/bin/sh" ] && [ ! -e "$root/usr/bin/sh" ] || fail "the image has a shell"
flags=$(chroot "$root" /usr/sbin/nginx -V 2>&1) || fail "nginx -V: $flags"
grep -q -- '--without-http_autoindex_module' <<<"$flags" || fail "not the reduced module set: $flags"
status=$root/var/lib/dpkg/status.d/nginx
grep -q '^Version: 1\.26\.3$' "$status" && grep -q '^X-Dmc-Source: .*nginx_1\.26\.3\.orig\.tar\.gz$' "$status" \
    || fail "the image does not record its source: $(cat "$status")"
grep -q '"package":"nginx"' "$root/var/lib/dmc/manifest" || fail "the file manifest does not name the source"
python3 - "$work/images/nginx-src-amd64.spdx.json" <<'PY' || fail "SBOM"
import json, sys
d = json.load(open(sys.argv[1]))
nginx = [p for p in d["packages"] if p["name"] == "nginx"]
assert nginx and nginx[0]["versionInfo"] == "1.26.3", nginx
# The image's source, as it is: the pinned tarball, not a Debian package.
assert nginx[0]["downloadLocation"].endswith("/pool/main/n/nginx/nginx_1.26.3.orig.tar.gz"), nginx
assert nginx[0]["externalRefs"][0]["referenceLocator"].startswith("pkg:generic/nginx@1.26.3?checksum=sha256:69ee2b23"), nginx
assert "built from source" in nginx[0]["sourceInfo"], nginx
assert any(f["fileName"] == "./usr/sbin/nginx" for f in d["files"])
PY
pass "nginx-src built: $digest, $(du -sk "$root" | cut -f1) KiB unpacked"

make_netns "dmc-src-$$"
run_image "$work/images/nginx-src:latest-amd64" "dmc-src-$$" "dmc-src-$$"
wait_for "dmc-src-$$" curl -sf http://127.0.0.1:8080/ || { cat "$work/dmc-src-$$.log"; fail "nginx-src does not answer"; }
page=$(ip netns exec "dmc-src-$$" curl -s -w '%{http_code}' http://127.0.0.1:8080/)
grep -q 'Welcome to nginx' <<<"$page" && [ "${page: -3}" = 200 ] || fail "not the default page: $page"
pid=$(runc state "dmc-src-$$" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
[ "$(stat -c %u /proc/$pid)" = 33 ] || fail "nginx-src does not run as www-data"
pass "nginx-src answers 200 with the default page, as www-data"

# Built once: a second run with nothing changed builds nothing.
out=$(build nginx-src amd64 2>"$work/again.log") || { cat "$work/again.log"; fail "second run"; }
[ "$(awk '{print $3}' <<<"$out")" = "$digest" ] || fail "another digest the second time: $out"
! grep -q 'build step' "$work/again.log" || fail "the second run built again"
pass "an unchanged build from source is not built again"

# --- bad input ---------------------------------------------------------------------------
stamps_before=$(find "$DMC_CACHEDIR/buildenv" -maxdepth 2 -name stamp | sort | xargs sha256sum)
config() {  # config FILE OPTION VALUE
    printf 'templates:\n  nginx-src:\n    %s: "%s"\n' "$2" "$3" >"$1"
}
config "$work/sha.yaml" sha256 "$(printf '0%.0s' {1..64})"
DMC_BUILDDIR=$work/b1 DMC_CONFIG=$work/sha.yaml expect_fail 1 \
    "nginx_1\.26\.3\.orig\.tar\.gz.*(SHA256|sha256)" -- build nginx-src amd64 --no-lock
pass "a tarball that does not match its pinned SHA256 is refused"
config "$work/deps.yaml" build_depends "dmc-no-such-package"
DMC_BUILDDIR=$work/b2 DMC_CONFIG=$work/deps.yaml expect_fail 1 \
    "nginx-src amd64: the build dependency 'dmc-no-such-package' is in no index of trixie" -- build nginx-src amd64 --no-lock
# One the indexes have, but not in a version that exists: apt in mmdebstrap says so.
config "$work/deps.yaml" build_depends "make (>= 999)"
DMC_BUILDDIR=$work/b2 DMC_CONFIG=$work/deps.yaml expect_fail 1 \
    "the build environment for trixie amd64 could not be made .*buildenv\.log" -- build nginx-src amd64 --no-lock
grep -q '999' "$work/b2/trixie/amd64/nginx-src/buildenv.log" || fail "the log does not name the dependency"
pass "a build dependency that does not exist stops the build at once, one that cannot be met with mmdebstrap's log"
config "$work/cc.yaml" configure_flags "--with-cc-opt=-Dngx_http_core_module=1"
DMC_BUILDDIR=$work/b3 DMC_CONFIG=$work/cc.yaml build nginx-src amd64 --no-lock >/dev/null 2>"$work/cc.log" \
    && fail "a broken compile did not fail"
grep -q "build step 'build' failed (exit [0-9]*); its log: .*source-build.log" "$work/cc.log" || fail "no failing step named: $(tail -5 "$work/cc.log")"
grep -q 'error:' "$work/cc.log" || fail "the log's last lines are not shown: $(tail -20 "$work/cc.log")"
pass "a failing compile stops at its step and shows the log's last lines"
[ "$(find "$DMC_CACHEDIR/buildenv" -maxdepth 2 -name stamp | sort | xargs sha256sum)" = "$stamps_before" ] \
    || fail "a failure changed the cached build environments"
out=$(build nginx-src amd64 2>"$work/after.log") || { cat "$work/after.log"; fail "build after the failures"; }
[ "$(awk '{print $3}' <<<"$out")" = "$digest" ] || fail "another digest after the failures: $out"
! grep -q 'making the build environment' "$work/after.log" || fail "the environment was made again"
pass "the build environment stays usable after the failures"

# --- lighttpd-src, cross-built for arm64 ----------------------------------------------------
out=$(build lighttpd-src arm64 2>"$work/lighttpd.log") || { cat "$work/lighttpd.log"; fail "dmc -t lighttpd-src -A arm64 failed"; }
umoci unpack --image "$work/images/lighttpd-src:latest-arm64" "$work/arm64" >/dev/null || fail "umoci unpack arm64"
arm=$work/arm64/rootfs
readelf -h "$arm/usr/sbin/lighttpd" | grep -q AArch64 || fail "not an arm64 lighttpd"
version=$(qemu-aarch64-static -L "$arm" "$arm/usr/sbin/lighttpd" -v 2>&1) || fail "arm64 lighttpd: $version"
grep -q '^lighttpd/1\.4\.' <<<"$version" || fail "arm64 lighttpd says: $version"
grep -q '^Version: 1\.4\.[0-9]*-' "$arm/var/lib/dpkg/status.d/lighttpd" \
    && grep -q '^X-Dmc-Source: .*/pool/main/l/lighttpd/lighttpd_1\.4\.[0-9]*-[0-9.]*\.dsc$' "$arm/var/lib/dpkg/status.d/lighttpd" \
    || fail "not built from Debian's source package: $(cat "$arm/var/lib/dpkg/status.d/lighttpd")"
checked=$(qemu-aarch64-static -L "$arm" "$arm/usr/sbin/lighttpd" -t -m "$arm/usr/lib/lighttpd" \
    -f "$arm/etc/lighttpd/lighttpd.conf" 2>&1) || fail "the image's configuration: $checked"
grep -q 'Syntax OK' <<<"$checked" || fail "lighttpd -t says: $checked"
python3 - "$work/images/lighttpd-src-arm64.cdx.json" <<'PY' || fail "lighttpd-src's CycloneDX SBOM does not name its source"
import json, sys
d = json.load(open(sys.argv[1]))
c = [c for c in d["components"] if c["name"] == "lighttpd"][0]
assert c["purl"].startswith("pkg:deb/debian/lighttpd@1.4.") and "arch=source" in c["purl"], c["purl"]
ref = c["externalReferences"][0]
assert ref["type"] == "source-distribution" and ref["url"].endswith(".dsc"), ref
assert len(ref["hashes"][0]["content"]) == 64, ref
PY
pass "lighttpd cross-built for arm64 runs under qemu: $version"

# --- the lock records the sources; setup and update keep the environments -------------------
grep -q 'source: {name: "nginx", version: "1.26.3", url: ".*/pool/main/n/nginx/nginx_1.26.3.orig.tar.gz", sha256: "69ee2b23' "$DMC_LOCK_FILE" \
    || fail "the lock does not record nginx-src's tarball: $(grep -A2 nginx-src "$DMC_LOCK_FILE" | head -5)"
grep -q 'source: {name: "lighttpd", version: "1\.4\.[0-9]*-[0-9.]*", url: ".*/pool/main/l/lighttpd/lighttpd_.*\.dsc", sha256: "[0-9a-f]\{64\}"}' "$DMC_LOCK_FILE" \
    || fail "the lock does not record lighttpd's source package"
OUT_level=NOTICE "$DMC" -a setup -t nginx-src -A amd64 >/dev/null 2>"$work/setup.log" \
    || { cat "$work/setup.log"; fail "setup -t nginx-src"; }
grep -q '1 sources fetched and verified' "$work/setup.log" && grep -q '0 build environments made, 1 ready already' "$work/setup.log" \
    || fail "setup did not find the source and the environment: $(cat "$work/setup.log")"
OUT_level=NOTICE "$DMC" -a update -t lighttpd-src -A arm64 >/dev/null 2>"$work/update.log" \
    || { cat "$work/update.log"; fail "update -t lighttpd-src"; }
grep -q '0 build environments made, 1 current' "$work/update.log" \
    || fail "update did not find the environment current: $(cat "$work/update.log")"
pass "the lock records both sources; setup and update find their environments made and current"
