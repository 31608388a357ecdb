#!/usr/bin/env bash
# No secret in anything dmc writes. Every activity runs at LOG_level=ALL and
# OUT_level=ALL with known secrets: a password in the mirror's URL, a registry
# password (Basic auth, and Bearer tokens from a token server), a kubeconfig's
# token and client key, an exec plugin's token, and failing runs that refuse
# them. Then everything the runs wrote is scanned for each secret: their output,
# the log files, the image directory (layouts, archives, SBOMs), the build
# directory, the lock, and the cache's file names and new files.
set -euo pipefail
. "$DMC_SOURCE_DIR/tests/lib.sh"
work=$(mktemp -d)
export DMC_CACHEDIR=${DMC_TEST_CACHE:-$DMC_BINARY_DIR/test-cache}
. "$DMC_SOURCE_DIR/tests/registry/lib.sh"
. "$DMC_SOURCE_DIR/tests/kube/lib.sh"
trap 'cleanup_kube; cleanup_registry; rm -rf "$work"' EXIT
command -v htpasswd >/dev/null || fail "htpasswd is not installed (apache2-utils; scripts/setup installs it)"
unset DMC_ROLLOUT_TIMEOUT DMC_REGISTRY_USER DMC_REGISTRY_PASSWORD DMC_MIRROR || true
export IMAGEDIR=$work/images DMC_BUILDDIR=$work/build LOG_dir=$work/logs LOG_level=ALL OUT_level=ALL \
    DMC_LOCK_FILE=$work/dmc.lock
mkdir -p "$LOG_dir" "$work/out"
touch "$work/started"

# The secrets, each unlike anything else the runs write.
user=dmc-secrets
password="pw-$RANDOM$RANDOM-registry"
mirror_password="pw-$RANDOM$RANDOM-mirror"
exec_token="tok-exec-51d3"
basic=$(printf '%s' "$user:$password" | base64 -w0)

# run NAME [ENV=VALUE...] -- DMC ARGS...: a run whose stdout and stderr are kept
run() {
    local name=$1
    shift
    local envs=()
    while [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    env "${envs[@]}" "$DMC" "$@" >"$work/out/$name.out" 2>"$work/out/$name.err"
}

# --- the archive: a mirror URL with a password in it ---------------------------------------
# The host's own mirror (the default), with credentials the server ignores.
mirror=$({ sed -n 's/^URIs: *\(http[^ ]*\).*/\1/p; s/^deb \(\[[^]]*\] \)\{0,1\}\(http[^ ]*\) .*/\2/p' \
    /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null || true; } | grep -v security | head -1)
[ -n "$mirror" ] || fail "no http mirror in this machine's apt sources"
secret_mirror=$(sed "s|://|://mirror-user:$mirror_password@|" <<<"$mirror")
run resolve -- -a resolve -A amd64 -M "$secret_mirror" nginx || fail "resolve: $(cat "$work/out/resolve.err")"
run update -- -a update -t nginx -A amd64 -M "$secret_mirror" || fail "update: $(cat "$work/out/update.err")"
grep -q "mirror: \"$(sed 's|://.*@|://|' <<<"$secret_mirror")\"" "$DMC_LOCK_FILE" \
    || fail "the lock does not name the mirror without its credentials: $(grep -m1 mirror: "$DMC_LOCK_FILE")"

# --- build, and push with a password and with tokens ----------------------------------------
htpasswd -Bbn "$user" "$password" >"$work/htpasswd"
printf 'auth:\n  htpasswd: {realm: dmc-test, path: %s}\n' "$work/htpasswd" >"$work/basic.auth"
start_registry basic "$work/basic.auth"
basic_host=127.0.0.1:$REG_PORT
run build -- -t nginx -A amd64 || fail "build: $(cat "$work/out/build.err")"
run push-wrong DMC_REGISTRY_USER=$user DMC_REGISTRY_PASSWORD=wrong-$password -- -a load -t nginx -A amd64 \
    -H "$basic_host/web" && fail "a wrong password was taken"
run push DMC_REGISTRY_USER=$user DMC_REGISTRY_PASSWORD=$password -- -a load -t nginx -A amd64 -H "$basic_host/web" \
    || fail "push: $(cat "$work/out/push.err")"

start_token_registry bearer "$user" "$password" --expired-first
bearer_host=127.0.0.1:$REG_PORT
run push-bearer DMC_REGISTRY_USER=$user DMC_REGISTRY_PASSWORD=$password -- -a load -t nginx -A amd64 \
    -H "$bearer_host/web" || fail "bearer push: $(cat "$work/out/push-bearer.err")"
tokens=$(grep -c 'status=200' "$work/bearer-token.log")
[ "$tokens" -ge 2 ] || fail "no tokens were issued: $(cat "$work/bearer-token.log")"

# --- deploy and delete, with a token, a client key and an exec plugin ------------------------
start_kube_api --namespaces default,web
kubeconfig "$work/kc-token" token
kubeconfig "$work/kc-cert" cert-data
cat >"$work/credential" <<SCRIPT
#!/bin/sh
echo '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"token":"$exec_token","expirationTimestamp":"2999-01-01T00:00:00Z"}}'
SCRIPT
chmod +x "$work/credential"
kubeconfig "$work/kc-exec" "exec:$work/credential"
kubeconfig "$work/kc-bad" bad-token
run deploy-token -- -a deploy -t nginx -A amd64 --kubeconfig "$work/kc-token" || fail "deploy: $(cat "$work/out/deploy-token.err")"
run deploy-cert -- -a deploy -t nginx -A amd64 --kubeconfig "$work/kc-cert" || fail "deploy: $(cat "$work/out/deploy-cert.err")"
run deploy-exec -- -a deploy -t nginx -A amd64 --kubeconfig "$work/kc-exec" || fail "deploy: $(cat "$work/out/deploy-exec.err")"
run deploy-bad -- -a deploy -t nginx -A amd64 --kubeconfig "$work/kc-bad" && fail "a bad token was taken"
run print -- -a deploy -t nginx -A amd64 --kubeconfig "$work/kc-exec" --print || fail "print: $(cat "$work/out/print.err")"
run delete -- -t nginx -A amd64 -X --kubeconfig "$work/kc-exec" || fail "delete: $(cat "$work/out/delete.err")"
run list -- -t nginx -A amd64 -H "$bearer_host/web" -l || fail "list"

# --- the scan ----------------------------------------------------------------------------------
client_key=$(b64 "$KUBE_PKI/client.key")
secrets=("$password" "$basic" "$mirror_password" "t-alice" "t-wrong" "$exec_token" "${client_key:0:40}"
    "$(sed -n 2p "$KUBE_PKI/client.key")")
# Bearer tokens are JWTs: what every one of them starts with.
jwt=$(python3 -c 'import base64; print(base64.urlsafe_b64encode(b"{\"typ\":\"JWT\"").decode()[:12])')
new_cache_files=$(find "$DMC_CACHEDIR" -newer "$work/started" -type f ! -path '*/debs/*' ! -path '*/rootfs/*' 2>/dev/null)
scanned=("$work/out" "$LOG_dir" "$IMAGEDIR" "$DMC_BUILDDIR" "$DMC_LOCK_FILE")
[ "$(ls "$LOG_dir" | wc -l)" -ge 10 ] || fail "not every run wrote a log: $(ls "$LOG_dir")"
for s in "${secrets[@]}"; do
    [ -n "$s" ] || continue
    where=$(grep -rlaF -- "$s" "${scanned[@]}" $new_cache_files 2>/dev/null || true)
    [ -z "$where" ] || fail "the secret '$s' is in: $where"
    where=$(find "$DMC_CACHEDIR" "$IMAGEDIR" "$DMC_BUILDDIR" "$LOG_dir" -name "*$s*" 2>/dev/null | head -3)
    [ -z "$where" ] || fail "the secret '$s' is in a file name: $where"
done
where=$(grep -rlaE -- "eyJ0eXAiOiJKV1Qi|${jwt}|Bearer [A-Za-z0-9_.-]{20,}" "${scanned[@]}" $new_cache_files 2>/dev/null || true)
[ -z "$where" ] || fail "a bearer token is in: $where"
grep -q "refused the credentials of user $user" "$work/out/push-wrong.err" || fail "the wrong password's error: $(cat "$work/out/push-wrong.err")"
pass "no secret (mirror, registry and cluster credentials, $tokens tokens, exec output) in output, logs, images, SBOMs, build, lock or cache, at LOG_level=ALL"
