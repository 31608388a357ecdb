#!/usr/bin/env bash
# The Kubernetes objects of each template, checked for real. The manifests that
# --print writes validate against the Kubernetes OpenAPI schema (the npm package
# kubernetes-models, not part of dmc) and name the digests the registry holds, and
# every container runs as the kubelet would run it: the numeric user of its
# securityContext, a read-only root filesystem with only the declared emptyDirs
# writable, no capabilities, no new privileges, its ConfigMap files mounted. Each
# service is then probed: HTTP from nginx, PHP through FastCGI, SQL from MariaDB
# with the passwords of its Secret, Adminer's login page and a login.
set -euo pipefail
. "$DMC_SOURCE_DIR/tests/lib.sh"
. "$DMC_SOURCE_DIR/tests/runtime/lib.sh"
. "$DMC_SOURCE_DIR/tests/kube/lib.sh"
need_root
start_work_with_registry
registry=127.0.0.1:$REG_PORT
templates=nginx,php,mariadb,adminer

"$DMC" -t "$templates" -A amd64 -H "$registry" >"$work/build.out" 2>"$work/build.err" \
    || { tail -20 "$work/build.err"; fail "building and pushing $templates"; }
grep -q '\.deploy' "$work/build.err" && fail "create deployed although no cluster is configured"
mkdir -p "$work/manifests/nginx" && echo stale >"$work/manifests/nginx/09-deployment-gone.yaml"
"$DMC" -a deploy -t "$templates" -A amd64 -N web --print "$work/manifests" 2>"$work/print.err" \
    || { cat "$work/print.err"; fail "--print DIR"; }
[ -e "$work/manifests/nginx/09-deployment-gone.yaml" ] && fail "--print DIR left a stale manifest"
count=$(find "$work/manifests" -name '*.yaml' | wc -l)
"$DMC" -a deploy -t "$templates" -A amd64 -N web --print >"$work/all.yaml" 2>"$work/print.err" \
    || { cat "$work/print.err"; fail "--print"; }
[ "$count" = "$(grep -c '^---$' "$work/all.yaml")" ] \
    || fail "--print DIR and --print disagree on the number of objects"
grep -q 'password' "$work/all.yaml" && ! grep -q 'kubectl create secret generic mariadb-credentials' "$work/all.yaml" \
    && fail "a Secret's value was printed"
grep -q '^kind: Secret' "$work/all.yaml" && fail "the generated Secret was printed"
pass "--print writes $count manifests, one file each in DIR/<template>/ (replaced whole), and no Secret value"

# Validated by kubernetes-models, installed once per build tree.
validate_manifests "$work/validate.out" "$work/manifests" "$work/all.yaml" || { cat "$work/validate.out"; fail "manifests do not validate"; }
pass "$(tail -1 "$work/validate.out") against the Kubernetes schema (kubernetes-models)"
# The same check refuses a broken object, so it is no rubber stamp.
sed 's/containerPort: 8080/containerPort: "8080"/' "$work/manifests/nginx/02-deployment-nginx.yaml" >"$work/broken.yaml"
validate_manifests /dev/null "$work/broken.yaml" && fail "the validator accepted a string port"

for t in nginx php mariadb adminer; do
    digest=sha256:$(skopeo inspect --tls-verify=false --raw "docker://$registry/$t:latest" | sha256sum | cut -d' ' -f1)
    images=$(grep -h 'image: ' "$work"/manifests/"$t"/*-"$t".yaml | sort -u | awk '{print $2}')
    [ "$images" = "$registry/$t@$digest" ] || fail "$t's manifests name '$images', not the pushed $registry/$t@$digest"
done
pass "every workload names its image by the digest the registry holds"

grep -q "runAsUser: 33" "$work"/manifests/nginx/*-deployment-nginx.yaml || fail "nginx does not run as www-data's number"
mysql_uid=$(user_ids "$IMAGEDIR/mariadb" latest-amd64 mysql | cut -d: -f1)
[ -n "$mysql_uid" ] || fail "the mariadb image has no mysql user"
grep -q "runAsUser: $mysql_uid\$" "$work"/manifests/mariadb/*-statefulset-mariadb.yaml || fail "mariadb does not run as mysql's number"

# nginx
make_netns "dmc-sc-nginx-$$"
run_pod_container "$work/manifests" nginx nginx "$IMAGEDIR/nginx" latest-amd64 "dmc-sc-nginx-$$" "dmc-sc-nginx-$$"
wait_for "dmc-sc-nginx-$$" curl -sf http://127.0.0.1:8080/ || { cat "$work/dmc-sc-nginx-$$.log"; fail "nginx does not answer under its securityContext"; }
ip netns exec "dmc-sc-nginx-$$" curl -s http://127.0.0.1:8080/ | grep -q 'Welcome to nginx' || fail "nginx serves no default page"
pass "nginx answers as uid 33 with a read-only root and emptyDirs for /tmp and /var/lib/nginx"

# php-fpm, with a script mounted read-only
mkdir -p "$work/www"
echo '<?php echo "uid=", posix_getuid(), " sapi=", PHP_SAPI, "\n"; file_put_contents("/usr/x", "x") or print("root is read-only\n");' >"$work/www/test.php"
make_netns "dmc-sc-php-$$"
run_pod_container "$work/manifests" php php-fpm "$IMAGEDIR/php" latest-amd64 "dmc-sc-php-$$" "dmc-sc-php-$$" \
    --bind "$work/www:/var/www/html"
fcgi() { ip netns exec "dmc-sc-php-$$" env SCRIPT_FILENAME=/var/www/html/test.php REQUEST_METHOD=GET \
    SCRIPT_NAME=/test.php QUERY_STRING= cgi-fcgi -bind -connect 127.0.0.1:9000; }
wait_for "dmc-sc-php-$$" true
for i in $(seq 1 40); do out=$(fcgi 2>/dev/null || true); grep -q 'uid=' <<<"$out" && break; sleep 0.5; done
grep -q 'uid=33 sapi=fpm-fcgi' <<<"$out" || { cat "$work/dmc-sc-php-$$.log"; fail "php-fpm: ${out:0:300}"; }
grep -q 'root is read-only' <<<"$out" || fail "php-fpm could write to the root filesystem"
pass "php-fpm runs PHP through FastCGI as uid 33 and cannot write to its root filesystem"

# mariadb with the Secret's passwords, and adminer's two containers in the same pod network
ns=dmc-sc-db-$$
make_netns "$ns"
run_pod_container "$work/manifests" mariadb mariadb "$IMAGEDIR/mariadb" latest-amd64 "dmc-sc-db-$$" "$ns" \
    --secret mariadb-credentials/root-password=root-pw-1 --secret mariadb-credentials/password=app-pw-2 \
    --claim "data=$work/data"
wait_for "$ns" mariadb -h 127.0.0.1 -P 3306 -u app -papp-pw-2 app -e 'SELECT 1' \
    || { cat "$work/dmc-sc-db-$$.log"; fail "mariadb does not answer under its securityContext"; }
got=$(ip netns exec "$ns" mariadb -h 127.0.0.1 -u app -papp-pw-2 app -N -e \
    'CREATE TABLE t (v VARCHAR(9)); INSERT INTO t VALUES ("stored"); SELECT v FROM t')
[ "$got" = stored ] || fail "mariadb: $got"
ip netns exec "$ns" mariadb -h 127.0.0.1 -u root -proot-pw-1 -N -e 'SELECT 1' >/dev/null || fail "root's password from the Secret"
[ "$(stat -c %u "$work/data/mysql")" = "$mysql_uid" ] || fail "the data is not mysql's"
pass "mariadb as uid $mysql_uid keeps its data on the claim; the Secret's passwords log in"

run_pod_container "$work/manifests" adminer php-fpm "$IMAGEDIR/adminer" latest-amd64 "dmc-sc-afpm-$$" "$ns"
run_pod_container "$work/manifests" adminer nginx "$IMAGEDIR/adminer" latest-amd64 "dmc-sc-aweb-$$" "$ns"
wait_for "$ns" curl -sf http://127.0.0.1:8080/ || { cat "$work/dmc-sc-aweb-$$.log" "$work/dmc-sc-afpm-$$.log"; fail "adminer does not answer"; }
jar=$work/cookies
page=$(ip netns exec "$ns" curl -s -c "$jar" -b "$jar" http://127.0.0.1:8080/)
grep -q '<title>Login - Adminer</title>' <<<"$page" || fail "no login page: ${page:0:300}"
after=$(ip netns exec "$ns" curl -s -L -c "$jar" -b "$jar" \
    --data-urlencode 'auth[driver]=server' --data-urlencode 'auth[server]=127.0.0.1' \
    --data-urlencode 'auth[username]=app' --data-urlencode 'auth[password]=app-pw-2' \
    --data-urlencode 'auth[db]=' http://127.0.0.1:8080/)
grep -q 'information_schema' <<<"$after" || fail "the login did not list the databases: ${after:0:300}"
pass "adminer's nginx and php-fpm containers serve the login page and log in, each under its securityContext"
