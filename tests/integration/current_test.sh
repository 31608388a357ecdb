#!/usr/bin/env bash
# Keeping images current, against a small archive signed and served here in two
# states: between them libshared gets a new version in the -security suite and
# libold leaves the main suite. Four templates: alpha (libshared), gamma building on
# alpha, beta (libold, else libnew) and delta (nothing that changes). Checked: the
# lock written by the first build and followed by later ones, update's report and
# its JSON, incremental builds and pushes to a real registry, the lock of state one
# with the package gone, a snapshot service, --snapshot, and the cron-style run.
set -euo pipefail
source "$DMC_SOURCE_DIR/tests/lib.sh"
here=$DMC_SOURCE_DIR/tests/integration
source "$here/make_archive.sh"
for tool in python3 gpg gpgv gpgconf apt-ftparchive dpkg-deb xz; do
    command -v "$tool" >/dev/null || { echo "skipped: $tool is not installed"; exit 77; }
done
work=$(mktemp -d)
source "$DMC_SOURCE_DIR/tests/registry/lib.sh"
cleanup() {
    cleanup_registry
    stop_archive_server
    stop_keys "$work/key"
    rm -rf "$work"
}
trap cleanup EXIT
unset DMC_PLUGIN_PATH DMC_ARCHS DMC_DIST DMC_MIRROR DMC_IMAGEDIR IMAGEDIR DMC_ROOTFSDIR DMC_BUILDDIR \
    DMC_SOURCEDIR DMC_LOCK_FILE DMC_SNAPSHOT DMC_SNAPSHOT_URL SOURCE_DATE_EPOCH GNUPGHOME || true
export DMC_CACHEDIR=$work/cache IMAGEDIR=$work/images

# --- the archive in state one ------------------------------------------------------------
make_key "$work/key"
debs=$work/debs
# pkg NAME VERSION FILE [FIELD...]: a package with the file FILE, saying its version;
# a T-bin package has /usr/share/T/about too, as the template T collects /usr/share/T;
# each has a changelog no template collects
pkg() {
    local name=$1 version=$2 file=$3 s=$work/stage/$1
    shift 3
    rm -rf "$s"
    mkdir -p "$s$(dirname "$file")" "$s/usr/share/doc/$name"
    echo "$name $version changes" >"$s/usr/share/doc/$name/changelog"
    printf '#!/bin/sh\necho %s %s\n' "$name" "$version" >"$s$file"
    chmod 0755 "$s$file"
    if [[ $name == *-bin ]]; then
        mkdir -p "$s/usr/share/${name%-bin}"
        echo "$name $version" >"$s/usr/share/${name%-bin}/about"
    fi
    build_deb "$debs" "$s" "$name" "$version" amd64 "$@"
}
pkg alpha-bin 1.0 /usr/bin/alpha "Depends: libshared"
pkg libshared 1.0 /usr/share/alpha/shared
pkg libshared 1.1 /usr/share/alpha/shared
pkg gamma-bin 1.0 /usr/bin/gamma
pkg beta-bin 1.0 /usr/bin/beta "Depends: libold | libnew"
pkg libold 1.0 /usr/share/beta/old
pkg libnew 1.0 /usr/share/beta/new
pkg delta-bin 1.0 /usr/bin/delta
pkg base-files 13.8 /usr/lib/os-release
srv=$work/srv/dmc
for p in alpha-bin_1.0 libshared_1.0 gamma-bin_1.0 beta-bin_1.0 libold_1.0 libnew_1.0 delta-bin_1.0 base-files_13.8; do
    add_to_pool "$srv" main "$debs/${p}_amd64.deb"
done
publish "$srv" dmctest "$work/key" amd64 main
POOL=pool/updates publish "$srv" dmctest-security "$work/key" amd64 main

start_archive_server
start_registry reg
registry=127.0.0.1:$REG_PORT/current

cat >"$work/dmc.yaml" <<EOF
dist: dmctest
archs: [amd64]
mirrors:
  - url: $base/ok/dmc
    suites: ["{dist}", "{dist}-security"]
    keyring: $work/key/key.gpg
registry: $registry
EOF
lock=$work/dmc.lock
plugins=$work/plugins
mkdir -p "$plugins"
cp "$DMC_TEST_PLUGINS"/current/*.so "$plugins/"
# build NAME [DMC ARGS...]: the four images, pushed; stdout in NAME.out, stderr in NAME.err
build() {
    local name=$1
    shift
    "$DMC" --config "$work/dmc.yaml" --plugin-dir "$plugins" -g current "$@" \
        >"$work/$name.out" 2>"$work/$name.err" || fail "$name: $(cat "$work/$name.err")"
}
# digest NAME TEMPLATE: the index digest the run NAME reported for TEMPLATE
digest() { awk -v t="$2" '$1 == t && $3 ~ /^sha256:/ {print $3}' "$work/$1.out"; }
# pushes TEMPLATE: how many manifests or indexes of TEMPLATE the registry took so far
pushes() { count "$work/reg.log" "\"PUT /v2/current/$1/manifests/"; }
# decision NAME TEMPLATE: what the run NAME logged about the image of TEMPLATE
decision() { grep -oE "$2 amd64: (unchanged|rebuilt: .*)" "$work/$1.err" | head -1 | sed 's/, sha256:.*//'; }
all="alpha beta gamma delta"

# --- the first build writes the lock; the second changes nothing --------------------------
build one
[ -s "$lock" ] || fail "the first build wrote no lock next to its config"
for t in $all; do
    [ -n "$(digest one $t)" ] || fail "no digest for $t: $(cat "$work/one.out")"
    grep -q "\"dmctest/amd64/$t\":" "$lock" || fail "the lock has no entry for $t"
done
grep -q 'name: "libshared", version: "1.0", arch: "amd64", size: [0-9]*, sha256: "[0-9a-f]\{64\}", mirror: "'"$base"'/ok/dmc", suite: "dmctest", component: "main", filename: "pool/main/l/libshared/libshared_1.0_amd64.deb"' "$lock" \
    || fail "the lock does not record libshared whole: $(grep libshared "$lock")"
grep -q 'inrelease_sha256: "'"$(sha256sum <"$srv/dists/dmctest/InRelease" | cut -d' ' -f1)"'"' "$lock" \
    || fail "the lock does not name the InRelease it was verified against"
grep -q '"gamma": "1.0"' "$lock" && grep -q '"alpha": "1.0"' "$lock" || fail "the lock has no template versions"
cp "$lock" "$work/lock.one"
pushed_before=$(count "$work/reg.log" '"PUT /v2/current/')
requests_before=$(wc -l <"$work/requests")
index_before=$(stat -c %Y.%y "$IMAGEDIR/alpha/index.json")
sleep 1
build two
[ "$(stat -c %Y.%y "$IMAGEDIR/alpha/index.json")" = "$index_before" ] || fail "an unchanged index was rewritten"
for t in $all; do
    [ "$(digest two $t)" = "$(digest one $t)" ] || fail "$t changed on a rebuild"
    [ "$(decision two $t)" = "$t amd64: unchanged" ] || fail "$t: $(decision two $t)"
done
cmp -s "$lock" "$work/lock.one" || fail "a build with nothing changed rewrote the lock"
[ "$(count "$work/reg.log" '"PUT /v2/current/')" = "$pushed_before" ] || fail "an unchanged build pushed"
[ "$(count "$work/reg.log" '"HEAD /v2/current/alpha/manifests/')" -ge 2 ] || fail "the push did not check with HEAD"
[ "$(wc -l <"$work/requests")" = "$requests_before" ] || fail "an unchanged build went to the mirror"
pass "the first build writes the lock; an unchanged build reuses every image and pushes nothing"

# A packed image's tree keeps only the image's files, and the store sheds what no tree
# links; a build that needs the whole tree again places it from the .debs.
trees=$DMC_CACHEDIR/rootfs/dmctest/amd64
for t in $all; do
    ls "$trees/$t"/*/slim >/dev/null 2>&1 || fail "the tree of $t is not marked slim"
    [ -x "$(echo "$trees/$t"/*/root/usr/bin/$t)" ] || fail "the tree of $t lost its image's /usr/bin/$t"
    [ -z "$(find "$trees/$t" -name changelog)" ] || fail "the tree of $t kept files its image does not hold"
done
[ -z "$(grep -rl 'delta-bin 1.0 changes' "$DMC_CACHEDIR/rootfs/store")" ] || fail "the store kept a file no tree links"
ls "$DMC_CACHEDIR"/rootfs/store/*/partial >/dev/null 2>&1 || fail "no stored package is marked partial"

# The lock alone rebuilds the same digests from a fresh cache, while state one is served.
DMC_CACHEDIR=$work/cache-fresh DMC_BUILDDIR=$work/build-fresh IMAGEDIR=$work/images-fresh \
    build fresh
for t in $all; do [ "$(digest fresh $t)" = "$(digest one $t)" ] || fail "$t from the lock: another digest"; done
pass "the lock rebuilds the same digests from an empty cache"

# --- state two: libshared 1.1 in -security, libold gone from main -------------------------
mkdir -p "$work/srv/snapshots/dmc"
date1=$(python3 -c 'import email.utils,sys; print(email.utils.parsedate_to_datetime(sys.argv[1]).strftime("%Y%m%dT%H%M%SZ"))' \
    "$(sed -n 's/^Date: //p' "$srv/dists/dmctest/Release")")
cp -a "$srv" "$work/srv/snapshots/dmc/$date1"
sleep 1  # a later Date for state two
rm "$(find "$srv/pool/main" -name 'libold_*.deb')"
POOL=pool/updates add_to_pool "$srv" main "$debs/libshared_1.1_amd64.deb"
publish "$srv" dmctest "$work/key" amd64 main
POOL=pool/updates publish "$srv" dmctest-security "$work/key" amd64 main

update() {
    local name=$1
    shift
    "$DMC" --config "$work/dmc.yaml" --plugin-dir "$plugins" -g current -a update "$@" \
        >"$work/$name.out" 2>"$work/$name.err" || fail "update $name: $(cat "$work/$name.err")"
}
update json --json
python3 - "$work/json.out" <<'EOF' || fail "update --json: $(cat "$work/json.out")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["changes"] == 4 and r["security"] == 2 and r["changed_images"] == 3 and r["written"], r
got = {(i["template"], c["package"], c["old"], c["new"], c["security"]) for i in r["images"] for c in i["changes"]}
want = {("alpha", "libshared", "1.0", "1.1", True), ("gamma", "libshared", "1.0", "1.1", True),
        ("beta", "libold", "1.0", None, False), ("beta", "libnew", None, "1.0", False)}
assert got == want, got
assert [i["changes"] for i in r["images"] if i["template"] == "delta"] == [[]], r
EOF
cp "$work/lock.one" "$lock"
update text
sort "$work/text.out" >"$work/text.sorted"
cat >"$work/text.want" <<EOF
alpha amd64: libshared 1.0 -> 1.1 (security)
beta amd64: libnew (new) -> 1.0
beta amd64: libold 1.0 -> (removed)
gamma amd64: libshared 1.0 -> 1.1 (security)
update: 4 changes in 3 of 4 images (2 from security); $lock rewritten
EOF
diff "$work/text.want" "$work/text.sorted" || fail "update reported otherwise"
grep -q 'name: "libshared", version: "1.1", .*suite: "dmctest-security"' "$lock" || fail "the lock was not renewed"
grep -q '"libold"' "$lock" && fail "the lock still has libold"
update again
cp "$lock" "$work/lock.two"
[ "$(cat "$work/again.out")" = "update: no package changed; $lock is current" ] || fail "a second update: $(cat "$work/again.out")"
pass "update names each change, marks the security ones, sums up, gives JSON and rewrites the lock"

# --- the next build rebuilds and pushes alpha, gamma and beta; delta stays ---------------
for t in $all; do eval "before_$t=$(pushes $t)"; done
build three
[ "$(digest three delta)" = "$(digest one delta)" ] || fail "delta changed"
[ "$(decision three delta)" = "delta amd64: unchanged" ] || fail "delta: $(decision three delta)"
for t in alpha gamma beta; do
    [ "$(digest three $t)" != "$(digest one $t)" ] || fail "$t was not rebuilt"
done
[ "$(decision three alpha)" = "alpha amd64: rebuilt: libshared 1.0 -> 1.1" ] || fail "alpha: $(decision three alpha)"
[ "$(decision three gamma)" = "gamma amd64: rebuilt: libshared 1.0 -> 1.1" ] || fail "gamma: $(decision three gamma)"
[ "$(decision three beta)" = "beta amd64: rebuilt: libnew (new) -> 1.0, libold 1.0 -> (removed)" ] \
    || fail "beta: $(decision three beta)"
[ "$(pushes delta)" = "$before_delta" ] || fail "delta was pushed again"
for t in alpha gamma beta; do
    [ "$(pushes $t)" -gt "$(eval echo "\$before_$t")" ] || fail "$t was not pushed"
done
pass "create rebuilds and pushes exactly the changed images; delta keeps its digest and is not pushed"

# --- diff: state one (a layout, an image directory) against state three (here, the registry) ---
# ask NAME ACTIVITY TEMPLATE ARGS...: dmc -a ACTIVITY -t TEMPLATE ARGS, its result lines in NAME.out
ask() {
    local name=$1 activity=$2 t=$3
    shift 3
    "$DMC" --config "$work/dmc.yaml" --plugin-dir "$plugins" -a "$activity" -t "$t" "$@" \
        >"$work/$name.out" 2>"$work/$name.err" || fail "$name: $(cat "$work/$name.err")"
}
diff_of() { ask "$1" diff "${@:2}"; }  # diff_of NAME TEMPLATE OLD NEW
diff_of diff-beta beta "$work/images-fresh" "$IMAGEDIR"
grep -qx 'beta amd64: packages 1 added, 1 removed, 0 changed; files [0-9]* added, [0-9]* removed, 1 changed; .* -> .* (.*)' \
    "$work/diff-beta.out" || fail "beta's summary: $(head -1 "$work/diff-beta.out")"
grep -q '^~ file /var/lib/dmc/manifest ' "$work/diff-beta.out" || fail "the changed file is not the image's manifest"
grep -qx '+ package libnew 1.0 (amd64)' "$work/diff-beta.out" || fail "libnew is not added: $(cat "$work/diff-beta.out")"
grep -qx -- '- package libold 1.0 (amd64)' "$work/diff-beta.out" || fail "libold is not removed"
grep -qE '^\+ file /usr/share/beta/new [0-9]+ B, 0[0-7]{3}, sha256:[0-9a-f]{12}$' "$work/diff-beta.out" || fail "its file is not added"
grep -qE '^- file /usr/share/beta/old ' "$work/diff-beta.out" || fail "libold's file is not removed"
grep -qE '^\+ file /var/lib/dpkg/status.d/libnew ' "$work/diff-beta.out" || fail "libnew's record is not added"
diff_of diff-alpha alpha "$work/images-fresh/alpha" latest
grep -qx '~ package libshared 1.0 (amd64) -> 1.1 (amd64)' "$work/diff-alpha.out" || fail "alpha: $(cat "$work/diff-alpha.out")"
grep -qE '^~ file /usr/share/alpha/shared [0-9]+ B, 0[0-7]{3}, sha256:[0-9a-f]{12} -> [0-9]+ B, 0[0-7]{3}, sha256:[0-9a-f]{12}$' \
    "$work/diff-alpha.out" || fail "libshared's file is not changed"
! grep -q ' /usr/bin/alpha ' "$work/diff-alpha.out" || fail "an unchanged file is listed"
diff_of diff-delta delta "$work/images-fresh" latest
[ "$(wc -l <"$work/diff-delta.out")" = 1 ] && grep -qx 'delta amd64: packages 0 added, 0 removed, 0 changed; files 0 added, 0 removed, 0 changed; .* (+0 B)' \
    "$work/diff-delta.out" || fail "delta did not change: $(cat "$work/diff-delta.out")"
expect_fail 1 "there is no 127.0.0.1:$REG_PORT/current/alpha:nosuch; push it first" -- \
    "$DMC" --config "$work/dmc.yaml" --plugin-dir "$plugins" -a diff -t alpha "$work/images-fresh" nosuch
expect_fail 1 "$work/requests is neither an OCI layout nor an image directory with alpha/index.json" -- \
    "$DMC" --config "$work/dmc.yaml" --plugin-dir "$plugins" -a diff -t alpha "$work/requests" latest
expect_fail 2 "diff needs -t TEMPLATE and two images" -- \
    "$DMC" --config "$work/dmc.yaml" --plugin-dir "$plugins" -a diff "$work/images-fresh" latest
pass "diff: packages and files added, removed and changed between a layout, an image directory and a pushed tag; nothing for an unchanged image"

# --- why: the chain to a package, the rule for a path ---------------------------------------
why_of() { ask "$1" why "${@:2}"; }  # why_of NAME TEMPLATE WHAT
why_of why-libnew beta libnew
[ "$(cat "$work/why-libnew.out")" = "beta amd64: package libnew 1.0 (amd64)
  beta-bin: asked for by the template
  beta-bin Depends: libold | libnew; taken: libnew; not taken: libold" ] \
    || fail "why libnew: $(cat "$work/why-libnew.out")"
why_of why-shared alpha /usr/share/alpha/shared
[ "$(cat "$work/why-shared.out")" = "alpha amd64: path /usr/share/alpha/shared: collected by the template: /usr/share/alpha
  from package libshared 1.1 (amd64)
  alpha-bin: asked for by the template
  alpha-bin Depends: libshared" ] || fail "why /usr/share/alpha/shared: $(cat "$work/why-shared.out")"
why_of why-passwd alpha /etc/passwd
grep -q "^alpha amd64: path /etc/passwd: a base file dmc writes in every image" "$work/why-passwd.out" \
    || fail "why /etc/passwd: $(cat "$work/why-passwd.out")"
expect_fail 1 "libnew is not among the image's packages; give a package it has, or a path" -- \
    "$DMC" --config "$work/dmc.yaml" --plugin-dir "$plugins" -a why -t alpha libnew
expect_fail 1 "/usr/share/beta/new is not in the image" -- \
    "$DMC" --config "$work/dmc.yaml" --plugin-dir "$plugins" -a why -t alpha /usr/share/beta/new
expect_fail 2 "why needs -t TEMPLATE and one package or path" -- \
    "$DMC" --config "$work/dmc.yaml" --plugin-dir "$plugins" -a why libnew
pass "why: the dependency chain with the alternative taken, the rule that collected a path, a base file; unknown names refused"

# A new version of the template alpha rebuilds alpha and gamma, which builds on it.
cp "$DMC_TEST_PLUGINS/current-next/alpha.so" "$plugins/alpha.so"
build four
[ "$(decision four alpha)" = "alpha amd64: rebuilt: template alpha 1.0 -> 1.1" ] || fail "alpha: $(decision four alpha)"
[ "$(decision four gamma)" = "gamma amd64: rebuilt: template alpha 1.0 -> 1.1" ] || fail "gamma: $(decision four gamma)"
[ "$(decision four beta)" = "beta amd64: unchanged" ] || fail "beta: $(decision four beta)"
grep -q '"alpha": "1.1"' "$lock" || fail "the lock does not record alpha 1.1"
cp "$DMC_TEST_PLUGINS/current/alpha.so" "$plugins/alpha.so"
build five
pass "a template's new version rebuilds its images and those that build on it"

# An option of a template rebuilds its image; as delta ignores it, to the same digest.
cp "$work/dmc.yaml" "$work/dmc.yaml.plain"
printf 'templates:\n  delta:\n    color: blue\n' >>"$work/dmc.yaml"
before_delta=$(pushes delta)
OUT_level=INFO DMC_KEEP_TREES=1 build option
grep -q "holds only its image's files: placed again" "$work/option.err" || fail "delta's slim tree was taken as it was"
[ "$(cat "$trees"/delta/*/root/usr/share/doc/delta-bin/changelog)" = "delta-bin 1.0 changes" ] \
    || fail "delta's tree was not placed whole again: $(ls -R "$trees/delta")"
! ls "$trees"/delta/*/slim >/dev/null 2>&1 || fail "keep_trees: delta's tree was slimmed"
[ "$(decision option delta)" = "delta amd64: rebuilt: option delta.color" ] || fail "delta: $(decision option delta)"
[ "$(decision option beta)" = "beta amd64: unchanged" ] || fail "beta: $(decision option beta)"
[ "$(digest option delta)" = "$(digest one delta)" ] || fail "an option delta ignores changed its digest"
[ "$(pushes delta)" = "$before_delta" ] || fail "the same delta was pushed again"
grep -q '"delta.color": "blue"' "$lock" || fail "the lock does not record the option"
# While another process uses delta's trees (its shared lock), they stay whole.
sed -i 's/color: blue/color: red/' "$work/dmc.yaml"
exec {use}>"$trees/.delta.use"
flock -s "$use"
build busy
exec {use}>&-
[ "$(decision busy delta)" = "delta amd64: rebuilt: option delta.color" ] || fail "delta: $(decision busy delta)"
! ls "$trees"/delta/*/slim >/dev/null 2>&1 || fail "a tree another process uses was slimmed"
cp "$work/dmc.yaml.plain" "$work/dmc.yaml"
pass "an option rebuilds its image from its slim tree placed again, the same bytes not pushed again; a tree another process uses stays whole"

# --- the lock of state one, with libold gone ----------------------------------------------
cp "$work/lock.one" "$lock"
rc=0
DMC_CACHEDIR=$work/cache-gone DMC_BUILDDIR=$work/build-gone IMAGEDIR=$work/images-gone \
    "$DMC" --config "$work/dmc.yaml" --plugin-dir "$plugins" -t beta >/dev/null 2>"$work/gone.err" || rc=$?
[ "$rc" = 1 ] || fail "a locked package the mirror dropped: exit $rc; $(cat "$work/gone.err")"
grep -q "^FAIL.*libold 1.0 (amd64) is locked in $lock, but $base/ok/dmc no longer has it; run \`dmc -a update\`, or give a snapshot mirror" \
    "$work/gone.err" || fail "the refusal: $(cat "$work/gone.err")"
[ -z "$(find "$work/images-gone" -name index.json 2>/dev/null)" ] || fail "an image was written"
pass "a locked version the mirror no longer has: the package, the version and what to do"

DMC_SNAPSHOT_URL=$base/snapshot DMC_CACHEDIR=$work/cache-gone DMC_BUILDDIR=$work/build-gone \
    IMAGEDIR=$work/images-gone build snap -t beta
[ "$(digest snap beta)" = "$(digest one beta)" ] || fail "from the snapshot: another digest"
grep -q "libold 1.0 (amd64) is no longer on $base/ok/dmc; fetched it from $base/snapshot/archive/dmc/" "$work/snap.err" \
    || fail "it did not say where libold came from: $(cat "$work/snap.err")"
pass "with a snapshot service, the locked package comes from the snapshot of its Release"

# --- update --snapshot pins the whole lock to one date, expired Valid-Until and all -------
snapdir=$work/srv/snapshots/dmc/$date1
publish "$snapdir" dmctest "$work/key" amd64 main -o APT::FTPArchive::Release::ValidTime=1
POOL=pool/updates publish "$snapdir" dmctest-security "$work/key" amd64 main -o APT::FTPArchive::Release::ValidTime=1
sleep 2
cp "$work/lock.two" "$lock"
DMC_SNAPSHOT_URL=$base/snapshot update snapshot --snapshot "$date1"
grep -q "alpha amd64: libshared 1.1 -> 1.0" "$work/snapshot.out" || fail "update --snapshot: $(cat "$work/snapshot.out")"
grep -q "snapshot/archive/dmc/$date1/dists/dmctest: the Release file expired .* accepted because this is a snapshot mirror" \
    "$work/snapshot.err" || fail "the expired snapshot Release was not accepted loudly: $(cat "$work/snapshot.err")"
grep -q "mirror: \"$base/snapshot/archive/dmc/$date1\"" "$lock" || fail "the lock is not pinned to the snapshot"
DMC_CACHEDIR=$work/cache-snap DMC_BUILDDIR=$work/build-snap IMAGEDIR=$work/images-snap build pinned
for t in $all; do [ "$(digest pinned $t)" = "$(digest one $t)" ] || fail "$t from the pinned lock: another digest"; done
# The same expired Release on an ordinary mirror is refused.
cp -a "$snapdir" "$work/srv/expired"
sed "s|$base/ok/dmc|$base/ok/expired|" "$work/dmc.yaml" >"$work/expired.yaml"
rc=0
"$DMC" --config "$work/expired.yaml" --plugin-dir "$plugins" -g current -a update \
    >/dev/null 2>"$work/expired.err" || rc=$?
[ "$rc" = 1 ] && grep -q "Release file expired" "$work/expired.err" || fail "an expired mirror was accepted: $(cat "$work/expired.err")"
pass "update --snapshot DATE pins every image to that date; its expired Release is accepted there only"

# --- the cron job ----------------------------------------------------------------------------
# The images of state one again, from its lock; then update and build as cron runs them.
cp "$work/lock.one" "$lock"
build six
[ "$(digest six alpha)" = "$(digest one alpha)" ] || fail "state one's lock: another alpha"
mkdir -p "$work/logs"
export OUT_level=NONE LOG_level=ALL LOG_dir=$work/logs
"$DMC" --config "$work/dmc.yaml" --plugin-dir "$plugins" -a update -g current >"$work/cron.out" 2>"$work/cron.err" \
    || fail "cron update: $(cat "$work/cron.err")"
"$DMC" --config "$work/dmc.yaml" --plugin-dir "$plugins" -g current >>"$work/cron.out" 2>>"$work/cron.err" \
    || fail "cron build: $(cat "$work/cron.err")"
unset OUT_level LOG_level LOG_dir
[ ! -s "$work/cron.out" ] && [ ! -s "$work/cron.err" ] || fail "the cron job wrote: $(cat "$work/cron.out" "$work/cron.err")"
logs=$(ls -tr "$work"/logs/dmc-*.log)
[ "$(wc -l <<<"$logs")" = 2 ] || fail "not one log a run: $logs"
update_log=$(head -1 <<<"$logs")
build_log=$(tail -1 <<<"$logs")
grep -q "STDOUT *alpha amd64: libshared 1.0 -> 1.1 (security)" "$update_log" || fail "the update log has no change"
grep -q "STDOUT *update: 4 changes in 3 of 4 images" "$update_log" || fail "the update log has no summary"
grep -q "alpha amd64: rebuilt: libshared 1.0 -> 1.1" "$build_log" || fail "the build log has no decision"
grep -q "delta amd64: unchanged" "$build_log" || fail "the build log does not say delta is unchanged"
grep -qE "STDOUT *$registry/alpha:latest@sha256:[0-9a-f]{64}" "$build_log" || fail "the build log has no push"
for f in "$update_log" "$build_log"; do
    tail -1 "$f" | grep -q "exit status 0" || fail "$f does not end with the exit status"
    grep -q "lock_file = $lock" "$f" || fail "$f does not name the lock"
done
pass "the cron job: silent, and its logs hold the changes, the decisions, the pushes and the status"
