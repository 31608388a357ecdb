#!/usr/bin/env bash
# The archive client end to end, against small archives built and signed here and
# served on 127.0.0.1: signatures, hashes, hostile packages, failing servers, the
# cache, concurrent runs, updates, an Ubuntu-style ports mirror. No network.
set -euo pipefail
source "$DMC_SOURCE_DIR/tests/lib.sh"
here=$DMC_SOURCE_DIR/tests/integration
source "$here/make_archive.sh"
plugins=$DMC_BINARY_DIR/test-plugins/external
for tool in python3 gpg gpgv gpgconf apt-ftparchive dpkg-deb xz; do
    command -v "$tool" >/dev/null || { echo "skipped: $tool is not installed"; exit 77; }
done

work=$(mktemp -d)
cleanup() {
    stop_archive_server
    stop_keys "$work/keyA" "$work/keyB"
    rm -rf "$work"
}
trap cleanup EXIT
export HOME=$work/home
unset DMC_CONFIG DMC_PLUGIN_PATH DMC_ARCHS DMC_DIST DMC_MIRROR DMC_HOST DMC_NAMESPACE DMC_TOOLS \
    DMC_IMAGEDIR IMAGEDIR DMC_CACHEDIR DMC_ROOTFSDIR DMC_BUILDDIR DMC_SOURCEDIR \
    OUT_level LOG_level LOG_dir GNUPGHOME || true
mkdir -p "$HOME" "$work/outside"
echo "host secret" >"$work/outside/secret"
started=$SECONDS

# --- helpers ---------------------------------------------------------------------

# conf NAME URL [KEYRING]: $work/NAME.yaml, one mirror, dist dmctest
conf() {
    printf 'dist: dmctest\nmirrors:\n  - url: %s\n    keyring: %s\n' \
        "$2" "${3:-$work/keyA/key.gpg}" >"$work/$1.yaml"
}
# resolve CACHE CONFIG [DMC ARGS...]: `dmc -a resolve` with the cache $work/CACHE
resolve() {
    local cache=$1 config=$2
    shift 2
    DMC_CACHEDIR=$work/$cache "$DMC" --config "$work/$config.yaml" -A amd64 -a resolve "$@"
}
# rootfs CACHE CONFIG [DMC ARGS...]: prepare and rootfs of the test template "hello"
rootfs() {
    local cache=$1 config=$2
    shift 2
    DMC_CACHEDIR=$work/$cache "$DMC" --config "$work/$config.yaml" --plugin-dir "$plugins" \
        -t hello -A amd64 -e hello.amd64.rootfs "$@"
}
# tree_of CACHE [BUILDDIR]: the rootfs tree of hello the last run chose (one per package set)
# (BUILDDIR: the build directory of that run, if not the cache's)
tree_of() {
    local record=${2:-$work/$1/build}/dmctest/amd64/hello/rootfs.json
    local set=none
    [ -f "$record" ] && set=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tree"])' "$record")
    echo "$work/$1/rootfs/dmctest/amd64/hello/$set"
}
# refused PATTERN -- CMD...: CMD exits 1 and gives its reason on one line matching PATTERN
refused() {
    local pattern=$1 err rc=0 why
    shift 2
    err=$("$@" 2>&1 >/dev/null) || rc=$?
    [ "$rc" = 1 ] || fail "'$*' exited $rc, expected 1; stderr: $err"
    why=$(grep '^FAIL' <<<"$err" | grep -v 'failed; fix the cause and resume' || true)
    [ -n "$why" ] && [ "$(wc -l <<<"$why")" = 1 ] || fail "'$*' did not fail with one line: $err"
    grep -qE -- "$pattern" <<<"$why" || fail "'$*' did not say /$pattern/; stderr: $err"
}
# intact CACHE: no partial download, temporary file or half-built rootfs in the cache
intact() {
    local left
    left=$(find "$work/$1" \( -name '*.part' -o -name '.*.tmp.*' \) 2>/dev/null || true)
    [ -z "$left" ] || fail "left in the cache $1: $left"
}
# no_tree CACHE: the failed rootfs step left no tree
no_tree() {
    local trees
    trees=$(ls -A "$work/$1/rootfs/dmctest/amd64/hello" 2>/dev/null || true)
    [ -z "$trees" ] || fail "a rootfs was left in $work/$1/rootfs/dmctest/amd64/hello: $trees"
}
# no_debs CACHE: nothing was kept in the package cache
no_debs() {
    local kept
    kept=$(find "$work/$1/debs" -name '*.deb*' 2>/dev/null || true)
    [ -z "$kept" ] || fail "kept in the package cache: $kept"
}
# pool_deb ARCHIVE PKG: the path of the .deb of PKG in the pool of ARCHIVE
pool_deb() { find "$work/srv/$1" -name "${2}_*.deb" | head -1; }
requests() { grep -c -- "$1" "$work/requests" || true; }
# field FILE PATH KEY: a key of one file of a rootfs manifest
field() {
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["files"][sys.argv[2]][sys.argv[3]])' "$@"
}
pkg_version() {
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["packages"][sys.argv[2]]["version"])' "$@"
}
# copy_archive FROM TO: another archive with the same pool and signed files
copy_archive() { rm -rf "$work/srv/$2"; cp -a "$work/srv/$1" "$work/srv/$2"; }
# sign ROOT SUITE GNUPGHOME: signs dists/SUITE/Release again
sign() {
    local d=$work/srv/$1/dists/$2
    GNUPGHOME=$3 gpg --batch --quiet --yes --clearsign -o "$d/InRelease" "$d/Release"
    GNUPGHOME=$3 gpg --batch --quiet --yes -abs -o "$d/Release.gpg" "$d/Release"
}

# --- packages and archives ---------------------------------------------------------

make_key "$work/keyA"
make_key "$work/keyB"
keyA=$work/keyA
keyB=$work/keyB

debs=$work/debs
# stage NAME: an empty staging tree for a package, with one documentation file
stage() {
    local s=$work/stage/$1
    rm -rf "$s"
    mkdir -p "$s/usr/share/doc/$1"
    echo "$1" >"$s/usr/share/doc/$1/README"
    echo "$s"
}
hello_stage() {  # hello VERSION: /usr/bin/hello, a setuid copy, a private directory and file
    local s
    s=$(stage hello)
    mkdir -p "$s/usr/bin" "$s/usr/lib/hello"
    printf '#!/bin/sh\necho hello %s\n' "$1" >"$s/usr/bin/hello"
    chmod 0755 "$s/usr/bin/hello"
    cp "$s/usr/bin/hello" "$s/usr/bin/hello-suid"
    chmod 4755 "$s/usr/bin/hello-suid"
    echo "secret $1" >"$s/usr/lib/hello/secret"
    chmod 0700 "$s/usr/lib/hello" "$s/usr/lib/hello/secret"
    echo "$s"
}
build_deb "$debs" "$(hello_stage 1.0)" hello 1.0-1 amd64 "Depends: libdmc1 (>= 1.0), dmc-greeter"
build_deb "$debs/1.1" "$(hello_stage 1.1)" hello 1.1-1 amd64 "Depends: libdmc1 (>= 1.0), dmc-greeter"
s=$(hello_stage 1.0)
head -c 4096 /dev/urandom >"$s/usr/bin/hello-extra"
build_deb "$debs/other" "$s" hello 1.0-1 amd64 "Depends: libdmc1 (>= 1.0), dmc-greeter"
s=$(stage libdmc1)
mkdir -p "$s/usr/lib/x86_64-linux-gnu"
echo "libdmc 1.2" >"$s/usr/lib/x86_64-linux-gnu/libdmc.so.1"
build_deb "$debs" "$s" libdmc1 1.2-1 amd64
build_deb "$debs" "$(stage hello-dmc)" hello-dmc 1.0-1 amd64 "Depends: libdmc1 (>= 1.0)"
build_deb "$debs" "$(stage dmc-greeter-en)" dmc-greeter-en 1.0-1 amd64 "Provides: dmc-greeter"
build_deb "$debs" "$(stage hello-new)" hello-new 1.0-1 amd64 "Depends: libdmc1 (>= 9)"
build_deb "$debs" "$(stage hello-app)" hello-app 1.0-1 amd64 "Depends: hello-new"
s=$(stage base-files)
mkdir -p "$s/etc"
echo "13.0" >"$s/etc/debian_version"
build_deb "$debs" "$s" base-files 13-1 amd64
s=$(stage base-passwd)  # nginx's www-data takes its ids from it
mkdir -p "$s/usr/share/base-passwd"
printf 'root:*:0:0:root:/root:/bin/bash\nwww-data:*:33:33:www-data:/var/www:/usr/sbin/nologin\n' \
    >"$s/usr/share/base-passwd/passwd.master"
build_deb "$debs" "$s" base-passwd 3.6-1 amd64
build_deb "$debs" "$(stage nginx)" nginx 1.0-1 all

# The good archive: suite dmctest, amd64 and arm64, signed with key A, valid for a week.
add_to_pool "$work/srv/good" main "$debs"/*.deb
publish "$work/srv/good" dmctest "$keyA" "amd64 arm64" main -o APT::FTPArchive::Release::ValidTime=604800

start_archive_server

# --- 1. a good archive -----------------------------------------------------------------

conf good "$base/ok/good"
out=$(resolve c1 good hello-dmc hello 2>"$work/err") || fail "resolve: $(cat "$work/err")"
expected="dmc-greeter-en 1.0-1 amd64
hello 1.0-1 amd64
hello-dmc 1.0-1 amd64
libdmc1 1.2-1 amd64"
[ "$out" = "$expected" ] || fail "resolve printed: $out"
pass "resolve: the closure, a virtual package through its provider, on stdout only"

: >"$work/requests"
rootfs c1 good 2>"$work/err" || fail "rootfs: $(cat "$work/err")"
tree=$(tree_of c1)
m=$tree/manifest.json
[ "$(cat "$tree/root/usr/bin/hello")" = "$(printf '#!/bin/sh\necho hello 1.0')" ] || fail "/usr/bin/hello"
[ -f "$tree/root/usr/lib/x86_64-linux-gnu/libdmc.so.1" ] || fail "libdmc1 not unpacked"
[ -f "$tree/root/etc/debian_version" ] || fail "base-files not unpacked"
[ -L "$tree/root/bin" ] || fail "no merged-/usr link /bin"
[ "$(field "$m" /usr/bin/hello-suid m)" = $((8#4755)) ] || fail "manifest mode of hello-suid"
[ "$(field "$m" /usr/bin/hello-suid u):$(field "$m" /usr/bin/hello-suid g)" = 0:0 ] || fail "owner"
[ "$(field "$m" /usr/lib/hello/secret m)" = $((8#700)) ] || fail "manifest mode of secret"
[ "$(field "$m" /usr/lib/hello m)" = $((8#700)) ] || fail "manifest mode of /usr/lib/hello"
[ "$(field "$m" /usr/lib/hello t)" = d ] || fail "manifest type of /usr/lib/hello"
[ "$(field "$m" /usr/bin/hello h)" = "$(sha256sum <"$tree/root/usr/bin/hello" | cut -d' ' -f1)" ] \
    || fail "manifest hash of /usr/bin/hello"
[ "$(pkg_version "$m" hello)" = 1.0-1 ] || fail "manifest version of hello"
# The tree on disk carries no setuid bit: the manifest keeps it for the image.
[ "$(stat -c %a "$tree/root/usr/bin/hello-suid")" = 755 ] || fail "setuid bit on disk"
pass "rootfs: unpacked, the manifest records setuid 4755, 0700 and owner 0:0"

rootfs c1 good 2>"$work/err" || fail "second rootfs: $(cat "$work/err")"
DMC_BUILDDIR=$work/c1-build2 DMC_ROOTFSDIR=$work/c1-rootfs2 rootfs c1 good 2>"$work/err" \
    || fail "rootfs from the cache: $(cat "$work/err")"
[ -f "$work/c1-rootfs2/dmctest/amd64/hello/$(basename "$tree")/root/usr/bin/hello" ] || fail "no tree from the cache"
unpacked=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["packages"]))' "$m")
[ "$(requests '\.deb 200')" = "$unpacked" ] || fail "expected $unpacked .deb downloads, one a package: $(cat "$work/requests")"
[ -z "$(grep '\.deb' "$work/requests" | cut -d' ' -f2 | sort | uniq -d)" ] || fail "a .deb fetched twice"
[ "$(requests InRelease)" = 0 ] || fail "the cached Release file was not used"
intact c1
pass "cache: three runs, each .deb fetched once, the verified Release reused"

# One tree per package set: another set (hello 1.1 from a second archive, same cache)
# unpacks beside the first, which stays whole; a step resumed with other options
# than its rootfs was made for refuses instead of reading it.
add_to_pool "$work/srv/good11" main "$debs/1.1/hello_1.1-1_amd64.deb" "$debs"/libdmc1_*.deb \
    "$debs"/dmc-greeter-en_*.deb "$debs"/base-files_*.deb "$debs"/base-passwd_*.deb "$debs"/nginx_*.deb
publish "$work/srv/good11" dmctest "$keyA" "amd64 arm64" main
conf good11 "$base/ok/good11"
DMC_BUILDDIR=$work/c1-build11 rootfs c1 good11 --no-lock 2>"$work/err" || fail "hello 1.1: $(cat "$work/err")"
tree11=$work/c1/rootfs/dmctest/amd64/hello/$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tree"])' "$work/c1-build11/dmctest/amd64/hello/rootfs.json")
[ "$tree11" != "$tree" ] || fail "two package sets share the tree $tree"
[ "$(pkg_version "$tree11/manifest.json" hello)" = 1.1-1 ] || fail "the second set's tree"
[ "$(pkg_version "$m" hello)" = 1.0-1 ] && [ "$(cat "$tree/root/usr/bin/hello")" = "$(printf '#!/bin/sh\necho hello 1.0')" ] \
    || fail "the first set's tree was touched"
{ cat "$work/good.yaml"; echo "compression: zstd"; } >"$work/good-zstd.yaml"
refused "the rootfs of hello amd64 in .*rootfs.json was made for other options; run from its rootfs step again" \
    -- env DMC_CACHEDIR="$work/c1" "$DMC" --config "$work/good-zstd.yaml" --plugin-dir "$plugins" \
    -t hello -A amd64 -o hello.amd64.collect
pass "one rootfs per package set; a step resumed with other options refuses the other's tree"

# --- 2-5. signatures ----------------------------------------------------------------

copy_archive good badsig
sed -i 's/^Origin: dmc-test$/Origin: dmc-evil/' "$work/srv/badsig/dists/dmctest/InRelease"
conf badsig "$base/ok/badsig"
refused "/ok/badsig/dists/dmctest/InRelease: BAD signature; refusing it" -- resolve c2 badsig hello
[ ! -e "$work/c2/lists" ] || [ -z "$(find "$work/c2/lists" -type f)" ] || fail "an unverified Release was cached"
out=$(resolve c2 badsig --allow-unsigned hello 2>"$work/err") || fail "--allow-unsigned: $(cat "$work/err")"
grep -q "BAD signature.*accepted because unsigned input is allowed" "$work/err" || fail "no warning: $(cat "$work/err")"
grep -q "^hello 1.0-1 amd64$" <<<"$out" || fail "--allow-unsigned resolved: $out"
# What --allow-unsigned let in is not trusted by a later run without it.
refused "BAD signature" -- resolve c2 badsig hello
copy_archive good badsig2
rm "$work/srv/badsig2/dists/dmctest/InRelease"
echo "Description: changed after signing" >>"$work/srv/badsig2/dists/dmctest/Release"
conf badsig2 "$base/ok/badsig2"
refused "/ok/badsig2/dists/dmctest/Release: BAD signature" -- resolve c2b badsig2 hello
intact c2
pass "bad signature (InRelease and Release.gpg) refused; --allow-unsigned warns, and is not remembered"

copy_archive good wrongkey
sign wrongkey dmctest "$keyB"
conf wrongkey "$base/ok/wrongkey"
refused "InRelease: signed by a key that is not in $work/keyA/key.gpg" -- resolve c3 wrongkey hello
conf nokeyring "$base/ok/good" "$work/missing.gpg"
refused "keyring $work/missing.gpg does not exist" -- resolve c3 nokeyring hello
pass "signed by a key not in the keyring, and a missing keyring, refused"

# Two signed parts, both by the archive's key: gpgv checks both, and prints both. And
# text outside the armour, which no signature covers.
copy_archive good twoparts
inr=$work/srv/twoparts/dists/dmctest/InRelease
sed 's/^Origin: dmc-test$/Origin: dmc-evil/' "$work/srv/twoparts/dists/dmctest/Release" >"$work/evil-release"
GNUPGHOME=$keyA gpg --batch --quiet --yes --clearsign -o "$work/evil-inrelease" "$work/evil-release"
cat "$work/evil-inrelease" >>"$inr"
conf twoparts "$base/ok/twoparts"
refused "/ok/twoparts/dists/dmctest/InRelease:[0-9]+: text after the signature; refusing it \(the mirror is broken or tampered with\)" \
    -- resolve c3t twoparts hello
copy_archive good outside
{ echo "Origin: dmc-evil"; cat "$work/srv/good/dists/dmctest/InRelease"; } >"$work/srv/outside/dists/dmctest/InRelease"
conf outside "$base/ok/outside"
refused "/ok/outside/dists/dmctest/InRelease:1: it does not start with -----BEGIN PGP SIGNED MESSAGE-----" \
    -- resolve c3o outside hello
refused "/ok/outside/dists/dmctest/InRelease:1: it does not start with" -- resolve c3o outside --allow-unsigned hello
pass "an InRelease with two signed parts, or text outside the signature, refused (even with --allow-unsigned)"

copy_archive good expired
publish "$work/srv/expired" dmctest "$keyA" "amd64 arm64" main \
    -o APT::FTPArchive::Release::ValidTime=-86400
conf expired "$base/ok/expired"
refused "/ok/expired/dists/dmctest: the Release file expired \(Valid-Until is in the past\)" -- resolve c4 expired hello
out=$(resolve c4 expired --allow-unsigned hello 2>"$work/err") || fail "--allow-unsigned: $(cat "$work/err")"
grep -q "expired -- accepted because unsigned input is allowed" "$work/err" || fail "no warning: $(cat "$work/err")"
grep -q "^hello 1.0-1 amd64$" <<<"$out" || fail "--allow-unsigned resolved: $out"
refused "the Release file expired" -- resolve c4 expired hello
pass "expired Valid-Until refused; --allow-unsigned accepts it with a warning"

copy_archive good nosig
rm "$work/srv/nosig/dists/dmctest/InRelease" "$work/srv/nosig/dists/dmctest/Release.gpg"
conf nosig "$base/ok/nosig"
refused "/ok/nosig/dists/dmctest/Release: no signature \(Release.gpg is missing\); refusing it" -- resolve c5 nosig hello
copy_archive good plain
cp "$work/srv/plain/dists/dmctest/Release" "$work/srv/plain/dists/dmctest/InRelease"
conf plain "$base/ok/plain"
refused "/ok/plain/dists/dmctest/InRelease: no signature; refusing it" -- resolve c5 plain hello
out=$(resolve c5 nosig --allow-unsigned hello 2>"$work/err") || fail "--allow-unsigned: $(cat "$work/err")"
grep -q "^hello 1.0-1 amd64$" <<<"$out" || fail "--allow-unsigned resolved: $out"
pass "no signature (Release alone, or an unsigned InRelease) refused"

# A validly signed Release file of another suite, served in this one's place (a replay).
mkdir -p "$work/srv/replay"
cp -a "$work/srv/good/pool" "$work/srv/replay/"
publish "$work/srv/replay" dmcold "$keyA" "amd64 arm64" main
mv "$work/srv/replay/dists/dmcold" "$work/srv/replay/dists/dmctest"
conf replay "$base/ok/replay"
refused "the Release file is for suite 'dmcold' \(codename 'dmcold'\), not 'dmctest'" -- resolve c5r replay hello
pass "a signed Release file of another suite refused"

# --- 6-8. hashes ------------------------------------------------------------------

copy_archive good badindex
idx=$work/srv/badindex/dists/dmctest/main/binary-amd64/Packages.xz
{ xz -dc "$idx"; printf 'Package: evil\nVersion: 1\nArchitecture: amd64\nFilename: pool/evil.deb\n\n'; } | xz >"$idx.new"
mv "$idx.new" "$idx"
conf badindex "$base/ok/badindex"
refused "/ok/badindex/dists/dmctest/main/binary-amd64/Packages.xz: the answer is longer than [0-9]+ bytes" \
    -- resolve c6 badindex hello
[ -z "$(find "$work/c6/indexes" -type f 2>/dev/null)" ] || fail "a bad index was cached"
# An index on the mirror that the signed Release does not list is never read.
copy_archive good unlisted
sed -i '/binary-amd64\/Packages/d' "$work/srv/unlisted/dists/dmctest/Release"
sign unlisted dmctest "$keyA"
conf unlisted "$base/ok/unlisted"
: >"$work/requests"
refused "no package index for amd64 on any mirror" -- resolve c6u unlisted hello
! grep -q "GET /ok/unlisted/dists/dmctest/main/binary-amd64/" "$work/requests" || fail "an unlisted index was fetched"
# The same size, one byte changed.
copy_archive good badindex
python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[len(b)//2]^=1; open(p,"wb").write(b)' "$idx"
refused "/ok/badindex/dists/dmctest/main/binary-amd64/Packages.xz: size or SHA256 does not match the signed Release file" \
    -- resolve c6 badindex hello
[ -z "$(find "$work/c6/indexes" -type f 2>/dev/null)" ] || fail "a bad index was cached"
intact c6
pass "Packages.xz not matching the Release file refused, nothing cached"

copy_archive good baddeb
cp "$debs/other/hello_1.0-1_amd64.deb" "$(pool_deb baddeb hello)"
conf baddeb "$base/ok/baddeb"
refused "hello 1.0-1 amd64: more than the [0-9]+ bytes the index gives arrived from $base/ok/baddeb/pool/main/h/hello/hello_1.0-1_amd64.deb; the mirror is broken or hostile, nothing was kept" \
    -- rootfs c7 baddeb
[ ! -e "$work/c7/debs/$(sha256sum <"$debs/hello_1.0-1_amd64.deb" | cut -d' ' -f1).deb" ] || fail "the bad .deb was kept"
# The same size, one byte changed.
copy_archive good baddeb
python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[len(b)//2]^=1; open(p,"wb").write(b)' "$(pool_deb baddeb hello)"
refused "hello 1.0-1 amd64: SHA256 mismatch \(expected $(sha256sum <"$debs/hello_1.0-1_amd64.deb" | cut -d' ' -f1)" \
    -- rootfs c7 baddeb
[ ! -e "$work/c7/debs/$(sha256sum <"$debs/hello_1.0-1_amd64.deb" | cut -d' ' -f1).deb" ] || fail "the bad .deb was kept"
no_tree c7
intact c7
pass "a .deb not matching the index refused, nothing kept"

hello_sha=$(sha256sum <"$debs/hello_1.0-1_amd64.deb" | cut -d' ' -f1)
hello_size=$(stat -c %s "$debs/hello_1.0-1_amd64.deb")
copy_archive good garbage
head -c "$hello_size" /dev/urandom >"$(pool_deb garbage hello)"
conf garbage "$base/ok/garbage"
refused "hello 1.0-1 amd64: SHA256 mismatch" -- rootfs c8 garbage
no_tree c8
intact c8
copy_archive good short
head -c $((hello_size / 2)) "$debs/hello_1.0-1_amd64.deb" >"$(pool_deb short hello)"
conf short "$base/ok/short"
refused "cannot fetch $base/ok/short/pool/main/h/hello/hello_1.0-1_amd64.deb: truncated \($((hello_size / 2)) of $hello_size bytes\) after 5 attempts" \
    -- rootfs c8s short
[ ! -e "$work/c8s/debs/$hello_sha.deb" ] || fail "the short .deb was kept"
no_tree c8s
intact c8s
pass "a garbage .deb of the right size and a short one on the mirror refused"

# Damaged files in the cache: refused naming the package, removed, fetched again next time.
mkdir -p "$work/c8c/debs"
head -c "$hello_size" /dev/urandom >"$work/c8c/debs/$hello_sha.deb"
refused "hello \($hello_sha.deb\): .*; it was removed from the cache" -- rootfs c8c good
[ ! -e "$work/c8c/debs/$hello_sha.deb" ] || fail "the garbage .deb stayed in the cache"
no_tree c8c
intact c8c
rootfs c8c good 2>"$work/err" || fail "after a garbage cache file: $(cat "$work/err")"
head -c $((hello_size - 100)) "$debs/hello_1.0-1_amd64.deb" >"$work/c8c/debs/$hello_sha.deb"
rm -rf "$(tree_of c8c)"
# The package store has hello already: a tree is made of it without the .deb.
rootfs c8c good 2>"$work/err" || fail "a stored package was read again: $(cat "$work/err")"
rm -rf "$(tree_of c8c)" "$work/c8c/rootfs/store"
refused "hello \($hello_sha.deb\): .*(truncated|corrupt).*; it was removed from the cache" -- rootfs c8c good
[ ! -e "$work/c8c/debs/$hello_sha.deb" ] || fail "the truncated .deb stayed in the cache"
no_tree c8c
rootfs c8c good 2>"$work/err" || fail "after a truncated cache file: $(cat "$work/err")"
intact c8c
pass "a garbage and a truncated .deb in the cache refused, removed, fetched again"

# --- 9. failing servers ---------------------------------------------------------------

: >"$work/requests"
conf cut "$base/cut/good"
rootfs c9 cut 2>"$work/err" || fail "cut connections: $(cat "$work/err")"
grep -q "^GET /cut/good/pool/main/h/hello/hello_1.0-1_amd64.deb 206 bytes=[1-9]" "$work/requests" \
    || fail "the .deb was not resumed: $(cat "$work/requests")"
[ "$(field "$(tree_of c9)/manifest.json" /usr/bin/hello h)" = "$(field "$(tree_of c1)/manifest.json" /usr/bin/hello h)" ] \
    || fail "the resumed package differs"
intact c9
pass "connections cut half way: the indexes fetched again, the .debs resumed with Range"

conf flaky "$base/flaky/good"
rootfs c9f flaky 2>"$work/err" || fail "500 twice: $(cat "$work/err")"
[ "$(requests 'GET /flaky/good/pool/main/h/hello/hello_1.0-1_amd64.deb 500')" = 2 ] || fail "no 500s seen"
intact c9f
pass "a server answering 500 twice: the retries succeed"

# Each package is stored as soon as its download ends, while the others download: the
# server holds hello's .deb until libdmc1 is in the package store (10 s at most).
libdmc=$(sha256sum "$(pool_deb good libdmc1)" | cut -d' ' -f1)
printf 'hello_\n%s\n' "$work/c9h/rootfs/store/$libdmc/entries.json" >"$work/srv/.hold"
: >"$work/requests"
conf hold "$base/hold/good"
rootfs c9h hold 2>"$work/err" || fail "a held download: $(cat "$work/err")"
grep -q "^HELD /hold/good/pool/main/h/hello/hello_1.0-1_amd64.deb released=yes" "$work/requests" \
    || fail "libdmc1 was not stored while hello downloaded: $(grep HELD "$work/requests")"
[ -f "$(tree_of c9h)/root/usr/bin/hello" ] || fail "no tree after a held download"
pass "each package stored as soon as it is downloaded, while the others download"

t0=$SECONDS
conf down "$base/down/good"
refused "cannot fetch $base/down/good/dists/dmctest/InRelease: HTTP 500 after 5 attempts" -- resolve c9d down hello
[ "$(requests 'GET /down/good/dists/dmctest/InRelease 500')" = 5 ] || fail "not 5 attempts"
conf downpool "$base/downpool/good"
refused "cannot fetch $base/downpool/good/pool/.*\.deb: HTTP 500 after 5 attempts" -- rootfs c9p downpool
no_tree c9p
no_debs c9p
intact c9p
pass "a server always answering 500: one line after 5 attempts ($((SECONDS - t0)) s for two runs)"

t0=$SECONDS
conf garbage "$base/garbage/good"
refused "cannot fetch $base/garbage/good/dists/dmctest/InRelease: .* after [1-5] attempts?" -- resolve c9g garbage hello
conf loop "$base/loop/good"
refused "cannot fetch $base/loop/good/dists/dmctest/InRelease: .*redirects.*" -- resolve c9l loop hello
[ "$(requests 'GET /loop/good/dists/dmctest/InRelease 302')" -le 55 ] || fail "the redirect loop was followed without end"
pass "garbage for an answer, and a redirect loop: one line each, bounded ($((SECONDS - t0)) s)"

# A mirror with credentials in its URL that redirects to another host: the packages
# come from there, and the credentials do not follow.
: >"$work/requests"
conf elsewhere "http://mirror-user:mirror-pw@127.0.0.1:$(cat "$work/port")/elsewhere/good"
rootfs c9e elsewhere 2>"$work/err" || fail "a redirect to another host: $(cat "$work/err")"
grep -q "^GET /elsewhere/good/dists/dmctest/InRelease 302 - 127.0.0.1 auth=yes" "$work/requests" \
    || fail "the credentials were not sent to the mirror itself: $(head -3 "$work/requests")"
grep -q "^GET /ok/good/pool/main/h/hello/hello_1.0-1_amd64.deb 200 - localhost auth=no" "$work/requests" \
    || fail "no package from the other host: $(cat "$work/requests")"
! grep -q " localhost auth=yes" "$work/requests" || fail "credentials went to another host: $(grep ' localhost auth=yes' "$work/requests")"
pass "redirected to another host, no credentials follow"

# --- 10. hostile packages -----------------------------------------------------------------

up=$(printf '../%.0s' $(seq 40))    # enough to climb out of any rootfs
rel_outside=${up}${work#/}/outside
# hostile NAME ENTRY...: an archive whose "hello" is a hand-made .deb with these data entries
hostile() {
    local name=$1
    shift
    mkdir -p "$work/hostile/$name"
    python3 "$here/make_deb.py" "$work/hostile/$name/hello_1.0-1_amd64.deb" hello 1.0-1 amd64 \
        d:./ d:./usr/ d:./usr/lib/ d:./usr/bin/ "$@"
    rm -rf "$work/srv/$name"
    add_to_pool "$work/srv/$name" main "$work/hostile/$name/hello_1.0-1_amd64.deb" \
        "$debs/base-files_13-1_amd64.deb" "$debs/base-passwd_3.6-1_amd64.deb" "$debs/nginx_1.0-1_all.deb"
    publish "$work/srv/$name" dmctest "$keyA" "amd64 arm64" main
    conf "$name" "$base/ok/$name"
}
# outside_untouched: nothing but the host secret outside, which has one link
outside_untouched() {
    [ "$(cd "$work/outside" && find . -mindepth 1)" = "./secret" ] \
        || fail "written outside the rootfs: $(find "$work/outside")"
    [ "$(stat -c %h "$work/outside/secret")" = 1 ] || fail "the host secret was hard-linked"
    [ -z "$(find "$work" -name escape -o -name pwned -o -name 'abs*escape')" ] \
        || fail "escaped: $(find "$work" -name escape -o -name pwned)"
}
hostile_refused() {  # NAME PATTERN
    refused "^FAIL .*hello \([0-9a-f]{64}\.deb\): $2.*; it was removed from the cache" -- rootfs "c10-$1" "$1"
    outside_untouched
    no_tree "c10-$1"
    local sha
    sha=$(sha256sum <"$work/hostile/$1/hello_1.0-1_amd64.deb" | cut -d' ' -f1)
    [ ! -e "$work/c10-$1/debs/$sha.deb" ] || fail "the hostile .deb stayed in the cache"
    intact "c10-$1"
}
hostile dotdot f:../../escape
hostile_refused dotdot "path '\.\./\.\./escape' with '\.\.' refused"
hostile absolute "f:$work/outside/abs-escape"
hostile_refused absolute "absolute path '$work/outside/abs-escape' refused"
hostile symlink "l:./usr/lib/evil=$rel_outside" f:./usr/lib/evil/pwned
hostile_refused symlink "path through symlink /usr/lib/evil -> \.\./.* leaves the root; refused"
hostile hardlink f:./usr/bin/hello h:./usr/bin/hl=../../outside/secret
hostile_refused hardlink "path '\.\./\.\./outside/secret' with '\.\.' refused"
hostile hardlink2 "l:./usr/lib/up=$up" "h:./usr/bin/hl=./usr/lib/up/${work#/}/outside/secret"
hostile_refused hardlink2 "path through symlink /usr/lib/up -> \.\./.* leaves the root; refused"
pass "hostile .debs (.., absolute, through a symlink, hard links out) refused naming the package"

# An absolute symlink is followed inside the root, as after chroot.
hostile abslink "l:./usr/lib/abs=$work/outside/absdir" f:./usr/lib/abs/file
rootfs c10-abslink abslink 2>"$work/err" || fail "absolute link inside: $(cat "$work/err")"
[ -f "$(tree_of c10-abslink)/root$work/outside/absdir/file" ] || fail "the file did not land inside the root"
outside_untouched
pass "an absolute symlink is followed inside the root"

# Names no filesystem takes, a bomb, and what has no place in an image.
hostile bomb i:64 f:./usr/bin/hello z:./usr/lib/bomb=67108864
hostile_refused bomb "/usr/lib/bomb takes the package past 1179648 bytes unpacked \(twice its Installed-Size of 64 KiB\); refused as a decompression bomb"
hostile longpath "f:./usr/lib/$(printf 'a/%.0s' $(seq 2100))x"
hostile_refused longpath "a path of 42[0-9]{2} bytes \(the limit is PATH_MAX, 4096\) refused"
hostile longname "f:./usr/lib/$(printf 'n%.0s' $(seq 300))"
hostile_refused longname "a name of 300 bytes in '\./usr/lib/n+\.\.\.' \(the limit is NAME_MAX, 255\) refused"
hostile control "$(printf 'f:./usr/lib/evil\tname')"
hostile_refused control "path '\./usr/lib/evil\\\\tname' with a control character refused"
pass "hostile .debs (a decompression bomb, paths past PATH_MAX and NAME_MAX, control characters) refused"

hostile devices f:./usr/bin/hello c:./usr/lib/dev0 b:./usr/lib/blk0 p:./usr/lib/fifo0 x:./usr/bin/hello-suid=6755
rootfs c10-devices devices 2>"$work/err" || fail "devices: $(cat "$work/err")"
t=$(tree_of c10-devices)
[ -z "$(find "$t/root" \( -type c -o -type b -o -type p \))" ] || fail "a device node or FIFO was made"
for f in dev0 blk0 fifo0; do
    ! grep -q "/usr/lib/$f" "$t/manifest.json" || fail "/usr/lib/$f is in the manifest"
done
[ "$(field "$t/manifest.json" /usr/bin/hello-suid m)" = $((8#6755)) ] || fail "setuid and setgid not recorded"
pass "device nodes and FIFOs are left out; setuid/setgid bits recorded for the image to judge"

# Answers without end: an InRelease, an index, a package that never stop coming.
conf endless "$base/endless/good"
refused "cannot fetch $base/endless/good/dists/dmctest/InRelease: the answer is longer than 33554432 bytes" \
    -- resolve c10-endless endless hello
conf endlessidx "$base/endless-index/good"
refused "cannot fetch $base/endless-index/good/dists/dmctest/main/binary-amd64/Packages.xz: the answer is longer than [0-9]+ bytes" \
    -- resolve c10-endlessidx endlessidx hello
[ ! -d "$work/c10-endlessidx/indexes" ] || [ -z "$(ls -A "$work/c10-endlessidx/indexes")" ] || fail "an index was kept"
conf endlesspool "$base/endless-pool/good"
refused "more than the [0-9]+ bytes the index gives arrived from $base/endless-pool/good/pool/.*; the mirror is broken or hostile, nothing was kept" \
    -- rootfs c10-endlesspool endlesspool
no_tree c10-endlesspool
no_debs c10-endlesspool
intact c10-endlesspool
pass "endless answers stop at the size the signed files give (or 32 MiB for a Release), nothing kept"

# Every stanza twice: the same closure and the same tree.
(cd "$work/srv/good" && apt-ftparchive --arch amd64 packages pool/main 2>/dev/null) >"$work/Packages.once"
cat "$work/Packages.once" "$work/Packages.once" >"$work/Packages.twice"
rm -rf "$work/srv/twice" && mkdir -p "$work/srv/twice" && cp -a "$work/srv/good/pool" "$work/srv/twice/"
PACKAGES_FILE=$work/Packages.twice publish "$work/srv/twice" dmctest "$keyA" "amd64 arm64" main
conf twice "$base/ok/twice"
[ "$(resolve c10-twice twice hello 2>/dev/null)" = "$(resolve c1 good hello 2>/dev/null)" ] || fail "duplicate stanzas resolve otherwise"
pass "duplicate stanzas: the same closure"

# An index is parsed as it is decompressed; what that parse met is still reported,
# and nothing of an index the signed Release does not vouch for is kept.
{ cat "$work/Packages.once"; printf 'Package: broken\nArchitecture: amd64\n\n'; } >"$work/Packages.broken"
rm -rf "$work/srv/broken" && mkdir -p "$work/srv/broken" && cp -a "$work/srv/good/pool" "$work/srv/broken/"
PACKAGES_FILE=$work/Packages.broken publish "$work/srv/broken" dmctest "$keyA" "amd64 arm64" main
conf broken "$base/ok/broken"
for run in fetched cached; do
    refused "Packages index from $base/ok/broken \(main/amd64\): stanza at byte [0-9]+ has no Package or Version field" \
        -- resolve c10-broken broken hello
done
copy_archive good badplain
plain=$(sed -n 's/^ \([0-9a-f]\{64\}\) *[0-9]* main\/binary-amd64\/Packages$/\1/p' "$work/srv/badplain/dists/dmctest/Release")
[ -n "$plain" ] || fail "no SHA256 of the uncompressed Packages in the test Release"
sed -i "s/$plain/$(printf '%064d' 0)/" "$work/srv/badplain/dists/dmctest/Release"
sign badplain dmctest "$keyA"
conf badplain "$base/ok/badplain"
refused "/ok/badplain/dists/dmctest/main/binary-amd64/Packages.xz: the uncompressed index does not match the signed Release file" \
    -- resolve c10-badplain badplain hello
[ -z "$(find "$work/c10-badplain/indexes" -type f 2>/dev/null)" ] || fail "an index the Release does not vouch for was cached"
intact c10-badplain
pass "an index parsed as it arrives: a broken stanza reported, fetched or cached; a text the Release does not vouch for not kept"

# --- 11-14. resolving and reaching the mirror --------------------------------------------

refused "unsatisfiable dependency: hello-app -> hello-new -> libdmc1 \(>= 9\): no installable version \(available: 1.2-1\)" \
    -- resolve c1 good hello-app
pass "unsatisfiable dependency: the chain"
refused "unknown package 'helo'; did you mean hello\?" -- resolve c1 good helo
refused "unknown package 'hello-dm'; did you mean .*hello-dmc" -- resolve c1 good hello-dm
pass "unknown package: close names suggested"

t0=$SECONDS
conf unreachable "http://127.0.0.1:1"
refused "cannot fetch http://127.0.0.1:1/dists/dmctest/InRelease: .*connect.* after 5 attempts" -- resolve c13 unreachable hello
pass "unreachable mirror: one line ($((SECONDS - t0)) s with retries)"

refused "dist 'buster' is not on $base/ok/good .*buster is no longer on Debian's mirrors" -- resolve c14 good -D buster hello
pass "a dist the mirror does not have"

# --- 15. two processes, one cache -----------------------------------------------------------

# Two runs at once, with their own build directories but one cache (so one rootfs
# directory), three times: first with an empty cache (both fetch), then with the
# packages cached and the tree removed (both unpack and put the tree in place).
: >"$work/requests"
for round in 1 2 3; do
    rm -rf "$work/c15/rootfs"
    DMC_BUILDDIR=$work/c15-b1 rootfs c15 good >"$work/p1.out" 2>&1 &
    p1=$!
    DMC_BUILDDIR=$work/c15-b2 rootfs c15 good >"$work/p2.out" 2>&1 &
    p2=$!
    wait $p1 || fail "round $round, the first concurrent run: $(cat "$work/p1.out")"
    wait $p2 || fail "round $round, the second concurrent run: $(cat "$work/p2.out")"
    [ "$(tree_of c15 "$work/c15-b1")" = "$(tree_of c15 "$work/c15-b2")" ] || fail "round $round: two trees"
    [ "$(pkg_version "$(tree_of c15 "$work/c15-b1")/manifest.json" hello)" = 1.0-1 ] || fail "round $round: no tree"
    intact c15
done
[ -z "$(grep '\.deb' "$work/requests" | cut -d' ' -f2 | sort | uniq -d)" ] || fail "a .deb fetched twice"
pass "two concurrent runs with one cache, three times"

# --- 16. update --------------------------------------------------------------------------------

copy_archive good upd
conf upd "$base/ok/upd"
rootfs c16 upd 2>"$work/err" || fail "before the update: $(cat "$work/err")"
[ -s "$work/upd.lock" ] || fail "the first build wrote no lock next to its config"
cp "$work/upd.lock" "$work/upd.lock.before"
rm "$(pool_deb upd hello)"
add_to_pool "$work/srv/upd" main "$debs/1.1/hello_1.1-1_amd64.deb"
publish "$work/srv/upd" dmctest "$keyA" "amd64 arm64" main
out=$(DMC_CACHEDIR=$work/c16 "$DMC" --config "$work/upd.yaml" --plugin-dir "$plugins" -t hello -A amd64 \
    -a update 2>"$work/err") || fail "update: $(cat "$work/err")"
[ "$(head -1 <<<"$out")" = "hello amd64: hello 1.0-1 -> 1.1-1" ] || fail "update printed: '$out'; $(cat "$work/err")"
grep -qx "update: 1 change in 1 of 1 images; $work/upd.lock rewritten" <<<"$out" || fail "update's summary: '$out'"
rootfs c16 upd 2>"$work/err" || fail "after the update: $(cat "$work/err")"
[ "$(pkg_version "$(tree_of c16)/manifest.json" hello)" = 1.1-1 ] || fail "the rootfs was not updated"
grep -q "hello 1.1" "$(tree_of c16)/root/usr/bin/hello" || fail "old /usr/bin/hello"
pass "update: the new version reported, locked and then unpacked"

# The lock pins the older version while the archive offers both; --no-lock takes the newest.
add_to_pool "$work/srv/upd" main "$debs/hello_1.0-1_amd64.deb"
publish "$work/srv/upd" dmctest "$keyA" "amd64 arm64" main
DMC_CACHEDIR=$work/c16 "$DMC" --config "$work/upd.yaml" -A amd64 -a setup 2>"$work/err" \
    || fail "setup after publishing: $(cat "$work/err")"
cp "$work/upd.lock.before" "$work/upd.lock"
rootfs c16 upd 2>"$work/err" || fail "with the older lock: $(cat "$work/err")"
[ "$(pkg_version "$(tree_of c16)/manifest.json" hello)" = 1.0-1 ] || fail "the lock was not honoured"
rootfs c16 upd --no-lock 2>"$work/err" || fail "with --no-lock: $(cat "$work/err")"
[ "$(pkg_version "$(tree_of c16)/manifest.json" hello)" = 1.1-1 ] || fail "--no-lock did not take the newest"
cmp -s "$work/upd.lock.before" "$work/upd.lock" || fail "--no-lock changed the lock"
sed -i 's/version: "1.0-1"/version: [1.0-1]/' "$work/upd.lock"
line=$(grep -n 'version: \[1.0-1\]' "$work/upd.lock" | cut -d: -f1)
refused "upd.lock:$line: .*'version' must be a string" -- env DMC_CACHEDIR="$work/c16" "$DMC" \
    --config "$work/upd.yaml" --plugin-dir "$plugins" -t hello -A amd64 -e hello.amd64.rootfs
pass "a lock pins versions, --no-lock leaves it alone, a hand-broken lock names its line"

# A locked build on an empty cache fetches its packages where the lock says, checked
# against the lock's digests, without the indexes; one no longer there is looked up
# in them.
cp "$work/upd.lock.before" "$work/upd.lock"
: >"$work/requests"
rootfs c16-locked upd 2>"$work/err" || fail "a locked build on an empty cache: $(cat "$work/err")"
[ "$(pkg_version "$(tree_of c16-locked)/manifest.json" hello)" = 1.0-1 ] || fail "the locked build took another version"
[ "$(requests '/binary-amd64/')" = 0 ] || fail "a locked build on an empty cache read the indexes"
[ "$(requests 'hello_1.0-1_amd64.deb')" = 1 ] || fail "the locked .deb was not fetched where the lock says"
moved=$work/srv/upd/pool/main/h/hello-moved
mkdir -p "$moved" && mv "$work/srv/upd/pool/main/h/hello/hello_1.0-1_amd64.deb" "$moved/"
publish "$work/srv/upd" dmctest "$keyA" "amd64 arm64" main
: >"$work/requests"
rootfs c16-moved upd 2>"$work/err" || fail "a locked package moved on the mirror: $(cat "$work/err")"
[ "$(pkg_version "$(tree_of c16-moved)/manifest.json" hello)" = 1.0-1 ] || fail "the moved package was not found"
[ "$(requests 'GET /ok/upd/pool/main/h/hello-moved/hello_1.0-1_amd64.deb')" = 1 ] || fail "not fetched where the index says"
[ "$(requests '/binary-amd64/')" -ge 1 ] || fail "the index was not read for the moved package"
cmp -s "$work/upd.lock.before" "$work/upd.lock" || fail "fetching a locked package changed the lock"
intact c16-moved
pass "a locked build on an empty cache: the lock's packages fetched without the indexes; a moved one found through them"

# --- 17. Ubuntu: a ports mirror for arm64, its own keyring, universe, -updates -----------------

for a in amd64 arm64; do
    build_deb "$debs/$a" "$(stage hello-dmc)" hello-dmc 1.0-1 "$a" "Depends: libdmc1 (>= 1.0)"
    build_deb "$debs/$a" "$(stage libdmc1)" libdmc1 1.2-1 "$a"
done
build_deb "$debs/updates" "$(stage libdmc1)" libdmc1 1.3-1 amd64
for m in ubuntu:amd64:"$keyA" ports:arm64:"$keyB"; do
    IFS=: read -r name arch key <<<"$m"
    add_to_pool "$work/srv/$name" main "$debs/$arch/hello-dmc_1.0-1_$arch.deb"
    add_to_pool "$work/srv/$name" universe "$debs/$arch/libdmc1_1.2-1_$arch.deb"
    publish "$work/srv/$name" dmcnoble "$key" "$arch" "main universe"
done
POOL=pool-updates add_to_pool "$work/srv/ubuntu" universe "$debs/updates/libdmc1_1.3-1_amd64.deb"
POOL=pool-updates publish "$work/srv/ubuntu" dmcnoble-updates "$keyA" amd64 "main universe"
cat >"$work/ubuntu.yaml" <<YAML
dist: dmcnoble
mirrors:
  - url: $base/ok/ubuntu
    suites: ["{dist}", "{dist}-updates"]
    components: [main, universe]
    archs: [amd64]
    keyring: $keyA/key.gpg
  - url: $base/ok/ports
    suites: ["{dist}", "{dist}-updates"]
    components: [main, universe]
    archs: [arm64]
    keyring: $keyB/key.gpg
YAML
: >"$work/requests"
out=$(DMC_CACHEDIR=$work/c17 "$DMC" --config "$work/ubuntu.yaml" -A arm64 -a resolve hello-dmc 2>"$work/err") \
    || fail "ports: $(cat "$work/err")"
[ "$out" = "$(printf 'hello-dmc 1.0-1 arm64\nlibdmc1 1.2-1 arm64')" ] || fail "arm64 resolved: $out"
[ "$(requests /ok/ubuntu/)" = 0 ] || fail "arm64 asked the main mirror: $(cat "$work/requests")"
grep -q "has no suite dmcnoble-updates, skipped" "$work/err" || fail "no warning for the missing -updates"
: >"$work/requests"
out=$(DMC_CACHEDIR=$work/c17 "$DMC" --config "$work/ubuntu.yaml" -A amd64 -a resolve hello-dmc 2>"$work/err") \
    || fail "main: $(cat "$work/err")"
[ "$out" = "$(printf 'hello-dmc 1.0-1 amd64\nlibdmc1 1.3-1 amd64')" ] || fail "amd64 resolved: $out"
[ "$(requests /ok/ports/)" = 0 ] || fail "amd64 asked the ports mirror: $(cat "$work/requests")"
[ "$(requests /ok/ubuntu/dists/dmcnoble-updates/main/binary-amd64/Packages.xz)" = 1 ] || fail "no -updates index"
pass "Ubuntu-style: arm64 from the ports mirror (own keyring), amd64 from the main one with universe and -updates"

# A mirror's suites are fetched at once: the server holds each InRelease until another
# one is asked for (5 s at most) and says how many were being asked for together.
sed "s|$base/ok/ubuntu|$base/together/ubuntu|" "$work/ubuntu.yaml" >"$work/together.yaml"
: >"$work/requests"
out=$(DMC_CACHEDIR=$work/c17b "$DMC" --config "$work/together.yaml" -A amd64 -a resolve hello-dmc \
    2>"$work/err") || fail "suites at once: $(cat "$work/err")"
[ "$out" = "$(printf 'hello-dmc 1.0-1 amd64\nlibdmc1 1.3-1 amd64')" ] || fail "suites at once resolved: $out"
[ "$(grep -c '^HELD /together/ubuntu/dists/dmcnoble\(-updates\)\?/InRelease together=2$' "$work/requests")" = 2 ] \
    || fail "the suites were not fetched at once: $(grep HELD "$work/requests")"
pass "a mirror's suites are fetched at once"

# The form of an index by the mirror's measured speed: from a mirror that sends its
# Release file (as long as Debian's) fast, the gzip index, which decodes in less
# time; from a slow one, the xz index, the smallest download. The same packages
# either way.
add_to_pool "$work/srv/forms" main "$debs"/*.deb
GZIP_TOO=1 RELEASE_PADDING=400 publish "$work/srv/forms" dmctest "$keyA" amd64 main
[ "$(stat -c %s "$work/srv/forms/dists/dmctest/InRelease")" -gt 65536 ] || fail "the padded Release file is short"
conf forms "$base/ok/forms"
conf forms-slow "$base/slow/forms"
: >"$work/requests"
fast=$(resolve c18 forms hello-dmc 2>"$work/err") || fail "fast mirror: $(cat "$work/err")"
[ "$(requests '/ok/forms/dists/dmctest/main/binary-amd64/Packages.gz 200')" = 1 ] \
    && [ "$(requests 'Packages.xz')" = 0 ] || fail "from a fast mirror: $(cat "$work/requests")"
: >"$work/requests"
slow=$(resolve c18s forms-slow hello-dmc 2>"$work/err") || fail "slow mirror: $(cat "$work/err")"
[ "$(requests '/slow/forms/dists/dmctest/main/binary-amd64/Packages.xz 200')" = 1 ] \
    && [ "$(requests 'Packages.gz')" = 0 ] || fail "from a slow mirror: $(cat "$work/requests")"
[ -n "$fast" ] && [ "$fast" = "$slow" ] || fail "the forms resolved differently: '$fast' against '$slow'"
[ "$(ls "$work/c18/indexes")" = "$(ls "$work/c18s/indexes")" ] || fail "the forms cached other texts"
pass "the gzip index from a fast mirror, the xz index from a slow one, the same text from both"

echo "archive tests took $((SECONDS - started)) s"
