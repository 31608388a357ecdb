#!/usr/bin/env bash
# The nginx image: size against the floor, warm rebuild time, and a cold build
# against mmdebstrap in the same run.
#   bench/image.sh [BUILD_DIR]   (default build/release; as root, with the network)
source "$(dirname "$0")/lib.sh"
export DMC_CACHEDIR=$work/cache
needs mmdebstrap mmdebstrap
# Cold: empty cache, both archs, everything from the archive to the OCI layout.
measure --runs 1 --label "dmc cold: nginx amd64+arm64 (indexes, 2x31 packages, unpack, image)" -- \
    "$dmc" -t nginx --imagedir "$work/images"
rm -rf "$work/images" "$DMC_CACHEDIR/build"
measure --runs 1 --label "dmc packages cached, nothing built: nginx amd64+arm64" -- \
    "$dmc" -t nginx --imagedir "$work/images"
measure --runs 10 --label "dmc warm rebuild: nginx amd64+arm64 (same digest)" -- \
    "$dmc" -t nginx --imagedir "$work/images"
a=$("$dmc" -t nginx --imagedir "$work/images" | awk '{print $3}')
b=$("$dmc" -t nginx --imagedir "$work/images" | awk '{print $3}')
[ "$a" = "$b" ] && echo "digest stable: $a" || echo "DIGEST CHANGED: $a $b"
measure --runs 1 --label "mmdebstrap --variant=essential --include=nginx trixie (amd64)" -- \
    mmdebstrap --quiet --variant=essential --include=nginx trixie "$work/mm.tar"
echo "mmdebstrap tarball: $(du -m "$work/mm.tar" | cut -f1) MB"

# Size against the floor: the nginx binary, the libraries it loads and its
# configuration and default page, taken from the same rootfs.
for arch in amd64 arm64; do
    set=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tree"])' "$DMC_CACHEDIR/build/trixie/$arch/nginx/rootfs.json")
    root=$DMC_CACHEDIR/rootfs/trixie/$arch/nginx/$set/root
    layer=$(python3 - "$work/images/nginx" "$arch" <<'PY'
import json, sys
layout, arch = sys.argv[1], sys.argv[2]
blob = lambda d: f"{layout}/blobs/sha256/{d.split(':')[1]}"
index = json.load(open(blob(json.load(open(f"{layout}/index.json"))["manifests"][0]["digest"])))
m = [x for x in index["manifests"] if x["platform"]["architecture"] == arch][0]
manifest = json.load(open(blob(m["digest"])))
print(blob(manifest["layers"][0]["digest"]))
PY
)
    floor_list=$work/floor-$arch
    (cd "$root" && python3 - "$DMC_CACHEDIR/build/trixie/$arch/nginx/files.json" <<'PY'
import json, os, sys
# The real files among the selection: nginx, the libraries of its closure, /etc/nginx, the page.
for path in json.load(open(sys.argv[1])):
    rel = path.lstrip("/")
    if os.path.isfile(rel) and not os.path.islink(rel):
        if path.startswith(("/usr/sbin/nginx", "/usr/lib", "/etc/nginx", "/usr/share/nginx")):
            print(rel)
PY
) >"$floor_list"
    floor_bytes=$(cd "$root" && xargs -a "$floor_list" du -cb | tail -1 | cut -f1)
    tar -C "$root" -cf "$work/floor.tar" -T "$floor_list"
    floor_gz=$(gzip -6 -c "$work/floor.tar" | wc -c)
    image_bytes=$(zcat "$layer" | wc -c)
    image_gz=$(stat -c %s "$layer")
    python3 - "$arch" "$floor_bytes" "$floor_gz" "$image_bytes" "$image_gz" <<'PY'
import sys
arch, fb, fg, ib, ig = sys.argv[1], *map(int, sys.argv[2:])
print(f"nginx {arch}: floor {fb/1e6:.1f} MB ({fg/1e6:.2f} MB gz); image layer {ib/1e6:.1f} MB tar "
      f"({ig/1e6:.2f} MB gz): {100*(ig/fg-1):+.1f}% gz over the floor")
PY
done
