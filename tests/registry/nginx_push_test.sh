#!/usr/bin/env bash
# The real nginx image (amd64 and arm64, from the Debian archive): `dmc -t nginx
# -H REGISTRY` builds it and pushes one image index over both archs at the end;
# skopeo reads the index and both manifests back, a copy back to an OCI layout
# has identical digests, and `-a load` pushes the built image again without
# uploading a blob.
set -euo pipefail
source "$DMC_SOURCE_DIR/tests/lib.sh"
source "$DMC_SOURCE_DIR/tests/runtime/lib.sh"  # the shared download cache
work=$(mktemp -d)
trap 'cleanup_registry; rm -rf "$work"' EXIT
source "$DMC_SOURCE_DIR/tests/registry/lib.sh"
export DMC_BUILDDIR=$work/build

start_registry reg
host=127.0.0.1:$REG_PORT
run_dmc create -t nginx -A amd64,arm64 --imagedir "$work/images" -H "$host/dmc" || fail "dmc -t nginx -H failed"
index=$(awk '$1 == "nginx" {print $3}' "$work/create.out")
[[ $index == sha256:* ]] || fail "no index digest: $(cat "$work/create.out")"
grep -qx "$host/dmc/nginx:latest@$index" "$work/create.out" || fail "no latest reference: $(cat "$work/create.out")"
version_ref=$(grep -E "^$host/dmc/nginx:1\.[0-9.]+-[0-9A-Za-z._]+@$index\$" "$work/create.out") \
    || fail "no version reference: $(cat "$work/create.out")"
pass "create with -H builds and pushes: ${version_ref%@*}"

raw=$(skopeo inspect --tls-verify=false --raw "docker://$host/dmc/nginx:latest")
[ "sha256:$(printf '%s' "$raw" | sha256sum | cut -d' ' -f1)" = "$index" ] || fail "the pushed index differs"
manifests=$(python3 -c '
import json, sys
index = json.loads(sys.argv[1])
assert index["mediaType"] == "application/vnd.oci.image.index.v1+json"
assert sorted(m["platform"]["architecture"] for m in index["manifests"]) == ["amd64", "arm64"]
for m in index["manifests"]: print(m["digest"])' "$raw") || fail "index: $raw"
for m in $manifests; do
    skopeo inspect --tls-verify=false --raw "docker://$host/dmc/nginx@$m" | grep -q '"layers"' || fail "manifest $m"
done
skopeo inspect --tls-verify=false --override-arch arm64 --config "docker://$host/dmc/nginx:latest" \
    | grep -q '"architecture": *"arm64"' || fail "arm64 config"
skopeo copy -q --all --preserve-digests --src-tls-verify=false "docker://$host/dmc/nginx:latest" \
    "oci:$work/back:latest" || fail "skopeo copy back"
same_blobs "$work/images/nginx" "$work/back" || fail "copied back, the blobs differ"
[ "$(skopeo inspect --raw "oci:$work/back:latest" | sha256sum | cut -d' ' -f1)" = "${index#sha256:}" ] \
    || fail "copied back, the index differs"
pass "skopeo shows the index and both manifests; a copy back has identical digests"

before=$(count "$work/reg.log" '"(POST|PATCH|PUT) /v2/')
run_dmc load -a load -t nginx -A amd64,arm64 --imagedir "$work/images" -H "$host/dmc" || fail "-a load"
[ "$(count "$work/reg.log" '"(POST|PATCH|PUT) /v2/')" = "$before" ] || fail "the second push uploaded something"
[ "$(grep -c "@$index\$" "$work/load.out")" = 2 ] || fail "load stdout: $(cat "$work/load.out")"
pass "-a load pushes the built image again without uploading anything"
