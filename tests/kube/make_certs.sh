#!/usr/bin/env bash
# make_certs.sh DIR - test PKI for tests/kube/kube_api_server.py.
#
# Writes into DIR:
#   ca.pem / ca.key          the test CA (signs both certificates below)
#   server.pem / server.key  serving cert: SAN IP:127.0.0.1, DNS:localhost, DNS:kubernetes.test
#   client.pem / client.key  client cert: CN=dmc-client, O=dmc-testers (the apiserver
#                            maps CN to the user name and O to groups)
# EC P-256 keys: generating them takes milliseconds, unlike RSA.
set -euo pipefail

dir=${1:?usage: make_certs.sh DIR}
mkdir -p "$dir"
cd "$dir"

days=3650
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

key ca.key
openssl req -x509 -new -key ca.key -sha256 -days "$days" -subj "/CN=dmc-test-ca" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out ca.pem

# sign NAME SUBJECT EXTFILE-CONTENT
sign() {
    local name=$1 subj=$2 ext=$3
    key "$name.key"
    openssl req -new -key "$name.key" -subj "$subj" -out "$name.csr"
    printf '%s\n' "$ext" > "$name.ext"
    openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
        -sha256 -days "$days" -extfile "$name.ext" -out "$name.pem" 2>/dev/null
    rm -f "$name.csr" "$name.ext"
}

sign server "/CN=kube-apiserver" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.test"

sign client "/O=dmc-testers/CN=dmc-client" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"

rm -f ca.srl
chmod 600 ./*.key
