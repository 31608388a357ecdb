#!/usr/bin/env bash
# The nginx image from the real trixie archive, amd64 and arm64: built without
# root, accepted by skopeo and umoci, reproducible, run with runc and answering
# HTTP; the arm64 nginx runs under qemu-user.
set -euo pipefail
source "$DMC_SOURCE_DIR/tests/lib.sh"
source "$DMC_SOURCE_DIR/tests/runtime/lib.sh"
need_root

start_work

# Build as an unprivileged user: no root is needed for any of it.
chmod 755 "$work"
mkdir -p "$DMC_CACHEDIR" "$work/images"
chown -R nobody "$work" "$DMC_CACHEDIR"
build() {  # build IMAGEDIR [more dmc args]; with docker archives unless ARCHIVES=0
    local dir=$1; shift
    setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME="$work/home" \
        DMC_CACHEDIR="$DMC_CACHEDIR" DMC_BUILDDIR="$DMC_BUILDDIR" DMC_DOCKER_ARCHIVE="${ARCHIVES:-1}" \
        "$DMC" -t nginx -A amd64,arm64 --imagedir "$dir" "$@"
}
out=$(build "$work/images" 2>"$work/build.log") || { cat "$work/build.log"; fail "dmc -t nginx failed"; }
grep -qE '^nginx .*/images/nginx:latest sha256:[0-9a-f]{64}$' <<<"$out" || fail "no index digest printed: $out"
digest=$(awk '{print $3}' <<<"$out")
layout=$work/images/nginx
pass "built as nobody: $digest"

# Independent clients read the layout.
raw=$(skopeo inspect --raw "oci:$layout:latest")
python3 - "$raw" <<'PY' || fail "the index is not what it should be: $raw"
import json, sys
index = json.loads(sys.argv[1])
assert index["mediaType"] == "application/vnd.oci.image.index.v1+json"
archs = sorted(m["platform"]["architecture"] for m in index["manifests"])
assert archs == ["amd64", "arm64"], archs
PY
config=$(skopeo inspect --config "oci:$layout:latest-amd64")
python3 - "$config" <<'PY' || fail "image config: $config"
import json, sys
c = json.loads(sys.argv[1])
assert c["architecture"] == "amd64" and c["os"] == "linux"
cfg = c["config"]
assert cfg["Entrypoint"][0] == "/usr/sbin/nginx", cfg
assert cfg["User"] == "www-data", cfg
assert "8080/tcp" in cfg["ExposedPorts"], cfg
assert cfg["StopSignal"] == "SIGQUIT", cfg
assert cfg["Labels"]["org.opencontainers.image.version"].startswith("1."), cfg["Labels"]
assert len(c["rootfs"]["diff_ids"]) == 1, "not a single layer"
PY
skopeo inspect --config "oci:$layout:latest-arm64" | grep -q '"architecture": *"arm64"' || fail "arm64 config"
skopeo inspect "docker-archive:$work/images/nginx-amd64.docker.tar" >/dev/null || fail "docker archive not readable"
pass "skopeo reads the layout and the docker archive"
if command -v podman >/dev/null; then
    loaded=$(podman --root "$work/podman" --runroot "$work/podman-run" --storage-driver vfs \
        load -i "$work/images/nginx-amd64.docker.tar" 2>&1) || fail "podman load: $loaded"
    grep -q 'dmc/nginx:latest-amd64' <<<"$loaded" || fail "podman load did not tag the image: $loaded"
    pass "podman load accepts the docker archive"
fi

# Micro: no shell, no ls; the scanner metadata and the SBOM are there.
umoci unpack --image "$layout:latest-amd64" "$work/bundle-nginx" >/dev/null || fail "umoci unpack"
root=$work/bundle-nginx/rootfs
[ ! -e "$root/usr/bin/sh" ] && [ ! -e "$root/bin/sh" ] && [ ! -e "$root/usr/bin/ls" ] || fail "the micro image has a shell or ls"
[ -x "$root/usr/sbin/nginx" ] || fail "no nginx binary"
grep -q '^Package: nginx$' "$root/var/lib/dpkg/status.d/nginx" || fail "no status.d entry for nginx"
grep -q 'usr/sbin/nginx' "$root/var/lib/dpkg/status.d/nginx.md5sums" || fail "no md5sums for nginx"
[ "$(stat -c %a "$root/tmp")" = 1777 ] || fail "/tmp is not 1777"
grep -q '^www-data:x:33:33:' "$root/etc/passwd" || fail "no www-data user"
grep -q '^ID=debian' "$root/etc/os-release" || fail "no os-release"
python3 - "$work/images/nginx-amd64.spdx.json" <<'PY' || fail "SBOM"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["spdxVersion"] == "SPDX-2.3"
names = {p["name"] for p in d["packages"]}
assert {"nginx", "libc6"} <= names, names
assert any(f["fileName"] == "./usr/sbin/nginx" for f in d["files"])
PY
size=$(du -sk "$root" | cut -f1)
pass "micro image content (${size} KiB)"

# It runs and serves the default page.
make_netns "dmc-nginx-$$"
run_image "$layout:latest-amd64" "dmc-nginx-$$" "dmc-nginx-$$"
wait_for "dmc-nginx-$$" curl -sf http://127.0.0.1:8080/ || { cat "$work/dmc-nginx-$$.log"; fail "nginx does not answer"; }
page=$(ip netns exec "dmc-nginx-$$" curl -s -w '%{http_code}' http://127.0.0.1:8080/)
grep -q 'Welcome to nginx' <<<"$page" || fail "not the default page: $page"
[ "${page: -3}" = 200 ] || fail "HTTP ${page: -3}"
sleep 0.5
grep -q '"GET / HTTP/1.1" 200' "$work/dmc-nginx-$$.log" || fail "the access log does not reach stdout"
pid=$(runc state "dmc-nginx-$$" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
[ "$(stat -c %u /proc/$pid)" = 33 ] || fail "nginx does not run as www-data"
pass "nginx answers 200 with the default page, as www-data"

# The arm64 closure is complete: its nginx runs under qemu-user.
umoci unpack --image "$layout:latest-arm64" "$work/arm64" >/dev/null || fail "umoci unpack arm64"
file "$work/arm64/rootfs/usr/sbin/nginx" 2>/dev/null | grep -q aarch64 || readelf -h "$work/arm64/rootfs/usr/sbin/nginx" | grep -q AArch64 || fail "not an arm64 nginx"
version=$(qemu-aarch64-static -L "$work/arm64/rootfs" "$work/arm64/rootfs/usr/sbin/nginx" -v 2>&1) || fail "arm64 nginx: $version"
grep -q 'nginx version: nginx/1\.' <<<"$version" || fail "arm64 nginx says: $version"
pass "arm64 nginx runs under qemu: $version"

# -T adds busybox's shell and tools; --small keeps whole packages with a dpkg database.
DMC_BUILDDIR=$work/build-tools "$DMC" -t nginx -A amd64 -T --imagedir "$work/tools" >/dev/null 2>"$work/tools.log" \
    || { cat "$work/tools.log"; fail "dmc -T failed"; }
umoci unpack --image "$work/tools/nginx:latest-amd64" "$work/tools-bundle" >/dev/null || fail "umoci unpack -T"
[ "$(chroot "$work/tools-bundle/rootfs" /bin/sh -c 'ls /usr/sbin/nginx')" = /usr/sbin/nginx ] \
    || fail "-T gives no working shell and ls"
DMC_BUILDDIR=$work/build-small "$DMC" -t nginx -A amd64 --small --imagedir "$work/small" >/dev/null 2>"$work/small.log" \
    || { cat "$work/small.log"; fail "dmc --small failed"; }
umoci unpack --image "$work/small/nginx:latest-amd64" "$work/small-bundle" >/dev/null || fail "umoci unpack --small"
small=$work/small-bundle/rootfs
grep -q '^Package: nginx$' "$small/var/lib/dpkg/status" || fail "--small has no dpkg status"
[ -f "$small/var/lib/dpkg/info/nginx.list" ] || fail "--small has no file lists"
[ -x "$small/usr/sbin/ip" ] || fail "--small lacks whole packages (iproute2's ip)"
[ ! -e "$small/usr/share/doc/nginx" ] && [ ! -e "$small/usr/share/man" ] || fail "--small keeps docs or man pages"
pass "-T adds a shell; --small keeps whole packages with a dpkg database, without docs"

# Reproducible: another image dir, build dir and rootfs dir give the same digest.
out2=$(DMC_BUILDDIR=$work/build2 DMC_ROOTFSDIR=$work/rootfs2 build "$work/images2" 2>"$work/build2.log") \
    || { cat "$work/build2.log"; fail "second build failed"; }
[ "$(awk '{print $3}' <<<"$out2")" = "$digest" ] || fail "not reproducible: $digest vs $out2"
cmp "$work/images/nginx-amd64.docker.tar" "$work/images2/nginx-amd64.docker.tar" || fail "docker archives differ"
pass "reproducible digest"

# A docker archive holds the layout's bytes again: written only when asked for. Without
# docker_archive an unchanged build keeps its layout and leaves no archive behind; asked
# again, it writes the archive without packing anew.
before=$(du -sb "$work/images2" | cut -f1)
out3=$(DMC_BUILDDIR=$work/build2 DMC_ROOTFSDIR=$work/rootfs2 ARCHIVES=0 build "$work/images2" 2>"$work/build3.log") \
    || { cat "$work/build3.log"; fail "a build without docker archives failed"; }
[ "$(awk '{print $3}' <<<"$out3")" = "$digest" ] || fail "without archives, another digest: $out3"
[ -z "$(find "$work/images2" -name '*.docker.tar')" ] || fail "docker archives are left without docker_archive"
after=$(du -sb "$work/images2" | cut -f1)
DMC_BUILDDIR=$work/build2 DMC_ROOTFSDIR=$work/rootfs2 build "$work/images2" >/dev/null 2>"$work/build4.log" \
    || { cat "$work/build4.log"; fail "asking for the archives again failed"; }
cmp "$work/images/nginx-amd64.docker.tar" "$work/images2/nginx-amd64.docker.tar" || fail "the archive written again differs"
pass "docker archives only when asked for: the image directory holds $after bytes without them, $before with"

# Each layer is written as soon as its configure step ends, while the run goes on
# (amd64's while arm64's packages are unpacked), and it is the layer arm64 alone gives.
OUT_level=INFO DMC_BUILDDIR=$work/build-both "$DMC" -t nginx -A amd64,arm64 --imagedir "$work/both" \
    >/dev/null 2>"$work/both.log" || { cat "$work/both.log"; fail "the two-arch build failed"; }
for arch in amd64 arm64; do
    grep -q "nginx-$arch: its layer was written as soon as its configure step ended" "$work/both.log" \
        || fail "$arch's layer was not written early: $(grep -E 'TASK|pack' "$work/both.log" | tail -5)"
done
DMC_BUILDDIR=$work/build-arm64 "$DMC" -t nginx -A arm64 --imagedir "$work/arm64-alone" \
    >/dev/null 2>"$work/arm64.log" || { cat "$work/arm64.log"; fail "the arm64 build failed"; }
cmp -s <(skopeo inspect --raw "oci:$work/both/nginx:latest-arm64") \
    <(skopeo inspect --raw "oci:$work/arm64-alone/nginx:latest-arm64") \
    || fail "arm64's manifest differs when its layer is written during amd64's build"
pass "the layers written while the run goes on are the ones each arch alone gives"

