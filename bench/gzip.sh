#!/usr/bin/env bash
# dmc's gzip (image/deflate) against zlib on real layers: php's and adminer's for
# amd64 and arm64, compressed in the order a run packs them, alternating with zlib
# in the same process; medians, and a check that every output is zlib's bytes.
#   bench/gzip.sh [BUILD_DIR]   (default build/release; needs the network once)
source "$(dirname "$0")/lib.sh"
export DMC_CACHEDIR=$work/cache
"$dmc" -t php,adminer --imagedir "$work/images" >/dev/null
# The uncompressed layer of each image, through the OCI layout's index and manifest.
layer() { # TEMPLATE ARCH OUT
    python3 - "$work/images/$1" "$2" "$3" <<'PY'
import gzip, json, shutil, sys
layout, arch, out = sys.argv[1:]
def blob(digest):
    return f"{layout}/blobs/{digest.replace(':', '/')}"
index = json.load(open(f"{layout}/index.json"))
for m in index["manifests"]:
    if m.get("mediaType", "").endswith("index.v1+json"):
        index = json.load(open(blob(m["digest"])))
        break
for m in index["manifests"]:
    if m.get("platform", {}).get("architecture") == arch:
        manifest = json.load(open(blob(m["digest"])))
        with gzip.open(blob(manifest["layers"][0]["digest"])) as src, open(out, "wb") as dst:
            shutil.copyfileobj(src, dst)
        sys.exit(0)
sys.exit(f"no {arch} image in {layout}")
PY
}
files=()
for t in php adminer; do
    for arch in amd64 arm64; do
        layer "$t" "$arch" "$work/$t-$arch.tar"
        files+=("$work/$t-$arch.tar")
    done
done
cd "$work"
"$build/bench/dmc_gzip_bench" --runs 3 "${files[@]##*/}"
