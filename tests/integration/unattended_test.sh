#!/usr/bin/env bash
# The original tool's cron job: with OUT_level=NONE a successful run writes nothing
# at all to the console, stdout included, and a failure one line to stderr; the
# log holds the command line, the settings, every result and the exit status; old
# logs are rotated (log.keep). A second dmc on the same cache waits for the first,
# or with --no-wait refuses at once.
set -euo pipefail
. "$DMC_SOURCE_DIR/tests/lib.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unset DMC_CONFIG OUT_level LOG_level LOG_dir SOURCE_DATE_EPOCH || true
export HOME=$work/home DMC_BUILDDIR=$work/build IMAGEDIR=$work/images
export DMC_CACHEDIR=${DMC_TEST_CACHE:-$DMC_BINARY_DIR/test-cache}
mkdir -p "$HOME" "$work/logs"

OUT_level=NONE LOG_level=ALL LOG_dir=$work/logs "$DMC" -t nginx -A amd64 >"$work/out" 2>"$work/err" \
    || fail "the cron-style build failed: $(cat "$work/err")"
[ ! -s "$work/out" ] && [ ! -s "$work/err" ] || fail "a quiet run wrote to the console: $(cat "$work/out" "$work/err")"
log=$(ls "$work"/logs/dmc-*.log)
grep -q "started: .*dmc -t nginx -A amd64" "$log" || fail "the log has no command line"
grep -q "  archs = amd64" "$log" || fail "the log has no settings"
grep -qE "STDOUT +nginx $IMAGEDIR/nginx:latest sha256:[0-9a-f]{64}" "$log" || fail "the log has no digest"
[ "$(tail -1 "$log" | sed 's/.*dmc finished/dmc finished/')" = "dmc finished with exit status 0" ] || fail "the log's last line: $(tail -1 "$log")"
pass "OUT_level=NONE: nothing on the console; the log has the command line, settings, digest and exit status"

rc=0
OUT_level=NONE LOG_dir=$work/logs "$DMC" -a update -A amd64 -M http://127.0.0.1:1/debian >"$work/out" 2>"$work/err" || rc=$?
[ "$rc" = 1 ] || fail "a failing quiet run exited $rc"
[ ! -s "$work/out" ] && [ "$(wc -l <"$work/err")" = 1 ] || fail "a failing quiet run wrote: $(cat "$work/out" "$work/err")"
last=$(ls "$work"/logs/dmc-*.log | tail -1)
tail -1 "$last" | grep -q "exit status 1" || fail "the failed run's log does not end with its status"
pass "a failing quiet run writes one line to stderr and exits 1"

for i in 1 2 3; do LOG_keep=2 LOG_dir=$work/logs "$DMC" -a resolve -A amd64 hello >/dev/null 2>&1 || fail "resolve $i"; sleep 1; done
[ "$(ls "$work"/logs/dmc-*.log | wc -l)" = 2 ] || fail "LOG_keep=2 kept $(ls "$work"/logs | wc -l) logs"
pass "log.keep keeps the newest run logs"

# Another dmc holds the cache (flock(1) takes the same lock dmc takes).
flock "$DMC_CACHEDIR/run.lock" sleep 3 &
holder=$!
sleep 0.5
expect_fail 1 "another dmc is running on the cache .*leave out --no-wait" -- "$DMC" --no-wait -a resolve -A amd64 hello
start=$(date +%s)
"$DMC" -a resolve -A amd64 hello >"$work/out" 2>"$work/err" || fail "the waiting run failed: $(cat "$work/err")"
grep -q "waiting until it ends" "$work/err" || fail "the waiting run did not say it waits"
[ $(( $(date +%s) - start )) -ge 1 ] || fail "the second run did not wait"
grep -q '^hello ' "$work/out" || fail "the waiting run gave no result"
wait "$holder"
pass "a second dmc on the cache waits for the first, or refuses with --no-wait"
