#!/usr/bin/env bash
# Image sizes of every template, both archs, against the floor: the regular files
# the template selected (its binaries and their library closure) plus the files
# its configuration writes, taken from the same rootfs. Prints a Markdown table.
#   bench/sizes.sh [BUILD_DIR]   (default build/release; needs the network)
set -euo pipefail
cd "$(dirname "$0")/.."
build=$(realpath "${1:-build/release}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export DMC_CACHEDIR=${DMC_CACHEDIR:-$work/cache} HOME=$work/home OUT_level=ERROR DMC_BUILDDIR=$work/build
"$build/bin/dmc" -g core,base,app --imagedir "$work/images" >/dev/null

echo "| template | arch | image (tar) | image (gzip) | packages in image | floor (tar) | floor (gzip) |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for t in nginx php mariadb adminer; do
    for arch in amd64 arm64; do
        set=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tree"])' "$DMC_BUILDDIR/trixie/$arch/$t/rootfs.json")
        python3 - "$work/images/$t" "$arch" "$DMC_CACHEDIR/rootfs/trixie/$arch/$t/$set/root" \
            "$DMC_BUILDDIR/trixie/$arch/$t" "$t" <<'PY'
import gzip, io, json, os, sys, tarfile
layout, arch, root, build, name = sys.argv[1:]
blob = lambda d: f"{layout}/blobs/sha256/{d.split(':')[1]}"
index = json.load(open(blob(json.load(open(f"{layout}/index.json"))["manifests"][0]["digest"])))
m = [x for x in index["manifests"] if x["platform"]["architecture"] == arch][0]
layer = blob(json.load(open(blob(m["digest"])))["layers"][0]["digest"])
with gzip.open(layer) as f:
    tar_size = len(f.read())
gz_size = os.path.getsize(layer)
pack = json.load(open(f"{build}/pack.json"))
# The floor: selected regular files plus what configure writes, as one tar.gz.
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w") as t:
    for path in json.load(open(f"{build}/files.json")):
        p = root + path
        if os.path.isfile(p) and not os.path.islink(p):
            t.add(p, arcname=path.lstrip("/"), recursive=False)
    for f in json.load(open(f"{build}/configure.json"))["files"]:
        data = bytes.fromhex(f["data_hex"])
        info = tarfile.TarInfo(f["path"].lstrip("/"))
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
floor = buf.getvalue()
floor_gz = len(gzip.compress(floor, 6))
mb = lambda n: f"{n / 1e6:.1f} MB"
print(f"| {name} | {arch} | {mb(tar_size)} | {mb(gz_size)} | {pack['packages']} | {mb(len(floor))} | {mb(floor_gz)} |")
PY
    done
done
