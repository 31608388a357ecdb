#!/usr/bin/env bash
# The command line end to end: help, listing, selection, bad input, logging, resuming.
set -euo pipefail
source "$DMC_SOURCE_DIR/tests/lib.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export DMC_CACHEDIR=$work/cache HOME=$work/home
unset DMC_CONFIG DMC_PLUGIN_PATH OUT_level LOG_level LOG_dir || true

"$DMC" --version | grep -qE '^dmc [0-9]+\.[0-9]+\.[0-9]+ \(plugin ABI [0-9]+\)$' || fail "--version"

help=$("$DMC" -h)
for t in adminer mariadb nginx php; do grep -q "^$t " <<<"$help" || fail "-h lacks template $t"; done
for g in core base app; do grep -q "^$g " <<<"$help" || fail "-h lacks group $g"; done
for a in setup update create load; do grep -q "^$a " <<<"$help" || fail "-h lacks activity $a"; done
grep -q -- '-A|--archs ARCHS' <<<"$help" || fail "-h lacks -A"
pass "help"

list=$("$DMC" -g core,base,app -A amd64 -l)
order=$(grep -oE '[a-z]+\.index' <<<"$list" | tr '\n' ' ')
[ "$order" = "nginx.index php.index mariadb.index adminer.index " ] || fail "group order: $order"
grep -qE '^  1 nginx.amd64.prepare +: ' <<<"$list" || fail "list format: $list"
pass "list in group order"

expect_fail 2 "^FAIL +unknown template 'apache'; valid templates: adminer, dmc, lighttpd-src, mariadb, nginx, nginx-src, php$" -- "$DMC" -t apache -l
expect_fail 2 "unknown group 'db'; valid groups: core, base, app" -- "$DMC" -g db -l
expect_fail 2 "unknown activity 'destroy'; valid activities: update, setup, create, load, deploy, resolve" -- "$DMC" destroy
expect_fail 2 "unknown architecture 'sparc'; valid architectures: amd64, arm64" -- "$DMC" -A sparc -l
expect_fail 2 "unrecognised option '--bogus'" -- "$DMC" --bogus
expect_fail 2 "there is no task 99" -- "$DMC" -t nginx -A amd64 -o 99
pass "bad command lines"

printf 'dist: trixie\narchz: [amd64]\n' >"$work/bad.yaml"
expect_fail 1 "bad.yaml:2: unknown key 'archz'" -- "$DMC" --config "$work/bad.yaml" -l
printf 'tools: perhaps\n' >"$work/bad2.yaml"
expect_fail 1 "bad2.yaml:1: key 'tools' must be true or false" -- "$DMC" --config "$work/bad2.yaml" -l
expect_fail 1 "config file .*missing.yaml does not exist" -- "$DMC" --config "$work/missing.yaml" -l
printf 'templates:\n  php:\n    verison: "8.2"\n' >"$work/bad3.yaml"
expect_fail 1 "bad3.yaml:3: the template php has no option 'verison' \(its options: version\)" -- "$DMC" --config "$work/bad3.yaml" -l
pass "bad config files"

# Broken plugins are refused one line each, and the rest still works.
out=$("$DMC" --plugin-dir "$DMC_TEST_PLUGINS/broken" -t nginx -A amd64 -l 2>&1)
grep -q "plugin .*wrong_abi.so refused: built for plugin ABI 99" <<<"$out" || fail "wrong ABI: $out"
grep -q "plugin .*missing_hook.so refused: .*lacks the required hook 'collect'" <<<"$out" || fail "hook: $out"
grep -q "plugin .*not_a_plugin.so refused: not a dmc plugin" <<<"$out" || fail "stray: $out"
grep -q "plugin .*garbage.so refused: not a dmc plugin" <<<"$out" || fail "garbage: $out"
grep -q "nginx.amd64.prepare" <<<"$out" || fail "the host did not go on"
pass "broken plugins"

# An external template joins a group and builds on a built-in one.
list=$("$DMC" --plugin-dir "$DMC_TEST_PLUGINS/external" -g app,core -A amd64 -l)
order=$(grep -oE '[a-z]+\.index' <<<"$list" | tr '\n' ' ')
[ "$order" = "php.index nginx.index adminer.index hello.index " ] || fail "external order: $order"
pass "external template in a group"

# A failing task stops the run, names the task and how to resume; the log file records it.
cat >"$work/fail.yaml" <<'YAML'
templates:
  hello:
    fail: prepare
YAML
rc=0
err=$(LOG_dir="$work/logs" LOG_level=ALL "$DMC" --config "$work/fail.yaml" \
      --plugin-dir "$DMC_TEST_PLUGINS/external" -t hello -A amd64 -e hello.amd64.prepare 2>&1) || rc=$?
[ $rc = 1 ] || fail "a failing task exited $rc"
grep -q "task 1 hello.amd64.prepare failed; fix the cause and resume with -b 1" <<<"$err" || fail "$err"
grep -q "template hello: prepare failed: asked to fail" <<<"$err" || fail "$err"
log=$(ls "$work"/logs/dmc-*.log)
head -1 "$log" | grep -q "started: .*dmc --config" || fail "log header: $(head -1 "$log")"
grep -q "archs = amd64" "$log" || fail "log settings"
grep -q "task 1 hello.amd64.prepare" "$log" || fail "log task separator"
tail -1 "$log" | grep -q "exit status 1" || fail "log end: $(tail -1 "$log")"
# Resuming with -b after the cause is fixed.
"$DMC" --plugin-dir "$DMC_TEST_PLUGINS/external" -t hello -A amd64 -b 1 -e 1 2>/dev/null \
    || fail "resuming failed"
[ -f "$DMC_CACHEDIR/build/trixie/amd64/hello/prepare.json" ] || fail "the resumed task kept nothing"
pass "failure, log file and resume"

# OUT_level=NONE silences the console but the exit status stays.
out=$(OUT_level=NONE "$DMC" --plugin-dir "$DMC_TEST_PLUGINS/external" -t hello -A amd64 -o 1 2>&1)
[ -z "$out" ] || fail "OUT_level=NONE printed: $out"
pass "OUT_level"

# load without a selection pushes what is built, and says so when nothing is.
expect_fail 1 "no built image in .*/empty; build one first" -- "$DMC" -a load -H 127.0.0.1:1 --imagedir "$work/empty" -l
mkdir -p "$work/built/php" && echo '{}' >"$work/built/php/index.json"
list=$("$DMC" -a load -H 127.0.0.1:1 --imagedir "$work/built" -l)
[ "$(grep -c push <<<"$list")" = 1 ] && grep -q 'php.push' <<<"$list" || fail "load plans: $list"
pass "load pushes what is built"
