#!/usr/bin/env bash
# What maintainer scripts would have done, done without running them, against a small
# archive signed and served here. Its packages are made of programs compiled here and
# this machine's own glibc: libdemo-a and libdemo-b each offer libdemo.so.1 through
# update-alternatives in their postinst (priorities 10 and 50, with a slave data file),
# libextra1's library lies in a directory only /etc/ld.so.conf.d names, and loopy's
# postinst calls update-alternatives in a loop. Checked: the links auto mode gives,
# the loader cache that glibc's ldconfig reads, the programs running under runc and
# loading what they should, a template's pin, a pin to no choice, and an image that
# needs no loader files getting none.
set -euo pipefail
source "$DMC_SOURCE_DIR/tests/lib.sh"
here=$DMC_SOURCE_DIR/tests/integration
source "$here/make_archive.sh"
source "$DMC_SOURCE_DIR/tests/runtime/lib.sh"
need_root
for tool in python3 gpg gpgv gpgconf apt-ftparchive dpkg-deb xz gcc aarch64-linux-gnu-gcc qemu-aarch64-static \
    runc umoci ldconfig; do
    command -v "$tool" >/dev/null || { echo "skipped: $tool is not installed"; exit 77; }
done
[ "$(dpkg --print-architecture)" = amd64 ] || { echo "skipped: the packages are built for amd64"; exit 77; }
work=$(mktemp -d)
trap 'cleanup_containers; stop_archive_server; stop_keys "$work/key"; rm -rf "$work"' EXIT
unset DMC_PLUGIN_PATH DMC_ARCHS DMC_DIST DMC_MIRROR DMC_IMAGEDIR DMC_ROOTFSDIR DMC_BUILDDIR \
    DMC_LOCK_FILE SOURCE_DATE_EPOCH GNUPGHOME OUT_level LOG_level LOG_dir || true
export DMC_CACHEDIR=$work/cache IMAGEDIR=$work/images DMC_BUILDDIR=$work/build HOME=$work/home
ma=x86_64-linux-gnu

# --- the packages, for amd64 (compiled here on this machine's glibc) and arm64 --------------
src=$work/src
mkdir -p "$src"
cat >"$src/demo.c" <<'EOF'
const char *flavour(void) { return FLAVOUR; }
EOF
cat >"$src/extra.c" <<'EOF'
int extra(void) { return 42; }
EOF
cat >"$src/tool.c" <<'EOF'
#include <stdio.h>
#include <string.h>
#include <unistd.h>
const char *flavour(void);
int extra(void);
int main(void) {
    char data[64] = "none";
    FILE *f = fopen("/usr/share/demo/flavour", "r");
    if (f) { if (!fgets(data, sizeof data, f)) data[0] = 0; fclose(f); }
    data[strcspn(data, "\n")] = 0;
    printf("flavour %s extra %d data %s uid %d\n", flavour(), extra(), data, (int)getuid());
    return 0;
}
EOF
cat >"$src/plain.c" <<'EOF'
#include <stdio.h>
const char *flavour(void);
int main(void) { printf("plain %s\n", flavour()); return 0; }
EOF
debs=$work/debs
stage() { rm -rf "$work/stage/$1"; mkdir -p "$work/stage/$1/DEBIAN"; echo "$work/stage/$1"; }
# packages ARCH CC TRIPLET LIBC_DIR LOADER LOADER_LINK: every package of the test for ARCH
packages() {
    local arch=$1 cc=$2 t=$3 libc=$4 loader=$5 loader_link=$6 out=$src/$1 s f prio
    mkdir -p "$out"
    "$cc" -shared -fPIC -Wl,-soname,libdemo.so.1 -DFLAVOUR='"a"' -o "$out/libdemo-a.so" "$src/demo.c"
    "$cc" -shared -fPIC -Wl,-soname,libdemo.so.1 -DFLAVOUR='"b"' -o "$out/libdemo-b.so" "$src/demo.c"
    "$cc" -shared -fPIC -Wl,-soname,libextra.so.1 -o "$out/libextra.so" "$src/extra.c"
    ln -sf libdemo-a.so "$out/libdemo.so"
    "$cc" -o "$out/demo-tool" "$src/tool.c" -L"$out" -ldemo -lextra
    "$cc" -o "$out/demo-plain" "$src/plain.c" -L"$out" -ldemo

    s=$(stage libc6)
    mkdir -p "$s/usr/lib/$t" "$s$(dirname "$loader_link")"
    cp -L "$libc/libc.so.6" "$libc/$loader" "$s/usr/lib/$t/"
    ln -s "$(realpath -m --relative-to="$(dirname "$loader_link")" "/usr/lib/$t/$loader")" "$s$loader_link"
    build_deb "$debs" "$s" libc6 2.36-1dmc "$arch"
    s=$(stage base-files)
    mkdir -p "$s/usr/lib"
    printf 'PRETTY_NAME="dmc test"\nID=debian\n' >"$s/usr/lib/os-release"
    build_deb "$debs" "$s" base-files 13.8 "$arch"
    for f in a b; do
        s=$(stage libdemo-$f)
        mkdir -p "$s/usr/lib/$t/demo-$f" "$s/usr/share/demo"
        cp "$out/libdemo-$f.so" "$s/usr/lib/$t/demo-$f/libdemo.so.1"
        echo "$f" >"$s/usr/share/demo/flavour-$f"
        prio=$([ $f = a ] && echo 10 || echo 50)
        cat >"$s/DEBIAN/postinst" <<END
#!/bin/sh
set -e
MA=\$(dpkg-architecture -qDEB_HOST_MULTIARCH)
if [ "\$1" = configure ]; then
    update-alternatives --install /usr/lib/\$MA/libdemo.so.1 libdemo.so.1 \\
        "/usr/lib/\$MA/demo-$f/libdemo.so.1" $prio \\
        --slave /usr/share/demo/flavour demo-flavour /usr/share/demo/flavour-$f
fi
END
        chmod 0755 "$s/DEBIAN/postinst"
        build_deb "$debs" "$s" libdemo-$f 1.0 "$arch" "Provides: libdemo.so.1" "Depends: libc6"
    done
    # libextra1's library lies in a directory only its ld.so.conf.d file names; its
    # postinst makes the users the program may run as.
    s=$(stage libextra1)
    mkdir -p "$s/opt/extra/lib" "$s/etc/ld.so.conf.d"
    cp "$out/libextra.so" "$s/opt/extra/lib/libextra.so.1"
    echo /opt/extra/lib >"$s/etc/ld.so.conf.d/extra.conf"
    cat >"$s/DEBIAN/postinst" <<'END'
#!/bin/sh
set -e
if ! getent passwd demo >/dev/null; then
    adduser --system --group --home /var/lib/demo --quiet demo
fi
groupadd -r -f demogrp
getent passwd svc >/dev/null || useradd -r -M -s /usr/sbin/nologin svc
END
    chmod 0755 "$s/DEBIAN/postinst"
    build_deb "$debs" "$s" libextra1 1.0 "$arch" "Depends: libc6"
    s=$(stage loopy)
    mkdir -p "$s/usr/share/loopy"
    printf '#!/bin/sh\nfor v in one two; do update-alternatives --install /usr/bin/$v $v /usr/share/loopy/$v 5; done\n' \
        >"$s/DEBIAN/postinst"
    chmod 0755 "$s/DEBIAN/postinst"
    build_deb "$debs" "$s" loopy 1.0 "$arch"
    # divert-holder diverts libdemo-b's data file away and puts its own in its place.
    s=$(stage divert-holder)
    mkdir -p "$s/usr/share/demo"
    echo diverted >"$s/usr/share/demo/flavour-b"
    printf '#!/bin/sh\nset -e\ndpkg-divert --package divert-holder --add --rename \\\n  --divert /usr/share/demo/flavour-b.orig /usr/share/demo/flavour-b\n' \
        >"$s/DEBIAN/preinst"
    chmod 0755 "$s/DEBIAN/preinst"
    build_deb "$debs" "$s" divert-holder 1.0 "$arch"
    s=$(stage demo-tool)
    mkdir -p "$s/usr/bin"
    cp "$out/demo-tool" "$out/demo-plain" "$s/usr/bin/"
    build_deb "$debs" "$s" demo-tool 1.0 "$arch" "Depends: libc6, libdemo-a, libdemo-b, libextra1, loopy"
}
packages amd64 gcc "$ma" "/lib/$ma" ld-linux-x86-64.so.2 /usr/lib64/ld-linux-x86-64.so.2
# arm64 from Debian's cross compiler and its arm64 glibc, run under qemu
packages arm64 aarch64-linux-gnu-gcc aarch64-linux-gnu /usr/aarch64-linux-gnu/lib \
    ld-linux-aarch64.so.1 /usr/lib/ld-linux-aarch64.so.1

make_key "$work/key"
srv=$work/srv/dmc
for d in "$debs"/*.deb; do add_to_pool "$srv" main "$d"; done
publish "$srv" dmctest "$work/key" "amd64 arm64" main
start_archive_server

plugins=$work/plugins
mkdir -p "$plugins"
cp "$DMC_TEST_PLUGINS/effects/effects.so" "$plugins/"
# config NAME [OPTION: VALUE...]: a config file for the effects template with those options
# (packages demo-tool and paths /usr/share/demo/flavour unless given)
config() {
    local name=$1
    shift
    {
        echo "dist: dmctest"
        echo "archs: [amd64]"
        echo "mirrors:"
        echo "  - url: $base/ok/dmc"
        echo "    keyring: $work/key/key.gpg"
        echo "lock_file: $work/$name.lock"
        echo "templates:"
        echo "  effects:"
        local o
        for o in "$@"; do echo "    $o"; done
        # the defaults, unless given
        [[ " $* " == *" packages: "* ]] || echo "    packages: demo-tool"
        [[ " $* " == *" paths: "* ]] || echo "    paths: /usr/share/demo/flavour"
    } >"$work/$name.yaml"
}
# build NAME [ARCH]: the image with NAME.yaml for ARCH (amd64); stdout in NAME.out,
# stderr in NAME.err, the image unpacked in rootfs-NAME
build() {
    local arch=${2:-amd64}
    OUT_level=INFO "$DMC" --config "$work/$1.yaml" --plugin-dir "$plugins" -t effects -A "$arch" \
        --imagedir "$work/images-$1" >"$work/$1.out" 2>"$work/$1.err" || fail "$1: $(cat "$work/$1.err")"
    rm -rf "$work/rootfs-$1"
    umoci raw unpack --image "$work/images-$1/effects:latest" "$work/rootfs-$1" >/dev/null 2>&1 \
        || fail "umoci cannot unpack the image of $1"
}
# run NAME: the image of NAME run once under runc; prints what it printed
run() {
    run_image "$work/images-$1/effects:latest" "effects-$1" effects
    local i
    for i in $(seq 1 40); do
        [ "$(container_status "effects-$1")" = running ] || break
        sleep 0.25
    done
    runc delete -f "effects-$1" >/dev/null 2>&1 || true
    cat "$work/effects-$1.log"
}
make_netns effects

# --- auto mode: the highest priority and its slave; the loader cache ---------------------
config auto "users: demo svc" "user: demo"
build auto
r=$work/rootfs-auto
[ "$(readlink "$r/usr/lib/$ma/libdemo.so.1")" = /etc/alternatives/libdemo.so.1 ] \
    || fail "libdemo.so.1 is not the alternatives link: $(ls -l "$r/usr/lib/$ma/")"
[ "$(readlink "$r/etc/alternatives/libdemo.so.1")" = "/usr/lib/$ma/demo-b/libdemo.so.1" ] \
    || fail "auto mode did not take priority 50: $(readlink "$r/etc/alternatives/libdemo.so.1")"
[ -f "$r/usr/lib/$ma/demo-b/libdemo.so.1" ] || fail "the chosen library is not in the image"
[ ! -e "$r/usr/lib/$ma/demo-a/libdemo.so.1" ] || fail "the library not chosen is in the image"
grep -q "effects amd64: alternative libdemo.so.1: /usr/lib/$ma/libdemo.so.1 -> /usr/lib/$ma/demo-b/libdemo.so.1 (priority 50, from libdemo-b)" \
    "$work/auto.err" || fail "the log does not say which choice was taken: $(grep alternative "$work/auto.err")"
grep -q "loopy's postinst runs \`update-alternatives --install ? ? ? 5\` (line 2)" \
    "$work/auto.err" || fail "the loop's command is not reported: $(grep loopy "$work/auto.err")"
python3 - "$work/images-auto/effects-amd64.spdx.json" "$work/images-auto/effects-amd64.cdx.json" "$ma" <<'PY' \
    || fail "the SBOMs do not note the scripts' effects"
import json, sys
spdx, cdx, ma = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
taken = f"alternative libdemo.so.1: /usr/lib/{ma}/libdemo.so.1 -> /usr/lib/{ma}/demo-b/libdemo.so.1 (priority 50, from libdemo-b)"
assert "- " + taken + "\n" in spdx["comment"], spdx.get("comment")
assert "- not reproduced: loopy's postinst runs `update-alternatives --install ? ? ? 5`" in spdx["comment"]
props = cdx["metadata"]["properties"]
assert {"name": "dmc:script-effect", "value": taken} in props, props
assert any(p["name"] == "dmc:script-effect-not-reproduced" and "loopy" in p["value"] for p in props)
PY
pass "auto mode takes libdemo-b (priority 50) through /etc/alternatives; an unreadable call is reported, in the log and the SBOMs"

[ -f "$r/etc/ld.so.cache" ] || fail "no /etc/ld.so.cache though libextra lies in an ld.so.conf.d directory"
ldconfig -p -C "$r/etc/ld.so.cache" >"$work/ldconfig.out" || fail "ldconfig cannot read dmc's cache"
grep -qE "^\s+libextra\.so\.1 \(libc6,x86-64\) => /opt/extra/lib/libextra\.so\.1$" "$work/ldconfig.out" \
    || fail "ldconfig -p does not list libextra: $(cat "$work/ldconfig.out")"
[ "$(cat "$r/etc/ld.so.conf")" = "include /etc/ld.so.conf.d/*.conf" ] || fail "no Debian ld.so.conf"
[ "$(cat "$r/etc/ld.so.conf.d/extra.conf")" = /opt/extra/lib ] || fail "extra.conf is not in the image"
grep -q '"path":"/etc/ld.so.cache".*"written_by":"dmc"' "$r/var/lib/dmc/manifest" \
    || fail "the file manifest does not name dmc as the cache's writer"
pass "the image's ld.so.cache lists libextra as glibc's ldconfig reads it"

out=$(run auto)
[ "$out" = "flavour b extra 42 data b uid 100" ] || fail "the program printed: $out"
pass "the program runs under runc as demo, loading libdemo-b through its links and libextra through the cache"

# libextra1's postinst: adduser --system --group (from 100 up), groupadd -r and useradd -r
# (from 999 down, useradd's group taking the next gid as demogrp has 999).
grep -qx 'demo:x:100:100:demo:/var/lib/demo:/usr/sbin/nologin' "$r/etc/passwd" \
    || fail "demo is not 100:100: $(cat "$r/etc/passwd")"
grep -qx 'svc:x:999:998:svc:/home/svc:/usr/sbin/nologin' "$r/etc/passwd" || fail "svc is not 999:998"
grep -qx 'demo:x:100:' "$r/etc/group" && grep -qx 'svc:x:998:' "$r/etc/group" \
    || fail "the users' groups: $(cat "$r/etc/group")"
grep -q "system user demo (100:100) by libextra1's postinst" "$work/auto.err" || fail "the log does not name the users"
pass "the users libextra1's postinst creates have the ids adduser and useradd give them"

# Without the cache the loader would not find libextra: the same image less the cache fails.
rm -rf "$work/bundle-effects-nocache"
umoci unpack --image "$work/images-auto/effects:latest" "$work/bundle-effects-nocache" >/dev/null
rm "$work/bundle-effects-nocache/rootfs/etc/ld.so.cache"
out=$(run nocache 2>&1 || true)
grep -q "libextra.so.1: cannot open shared object file" <<<"$out" \
    || fail "without the cache the program still ran: $out"
pass "the same image without the cache cannot load libextra"

# --- a diversion ----------------------------------------------------------------------------
config diverted "paths: /usr/share/demo/flavour /usr/share/demo/flavour-b.orig" \
    "packages: demo-tool divert-holder"
build diverted
[ "$(cat "$work/rootfs-diverted/usr/share/demo/flavour-b.orig")" = b ] || fail "libdemo-b's file was not diverted"
out=$(run diverted)
[ "$out" = "flavour b extra 42 data diverted uid 0" ] || fail "the diverted image printed: $out"
grep -q "diversion /usr/share/demo/flavour-b -> /usr/share/demo/flavour-b.orig (held by divert-holder)" \
    "$work/diverted.err" || fail "the log does not name the diversion"
pass "a diversion in a preinst sends the other package's file to its diverted name"

# --- a pin -------------------------------------------------------------------------------
config pinned "pin: libdemo.so.1=/usr/lib/$ma/demo-a/libdemo.so.1"
build pinned
[ "$(readlink "$work/rootfs-pinned/etc/alternatives/libdemo.so.1")" = "/usr/lib/$ma/demo-a/libdemo.so.1" ] \
    || fail "the pin was not followed"
[ "$(readlink "$work/rootfs-pinned/etc/alternatives/demo-flavour")" = /usr/share/demo/flavour-a ] \
    || fail "the slave did not follow the pinned master"
out=$(run pinned)
[ "$out" = "flavour a extra 42 data a uid 0" ] || fail "the pinned image printed: $out"
grep -q "pinned by the template, from libdemo-a" "$work/pinned.err" || fail "the log does not say the pin"
pass "a pinned choice wins over priority, its slave with it"

config wrongpin "pin: libdemo.so.1=/usr/lib/$ma/demo-c/libdemo.so.1"
rc=0
"$DMC" --config "$work/wrongpin.yaml" --plugin-dir "$plugins" -t effects -A amd64 \
    --imagedir "$work/images-wrongpin" >"$work/wrongpin.out" 2>"$work/wrongpin.err" || rc=$?
[ "$rc" = 1 ] || fail "a pin to no choice exited $rc"
grep -q "template effects (amd64): the alternative libdemo.so.1 is pinned to /usr/lib/$ma/demo-c/libdemo.so.1, which is not one of its choices (/usr/lib/$ma/demo-a/libdemo.so.1, /usr/lib/$ma/demo-b/libdemo.so.1)" \
    "$work/wrongpin.err" || fail "the refusal does not name the choices: $(cat "$work/wrongpin.err")"
[ ! -e "$work/images-wrongpin/effects" ] || fail "a refused build left an image"
pass "a pin to no choice stops the build, naming the choices there are"

# --- an image whose libraries are all in default directories has no loader files ----------
config plain "program: /usr/bin/demo-plain"
build plain
[ ! -e "$work/rootfs-plain/etc/ld.so.cache" ] && [ ! -e "$work/rootfs-plain/etc/ld.so.conf" ] \
    || fail "an image that needs no loader files has them"
out=$(run plain)
[ "$out" = "plain b" ] || fail "the plain image printed: $out"
pass "an image without such libraries gets no ld.so.cache, and runs"

# --- arm64, built on amd64 and run under qemu ----------------------------------------------
config arm64
build arm64 arm64
r=$work/rootfs-arm64
[ "$(readlink "$r/usr/lib/aarch64-linux-gnu/libdemo.so.1")" = /etc/alternatives/libdemo.so.1 ] \
    && [ "$(readlink "$r/etc/alternatives/libdemo.so.1")" = /usr/lib/aarch64-linux-gnu/demo-b/libdemo.so.1 ] \
    || fail "arm64: libdemo.so.1 is not libdemo-b's through the alternatives links"
ldconfig -p -C "$r/etc/ld.so.cache" | grep -qE "^\s+libextra\.so\.1 \(libc6,AArch64\) => /opt/extra/lib/libextra\.so\.1$" \
    || fail "arm64: ldconfig -p does not list libextra for AArch64: $(ldconfig -p -C "$r/etc/ld.so.cache")"
# qemu's -L would resolve the image's absolute links on the host: run it in a chroot.
cp "$(command -v qemu-aarch64-static)" "$r/qemu"
out=$(chroot "$r" /qemu /usr/bin/demo-tool 2>&1) || fail "arm64: $out"
[ "$out" = "flavour b extra 42 data b uid 0" ] || fail "arm64 printed: $out"
pass "arm64: the same links and an AArch64 loader cache; the program runs under qemu"
