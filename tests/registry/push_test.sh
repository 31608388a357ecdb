#!/usr/bin/env bash
# Pushing over the distribution protocol to a real docker-registry on loopback,
# anonymous: what skopeo reads back, what a second push sends (nothing),
# chunked uploads, mounts from another repository, tags and stdout.
set -euo pipefail
source "$DMC_SOURCE_DIR/tests/lib.sh"
work=$(mktemp -d)
trap 'cleanup_registry; rm -rf "$work"' EXIT
source "$DMC_SOURCE_DIR/tests/registry/lib.sh"

start_registry reg
log=$work/reg.log
host=127.0.0.1:$REG_PORT
digest=$(make_layout "$work/img" --size 300000 --version '1:1.26.3-3+deb13u1~x')

# Without -H there is nowhere to push; with no image there is nothing to push.
expect_fail 1 'no registry to push nginx to; give one with -H' -- "$DMC" -a load -t nginx --imagedir "$work/img"
expect_fail 1 'no nginx image in .*; build it first' -- "$DMC" -a load -t nginx -H "$host" --imagedir "$work/none"
expect_fail 1 "registry 'bad host' has a malformed host" -- "$DMC" -a load -t nginx -H 'bad host' --imagedir "$work/img"
pass "clear errors without a registry or an image"

run_dmc push1 -a load -t nginx -H "$host/team" --imagedir "$work/img" || fail "anonymous push failed"
expected="$host/team/nginx:latest@$digest
$host/team/nginx:1_1.26.3-3_deb13u1_x@$digest"
[ "$(cat "$work/push1.out")" = "$expected" ] || fail "stdout: $(cat "$work/push1.out")"
pass "anonymous push prints registry/repo:tag@digest for latest and the version"

# Independent clients: the index and every per-arch manifest are there.
raw=$(skopeo inspect --tls-verify=false --raw "docker://$host/team/nginx:latest")
python3 - "$raw" "$digest" <<'PY' || fail "index: $raw"
import hashlib, json, sys
raw, digest = sys.argv[1], sys.argv[2]
assert "sha256:" + hashlib.sha256(raw.encode()).hexdigest() == digest
index = json.loads(raw)
assert index["mediaType"] == "application/vnd.oci.image.index.v1+json"
assert sorted(m["platform"]["architecture"] for m in index["manifests"]) == ["amd64", "arm64"]
PY
for m in $(python3 -c 'import json,sys; [print(m["digest"]) for m in json.loads(sys.argv[1])["manifests"]]' "$raw"); do
    skopeo inspect --tls-verify=false --raw "docker://$host/team/nginx@$m" | grep -q '"layers"' || fail "manifest $m"
done
skopeo copy -q --all --preserve-digests --src-tls-verify=false "docker://$host/team/nginx:1_1.26.3-3_deb13u1_x" \
    "oci:$work/back:latest" || fail "skopeo copy back"
same_blobs "$work/img/nginx" "$work/back" || fail "copied back, the blobs differ"
[ "$(skopeo inspect --raw "oci:$work/back:latest" | sha256sum | cut -d' ' -f1)" = "${digest#sha256:}" ] || fail "index digest differs"
pass "skopeo inspect --raw shows the index and both manifests; skopeo copy back gives identical digests"

# The same image again: HEAD finds everything, no blob and no manifest is sent.
before_post=$(count "$log" '"POST /v2/')
before_put=$(count "$log" '"PUT /v2/')
run_dmc push2 -a load -t nginx -H "$host/team" --imagedir "$work/img" || fail "second push"
[ "$(count "$log" '"POST /v2/')" = "$before_post" ] || fail "the second push started uploads"
[ "$(count "$log" '"PUT /v2/')" = "$before_put" ] || fail "the second push PUT something"
[ "$(cat "$work/push2.out")" = "$expected" ] || fail "second stdout: $(cat "$work/push2.out")"
grep -q '0 uploaded' "$work/push2.err" || fail "second push: $(cat "$work/push2.err")"
pass "pushing again uploads nothing (registry log: no POST, no PUT)"

# Another repository of the same registry: the blobs are mounted, not uploaded.
run_dmc push3 -a load -t nginx -H "$host/other" --imagedir "$work/img" || fail "push to another repository"
[ "$(count "$log" '"POST /v2/other/nginx/blobs/uploads/\?mount=sha256%3A[0-9a-f]{64}&from=team%2Fnginx HTTP/1.1" 201')" = 4 ] \
    || fail "not mounted: $(grep other/nginx "$log" | head)"
[ "$(count "$log" '"(PUT|PATCH) /v2/other/nginx/blobs/uploads/')" = 0 ] || fail "uploaded although mountable"
pass "a push to another repository mounts the 4 blobs"

# A layer bigger than the chunk size goes up in PATCHes and arrives whole.
make_layout "$work/big" --size 3000000 --seed chunked >/dev/null
before=$(count "$log" '"PATCH /v2/')
DMC_REGISTRY_CHUNK_SIZE=1048576 run_dmc chunked -a load -t nginx -H "$host/chunked" --imagedir "$work/big" \
    || fail "chunked push"
patches=$(( $(count "$log" '"PATCH /v2/chunked/nginx/blobs/uploads/[^ ]* HTTP/1.1" 202') - before ))
# Two layers of ~3 MB in 1 MiB chunks: 3 PATCHes each; two configs: 1 each.
[ "$patches" = 8 ] || fail "expected 8 PATCHes, saw $patches"
skopeo copy -q --all --preserve-digests --src-tls-verify=false "docker://$host/chunked/nginx:latest" "oci:$work/big-back:latest" \
    || fail "skopeo copy of the chunked image"
same_blobs "$work/big/nginx" "$work/big-back" || fail "chunked blobs differ"
for b in "$work"/big/nginx/blobs/sha256/*; do cmp -s "$b" "$work/big-back/blobs/sha256/$(basename "$b")" || fail "$b differs"; done
pass "a 3 MB layer goes up in 1 MiB PATCHes ($patches) and arrives intact"

# Tags: the configured tag replaces latest; a bad one is refused before any request.
cat >"$work/tag.yaml" <<EOF2
tag: stable
EOF2
python3 "$DMC_SOURCE_DIR/tests/registry/mklayout.py" "$work/tagged/nginx" --ref stable --version 2.0 >/dev/null
run_dmc tagged --config "$work/tag.yaml" -a load -t nginx -H "$host/team" --imagedir "$work/tagged" || fail "tagged push"
grep -qE "^$host/team/nginx:stable@sha256:[0-9a-f]{64}$" "$work/tagged.out" || fail "tag: $(cat "$work/tagged.out")"
grep -qE "^$host/team/nginx:2.0@sha256:" "$work/tagged.out" || fail "version tag: $(cat "$work/tagged.out")"
pass "the tag setting names the pushed tag"
