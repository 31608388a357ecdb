#!/usr/bin/env bash
# Deploy and delete against the test API server (tests/kube/kube_api_server.py,
# checked against the real kubectl by kubectl_fidelity.sh): server-side apply
# with fieldManager dmc, images by the pushed digest, the rollout wait and its
# timeout, conflicts and --force-conflicts, the once-only Secret, -X with
# Foreground propagation, every kubeconfig credential type and the in-cluster
# service account, the server's errors in one line, retries, and no credential in
# any output. kubectl then reads back what dmc applied.
set -euo pipefail
. "$DMC_SOURCE_DIR/tests/lib.sh"
work=$(mktemp -d)
export DMC_CACHEDIR=${DMC_TEST_CACHE:-$DMC_BINARY_DIR/test-cache}
. "$DMC_SOURCE_DIR/tests/registry/lib.sh"
. "$DMC_SOURCE_DIR/tests/kube/lib.sh"
trap 'cleanup_kube; cleanup_registry; rm -rf "$work"' EXIT
unset DMC_ROLLOUT_TIMEOUT OUT_level LOG_level || true
export IMAGEDIR=$work/images DMC_BUILDDIR=$work/build LOG_dir=$work/logs LOG_level=ALL
mkdir -p "$LOG_dir"

start_registry reg
registry=127.0.0.1:$REG_PORT
"$DMC" -t nginx,mariadb -A amd64 -H "$registry" >"$work/build.out" 2>"$work/build.err" \
    || { tail -20 "$work/build.err"; fail "building and pushing nginx and mariadb"; }
nginx_image=$registry/nginx@sha256:$(skopeo inspect --tls-verify=false --raw "docker://$registry/nginx:latest" | sha256sum | cut -d' ' -f1)

start_kube_api --namespaces web,builds
kubeconfig "$work/kc-cert" cert-data
deploy() { "$DMC" -a deploy -A amd64 "$@"; }

# 1. Apply, by digest, as field manager dmc, and wait for the rollout.
out=$(deploy -t nginx --kubeconfig "$work/kc-cert" 2>"$work/err") || { cat "$work/err"; fail "deploy nginx"; }
[ "$out" = "nginx deployed to default" ] || fail "deploy printed: $out"
kube_reqs '[x["path"] for x in r if x["method"] == "PATCH"] == ["/api/v1/namespaces/default/configmaps/nginx-config", "/apis/apps/v1/namespaces/default/deployments/nginx", "/api/v1/namespaces/default/services/nginx"]' \
    || fail "not the three server-side applies in order"
kube_reqs 'all(x["query"].get("fieldManager") == ["dmc"] and "force" not in x["query"] and x["content_type"] == "application/apply-patch+yaml" and x["auth"] == "cert" for x in r if x["method"] == "PATCH")' \
    || fail "an apply without fieldManager=dmc, the apply-patch content type or the client certificate"
kube_reqs 'sum(1 for x in r if x["method"] == "GET" and x["path"].endswith("/deployments/nginx")) >= 2' \
    || fail "the rollout was not waited for"
grep -q "Deployment nginx is rolled out" "$work/err" || fail "no rollout progress shown"
kube_object deployments default nginx 'o["spec"]["template"]["spec"]["containers"][0]["image"] == "'"$nginx_image"'"' \
    || fail "the Deployment does not run $nginx_image"
pass "deploy applies ConfigMap, Deployment and Service server-side as dmc, by digest, and waits for the rollout"

# 2. kubectl, an independent client, reads back what dmc applied.
fetch_kubectl
export KUBECACHEDIR=$work/kubectl-cache
k() { "$KUBECTL" --kubeconfig "$work/kc-cert" --request-timeout=20s "$@"; }
[ "$(k get deployment nginx -o 'jsonpath={.spec.template.spec.containers[0].image}')" = "$nginx_image" ] \
    || fail "kubectl sees another image"
k get deployment nginx -o json --show-managed-fields | python3 -c '
import json, sys
d = json.load(sys.stdin)
managers = {m["manager"] for m in d["metadata"]["managedFields"]}
sc = d["spec"]["template"]["spec"]["containers"][0]["securityContext"]
assert "dmc" in managers, managers
assert sc["readOnlyRootFilesystem"] and sc["runAsNonRoot"] and sc["runAsUser"] == 33, sc
assert d["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "dmc"
' || fail "kubectl does not see dmc's fields"
k get services -l app.kubernetes.io/managed-by=dmc -o name | grep -qx 'service/nginx' || fail "kubectl does not list the Service by label"
pass "kubectl reads back the digest, dmc's managed fields, labels and securityContext"

# 3. Applying again changes nothing; a field another manager took is a conflict.
deploy -t nginx --kubeconfig "$work/kc-cert" >/dev/null 2>&1 || fail "a second deploy failed"
cat >"$work/scale.yaml" <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: nginx, namespace: default}
spec: {replicas: 3}
YAML
k apply --server-side --field-manager=ops --force-conflicts -f "$work/scale.yaml" >/dev/null || fail "kubectl apply as ops"
expect_fail 1 'conflict with "ops".*\.spec\.replicas.*--force-conflicts' -- deploy -t nginx --kubeconfig "$work/kc-cert"
deploy -t nginx --kubeconfig "$work/kc-cert" --force-conflicts >/dev/null 2>&1 || fail "--force-conflicts"
kube_reqs 'r[-1]["method"] == "GET" and any(x["method"] == "PATCH" and x["query"].get("force") == ["true"] for x in r)' || fail "no forced apply"
[ "$(k get deployment nginx -o 'jsonpath={.spec.replicas}')" = 1 ] || fail "the forced apply did not take replicas back"
k delete configmap nginx-config --wait >/dev/null || fail "kubectl delete of dmc's ConfigMap"
k get configmap nginx-config >/dev/null 2>&1 && fail "kubectl still sees the deleted ConfigMap"
deploy -t nginx --kubeconfig "$work/kc-cert" >/dev/null 2>&1 || fail "deploy after kubectl delete"
[ "$(k get configmap nginx-config -o 'jsonpath={.metadata.labels.app\.kubernetes\.io/managed-by}')" = dmc ] \
    || fail "deploy did not make the ConfigMap kubectl deleted again"
pass "a conflict names the field and its manager; --force-conflicts takes it over; what kubectl deletes, deploy makes again"

# 4. mariadb: a StatefulSet and a Secret of random passwords made once, never shown.
kubeconfig "$work/kc-token" token
deploy -t mariadb --kubeconfig "$work/kc-token" -N web >"$work/db.out" 2>"$work/db.err" || { cat "$work/db.err"; fail "deploy mariadb"; }
kube_object secrets web mariadb-credentials 'o is not None and set(o["data"]) == {"root-password", "password"} and all(len(v) > 40 for v in o["data"].values())' \
    || fail "no Secret with two random values"
secret1=$(kube_ctl GET "/_test/objects?resource=secrets&namespace=web")
deploy -t mariadb --kubeconfig "$work/kc-token" -N web >/dev/null 2>&1 || fail "deploy mariadb again"
[ "$(kube_ctl GET "/_test/objects?resource=secrets&namespace=web" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(json.dumps(d, sort_keys=True))' | sha256sum)" = \
  "$(python3 -c 'import json,sys; print(json.dumps(json.loads(sys.argv[1]), sort_keys=True))' "$secret1" | sha256sum)" ] \
    || fail "the Secret changed on the second deploy"
kube_reqs 'sum(1 for x in r if x["method"] == "POST" and x["path"].endswith("/secrets")) == 1' || fail "the Secret was created twice"
for v in $(python3 -c 'import json,sys,base64; d=json.loads(sys.argv[1]); items=d["items"] if isinstance(d,dict) else d; [print(base64.b64decode(x).decode()) for i in items for x in i["data"].values()]' "$secret1"); do
    if grep -rqF -- "$v" "$work/db.out" "$work/db.err" "$LOG_dir"; then fail "a generated password was shown or logged"; fi
done
kube_object statefulsets web mariadb 'o["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data" and o["spec"]["template"]["spec"]["containers"][0]["env"][2]["valueFrom"]["secretKeyRef"]["name"] == "mariadb-credentials"' \
    || fail "the StatefulSet lacks its claim or Secret"
pass "mariadb: a StatefulSet with a claim; its Secret is made once, kept, never printed or logged"

# 5. -X deletes with Foreground propagation and waits; twice is no error; the Secret stays.
kube_ctl POST /_test/reset >/dev/null
out=$(deploy -t mariadb --kubeconfig "$work/kc-token" -N web -X 2>"$work/err") || { cat "$work/err"; fail "-X mariadb"; }
kube_reqs '[x["path"].rsplit("/", 2)[-2] for x in r if x["method"] == "DELETE"] == ["services", "statefulsets", "configmaps"]' \
    || fail "not the three deletions in reverse order"
kube_reqs 'all((x["body"] or {}).get("propagationPolicy") == "Foreground" for x in r if x["method"] == "DELETE")' || fail "a deletion without Foreground"
kube_reqs 'any(x["method"] == "GET" and x["path"].endswith("/statefulsets/mariadb") and x["status"] == 404 for x in r)' \
    || fail "-X did not wait until the StatefulSet was gone"
kube_object statefulsets web mariadb 'o is None' || fail "the StatefulSet is still there"
kube_object secrets web mariadb-credentials 'o is not None' || fail "the Secret was deleted with the data's passwords"
grep -q "is kept" "$work/err" || fail "-X does not say the Secret is kept"
out=$(deploy -t mariadb --kubeconfig "$work/kc-token" -N web -X 2>/dev/null) || fail "deleting twice failed"
[ "$out" = "mariadb deleted from web (0 objects)" ] || fail "second -X said: $out"
pass "-X deletes in reverse order with Foreground, waits until gone, is idempotent and keeps the Secret"

# 6. A rollout that does not finish: the condition and the pod's last event.
kube_ctl POST /_test/rollout '{"mode": "never"}' >/dev/null
DMC_ROLLOUT_TIMEOUT=2 expect_fail 1 'did not roll out within 2 s.*MinimumReplicasUnavailable.*pod nginx-.* waiting: ImagePullBackOff; last event: Failed: Failed to pull image' \
    -- deploy -t nginx --kubeconfig "$work/kc-cert" -N builds
kube_ctl POST /_test/rollout '{"mode": "ready"}' >/dev/null
pass "a rollout timeout names the failing condition and the last event of the pod that is not ready"

# 7. The server's errors, one line each with what to do; transient ones retried.
kubeconfig "$work/kc-bad" bad-token
expect_fail 1 '401 Unauthorized; the credentials of context test .* were refused' -- deploy -t nginx --kubeconfig "$work/kc-bad"
expect_fail 1 '404 namespaces "nowhere" not found; create the namespace' -- deploy -t nginx --kubeconfig "$work/kc-cert" -N nowhere
python3 - "$KUBE_AUTH" <<'PY'
import json, sys
a = json.load(open(sys.argv[1])); a["deny"] = [{"user": "alice", "verb": "patch", "resource": "deployments"}]
json.dump(a, open(sys.argv[1], "w"))
PY
expect_fail 1 'forbidden: User "alice" cannot patch resource "deployments".*ask the cluster' -- deploy -t nginx --kubeconfig "$work/kc-token"
python3 - "$KUBE_AUTH" <<'PY'
import json, sys
a = json.load(open(sys.argv[1])); a.pop("deny"); json.dump(a, open(sys.argv[1], "w"))
PY
kube_ctl POST /_test/reset >/dev/null
kube_ctl POST /_test/faults '[{"method": "PATCH", "path": "/configmaps/", "status": 503, "count": 2}]' >/dev/null
deploy -t nginx --kubeconfig "$work/kc-cert" >/dev/null 2>&1 || fail "two 503s were not retried"
kube_reqs 'sum(1 for x in r if x["method"] == "PATCH" and "/configmaps/" in x["path"]) == 3' || fail "not three attempts"
kube_ctl POST /_test/faults '[{"method": "PATCH", "path": "/deployments/", "status": 422, "count": 1}]' >/dev/null
expect_fail 1 'applying Deployment nginx in namespace default: 422 .*invalid.*fix the template' -- deploy -t nginx --kubeconfig "$work/kc-cert"
kube_ctl POST /_test/faults '[{"method": "PATCH", "path": "/services/", "status": 500, "count": 50}]' >/dev/null
DMC_RETRIES=1 expect_fail 1 'applying Service nginx in namespace default: 500 .*try again later' -- deploy -t nginx --kubeconfig "$work/kc-cert"
kube_ctl DELETE /_test/faults >/dev/null
pass "401, 403, a missing namespace, 422 and 5xx are one line with what to do; 503 is retried"

# 8. Every credential type, as the server saw it.
kube_ctl POST /_test/reset >/dev/null
cat >"$work/credential" <<SCRIPT
#!/bin/sh
echo run >>"$work/exec-runs"
[ "\$1 \$2" = "--for test" ] || exit 3
case "\$KUBERNETES_EXEC_INFO" in *'"interactive":false'*) ;; *) exit 4 ;; esac
echo '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"token":"tok-exec-51d3","expirationTimestamp":"2999-01-01T00:00:00Z"}}'
SCRIPT
chmod +x "$work/credential"
kubeconfig "$work/kc-cert-files" cert-files
kubeconfig "$work/kc-token-file" token-file
kubeconfig "$work/kc-basic" basic
kubeconfig "$work/kc-exec" "exec:$work/credential"
for kind in cert-files:cert:dmc-client token:bearer:alice token-file:bearer:alice basic:basic:bob exec:bearer:exec-user; do
    IFS=: read -r file auth user <<<"$kind"
    kube_ctl POST /_test/reset >/dev/null
    deploy -t nginx --kubeconfig "$work/kc-$file" >"$work/out" 2>"$work/err" || { cat "$work/err"; fail "deploy with $file"; }
    kube_reqs 'len(r) > 3 and all(x["auth"] == "'"$auth"'" and x["user"] == "'"$user"'" for x in r)' || fail "$file: not all requests as $user ($auth)"
done
[ "$(wc -l <"$work/exec-runs")" = 1 ] || fail "the exec plugin ran $(wc -l <"$work/exec-runs") times for one deploy, not once"
pass "client certificate files, token, token file, basic auth and an exec plugin (run once, cached) authenticate"

# The pod's service account, with no kubeconfig at all (a mount namespace of its own).
printf t-sa >"$work/sa-token"; printf builds >"$work/sa-ns"
kube_ctl POST /_test/reset >/dev/null
unshare_args=(-m); [ "$(id -u)" = 0 ] || unshare_args=(-rm)
HOME=$work/nohome KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT=$KUBE_PORT \
unshare "${unshare_args[@]}" sh -c '
    mount -t tmpfs tmpfs /run && mkdir -p /run/secrets/kubernetes.io/serviceaccount &&
    cp "$1/sa-token" /run/secrets/kubernetes.io/serviceaccount/token &&
    cp "$1/sa-ns" /run/secrets/kubernetes.io/serviceaccount/namespace &&
    cp "$1/pki/ca.pem" /run/secrets/kubernetes.io/serviceaccount/ca.crt &&
    shift && exec "$@"' sh "$work" "$DMC" -a deploy -A amd64 -t nginx >"$work/out" 2>"$work/err" \
    || { cat "$work/err"; fail "deploy in the cluster"; }
[ "$(cat "$work/out")" = "nginx deployed to builds" ] || fail "in the cluster: $(cat "$work/out")"
kube_reqs 'all(x["user"] == "system:serviceaccount:builds:dmc" for x in r)' || fail "not as the service account"
pass "inside a pod: the service account's token, CA and namespace"

# TLS: tls-server-name is what the certificate is checked against; skipping verification warns.
kubeconfig "$work/kc-sni" token "certificate-authority: $KUBE_PKI/ca.pem" "tls-server-name: kubernetes.test"
deploy -t nginx --kubeconfig "$work/kc-sni" >/dev/null 2>&1 || fail "tls-server-name kubernetes.test"
kubeconfig "$work/kc-sni-bad" token "certificate-authority: $KUBE_PKI/ca.pem" "tls-server-name: other.test"
expect_fail 1 'cannot reach the Kubernetes API .*certificate-authority' -- deploy -t nginx --kubeconfig "$work/kc-sni-bad"
kubeconfig "$work/kc-noca" token "insecure-skip-tls-verify: false"
expect_fail 1 'cannot reach the Kubernetes API' -- deploy -t nginx --kubeconfig "$work/kc-noca"
kubeconfig "$work/kc-insecure" token "insecure-skip-tls-verify: true"
deploy -t nginx --kubeconfig "$work/kc-insecure" 2>"$work/err" >/dev/null || fail "insecure-skip-tls-verify"
grep -q 'skips TLS verification' "$work/err" || fail "no warning for insecure-skip-tls-verify"
pass "tls-server-name, a CA file, an unknown CA refused, insecure-skip-tls-verify with a warning"

# proxy-url: every request goes through the proxy's tunnel.
python3 "$DMC_SOURCE_DIR/tests/kube/connect_proxy.py" --port-file "$work/proxy.port" --log "$work/proxy.log" &
_kube_pids+=($!)
for i in $(seq 1 50); do [ -s "$work/proxy.port" ] && break; sleep 0.1; done
kubeconfig "$work/kc-proxy" token "certificate-authority-data: $(b64 "$KUBE_PKI/ca.pem")" "proxy-url: http://127.0.0.1:$(cat "$work/proxy.port")"
deploy -t nginx --kubeconfig "$work/kc-proxy" >/dev/null 2>"$work/err" || { cat "$work/err"; fail "deploy through proxy-url"; }
grep -qx "CONNECT 127.0.0.1:$KUBE_PORT" "$work/proxy.log" || fail "the requests did not go through proxy-url"
pass "proxy-url tunnels the requests"

# create deploys at the end when a cluster is configured, as the original tool did.
kube_ctl POST /_test/reset >/dev/null
KUBECONFIG=$work/kc-cert "$DMC" -t nginx -A amd64 -H "$registry" -N web >"$work/out" 2>"$work/err" \
    || { tail "$work/err"; fail "create with a cluster"; }
grep -q 'nginx.deploy' "$work/err" && grep -qx 'nginx deployed to web' "$work/out" || fail "create did not deploy: $(cat "$work/out")"
kube_reqs 'any(x["method"] == "PATCH" and x["path"] == "/apis/apps/v1/namespaces/web/deployments/nginx" for x in r)' \
    || fail "create did not apply the Deployment"
pass "create builds, pushes and deploys when a cluster is configured"

# KUBECONFIG merged, --context, and a missing context.
kubeconfig "$work/kc-a" token
sed -e 's/current-context: test/current-context: other/' -e 's/^- name: test$/- name: other/' "$work/kc-basic" >"$work/kc-b"
KUBECONFIG=$work/kc-a:$work/kc-b deploy -t nginx >/dev/null 2>&1 || fail "KUBECONFIG with two files"
expect_fail 1 "has no context 'nope' \(contexts: other, test\)" -- env KUBECONFIG="$work/kc-a:$work/kc-b" "$DMC" -a deploy -A amd64 -t nginx --context nope
pass "KUBECONFIG files merge; an unknown --context lists the contexts"

# No credential in any output or log.
for secret in t-alice bob-pw tok-exec-51d3 t-sa "$(b64 "$KUBE_PKI/client.key" | cut -c1-40)"; do
    if grep -rqF -- "$secret" "$LOG_dir" "$work/err" "$work/out" "$work/db.err"; then fail "a credential ($secret) appears in dmc's output or log"; fi
done
pass "no credential appears in dmc's output or log files"
