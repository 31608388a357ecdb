# Kubernetes tests: the test API server (tests/kube/kube_api_server.py) on
# 127.0.0.1 over TLS with a test CA, kubeconfigs for each credential type, the
# server's control endpoints and recorded requests, and kubectl from Debian's
# archive, fetched and unpacked by dmc itself. Source after tests/lib.sh, with
# $work set to the test's temporary directory.

_kube_pids=()
cleanup_kube() {
    local p
    for p in "${_kube_pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${_kube_pids[@]}"; do wait "$p" 2>/dev/null || true; done
}

# start_kube_api [server options...]: the server with its certificates in
# $work/pki and its state in $work/kube; sets KUBE_PORT, KUBE_STATE, KUBE_PKI and
# KUBE_AUTH (the auth file: token "t-alice" for alice, basic bob:bob-pw, client certs).
start_kube_api() {
    KUBE_PKI=$work/pki KUBE_STATE=$work/kube KUBE_AUTH=$work/kube-auth.json
    mkdir -p "$KUBE_STATE"
    [ -f "$KUBE_PKI/ca.pem" ] || bash "$DMC_SOURCE_DIR/tests/kube/make_certs.sh" "$KUBE_PKI" >/dev/null \
        || fail "make_certs.sh"
    [ -f "$KUBE_AUTH" ] || echo '{"tokens": {"t-alice": "alice", "tok-exec-51d3": "exec-user", "t-sa": "system:serviceaccount:builds:dmc"},
        "basic": {"bob": "bob-pw"}, "client_cert": true}' >"$KUBE_AUTH"
    rm -f "$work/kube.port"
    python3 "$DMC_SOURCE_DIR/tests/kube/kube_api_server.py" --cert "$KUBE_PKI/server.pem" \
        --key "$KUBE_PKI/server.key" --client-ca "$KUBE_PKI/ca.pem" --port 0 \
        --port-file "$work/kube.port" --state-dir "$KUBE_STATE" --auth "$KUBE_AUTH" "$@" \
        >>"$work/kube.log" 2>&1 &
    _kube_pids+=($!)
    local i
    for i in $(seq 1 100); do [ -s "$work/kube.port" ] && break; sleep 0.1; done
    [ -s "$work/kube.port" ] || { cat "$work/kube.log"; fail "the test API server did not start"; }
    KUBE_PORT=$(cat "$work/kube.port")
}

b64() { base64 -w0 <"$1"; }

# kubeconfig FILE KIND [cluster options as YAML lines]: a kubeconfig for the test
# server with one context "test" whose user authenticates as KIND says:
#   cert-data cert-files token token-file basic exec:SCRIPT none
kubeconfig() {
    local file=$1 kind=$2; shift 2
    local user
    case $kind in
        cert-data) user="client-certificate-data: $(b64 "$KUBE_PKI/client.pem")
    client-key-data: $(b64 "$KUBE_PKI/client.key")" ;;
        cert-files) user="client-certificate: $KUBE_PKI/client.pem
    client-key: $KUBE_PKI/client.key" ;;
        token) user="token: t-alice" ;;
        bad-token) user="token: t-wrong" ;;
        token-file) echo t-alice >"$work/token"; user="tokenFile: $work/token" ;;
        basic) user="username: bob
    password: bob-pw" ;;
        exec:*) user="exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ${kind#exec:}
      args: [--for, test]
      interactiveMode: Never" ;;
        none) user="{}" ;;
    esac
    local cluster="certificate-authority-data: $(b64 "$KUBE_PKI/ca.pem")"
    [ $# -gt 0 ] && cluster=$(printf '%s\n    ' "$@")
    cat >"$file" <<YAML
apiVersion: v1
kind: Config
current-context: test
clusters:
- name: test
  cluster:
    server: https://127.0.0.1:$KUBE_PORT
    $cluster
contexts:
- name: test
  context: {cluster: test, user: u}
users:
- name: u
  user:
    $user
YAML
}

# kube_ctl METHOD PATH [JSON]: a control endpoint of the test server; its answer on stdout.
kube_ctl() {
    curl -sf --cacert "$KUBE_PKI/ca.pem" -X "$1" ${3:+-H 'Content-Type: application/json' --data "$3"} \
        "https://127.0.0.1:$KUBE_PORT$2"
}

# kube_reqs PYTHON-EXPR: true when the expression holds over the recorded requests,
# bound to r (a list of {method, path, query, content_type, auth, user, body, status}).
kube_reqs() {
    python3 - "$KUBE_STATE/requests.jsonl" "$1" <<'PY'
import json, sys
try:
    r = [json.loads(l) for l in open(sys.argv[1])]
except FileNotFoundError:
    r = []
sys.exit(0 if eval(sys.argv[2]) else 1)
PY
}

# kube_object RESOURCE NAMESPACE NAME PYTHON-EXPR: the expression over the stored object o.
kube_object() {
    kube_ctl GET "/_test/objects?resource=$1&namespace=$2" | python3 -c '
import json, sys
name, expr = sys.argv[1], sys.argv[2]
data = json.load(sys.stdin)
items = data["items"] if isinstance(data, dict) and "items" in data else data
o = next((i for i in items if i["metadata"]["name"] == name), None)
sys.exit(0 if eval(expr) else 1)' "$3" "$4"
}

# fetch_kubectl: KUBECTL, Debian's kubectl for amd64 (tests/lib.sh fetch_client).
fetch_kubectl() {
    fetch_client kubectl
    KUBECTL=$CLIENT
}

# validate_manifests OUT FILE|DIR...: checks manifests against the Kubernetes schema
# with npm's kubernetes-models (installed once per build tree); its report in OUT.
validate_manifests() {
    local out=$1; shift
    local npm_dir=$DMC_BINARY_DIR/test-npm
    if [ ! -d "$npm_dir/node_modules/kubernetes-models" ] || [ ! -d "$npm_dir/node_modules/yaml" ]; then
        mkdir -p "$npm_dir"
        npm install --prefix "$npm_dir" --no-audit --no-fund --silent kubernetes-models@4.5.1 yaml@2 \
            >/dev/null || fail "npm install kubernetes-models"
    fi
    NODE_PATH=$npm_dir/node_modules node "$DMC_SOURCE_DIR/tests/kube/validate_manifests.js" "$@" >"$out" 2>&1
}
