#!/usr/bin/env bash
# TLS: a docker-registry on loopback serving a certificate of a test CA. Without
# that CA, or with another one, dmc refuses the registry (and does not fall back
# to plain HTTP); with registry_ca it pushes, and skopeo verifies the result
# over TLS too.
set -euo pipefail
source "$DMC_SOURCE_DIR/tests/lib.sh"
work=$(mktemp -d)
trap 'cleanup_registry; rm -rf "$work"' EXIT
source "$DMC_SOURCE_DIR/tests/registry/lib.sh"

# A test CA, a server certificate for 127.0.0.1 and localhost, and an unrelated CA.
ca() {  # ca NAME
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/$1.key" -out "$work/$1.pem" -days 2 \
        -subj "/CN=dmc test $1" -addext basicConstraints=critical,CA:TRUE \
        -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}
ca ca
ca other
openssl req -newkey rsa:2048 -nodes -keyout "$work/server.key" -out "$work/server.csr" \
    -subj /CN=127.0.0.1 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$work/server.ext"
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial \
    -out "$work/server.pem" -days 2 -extfile "$work/server.ext" 2>/dev/null
start_registry tls "" tls "$work/server.pem" "$work/server.key"
host=127.0.0.1:$REG_PORT
make_layout "$work/img" --size 200000 >/dev/null

expect_fail 1 "the TLS certificate of registry $host is not trusted .*give its CA bundle with registry_ca" -- \
    "$DMC" -a load -t nginx -H "$host/tls" --imagedir "$work/img"
expect_fail 1 "the TLS certificate of registry $host is not trusted" -- \
    env DMC_REGISTRY_CA="$work/other.pem" "$DMC" -a load -t nginx -H "$host/tls" --imagedir "$work/img"
! grep -q 'HTTP request to an HTTPS server' "$work/tls.log" || fail "dmc fell back to plain HTTP"
[ "$(count "$work/tls.log" '"(HEAD|POST|PUT|PATCH) /v2/')" = 0 ] || fail "requests went through an untrusted connection"
pass "an unknown CA is refused, without falling back to plain HTTP"

DMC_REGISTRY_CA=$work/ca.pem run_dmc ok -a load -t nginx -H "$host/tls" --imagedir "$work/img" || fail "push with the CA"
grep -q "^$host/tls/nginx:latest@sha256:" "$work/ok.out" || fail "stdout: $(cat "$work/ok.out")"
printf 'registry_ca: %s\n' "$work/ca.pem" >"$work/dmc.yaml"
run_dmc config --config "$work/dmc.yaml" -a load -t nginx -H "localhost:$REG_PORT/tls2" --imagedir "$work/img" \
    || fail "push with registry_ca in the config file, by the name localhost"
mkdir -p "$work/certs" && cp "$work/ca.pem" "$work/certs/ca.crt"
skopeo inspect --cert-dir "$work/certs" --raw "docker://$host/tls/nginx:latest" | grep -q '"manifests"' \
    || fail "skopeo over TLS"
pass "with registry_ca (environment or config file) the push goes over verified TLS"
