#!/usr/bin/env bash
# The nginx template written as YAML (plugins/nginx/nginx.dmc.yaml, with the files
# beside it) builds the same image, digest for digest, as the C++ template, for amd64
# and arm64 from the real archive; a mistake in the YAML stops dmc with one line
# naming the file, the line and the key.
set -euo pipefail
source "$DMC_SOURCE_DIR/tests/lib.sh"
source "$DMC_SOURCE_DIR/tests/runtime/lib.sh"  # the shared archive cache
start_work
yaml=$work/yaml
mkdir -p "$yaml"
cp "$DMC_SOURCE_DIR"/plugins/nginx/{nginx.dmc.yaml,nginx.conf,default-site.conf} "$yaml/"

# build NAME [DMC ARGS...]: nginx for both archs; the index digest on stdout
build() {
    local name=$1
    shift
    "$DMC" -t nginx -A amd64,arm64 --imagedir "$work/images-$name" "$@" >"$work/$name.out" \
        2>"$work/$name.err" || fail "$name: $(tail -3 "$work/$name.err")"
    awk '$1 == "nginx" {print $3}' "$work/$name.out"
}
cpp=$(build cpp)
yml=$(build yaml --plugin-dir "$yaml")
grep -q "nginx.so refused: template 'nginx' is already provided by $yaml/nginx.dmc.yaml" "$work/yaml.err" \
    || fail "the YAML template was not the one used: $(head -5 "$work/yaml.err")"
[[ $cpp == sha256:* ]] || fail "no digest from the C++ template: $(cat "$work/cpp.out")"
[ "$yml" = "$cpp" ] || fail "the YAML template built $yml, the C++ one $cpp"
for arch in amd64 arm64; do
    cmp -s <(skopeo inspect --raw "oci:$work/images-cpp/nginx:latest-$arch") \
        <(skopeo inspect --raw "oci:$work/images-yaml/nginx:latest-$arch") || fail "$arch manifests differ"
done
pass "the YAML nginx template builds the C++ template's image: $yml"

sed -i 's/^  paths:/  path:/' "$yaml/nginx.dmc.yaml"
line=$(grep -n '^  path:' "$yaml/nginx.dmc.yaml" | cut -d: -f1)
expect_fail 1 "^FAIL +$yaml/nginx.dmc.yaml:$line: unknown key 'collect.path' \(valid keys: allow_missing, allow_setid, dlopened, globs, package_files, paths\)$" \
    -- "$DMC" -t nginx -A amd64 --plugin-dir "$yaml" --imagedir "$work/images-bad"
[ ! -e "$work/images-bad" ] || fail "a refused template left an image directory"
pass "a mistake in a YAML template stops dmc with its file, line and key"
