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

# A certificate of the right CA for another name, and one that has expired: each
# refused with what is wrong, nothing sent through the connection.
openssl req -newkey rsa:2048 -nodes -keyout "$work/wrong.key" -out "$work/wrong.csr" \
    -subj /CN=wrong.example 2>/dev/null
printf 'subjectAltName=DNS:wrong.example\nextendedKeyUsage=serverAuth\n' >"$work/wrong.ext"
openssl x509 -req -in "$work/wrong.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial \
    -out "$work/wrong.pem" -days 2 -extfile "$work/wrong.ext" 2>/dev/null
start_registry tlswrong "" tls "$work/wrong.pem" "$work/wrong.key"
expect_fail 1 "the TLS certificate of registry 127.0.0.1:$REG_PORT is not for that name \(.*\); use a name the certificate was issued for" -- \
    env DMC_REGISTRY_CA="$work/ca.pem" "$DMC" -a load -t nginx -H "127.0.0.1:$REG_PORT/tls" --imagedir "$work/img"
[ "$(count "$work/tlswrong.log" '"(HEAD|POST|PUT|PATCH) /v2/')" = 0 ] || fail "requests went to a registry of another name"
python3 - "$work" <<'PY'
import datetime, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
work = sys.argv[1]
ca_key = serialization.load_pem_private_key(open(f"{work}/ca.key", "rb").read(), None)
ca = x509.load_pem_x509_certificate(open(f"{work}/ca.pem", "rb").read())
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
now = datetime.datetime.now(datetime.timezone.utc)
cert = (x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=30)).not_valid_after(now - datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]), False)
        .sign(ca_key, hashes.SHA256()))
open(f"{work}/expired.pem", "wb").write(cert.public_bytes(serialization.Encoding.PEM))
open(f"{work}/expired.key", "wb").write(key.private_bytes(serialization.Encoding.PEM,
    serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()))
PY
start_registry tlsexpired "" tls "$work/expired.pem" "$work/expired.key"
expect_fail 1 "the TLS certificate of registry 127.0.0.1:$REG_PORT has expired \(.*\); its operator must renew it" -- \
    env DMC_REGISTRY_CA="$work/ca.pem" "$DMC" -a load -t nginx -H "127.0.0.1:$REG_PORT/tls" --imagedir "$work/img"
[ "$(count "$work/tlsexpired.log" '"(HEAD|POST|PUT|PATCH) /v2/')" = 0 ] || fail "requests went through an expired certificate"
pass "a certificate for another name, and an expired one, refused saying which"
