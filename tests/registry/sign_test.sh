#!/usr/bin/env bash
# Signed images and attestations, checked by cosign (Debian's, fetched and unpacked
# by dmc's own archive client): `dmc -a keygen` writes a key pair; `dmc -t nginx -H
# REGISTRY --sign KEY` pushes nginx for amd64 and arm64 with a signature of the
# index and of each manifest, and its SLSA provenance, SPDX and CycloneDX SBOM
# attestations;
# cosign verifies all of them with the public key and refuses them with another key
# or once the tag is moved to an unsigned manifest; `dmc -a verify` says the same;
# signing again gives the same attestation payloads and keeps what other keys and
# tools attached; without --sign the SBOMs are still attached as OCI referrers,
# through the referrers API where the registry has it.
set -euo pipefail
source "$DMC_SOURCE_DIR/tests/lib.sh"
source "$DMC_SOURCE_DIR/tests/runtime/lib.sh"  # the shared download cache
work=$(mktemp -d)
trap 'cleanup_registry; rm -rf "$work"' EXIT
source "$DMC_SOURCE_DIR/tests/registry/lib.sh"
export DMC_BUILDDIR=$work/build IMAGEDIR=$work/images

# Keys: a pair in PEM, the private one for its owner only; never overwritten.
run_dmc keygen -a keygen --key "$work/dmc.key" || fail "keygen"
[ "$(stat -c %a "$work/dmc.key")" = 600 ] || fail "dmc.key is mode $(stat -c %a "$work/dmc.key")"
openssl pkey -in "$work/dmc.key" -noout -text 2>/dev/null | grep -q "prime256v1" || fail "not a P-256 key"
openssl pkey -pubin -in "$work/dmc.pub" -noout 2>/dev/null || fail "dmc.pub is not a public key"
before=$(sha256sum "$work/dmc.key")
expect_fail 1 "dmc.key exists already" -- "$DMC" -a keygen --key "$work/dmc.key"
[ "$(sha256sum "$work/dmc.key")" = "$before" ] || fail "a second keygen changed the key"
run_dmc other -a keygen --key "$work/other.key" || fail "keygen other"
pass "keygen writes a P-256 pair (key 0600) and never overwrites one"

fetch_client cosign
COSIGN=$CLIENT
cosign() { "$COSIGN" "$@" --insecure-ignore-tlog=true --allow-http-registry; }

start_registry reg
host=127.0.0.1:$REG_PORT
repo=$host/nginx
expect_fail 1 "signing key $work/none.key is not there" -- \
    "$DMC" -t nginx -A amd64,arm64 -H "$host" --sign "$work/none.key"
run_dmc create -t nginx -A amd64,arm64 -H "$host" --sign "$work/dmc.key" || fail "create --sign"
index=$(awk '$1 == "nginx" {print $3}' "$work/create.out")
[[ $index == sha256:* ]] || fail "no index digest: $(cat "$work/create.out")"
grep -q "BEGIN" "$work/create.err" && fail "the key reached the output"
grep -rq "PRIVATE KEY" "$work/build" && fail "the key was written to the build directory"
raw=$(curl -sf "http://$host/v2/nginx/manifests/$index" -H 'Accept: application/vnd.oci.image.index.v1+json')
manifests=$(python3 -c 'import json,sys; [print(m["digest"]) for m in json.loads(sys.argv[1])["manifests"]]' "$raw")

cosign verify --key "$work/dmc.pub" "$repo:latest" >"$work/verify.json" 2>"$work/verify.err" \
    || { cat "$work/verify.err"; fail "cosign verify of the index"; }
grep -q "\"docker-manifest-digest\":\"$index\"" "$work/verify.json" || fail "cosign: $(cat "$work/verify.json")"
for m in $manifests; do
    cosign verify --key "$work/dmc.pub" "$repo@$m" >/dev/null 2>"$work/verify.err" \
        || { cat "$work/verify.err"; fail "cosign verify of $m"; }
done
pass "cosign verifies the signatures of the index and of both manifests"

payloads() {  # payloads TYPE IMAGE: the attested statements cosign verified, one per line, sorted
    cosign verify-attestation --key "$work/dmc.pub" --type "$1" "$2" 2>"$work/att.err" \
        | python3 -c '
import base64, json, sys
for line in sys.stdin:
    if line.strip(): print(base64.b64decode(json.loads(line)["payload"]).decode())' | sort
}
payloads slsaprovenance1 "$repo:latest" >"$work/provenance" || { cat "$work/att.err"; fail "provenance"; }
python3 - "$work/provenance" "$index" $manifests <<'PY' || fail "provenance: $(head -c 2000 "$work/provenance")"
import json, sys
lines = open(sys.argv[1]).read().split("\n")
s = json.loads(lines[0])
assert s["_type"] == "https://in-toto.io/Statement/v1", s["_type"]
assert s["predicateType"] == "https://slsa.dev/provenance/v1"
digests = {"sha256:" + x["digest"]["sha256"] for x in s["subject"]}
assert digests == set(sys.argv[2:]), digests
b = s["predicate"]["buildDefinition"]
assert b["externalParameters"]["template"] == "nginx"
assert sorted(b["externalParameters"]["builds"]) == ["amd64", "arm64"]
cmd = b["externalParameters"]["builds"]["amd64"]["command"]
assert "--sign" in cmd and "nginx" in cmd, cmd
deps = b["resolvedDependencies"]
uris = [d.get("uri", "") for d in deps]
assert any(u.endswith("/dists/trixie/InRelease") for u in uris), uris[:5]
assert any("/main/n/nginx/nginx_" in u and u.endswith("_amd64.deb") for u in uris), uris[:5]
assert any("/main/n/nginx/nginx_" in u and u.endswith("_arm64.deb") for u in uris), uris[:5]
assert any(d.get("name", "").startswith("template nginx ") for d in deps)
assert all(len(d["digest"]["sha256"]) == 64 for d in deps)
assert s["predicate"]["runDetails"]["builder"]["version"]["dmc"]
PY
payloads spdxjson "$repo:latest" >"$work/sboms" || { cat "$work/att.err"; fail "SBOM attestation"; }
python3 - "$work/sboms" "$work/images" <<'PY' || fail "SBOM attestations"
import json, sys
statements = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert len(statements) == 2, len(statements)
for s in statements:
    assert s["predicateType"] == "https://spdx.dev/Document"
    doc = s["predicate"]
    arch = doc["name"].rsplit("-", 1)[1]
    assert doc == json.load(open(f"{sys.argv[2]}/nginx-{arch}.spdx.json")), arch
    assert any(p["name"] == "nginx" for p in doc["packages"])
PY
payloads cyclonedx "$repo:latest" >"$work/cdx" || { cat "$work/att.err"; fail "CycloneDX attestation"; }
python3 - "$work/cdx" <<'PY' || fail "CycloneDX attestations"
import json, sys
statements = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert len(statements) == 2, len(statements)
assert all(s["predicate"]["specVersion"] == "1.6" for s in statements)
PY
for m in $manifests; do
    [ -n "$(payloads spdxjson "$repo@$m")" ] || fail "no SBOM attestation for $m"
    [ -n "$(payloads cyclonedx "$repo@$m")" ] || fail "no CycloneDX attestation for $m"
    [ -n "$(payloads slsaprovenance1 "$repo@$m")" ] || fail "no provenance for $m"
done
pass "cosign verifies the SLSA provenance and the SPDX and CycloneDX SBOMs, of the index and of each manifest"

# oras (Debian's package) discovers the SBOMs as OCI 1.1 referrers: this registry has no
# referrers API, so through the referrers tag schema; and pulls them back whole.
fetch_client oras
ORAS=$CLIENT
discover() {  # discover IMAGE: "artifactType arch" of each referrer oras finds, sorted
    "$ORAS" discover --plain-http --format json "$1" 2>"$work/oras.err" | python3 -c '
import json, sys
doc = json.load(sys.stdin)
for m in doc.get("manifests") or doc.get("referrers") or []:
    print(m["artifactType"], m.get("annotations", {}).get("dev.dmc.sbom.arch", "?"))' | sort
}
[ "$(discover "$repo:latest")" = "application/spdx+json amd64
application/spdx+json arm64
application/vnd.cyclonedx+json amd64
application/vnd.cyclonedx+json arm64" ] || fail "oras discover of the index: $(discover "$repo:latest") $(cat "$work/oras.err")"
for m in $manifests; do
    arch=$(discover "$repo@$m" | awk 'NR == 1 {print $2}')
    [ "$(discover "$repo@$m")" = "application/spdx+json $arch
application/vnd.cyclonedx+json $arch" ] || fail "oras discover of $m: $(discover "$repo@$m")"
    sbom=$("$ORAS" discover --plain-http --format json --artifact-type application/spdx+json "$repo@$m" \
        | python3 -c 'import json, sys; d = json.load(sys.stdin); print((d.get("manifests") or d.get("referrers"))[0]["digest"])')
    rm -rf "$work/pulled" && mkdir "$work/pulled"
    "$ORAS" pull --plain-http -o "$work/pulled" "$repo@$sbom" >/dev/null 2>"$work/oras.err" \
        || fail "oras pull of the SBOM of $m: $(cat "$work/oras.err")"
    cmp -s "$work/pulled/nginx-$arch.spdx.json" "$work/images/nginx-$arch.spdx.json" \
        || fail "the SBOM oras pulled for $arch is not the one dmc wrote: $(ls "$work/pulled")"
done
first_manifest=$(echo "$manifests" | head -1)
pass "oras discovers each SBOM, SPDX and CycloneDX, as a referrer of the index and of its arch's manifest, and pulls it whole"

run_dmc verify -a verify -t nginx -A amd64,arm64 -H "$host" --key "$work/dmc.pub" || fail "dmc -a verify"
grep -q "$repo:latest@$index verified: 3 signed, with provenance and SBOMs" "$work/verify.out" || fail "verify: $(cat "$work/verify.out")"
pass "dmc -a verify checks the signatures and attestations itself"

# Another key: refused by both.
cosign verify --key "$work/other.pub" "$repo:latest" >/dev/null 2>&1 && fail "cosign accepted another key"
cosign verify-attestation --key "$work/other.pub" --type slsaprovenance1 "$repo:latest" >/dev/null 2>&1 \
    && fail "cosign accepted the provenance with another key"
expect_fail 1 "latest \(sha256:.*is signed, but not with this key" -- \
    "$DMC" -a verify -t nginx -H "$host" --key "$work/other.pub"
pass "another key is refused by cosign and by dmc -a verify"

# Signing again: the same statements (only the signatures may differ); a referrer
# another tool attached (oras attach), and another key's signature and attestation
# (cosign sign and attest), are kept beside dmc's.
echo "reviewed" >"$work/note.txt"
(cd "$work" && "$ORAS" attach --plain-http --artifact-type application/vnd.example.review "$repo@$first_manifest" \
    note.txt >/dev/null 2>"$work/oras.err") || fail "oras attach: $(cat "$work/oras.err")"
(cd "$work" && COSIGN_PASSWORD= "$COSIGN" generate-key-pair >/dev/null 2>"$work/cosign.err") \
    || fail "cosign generate-key-pair: $(cat "$work/cosign.err")"
echo '{"reviewed": true}' >"$work/review.json"
for step in "sign" "attest --type https://example.com/review --predicate $work/review.json"; do
    # shellcheck disable=SC2086  # $step is a command and its options
    COSIGN_PASSWORD= "$COSIGN" $step --key "$work/cosign.key" --tlog-upload=false --allow-http-registry \
        -y "$repo@$index" >/dev/null 2>"$work/cosign.err" || fail "cosign $step: $(cat "$work/cosign.err")"
done
cosign verify --key "$work/cosign.pub" "$repo@$index" >/dev/null 2>&1 || fail "cosign's own signature does not verify"
run_dmc resign -a load -t nginx -A amd64,arm64 -H "$host" --sign "$work/dmc.key" || fail "load --sign"
grep -q "keeping 2 signatures and attestations of other keys" "$work/resign.err" || fail "resign: $(cat "$work/resign.err")"
cosign verify --key "$work/cosign.pub" "$repo@$index" >/dev/null 2>"$work/verify.err" \
    || fail "signing again dropped another key's signature: $(cat "$work/verify.err")"
cosign verify-attestation --key "$work/cosign.pub" --type https://example.com/review "$repo@$index" >/dev/null \
    2>"$work/verify.err" || fail "signing again dropped another key's attestation: $(cat "$work/verify.err")"
cosign verify --key "$work/dmc.pub" "$repo@$index" >/dev/null 2>&1 || fail "dmc's signature is gone"
sig=$(curl -sf "http://$host/v2/nginx/manifests/sha256-${index#sha256:}.sig" -H 'Accept: application/vnd.oci.image.manifest.v1+json')
[ "$(python3 -c 'import json,sys; print(len(json.loads(sys.argv[1])["layers"]))' "$sig")" = 2 ] \
    || fail "the signature image should hold cosign's and dmc's (once): $sig"
discover "$repo@$first_manifest" | grep -q "^application/vnd.example.review " \
    || fail "signing again dropped another tool's referrer: $(discover "$repo@$first_manifest")"
[ "$(discover "$repo@$first_manifest" | grep -c '^application/spdx+json ')" = 1 ] \
    || fail "signing again listed the SBOM twice: $(discover "$repo@$first_manifest")"
payloads slsaprovenance1 "$repo:latest" >"$work/provenance2"
payloads spdxjson "$repo:latest" >"$work/sboms2"
cmp -s "$work/provenance" "$work/provenance2" || fail "the provenance changed on signing again"
cmp -s "$work/sboms" "$work/sboms2" || fail "the SBOM attestations changed on signing again"
payloads cyclonedx "$repo:latest" >"$work/cdx2"
cmp -s "$work/cdx" "$work/cdx2" || fail "the CycloneDX attestations changed on signing again"
pass "the same inputs give the same attestation payloads"
pass "another key's signature and attestation, and another tool's referrer, survive signing again"

# The tag moved to a manifest nobody signed: refused.
first=$(echo "$manifests" | head -1)
curl -sf "http://$host/v2/nginx/manifests/$first" -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    | python3 -c 'import json,sys; m=json.load(sys.stdin); m["annotations"]={"moved":"yes"}; sys.stdout.write(json.dumps(m))' \
    >"$work/moved.json"
curl -sf -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary "@$work/moved.json" \
    "http://$host/v2/nginx/manifests/latest" >/dev/null || fail "moving the tag"
cosign verify --key "$work/dmc.pub" "$repo:latest" >/dev/null 2>&1 && fail "cosign accepted the moved tag"
expect_fail 1 "latest \(sha256:.*has no signature; latest \(sha256:.*has no provenance attestation" -- \
    "$DMC" -a verify -t nginx -H "$host" --key "$work/dmc.pub"
pass "once the tag names an unsigned manifest, cosign and dmc -a verify refuse it"

# Without --sign the SBOMs are attached all the same: to a registry without the
# referrers API through the tag schema, and to one with it (the tests' proxy, which
# implements the API as the spec gives it) through the API alone, with no tag.
start_registry plain
plain=127.0.0.1:$REG_PORT
run_dmc unsigned -a load -t nginx -A amd64,arm64 -H "$plain" || fail "load without --sign"
grep -q "listed in the referrers tag schema: the registry has no referrers API" "$work/unsigned.err" \
    || fail "unsigned push: $(cat "$work/unsigned.err")"
[ "$(discover "$plain/nginx:latest" | wc -l)" = 4 ] || fail "oras discover, unsigned: $(discover "$plain/nginx:latest")"
tags=$(curl -sf "http://$plain/v2/nginx/tags/list")
grep -q "\"sha256-${index#sha256:}\"" <<<"$tags" || fail "no referrers tag: $tags"
grep -q '\.sig"' <<<"$tags" && fail "a push without --sign wrote a signature: $tags"

start_registry api
api_upstream=127.0.0.1:$REG_PORT
start_proxy api "$api_upstream" --referrers
api=127.0.0.1:$PROXY_PORT
run_dmc api -a load -t nginx -A amd64,arm64 -H "$api" || fail "load to a registry with the referrers API"
grep -q "as OCI referrers (the registry lists them)" "$work/api.err" || fail "api push: $(cat "$work/api.err")"
tags=$(curl -sf "http://$api_upstream/v2/nginx/tags/list")
grep -q '"sha256-' <<<"$tags" && fail "a referrers tag, though the registry has the API: $tags"
# The API lists what the artifacts' manifests say: their type and arch.
[ "$(discover "$api/nginx:latest")" = "$(discover "$plain/nginx:latest")" ] \
    || fail "oras discover through the API: $(discover "$api/nginx:latest")"
for m in $manifests; do
    [ "$(discover "$api/nginx@$m")" = "$(discover "$plain/nginx@$m")" ] && [ "$(discover "$api/nginx@$m" | wc -l)" = 2 ] \
        || fail "oras discover of $m through the API: $(discover "$api/nginx@$m")"
done
grep -q "^GET /v2/nginx/referrers/sha256:" "$work/api.proxy.log" || fail "oras did not ask the referrers API"
# Pushed again unchanged: nothing written; the referrers API says they are listed.
puts=$(count "$work/api.proxy.log" '^(PUT|POST|PATCH) ')
run_dmc api2 -a load -t nginx -A amd64,arm64 -H "$api" || fail "load again"
[ "$(count "$work/api.proxy.log" '^(PUT|POST|PATCH) ')" = "$puts" ] || fail "pushing an unchanged image again wrote to the registry"
grep -q "as OCI referrers (the registry lists them)" "$work/api2.err" || fail "api push again: $(cat "$work/api2.err")"
curl -sf "http://$api_upstream/v2/nginx/tags/list" | grep -q '"sha256-' && fail "a referrers tag on the second push"
pass "without --sign the SBOMs are referrers all the same: by the tag schema, or by the registry's referrers API and no tag"
