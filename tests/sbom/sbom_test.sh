#!/usr/bin/env bash
# The SBOMs of the real nginx image tell the truth: the SPDX 2.3 document validates
# against the schema SPDX publishes (ajv from npm), the CycloneDX 1.6 one with
# CycloneDX's own JavaScript library; every file of the image's layer
# is in it with its true SHA256 and no file of it is missing from the layer, as
# in the image's own /var/lib/dmc/manifest, which names who wrote each path; a
# package of which only some files ship is marked partial with what was left out
# and why, and its status.d md5sums list only shipped files; a package with no
# file in the image appears nowhere.
set -euo pipefail
source "$DMC_SOURCE_DIR/tests/lib.sh"
source "$DMC_SOURCE_DIR/tests/runtime/lib.sh"  # the shared download cache
start_work

SOURCE_DATE_EPOCH=1700000000 "$DMC" -t nginx -A amd64 --imagedir "$work/images" >"$work/build.log" 2>&1 \
    || { tail "$work/build.log"; fail "build"; }
sbom=$work/images/nginx-amd64.spdx.json

npm_dir=$DMC_BINARY_DIR/test-npm
if [ ! -d "$npm_dir/node_modules/ajv" ] || [ ! -d "$npm_dir/node_modules/ajv-formats" ]; then
    mkdir -p "$npm_dir"
    npm install --prefix "$npm_dir" --no-audit --no-fund --silent ajv@8 ajv-formats@3 >/dev/null \
        || fail "npm install ajv"
fi
NODE_PATH=$npm_dir/node_modules node "$DMC_SOURCE_DIR/tests/sbom/validate_sbom.js" \
    "$DMC_SOURCE_DIR/tests/sbom/schemas/spdx-2.3.schema.json" "$sbom" >"$work/spdx.out" 2>&1 \
    || fail "the SPDX SBOM does not validate: $(head -20 "$work/spdx.out")"
pass "the SPDX SBOM validates against SPDX's published 2.3 schema (ajv)"
# CycloneDX's own library (npm) validates against the 1.6 schema it ships.
if [ ! -d "$npm_dir/node_modules/@cyclonedx/cyclonedx-library" ]; then
    npm install --prefix "$npm_dir" --no-audit --no-fund --silent @cyclonedx/cyclonedx-library@10 \
        ajv-formats-draft2019@1 >/dev/null || fail "npm install @cyclonedx/cyclonedx-library"
fi
NODE_PATH=$npm_dir/node_modules node -e '
const { Validation, Spec } = require("@cyclonedx/cyclonedx-library");
const text = require("fs").readFileSync(process.argv[1], "utf8");
new Validation.JsonStrictValidator(Spec.Version.v1dot6).validate(text).then(errors => {
  if (errors) { console.log(JSON.stringify(errors).slice(0, 2000)); process.exit(1); }
}, e => { console.log(String(e)); process.exit(1); });' "$work/images/nginx-amd64.cdx.json" >"$work/cdx.out" 2>&1 \
    || fail "the CycloneDX SBOM does not validate: $(cat "$work/cdx.out")"
pass "the CycloneDX SBOM validates against the 1.6 schema (CycloneDX's JavaScript library)"

python3 - "$work/images/nginx" "$sbom" "$work/images/nginx-amd64.cdx.json" <<'PY' || fail "the SBOMs and the image differ"
import gzip, hashlib, io, json, sys, tarfile
layout, sbom_file, cdx_file = sys.argv[1:]
blob = lambda d: open(f"{layout}/blobs/sha256/{d.split(':')[1]}", "rb").read()
index = json.loads(open(f"{layout}/index.json").read())
ref = next(m for m in index["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"] == "latest-amd64")
manifest = json.loads(blob(ref["digest"]))
layer = tarfile.open(fileobj=io.BytesIO(gzip.decompress(blob(manifest["layers"][0]["digest"]))))
files, members = {}, {}
for t in layer.getmembers():
    members["/" + t.name.lstrip("./")] = t
    if t.isfile():
        files["/" + t.name.lstrip("./")] = hashlib.sha256(layer.extractfile(t).read()).hexdigest()
sbom = json.load(open(sbom_file))
listed = {f["fileName"][1:]: f["checksums"][0]["checksumValue"] for f in sbom["files"]}
missing = sorted(set(files) - set(listed))
extra = sorted(set(listed) - set(files))
assert not missing, f"in the image, not in the SBOM: {missing[:10]}"
assert not extra, f"in the SBOM, not in the image: {extra[:10]}"
wrong = [p for p in files if files[p] != listed[p]]
assert not wrong, f"wrong digests: {wrong[:10]}"

# CycloneDX: the same files, under the packages that ship them, and the same partial marks.
cdx = json.load(open(cdx_file))
cdx_files, cdx_packages = {}, {}
for c in cdx["components"]:
    if c["type"] == "file":
        cdx_files[c["name"]] = (c["hashes"][0]["content"], None)
    else:
        cdx_packages[c["name"]] = c
        for f in c["components"]:
            cdx_files[f["name"]] = (f["hashes"][0]["content"], c["name"])
assert {p: h for p, (h, _) in cdx_files.items()} == files, "CycloneDX files differ from the image"
assert cdx_files["/usr/sbin/nginx"][1] == "nginx"
props = {p["name"]: p["value"] for p in cdx_packages["libc6"]["properties"]}
assert props["dmc:partial"].startswith("partial: "), props
assert props["dmc:source-package"] == "glibc"

packages = {p["name"]: p for p in sbom["packages"]}
assert set(cdx_packages) == set(packages), set(cdx_packages) ^ set(packages)
ids = {p["SPDXID"]: p["name"] for p in sbom["packages"]}
owner = {}
fid = {f["SPDXID"]: f["fileName"][1:] for f in sbom["files"]}
for r in sbom["relationships"]:
    if r["relationshipType"] == "CONTAINS":
        owner[fid[r["relatedSpdxElement"]]] = ids[r["spdxElementId"]]
assert owner.get("/usr/sbin/nginx") == "nginx", owner.get("/usr/sbin/nginx")
# libc6 ships its loader and some libraries, not its docs or gconv modules.
libc = packages["libc6"]
assert libc["comment"].startswith("partial: "), libc.get("comment")
assert "docs (" in libc["comment"], libc["comment"]
detail = libc["annotations"][0]["comment"]
assert detail.startswith("dmc:partial; left out:\n"), detail[:80]
assert "/usr/share/doc/libc6/copyright (docs)" in detail, detail[:400]
for line in detail.splitlines()[1:]:
    assert line.rsplit(" (", 1)[0] not in files, f"{line} is listed as left out but ships"
assert "pkg:deb/debian/libc6@" in libc["externalRefs"][0]["referenceLocator"]
assert "upstream=glibc" in libc["externalRefs"][0]["referenceLocator"]
assert libc["sourceInfo"] == "built from the Debian source package glibc"

# status.d: the packages with files in the image, each md5sums naming only shipped files.
status = {p.split("/")[-1] for p in members if p.startswith("/var/lib/dpkg/status.d/") and not p.endswith(".md5sums")}
assert status == set(packages), (sorted(status ^ set(packages)))
for name in status:
    sums = layer.extractfile(members[f"/var/lib/dpkg/status.d/{name}.md5sums"]).read().decode()
    for line in sums.splitlines():
        md5, path = line.split("  ", 1)
        path = "/" + path
        assert path in files, f"{name}.md5sums names {path}, which is not in the image"
        t = members[path]
        assert hashlib.md5(layer.extractfile(t).read()).hexdigest() == md5, path
    stanza = layer.extractfile(members[f"/var/lib/dpkg/status.d/{name}"]).read().decode()
    assert f"Package: {name}\n" in stanza and "Version: " in stanza
assert "Source: glibc" in layer.extractfile(members["/var/lib/dpkg/status.d/libc6"]).read().decode()
# nginx's closure has packages with no file in the image (e.g. debconf's): none of them appears.
for name in ["debconf", "base-passwd", "mawk"]:
    assert name not in packages and name not in status, name

# The manifest inside the image: every path of the layer, sorted, with its true
# type, mode, owner, size, SHA256 and link, and who put it there.
text = layer.extractfile(members["/var/lib/dmc/manifest"]).read().decode()
lines = [json.loads(l) for l in text.splitlines()]
paths = [l["path"] for l in lines]
assert paths == sorted(paths, key=lambda p: p.encode()), "the manifest is not sorted"
assert set(paths) == set(members), sorted(set(paths) ^ set(members))[:10]
kind = lambda t: "file" if t.isfile() else "dir" if t.isdir() else "symlink" if t.issym() else "hardlink"
for l in lines:
    t = members[l["path"]]
    assert l["type"] == kind(t), l
    assert int(l["mode"], 8) == t.mode & 0o7777, (l, oct(t.mode))
    assert (l.get("uid", 0), l.get("gid", 0)) == (t.uid, t.gid), l
    if t.isfile() and l["path"] != "/var/lib/dmc/manifest":
        assert l["sha256"] == files[l["path"]] and l["size"] == t.size, l
    if t.issym():
        assert l["link"] == t.linkname, l
    assert ("package" in l) != ("written_by" in l), l
    if "package" in l:
        assert l["package"] in packages, l
        if l["type"] == "file":  # the SPDX document says the same of every file
            assert owner.get(l["path"]) == l["package"], (l, owner.get(l["path"]))
    elif l["type"] == "file":
        assert l["path"] not in owner, (l, owner[l["path"]])
assert "sha256" not in next(l for l in lines if l["path"] == "/var/lib/dmc/manifest")
by = {l["path"]: l.get("package") or l["written_by"] for l in lines}
assert by["/usr/sbin/nginx"] == "nginx", by["/usr/sbin/nginx"]
assert by["/etc/nginx/nginx.conf"] == "template nginx", by["/etc/nginx/nginx.conf"]
assert by["/var/log/nginx/access.log"] == "template nginx"
assert by["/etc/passwd"] == "dmc" and by["/var/lib/dpkg/status.d/nginx"] == "dmc"
# The SBOMs say the same of the files no package ships.
comments = {f["fileName"][1:]: f.get("comment") for f in sbom["files"]}
assert comments["/etc/nginx/nginx.conf"] == "written by template nginx", comments["/etc/nginx/nginx.conf"]
assert comments["/etc/passwd"] == "written by dmc"
assert comments["/usr/sbin/nginx"] is None
cdx_by = {c["name"]: {p["name"]: p["value"] for p in c.get("properties", [])}
          for c in cdx["components"] if c["type"] == "file"}
assert cdx_by["/etc/nginx/nginx.conf"] == {"dmc:written-by": "template nginx"}, cdx_by["/etc/nginx/nginx.conf"]
PY
pass "every file of the image is in the SBOM with its SHA256, and nothing else"
pass "/var/lib/dmc/manifest lists every path of the layer, sorted, with its digest and origin"
pass "partial packages are marked with what was left out; status.d lists only shipped files"

# The OCI annotations, on the index and the manifest, from the template, the main
# package and the build; created is SOURCE_DATE_EPOCH, never the clock.
python3 - "$work/images/nginx" <<'PY' || fail "annotations"
import json, sys
layout = sys.argv[1]
blob = lambda d: json.loads(open(f"{layout}/blobs/sha256/{d.split(':')[1]}").read())
refs = {m["annotations"]["org.opencontainers.image.ref.name"]: m for m in json.load(open(f"{layout}/index.json"))["manifests"]}
index = blob(refs["latest"]["digest"])
manifest = blob(refs["latest-amd64"]["digest"])
config = blob(manifest["config"]["digest"])
a = manifest["annotations"]
p = "org.opencontainers.image."
assert a[p + "created"] == "2023-11-14T22:13:20Z", a
assert a[p + "title"] == "nginx" and a[p + "description"], a
assert a[p + "version"].startswith("1."), a
assert a[p + "licenses"] == "BSD-2-Clause", a
assert a[p + "vendor"] == "Debian Nginx Maintainers", a
assert a[p + "url"] == a[p + "source"] and a[p + "url"].startswith("https://nginx.org"), a
assert a[p + "revision"].startswith("nginx-"), a
assert a[p + "base.name"] == "debian:trixie", a
assert index["annotations"] == a, index.get("annotations")
for k, v in a.items():
    assert config["config"]["Labels"][k] == v, k
PY
pass "the index and the manifest carry the OCI annotations; created is SOURCE_DATE_EPOCH"

# why: the real chain to nginx's libpcre2, and the rule that put libcrypt.so.1 in the image.
"$DMC" -a why -t nginx -A amd64 libpcre2-8-0 >"$work/why-pcre.out" 2>"$work/why.err" || fail "why: $(cat "$work/why.err")"
grep -qE '^nginx amd64: package libpcre2-8-0 [^ ]+ \(amd64\)$' "$work/why-pcre.out" \
    && grep -qx '  nginx: asked for by the template' "$work/why-pcre.out" \
    && grep -qE '^  nginx Depends: libpcre2-8-0( \(.*\))?$' "$work/why-pcre.out" \
    || fail "why libpcre2-8-0: $(cat "$work/why-pcre.out")"
dpkg-deb -f "$(ls "$DMC_CACHEDIR"/debs/*.deb | while read -r d; do [ "$(dpkg-deb -f "$d" Package Architecture | tr '\n' ' ')" = "Package: nginx Architecture: amd64 " ] && echo "$d"; done | head -1)" Depends \
    | tr ',' '\n' | grep -q 'libpcre2-8-0' || fail "nginx's own control does not depend on libpcre2-8-0"
"$DMC" -a why -t nginx -A amd64 /usr/lib/x86_64-linux-gnu/libcrypt.so.1 >"$work/why-crypt.out" 2>"$work/why.err" \
    || fail "why libcrypt.so.1: $(cat "$work/why.err")"
head -1 "$work/why-crypt.out" | grep -qE '^nginx amd64: path /usr/lib/x86_64-linux-gnu/libcrypt.so.1: a library needed by .*/usr/sbin/nginx \(DT_NEEDED libcrypt.so.1\)' \
    && grep -qE '^  from package libcrypt1 ' "$work/why-crypt.out" \
    && grep -qE '^  nginx Depends: libcrypt1' "$work/why-crypt.out" \
    || fail "why libcrypt.so.1: $(cat "$work/why-crypt.out")"
pass "why: nginx Depends: libpcre2-8-0; libcrypt.so.1 is DT_NEEDED by /usr/sbin/nginx, from libcrypt1 that nginx depends on"
