#!/usr/bin/env bash
# Failures: injected 500s and 429s are retried (a python proxy in front of the
# registry); a registry that stays down gives a clear error after bounded
# retries; a registry killed in the middle of a push leaves nothing tagged, and
# running the push again completes it.
set -euo pipefail
source "$DMC_SOURCE_DIR/tests/lib.sh"
work=$(mktemp -d)
trap 'cleanup_registry; rm -rf "$work"' EXIT
source "$DMC_SOURCE_DIR/tests/registry/lib.sh"

start_registry reg
reg_port=$REG_PORT
make_layout "$work/img" --size 300000 >/dev/null

proxy() {  # proxy NAME [proxy.py args]: a proxy in front of the registry; sets PROXY_PORT
    local name=$1; shift
    start_proxy "$name" "127.0.0.1:$reg_port" "$@"
}

# Two 500s on blob uploads and a 429 on a manifest, then success.
proxy flaky --fail 2 --match '^PUT .*/blobs/uploads/' --status 500
run_dmc flaky -a load -t nginx -H "127.0.0.1:$PROXY_PORT/flaky" --imagedir "$work/img" || fail "push through 500s"
[ "$(grep -c '^PUT .*/blobs/uploads/.* 500 ' "$work/flaky.proxy.log")" = 2 ] || fail "no 500 injected"
[ "$(grep -c '^PUT .*/blobs/uploads/.* 201 ' "$work/flaky.proxy.log")" = 4 ] || fail "blobs not all uploaded"
proxy busy --fail 1 --match '^PUT .*/manifests/latest' --status 429
run_dmc busy -a load -t nginx -H "127.0.0.1:$PROXY_PORT/flaky" --imagedir "$work/busy-none" 2>/dev/null \
    && fail "pushed a missing layout"
make_layout "$work/img2" --size 300000 --seed busy >/dev/null
run_dmc busy -a load -t nginx -H "127.0.0.1:$PROXY_PORT/busy" --imagedir "$work/img2" || fail "push through a 429"
grep -q '^PUT .*/manifests/latest 429 ' "$work/busy.proxy.log" || fail "no 429 injected"
grep -q '^PUT .*/manifests/latest 201 ' "$work/busy.proxy.log" || fail "the tag was not pushed after the 429"
skopeo inspect --tls-verify=false --raw "docker://127.0.0.1:$reg_port/flaky/nginx:latest" | grep -q '"manifests"' \
    || fail "the image pushed through failures is not readable"
pass "500 and 429 answers are retried, and the push completes"

# A registry that refuses a whole blob in one PUT (413): the upload switches to PATCH chunks.
proxy large --fail 1 --match '^PUT .*/blobs/uploads/.*digest=sha256' --status 413
make_layout "$work/img3" --size 300000 --seed large >/dev/null
run_dmc large -a load -t nginx -H "127.0.0.1:$PROXY_PORT/large" --imagedir "$work/img3" || fail "push through a 413"
grep -q '^PUT .* 413 ' "$work/large.proxy.log" || fail "no 413 injected"
[ "$(grep -c '^PATCH .*/blobs/uploads/.* 202 ' "$work/large.proxy.log")" = 1 ] || fail "no chunked upload after the 413"
grep -q 'chunked' "$work/large.err" || fail "not reported as chunked: $(cat "$work/large.err")"
skopeo copy -q --all --preserve-digests --src-tls-verify=false "docker://127.0.0.1:$reg_port/large/nginx:latest" \
    "oci:$work/large-back:latest" || fail "skopeo copy of the 413 push"
same_blobs "$work/img3/nginx" "$work/large-back" || fail "the 413 push differs"
pass "a 413 for a whole blob falls back to a chunked upload"

# A registry that stays down: bounded retries, then one clear line.
proxy down --fail 1000000 --status 503
start=$(date +%s)
expect_fail 1 "registry 127.0.0.1:$PROXY_PORT keeps failing: HTTP 503 UNKNOWN: injected failure \(gave up after 3 attempts\)" -- \
    env DMC_REGISTRY_RETRIES=2 "$DMC" -a load -t nginx -H "127.0.0.1:$PROXY_PORT/down" --imagedir "$work/img"
dead=$(free_port)
expect_fail 1 "cannot reach registry 127.0.0.1:$dead at https?://127.0.0.1:$dead: .*\(gave up after 3 attempts\)" -- \
    env DMC_REGISTRY_RETRIES=2 "$DMC" -a load -t nginx -H "127.0.0.1:$dead/down" --imagedir "$work/img"
[ $(( $(date +%s) - start )) -lt 20 ] || fail "giving up took too long"
pass "a registry that stays down (503, or refusing connections) gives a clear error after 3 attempts"

# The registry dies in the middle of a push (uploads trickle through a slow proxy).
proxy slow --throttle 1500000
make_layout "$work/big" --size 3000000 --seed killed >/dev/null
DMC_REGISTRY_RETRIES=1 "$DMC" -a load -t nginx -H "127.0.0.1:$PROXY_PORT/killed" --imagedir "$work/big" \
    >"$work/killed.out" 2>"$work/killed.err" &
dmc_pid=$!
for i in $(seq 1 100); do
    grep -q '"POST /v2/killed/nginx/blobs/uploads/ HTTP/1.1" 202' "$work/reg.log" && break
    sleep 0.05
done
sleep 0.5
kill -9 "$REG_PID"
wait "$REG_PID" 2>/dev/null || true
rc=0; wait "$dmc_pid" || rc=$?
echo "interrupted as expected: $(grep -m1 'FAIL ' "$work/killed.err")"
[ "$rc" = 1 ] || fail "the interrupted push exited $rc: $(cat "$work/killed.err")"
grep -q 'FAIL.*nginx.push' "$work/killed.err" || fail "no failure reported: $(cat "$work/killed.err")"
[ ! -s "$work/killed.out" ] || fail "an interrupted push printed references: $(cat "$work/killed.out")"
start_registry reg
tags=$(curl -s "http://127.0.0.1:$reg_port/v2/killed/nginx/tags/list")
! grep -q '"tags":\[' <<<"$tags" || fail "something was tagged: $tags"
run_dmc again -a load -t nginx -H "127.0.0.1:$PROXY_PORT/killed" --imagedir "$work/big" || fail "the second push"
grep -q "^127.0.0.1:$PROXY_PORT/killed/nginx:latest@sha256:" "$work/again.out" || fail "$(cat "$work/again.out")"
skopeo copy -q --all --preserve-digests --src-tls-verify=false "docker://127.0.0.1:$reg_port/killed/nginx:latest" \
    "oci:$work/back:latest" || fail "skopeo copy of the completed push"
same_blobs "$work/big/nginx" "$work/back" || fail "the completed push differs"
pass "killed mid-push: nothing tagged; pushing again completes with identical digests"
