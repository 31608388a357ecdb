#!/usr/bin/env bash
# kubectl_fidelity.sh - check tests/kube/kube_api_server.py against the REAL kubectl.
#
# dmc's Kubernetes tests trust the test double to behave like kube-apiserver
# 1.32.  This script holds it to that: it starts the double, points an
# unmodified kubectl at it (client certificate, bearer token and basic-auth
# kubeconfigs) and checks that kubectl's own view of every answer is what a
# real cluster gives: server-side apply and its conflicts, listing with label
# selectors, foreground deletion with --wait, NotFound, Forbidden, retries on
# 503/429, rollout status, and both discovery formats.
#
#   KUBECTL=/path/to/kubectl tests/kube/kubectl_fidelity.sh
#
# Exit status: 0 all checks passed, 1 a check failed, 77 no kubectl (skipped).
set -u

here=$(cd "$(dirname "$0")" && pwd)
KUBECTL=${KUBECTL:-$(command -v kubectl || true)}
if [ -z "$KUBECTL" ] || [ ! -x "$KUBECTL" ]; then
    echo "SKIP: set KUBECTL to a kubectl binary" >&2
    exit 77
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/kubehelper-fidelity.XXXXXX")
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
# kubectl writes its discovery cache under $HOME/.kube: keep it in the temp dir
export HOME=$T/home KUBECACHEDIR=$T/cache
mkdir -p "$HOME"

pass=0 fail=0
ok()  { echo "ok   - $*"; pass=$((pass + 1)); }
bad() { echo "FAIL - $*"; fail=$((fail + 1)); }
show() { sed 's/^/    | /' "$@" | head -25; }

# k ARGS...: run kubectl, keeping stdout/stderr/rc in $T/out, $T/err, $rc
k() { timeout 60 "$KUBECTL" --request-timeout=20s "$@" >"$T/out" 2>"$T/err"; rc=$?; }
want_ok()   { if [ "$rc" = 0 ]; then ok "$1"; else bad "$1 (rc=$rc)"; show "$T/err" "$T/out"; fi; }
want_fail() { if [ "$rc" != 0 ]; then ok "$1"; else bad "$1 (rc=0, expected failure)"; show "$T/out"; fi; }
# has out|err TEXT DESC: TEXT appears in kubectl's stdout/stderr
has() {
    if grep -qF -- "$2" "$T/$1"; then ok "$3"; else bad "$3: no '$2' in std$1"; show "$T/$1"; fi
}
# js DESC PYTHON-EXPR: a check over kubectl's JSON output, bound to d
js() {
    if python3 - "$T/out" "$2" <<'EOF'; then ok "$1"; else bad "$1"; show "$T/out"; fi
import json, sys
d = json.load(open(sys.argv[1]))
def mf(name, op="Apply"):
    return next((m["fieldsV1"] for m in d["metadata"].get("managedFields", [])
                 if m["manager"] == name and m["operation"] == op and not m.get("subresource")), None)
sys.exit(0 if eval("(" + sys.argv[2] + "\n)") else 1)
EOF
}
# reqs DESC PYTHON-EXPR: a check over the requests the double recorded, bound to r (list)
reqs() {
    if python3 - "$STATE/requests.jsonl" "$2" <<'EOF'; then ok "$1"; else bad "$1"; fi
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])]
sys.exit(0 if eval("(" + sys.argv[2] + "\n)") else 1)
EOF
}
# ctl METHOD PATH [JSON]: the double's control endpoints
ctl() {
    python3 - "$PORT" "$T/certs/ca.pem" "$@" <<'EOF'
import http.client, ssl, sys
port, ca, method, path = sys.argv[1:5]
body = sys.argv[5] if len(sys.argv) > 5 else None
c = http.client.HTTPSConnection("127.0.0.1", int(port), context=ssl.create_default_context(cafile=ca))
c.request(method, path, body=body, headers={"Content-Type": "application/json"} if body else {})
r = c.getresponse()
sys.stdout.write(r.read().decode())
sys.exit(0 if r.status == 200 else 1)
EOF
}

# start_server NAME ARGS...: start the double, set PORT and STATE
start_server() {
    local name=$1; shift
    STATE=$T/$name
    mkdir -p "$STATE"
    python3 "$here/kube_api_server.py" --cert "$T/certs/server.pem" --key "$T/certs/server.key" \
        --client-ca "$T/certs/ca.pem" --port 0 --port-file "$STATE/port" --state-dir "$STATE" \
        --auth "$T/auth.json" "$@" 2>"$STATE/server.log" &
    pids+=($!)
    for _ in $(seq 100); do [ -s "$STATE/port" ] && break; sleep 0.05; done
    PORT=$(cat "$STATE/port" 2>/dev/null) || { echo "server did not start"; cat "$STATE/server.log"; exit 1; }
}

# kubeconfig FILE: one cluster, three users (cert, token, basic), one context each
kubeconfig() {
    cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: https://127.0.0.1:$PORT
    tls-server-name: kubernetes.test
    certificate-authority-data: $(base64 -w0 <"$T/certs/ca.pem")
users:
- name: cert
  user:
    client-certificate-data: $(base64 -w0 <"$T/certs/client.pem")
    client-key-data: $(base64 -w0 <"$T/certs/client.key")
- name: token
  user: {token: t0ken-alice}
- name: basic
  user: {username: bob, password: s3cret}
- name: badtoken
  user: {token: wrong}
contexts:
- {name: cert, context: {cluster: test, user: cert}}
- {name: token, context: {cluster: test, user: token}}
- {name: basic, context: {cluster: test, user: basic}}
- {name: badtoken, context: {cluster: test, user: badtoken}}
current-context: cert
EOF
}

"$here/make_certs.sh" "$T/certs"
cat >"$T/auth.json" <<'EOF'
{"tokens": {"t0ken-alice": "alice"}, "basic": {"bob": "s3cret"}, "client_cert": true,
 "deny": [{"user": "alice", "verb": "delete", "resource": "secrets"}]}
EOF
cat >"$T/app.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        ports:
        - containerPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: web
  labels: {app: web}
spec:
  selector: {app: web}
  ports:
  - port: 80
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
  labels: {app: web}
data:
  greeting: hello
EOF
# the same Deployment as another manager would apply it, wanting 3 replicas
sed -n '1,/^---/p' "$T/app.yaml" | sed '/^---/d; s/replicas: 2/replicas: 3/' >"$T/scale.yaml"

echo "# aggregated discovery (what a 1.32 apiserver serves)"
start_server main
export KUBECONFIG=$T/kubeconfig
kubeconfig "$KUBECONFIG"

k version
want_ok "kubectl version"
has out "Server Version: v1.32.3" "server version is v1.32.3"

k apply --server-side -f "$T/app.yaml"
want_ok "apply --server-side Deployment+Service+ConfigMap"
has out "deployment.apps/web serverside-applied" "deployment serverside-applied"
has out "service/web serverside-applied" "service serverside-applied"
has out "configmap/web-config serverside-applied" "configmap serverside-applied"
reqs "apply is PATCH application/apply-patch+yaml with fieldManager=kubectl, by the cert user" \
    'any(e["method"] == "PATCH" and e["content_type"] == "application/apply-patch+yaml"
         and e["query"].get("fieldManager") == ["kubectl"] and e["query"].get("fieldValidation") == ["Strict"]
         and e["user"] == "dmc-client" and e["auth"] == "cert" and e["status"] == 201 for e in r)'
reqs "kubectl used aggregated discovery and the OpenAPI v3 PATCH parameters" \
    'any(e["path"] == "/apis" and "as=APIGroupDiscoveryList" in (e["accept"] or "") for e in r)
     and any(e["path"].startswith("/openapi/v3/apis/apps/v1") for e in r)
     and not any(e["path"] == "/apis/apps/v1" for e in r)'

k get deployment web -o json --show-managed-fields
want_ok "get deployment -o json"
js "object fields: name, uid, generation 1, resourceVersion, defaults" \
    'd["metadata"]["name"] == "web" and d["metadata"]["uid"] and d["metadata"]["generation"] == 1
     and d["metadata"]["resourceVersion"].isdigit() and d["spec"]["replicas"] == 2
     and d["spec"]["strategy"]["type"] == "RollingUpdate" and d["spec"]["revisionHistoryLimit"] == 10
     and d["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] == "IfNotPresent"'
js "managedFields: manager kubectl (Apply) owns .spec.replicas and the container by name" \
    'mf("kubectl") is not None and "f:replicas" in mf("kubectl")["f:spec"]
     and "k:{\"name\":\"nginx\"}" in mf("kubectl")["f:spec"]["f:template"]["f:spec"]["f:containers"]'

k get configmap web-config -o 'jsonpath={.data.greeting}'
want_ok "get configmap jsonpath"
has out "hello" "configmap data round-trips"

k apply --server-side --field-manager=scaler -f "$T/scale.yaml"
want_fail "a second manager's conflicting apply fails"
has err 'error: Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas' "kubectl prints the conflict"
has err "--force-conflicts" "kubectl suggests --force-conflicts"

k apply --server-side --field-manager=scaler --force-conflicts -f "$T/scale.yaml"
want_ok "apply --force-conflicts succeeds"
k get deployment web -o json --show-managed-fields
js "after force: replicas 3, scaler owns it, kubectl no longer does" \
    'd["spec"]["replicas"] == 3 and "f:replicas" in mf("scaler")["f:spec"]
     and "f:replicas" not in mf("kubectl")["f:spec"] and d["metadata"]["generation"] == 2'

k rollout status deployment/web --timeout=20s
want_ok "rollout status (ready mode)"
has out 'deployment "web" successfully rolled out' "rollout finished"

k scale deployment web --replicas=4
want_ok "kubectl scale (the scale subresource)"
k apply --server-side --field-manager=scaler -f "$T/scale.yaml"
has err 'conflict with "kubectl" with subresource "scale" using apps/v1: .spec.replicas' "scale took .spec.replicas (Update manager with subresource)"
sed 's/replicas: 3/replicas: 5/' "$T/scale.yaml" >"$T/scale5.yaml"
k apply --server-side --field-manager=scaler --force-conflicts --dry-run=server -f "$T/scale5.yaml"
has out "deployment.apps/web serverside-applied (server dry run)" "server dry-run apply"
k get deployment web -o 'jsonpath={.spec.replicas}'
has out "4" "dry run changed nothing"
k diff --server-side --force-conflicts --field-manager=scaler -f "$T/scale5.yaml"
has out "+  replicas: 5" "kubectl diff (dry-run apply) shows the change"

k get all -l app=web
want_ok "get all -l app=web"
has out "deployment.apps/web" "listing shows the deployment"
has out "service/web" "listing shows the service"
has out "pod/web-" "listing shows its pods"
has out "4/4" "deployment READY column"
k get deploy,svc,cm -l app=web -o name
want_ok "get -l -o name"
if [ "$(cat "$T/out")" = "$(printf 'deployment.apps/web\nservice/web\nconfigmap/web-config')" ]; then
    ok "label selector keeps exactly the labelled objects"
else bad "label selector listing"; show "$T/out"; fi
k get cm -l 'app notin (web)' -o name
has out "configmap/kube-root-ca.crt" "set-based selector (notin)"

k delete deployment web --cascade=foreground --wait --timeout=30s
want_ok "delete --cascade=foreground --wait"
has out 'deployment.apps "web" deleted' "kubectl reports the deletion"
reqs "DELETE carried propagationPolicy Foreground and got the object back (200)" \
    'any(e["method"] == "DELETE" and (e["body"] or {}).get("propagationPolicy") == "Foreground"
         and e["status"] == 200 for e in r)'
reqs "kubectl --wait watched the object until it was gone" \
    'any(e["query"].get("watch") == ["true"] and e["query"].get("fieldSelector") == ["metadata.name=web"] for e in r)'
k get deployment web
want_fail "get of the deleted deployment fails"
has err 'Error from server (NotFound): deployments.apps "web" not found' "NotFound, as kubectl prints it"
k get pods -l app=web -o name
if [ ! -s "$T/out" ]; then ok "foreground deletion removed the pods"; else bad "pods left"; show "$T/out"; fi
k delete deployment nope
has err 'Error from server (NotFound): deployments.apps "nope" not found' "delete of a missing object"

k apply --server-side -n nowhere -f "$T/app.yaml"
has err 'Error from server (NotFound): namespaces "nowhere" not found' "apply into a missing namespace"
sed 's/name: web-config/name: Bad_Name/' "$T/app.yaml" | sed -n '/kind: ConfigMap/,$p' | sed '1i apiVersion: v1' >"$T/bad.yaml"
k apply --server-side -f "$T/bad.yaml"
has err 'The ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain' "invalid name (kubectl renders the 422 causes)"

echo "# bearer token and basic auth"
k --context token get configmap web-config -o name
want_ok "bearer token kubeconfig"
reqs "bearer request recorded as alice/bearer, no Authorization header kept" \
    'any(e["auth"] == "bearer" and e["user"] == "alice" for e in r) and "t0ken-alice" not in open(sys.argv[1]).read()'
k --context basic get configmap web-config -o name
want_ok "basic auth kubeconfig (username/password)"
reqs "basic request recorded as bob/basic" 'any(e["auth"] == "basic" and e["user"] == "bob" and e["status"] == 200 for e in r)'
k --context badtoken get configmap web-config
want_fail "unknown token"
has err "error: You must be logged in to the server (Unauthorized)" "401 as kubectl reports it"
cat >"$T/secret.yaml" <<'EOF'
apiVersion: v1
kind: Secret
metadata: {name: s1}
stringData: {password: pw}
EOF
k apply --server-side -f "$T/secret.yaml"
want_ok "apply a Secret"
k --context token delete secret s1
want_fail "denied delete"
has err 'Error from server (Forbidden): secrets "s1" is forbidden: User "alice" cannot delete resource "secrets" in API group "" in the namespace "default"' "Forbidden, as kubectl prints it"
k get secret s1 -o 'jsonpath={.data.password}'
has out "cHc=" "stringData was stored as base64 data"

echo "# faults: client-go retries 503/429 that carry Retry-After"
ctl POST /_test/reset >/dev/null
ctl POST /_test/faults '[{"method":"PATCH","path":"configmaps/web-config$","status":503,"count":1,"retry_after":1},
                         {"method":"GET","path":"^/api/v1/namespaces/default/configmaps$","status":429,"count":1}]' >/dev/null
k apply --server-side -f "$T/app.yaml"
want_ok "apply succeeds after one 503 with Retry-After"
reqs "the 503 then the retried PATCH were recorded" \
    '[e["status"] for e in r if e["path"].endswith("/configmaps/web-config")] == [503, 200]'
k get configmaps -o name
want_ok "list succeeds after one 429"
reqs "the 429 then the retried GET were recorded" \
    '[e["status"] for e in r if e["path"] == "/api/v1/namespaces/default/configmaps"] == [429, 200]'
ctl POST /_test/faults '[{"method":"GET","path":"configmaps/web-config$","status":500,"count":1}]' >/dev/null
k get configmap web-config
want_fail "500 without Retry-After is not retried"
has err "Error from server (InternalError): Internal error occurred: injected fault" "InternalError as kubectl prints it"

echo "# rollout that never becomes ready"
ctl POST /_test/rollout '{"mode":"never"}' >/dev/null
sed 's/nginx:1.27/nginx:does-not-exist/' "$T/app.yaml" >"$T/broken.yaml"
k apply --server-side -f "$T/broken.yaml"
want_ok "apply the broken image"
k rollout status deployment/web --timeout=3s
want_fail "rollout status times out"
has out 'Waiting for deployment "web" rollout to finish: 0 of 2 updated replicas are available...' "kubectl is still waiting"
k get pods -l app=web
has out "ImagePullBackOff" "pod shows ImagePullBackOff"
k get events --field-selector reason=Failed
has out 'Failed to pull image "nginx:does-not-exist"' "a Failed event for the pod"
sed -n '1,/^---/p' "$T/broken.yaml" | sed '/^---/d; s/name: web$/name: stuck/; s/replicas: 2/replicas: 1\n  progressDeadlineSeconds: 1/' >"$T/stuck.yaml"
k apply --server-side -f "$T/stuck.yaml"
want_ok "apply a deployment with progressDeadlineSeconds: 1"
k rollout status deployment/stuck --timeout=15s
has err 'error: deployment "stuck" exceeded its progress deadline' "ProgressDeadlineExceeded, as kubectl reports it"
ctl POST /_test/rollout '{"mode":"ready"}' >/dev/null
k rollout status deployment/web --timeout=20s
want_ok "rollout completes once the mode is ready"

echo "# client-side apply (POST, then strategic merge patch)"
sed 's/web/csa/g' "$T/app.yaml" >"$T/csa.yaml"
k apply -f "$T/csa.yaml"
has out "deployment.apps/csa created" "client-side apply creates"
sed -i 's/greeting: hello/greeting: bye/' "$T/csa.yaml"
k apply -f "$T/csa.yaml"
has out "configmap/csa-config configured" "client-side apply patches"
k get configmap csa-config -o 'jsonpath={.data.greeting}'
has out "bye" "the strategic merge patch landed"

echo "# legacy discovery (server without aggregated discovery)"
start_server legacy --no-aggregated-discovery --rollout ready
export KUBECONFIG=$T/kubeconfig-legacy KUBECACHEDIR=$T/cache-legacy
kubeconfig "$KUBECONFIG"
k apply --server-side -f "$T/app.yaml"
want_ok "apply --server-side against legacy discovery"
reqs "kubectl fell back to /api/v1 and /apis/apps/v1" \
    'any(e["path"] == "/api/v1" for e in r) and any(e["path"] == "/apis/apps/v1" for e in r)'
k get deployment web -o 'jsonpath={.spec.replicas}'
has out "2" "get works with legacy discovery"

echo
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
