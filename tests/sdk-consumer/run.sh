#!/usr/bin/env bash
# Installs dmc and its SDK into a staging prefix, builds the example template out
# of tree against it with find_package(dmc-sdk), and loads it with the host.
set -euo pipefail
source "$DMC_SOURCE_DIR/tests/lib.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage=$work/stage
cmake --install "$DMC_BINARY_DIR" --prefix "$stage" >/dev/null
[ -f "$stage/lib/cmake/dmc-sdk/dmc-sdkConfig.cmake" ] || [ -d "$stage"/lib/*/cmake/dmc-sdk ] \
    || fail "the SDK's CMake package was not installed"
[ -f "$stage/include/dmc/sdk.hpp" ] || fail "the SDK headers were not installed"
if grep -rq '#include "' "$stage/include/dmc"; then fail "the SDK includes host headers"; fi
# The SDK package's major version is the plugin ABI of the host it was installed with.
abi=$("$stage/bin/dmc" --version | sed -E 's/.*plugin ABI ([0-9]+).*/\1/')
version_file=$(find "$stage" -name dmc-sdkConfigVersion.cmake | head -1)
grep -qE "set\(PACKAGE_VERSION \"$abi\.[0-9]+\.[0-9]+\"\)" "$version_file" \
    || fail "the SDK package version does not start with the plugin ABI $abi: $(grep 'PACKAGE_VERSION "' "$version_file")"

cmake -S "$DMC_SOURCE_DIR/tests/sdk-consumer" -B "$work/build" -G Ninja \
    -DCMAKE_PREFIX_PATH="$stage" -DCMAKE_BUILD_TYPE=Release >"$work/configure.log" 2>&1 \
    || { cat "$work/configure.log"; fail "configuring the example against the installed SDK failed"; }
cmake --build "$work/build" >"$work/build.log" 2>&1 || { cat "$work/build.log"; fail "building the example failed"; }
plugin=$work/build/dmc-template-example.so
[ -f "$plugin" ] || fail "no plugin file was built"
nm -D --defined-only "$plugin" | grep -q ' dmc_plugin_entry$' || fail "the entry symbol is not exported"

# The installed dmc finds its own templates in <prefix>/lib/dmc/plugins.
installed="$stage/bin/dmc"
# (Its output is read whole: grep -q would stop reading, and dmc die of SIGPIPE.)
grep -q '^nginx ' <<<"$("$installed" -h)" || fail "the installed dmc does not find its templates"

help=$("$installed" --plugin-dir "$work/build" -h)
grep -q '^example                  : An example template built out of tree' <<<"$help" \
    || fail "the example template is not in -h"
grep -q '^extra ' <<<"$help" || fail "the example's group is not in -h"

tasks=$("$installed" --plugin-dir "$work/build" -t example -A amd64 -l)
grep -q 'example.amd64.prepare' <<<"$tasks" || fail "no tasks for the example"

out=$(DMC_BUILDDIR="$work/state" "$installed" --plugin-dir "$work/build" -t example -A amd64 \
    -b example.amd64.prepare -e example.amd64.prepare 2>&1) || { echo "$out"; fail "the prepare task failed"; }
grep -q 'example prepare hook ran for amd64: hello from the example' <<<"$out" \
    || { echo "$out"; fail "the prepare hook did not run with its option's default"; }
# The configuration file next to the source is embedded byte for byte.
python3 - "$work/build/dmc-template-example-files/template_files.hpp" \
    "$DMC_SOURCE_DIR/tests/sdk-consumer/example.conf" <<'PY' || fail "example.conf was not embedded as it is"
import re, sys
header = open(sys.argv[1]).read()
body = re.search(r"example_conf_bytes\[\] = \{(.*?)0\};", header).group(1)
embedded = bytes(int(h, 16) for h in re.findall(r"'\\x([0-9a-f]{2})'", body))
sys.exit(0 if embedded == open(sys.argv[2], "rb").read() else 1)
PY
# The options it declares are checked: a misspelt one stops dmc, naming it.
printf 'templates:\n  example:\n    greting: x\n' >"$work/typo.yaml"
out=$("$installed" --config "$work/typo.yaml" --plugin-dir "$work/build" -l 2>&1) && fail "a misspelt option was accepted"
grep -q "typo.yaml:3: the template example has no option 'greting' (its options: greeting)" <<<"$out" \
    || { echo "$out"; fail "the misspelt option was not named"; }
grep -q '"hello"' "$work/state/trixie/amd64/example/prepare.json" || fail "the hook's packages were not kept"
# The plugin was loaded from DMC_PLUGIN_PATH as well.
grep -q '^example ' <<<"$(DMC_PLUGIN_PATH="$work/build" "$installed" -h)" || fail "DMC_PLUGIN_PATH is not searched"
pass "sdk consumer"
