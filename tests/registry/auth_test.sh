#!/usr/bin/env bash
# Authentication against a real docker-registry on loopback: htpasswd (bcrypt)
# Basic auth with credentials from the environment, a password file, Docker's
# config.json and a docker-credential helper; a wrong password; Bearer tokens
# from a token server, with a refused (expired) token renewed; and redirects
# that never carry the credentials to another origin.
set -euo pipefail
source "$DMC_SOURCE_DIR/tests/lib.sh"
work=$(mktemp -d)
trap 'cleanup_registry; rm -rf "$work"' EXIT
source "$DMC_SOURCE_DIR/tests/registry/lib.sh"
command -v htpasswd >/dev/null || fail "htpasswd is not installed (apache2-utils; scripts/setup installs it)"

user=dmc-tester password='s3cret:with spaces'
htpasswd -Bbn "$user" "$password" >"$work/htpasswd"
printf 'auth:\n  htpasswd: {realm: dmc-test, path: %s}\n' "$work/htpasswd" >"$work/basic.auth"
start_registry basic "$work/basic.auth"
host=127.0.0.1:$REG_PORT
make_layout "$work/img" --size 100000 >/dev/null

# No credentials at all: a clear error, nothing pushed.
expect_fail 1 "registry $host needs a login: run docker login $host, or set DMC_REGISTRY_USER" -- \
    "$DMC" -a load -t nginx -H "$host/anon" --imagedir "$work/img"
# A wrong password: refused, naming the user and where the password came from.
err=$(DMC_REGISTRY_USER=$user DMC_REGISTRY_PASSWORD=wrong-one "$DMC" -a load -t nginx -H "$host/wrong" \
      --imagedir "$work/img" 2>&1 >/dev/null) && fail "a wrong password was accepted"
grep -q "registry $host refused the credentials of user $user (from DMC_REGISTRY_PASSWORD): HTTP 401.*check the user name and password" <<<"$err" \
    || fail "wrong password message: $err"
! grep -q wrong-one <<<"$err" || fail "the password is in the message: $err"
[ "$(count "$work/basic.log" '"POST /v2/')" = 0 ] || fail "uploads started without valid credentials"
pass "no credentials and a wrong password give clear errors"

# From the environment, with LOG_level=ALL: the password never reaches the log.
DMC_REGISTRY_USER=$user DMC_REGISTRY_PASSWORD=$password LOG_dir=$work/logs LOG_level=ALL OUT_level=ALL \
    run_dmc env -a load -t nginx -H "$host/env" --imagedir "$work/img" || fail "push with DMC_REGISTRY_PASSWORD"
grep -q "^$host/env/nginx:latest@sha256:" "$work/env.out" || fail "env stdout: $(cat "$work/env.out")"
basic=$(printf '%s' "$user:$password" | base64 -w0)
! grep -rqF -e "$password" -e "$basic" "$work/logs" "$work/env.err" || fail "a credential was logged"
pass "Basic auth with DMC_REGISTRY_USER/DMC_REGISTRY_PASSWORD; no credential in the log"

# From a password file.
printf '%s\n' "$password" >"$work/password"
DMC_REGISTRY_USER=$user DMC_REGISTRY_PASSWORD_FILE=$work/password run_dmc file -a load -t nginx \
    -H "$host/file" --imagedir "$work/img" || fail "push with a password file"
pass "Basic auth with a password file"

# From Docker's config.json (DOCKER_CONFIG): an inline auths entry.
mkdir -p "$work/docker"
printf '{"auths":{"http://%s":{"auth":"%s"}}}' "$host" "$basic" >"$work/docker/config.json"
DOCKER_CONFIG=$work/docker run_dmc config -a load -t nginx -H "$host/config" --imagedir "$work/img" \
    || fail "push with config.json auths"
pass "Basic auth from \$DOCKER_CONFIG/config.json auths"

# Through the credential helper protocol: credsStore, and credHelpers for this host.
mkdir -p "$work/bin"
{
    echo '#!/bin/sh'
    echo '[ "$1" = get ] || exit 1'
    echo 'read server'
    echo "echo \"\$server\" >>'$work/helper.calls'"
    echo "if [ \"\$server\" = '$host' ]; then"
    echo "  printf '{\"ServerURL\":\"%s\",\"Username\":\"%s\",\"Secret\":\"%s\"}' \"\$server\" '$user' '$password'"
    echo 'else'
    echo '  echo "credentials not found in native keychain"; exit 1'
    echo 'fi'
} >"$work/bin/docker-credential-dmctest"
chmod +x "$work/bin/docker-credential-dmctest"
printf '{"auths":{"%s":{}},"credsStore":"dmctest"}' "$host" >"$work/docker/config.json"
PATH=$work/bin:$PATH DOCKER_CONFIG=$work/docker run_dmc store -a load -t nginx -H "$host/store" \
    --imagedir "$work/img" || fail "push with credsStore"
printf '{"credsStore":"missing","credHelpers":{"%s":"dmctest"}}' "$host" >"$work/docker/config.json"
PATH=$work/bin:$PATH DOCKER_CONFIG=$work/docker run_dmc helpers -a load -t nginx -H "$host/helpers" \
    --imagedir "$work/img" || fail "push with credHelpers"
[ "$(grep -c "^$host\$" "$work/helper.calls")" = 2 ] || fail "helper calls: $(cat "$work/helper.calls")"
printf '{"credsStore":"missing"}' >"$work/docker/config.json"
expect_fail 1 'docker-credential-missing named in Docker.s config.json is not in PATH' -- \
    env DOCKER_CONFIG="$work/docker" "$DMC" -a load -t nginx -H "$host/x" --imagedir "$work/img"
pass "credsStore and credHelpers through docker-credential-*; a missing helper is named"

# Redirects: blob HEADs go to another origin (localhost), which must not get the credentials.
start_proxy redirect "$host" --redirect-blobs --upstream-auth "$user:$password"
proxy_port=$PROXY_PORT
make_layout "$work/img2" --size 100000 --seed redirect >/dev/null
DMC_REGISTRY_USER=$user DMC_REGISTRY_PASSWORD=$password run_dmc redirect -a load -t nginx \
    -H "127.0.0.1:$proxy_port/redirect" --imagedir "$work/img2" || fail "push through redirects"
redirected=$(grep -c 'host=localhost' "$work/redirect.proxy.log" || true)
[ "$redirected" -ge 4 ] || fail "no redirected requests: $(cat "$work/redirect.proxy.log")"
! grep 'host=localhost' "$work/redirect.proxy.log" | grep -q 'auth=yes' || fail "credentials went to another origin"
grep '/blobs/uploads/' "$work/redirect.proxy.log" | grep -q 'auth=yes' || fail "no credentials to the registry itself"
pass "redirected to another origin, $redirected requests carried no credentials"

# Bearer tokens: realm, service and a scope per repository; a refused token is renewed.
start_token_registry bearer "$user" "$password" --expired-first
bhost=127.0.0.1:$REG_PORT
expect_fail 1 "registry $bhost refused the credentials of user $user .*check the user name and password" -- \
    env DMC_REGISTRY_USER=$user DMC_REGISTRY_PASSWORD=nope "$DMC" -a load -t nginx -H "$bhost/team" --imagedir "$work/img"
DMC_REGISTRY_USER=$user DMC_REGISTRY_PASSWORD=$password run_dmc bearer -a load -t nginx -H "$bhost/team" \
    --imagedir "$work/img" || fail "push with bearer tokens"
grep -q "^scope=repository:team/nginx:pull,push service=dmc-test-registry user=$user status=200" "$work/bearer-token.log" \
    || fail "token requests: $(cat "$work/bearer-token.log")"
[ "$(grep -c 'scope=repository:team/nginx:pull,push .*status=200' "$work/bearer-token.log")" -ge 2 ] \
    || fail "the expired token was not renewed: $(cat "$work/bearer-token.log")"
skopeo inspect --tls-verify=false --creds "$user:$password" --raw "docker://$bhost/team/nginx:latest" | grep -q manifests \
    || fail "skopeo cannot read the bearer push"
# A mount between repositories asks for both scopes in one token.
DMC_REGISTRY_USER=$user DMC_REGISTRY_PASSWORD=$password run_dmc bearer2 -a load -t nginx -H "$bhost/team2" \
    --imagedir "$work/img" || fail "second bearer push"
grep -q "scope=repository:team2/nginx:pull,push repository:team/nginx:pull .*status=200" "$work/bearer-token.log" \
    || fail "no token for the mount: $(cat "$work/bearer-token.log")"
grep -q '4 mounted' "$work/bearer2.err" || fail "bearer mount: $(cat "$work/bearer2.err")"
pass "Bearer tokens per repository scope; an expired token is renewed; mounts ask for both scopes"

# A token server that refuses the second time (the first token has expired): a
# clear error after bounded attempts; the next run, with the server well, completes.
start_token_registry bearer2 "$user" "$password" --expired-first --refuse-after 1
refusing=$TOKEN_PID
b2host=127.0.0.1:$REG_PORT
t0=$SECONDS
expect_fail 1 "registry $b2host refused the credentials of user $user" -- \
    env DMC_REGISTRY_USER="$user" DMC_REGISTRY_PASSWORD="$password" "$DMC" -a load -t nginx -H "$b2host/again" --imagedir "$work/img"
[ "$(grep -c "user=$user status=401" "$work/bearer2-token.log")" -le 5 ] || fail "the refusing token server was asked without end: $(cat "$work/bearer2-token.log")"
kill "$refusing" && wait "$refusing" 2>/dev/null || true
start_token_server bearer2 "$user" "$password"
DMC_REGISTRY_USER=$user DMC_REGISTRY_PASSWORD=$password run_dmc again -a load -t nginx -H "$b2host/again" \
    --imagedir "$work/img" || fail "the push once the token server is well: $(cat "$work/again.err")"
pass "a token server refusing the second time: one line after bounded attempts ($((SECONDS - t0)) s); the next run completes"
