#!/usr/bin/env bash
# The adminer image (php-fpm + nginx + Adminer in one layer) next to the mariadb
# image, both built from the real trixie archive and run with runc in one network
# namespace, like two containers of a pod: Adminer's login form, then a login
# with the MariaDB credentials that lists the server's databases.
set -euo pipefail
source "$DMC_SOURCE_DIR/tests/lib.sh"
source "$DMC_SOURCE_DIR/tests/runtime/lib.sh"
need_root

start_work

list=$("$DMC" -g core,base,app -A amd64,arm64 -l)
order=$(grep -oE '^ *[0-9]+ [a-z]+\.index' <<<"$list" | awk '{print $2}' | tr '\n' ' ')
[ "$order" = "nginx.index php.index mariadb.index adminer.index " ] || fail "group order: $order"
out=$("$DMC" -t mariadb,adminer -A amd64,arm64 --imagedir "$work/images" 2>"$work/build.log") \
    || { cat "$work/build.log"; fail "dmc -t mariadb,adminer failed"; }
pass "built: $(tr '\n' ' ' <<<"$out")"

root=$work/bundle-adminer-$$/rootfs
umoci unpack --image "$work/images/adminer:latest-amd64" "$work/bundle-adminer-$$" >/dev/null || fail "umoci unpack"
[ -x "$root/usr/sbin/nginx" ] && [ -x "$root/usr/sbin/php-fpm8.4" ] && [ -f "$root/usr/share/adminer/adminer.php" ] \
    || fail "the adminer image lacks nginx, php-fpm or adminer"
[ ! -e "$root/usr/bin/sh" ] && [ ! -e "$root/usr/bin/ls" ] || fail "the adminer image has a shell or ls"
layers=$(skopeo inspect --config "oci:$work/images/adminer:latest-amd64" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["rootfs"]["diff_ids"]))')
[ "$layers" = 1 ] || fail "adminer has $layers layers"
ports=$(skopeo inspect --config "oci:$work/images/adminer:latest-amd64" | python3 -c 'import json,sys; print(" ".join(sorted(json.load(sys.stdin)["config"]["ExposedPorts"])))')
[ "$ports" = 8080/tcp ] || fail "adminer publishes $ports, not only 8080/tcp"
grep -q '^listen = 127.0.0.1:9000$' "$root/etc/php/8.4/fpm/pool.d/www.conf" || fail "php-fpm is not limited to loopback"
pass "one image, one layer: nginx, php-fpm and Adminer, no shell"

# Its file manifest names the template of the three that wrote each file last.
python3 - "$root/var/lib/dmc/manifest" <<'PY' || fail "the adminer image's manifest misnames who wrote its files"
import json, sys
by = {l["path"]: l.get("package") or l["written_by"] for l in map(json.loads, open(sys.argv[1]))}
assert by["/etc/nginx/nginx.conf"] == "template nginx", by["/etc/nginx/nginx.conf"]
assert by["/etc/php/8.4/fpm/php-fpm.conf"] == "template php", by["/etc/php/8.4/fpm/php-fpm.conf"]
assert by["/etc/nginx/sites-available/default"] == "template adminer", by["/etc/nginx/sites-available/default"]
assert by["/usr/sbin/nginx"] == "nginx" and by["/usr/sbin/php-fpm8.4"] == "php8.4-fpm", by["/usr/sbin/php-fpm8.4"]
PY
pass "/var/lib/dmc/manifest says which of nginx, php and adminer wrote each file"

ns=dmc-pod-$$
make_netns "$ns"
mkdir -p "$work/data"
chown "$(user_ids "$work/images/mariadb" latest-amd64 mysql)" "$work/data"
run_image "$work/images/mariadb:latest-amd64" "dmc-mariadb-$$" "$ns" "$work/data:/var/lib/mysql" \
    MARIADB_ROOT_PASSWORD=adminer-test-pw
run_image "$work/images/adminer:latest-amd64" "dmc-adminer-$$" "$ns"
wait_for "$ns" mariadb -h 127.0.0.1 -P 3306 -u root -padminer-test-pw -e 'SELECT 1' \
    || { cat "$work/dmc-mariadb-$$.log"; fail "mariadb does not answer"; }
wait_for "$ns" curl -sf http://127.0.0.1:8080/ || { cat "$work/dmc-adminer-$$.log"; fail "adminer does not answer"; }

jar=$work/cookies
page=$(ip netns exec "$ns" curl -s -c "$jar" -b "$jar" http://127.0.0.1:8080/)
grep -q '<title>Login - Adminer</title>' <<<"$page" || fail "no login page: ${page:0:300}"
grep -q "name='auth\[username\]'" <<<"$page" || grep -q 'name="auth\[username\]"' <<<"$page" || fail "no login form"
pass "GET / shows Adminer's login form"

after=$(ip netns exec "$ns" curl -s -L -c "$jar" -b "$jar" \
    --data-urlencode 'auth[driver]=server' --data-urlencode 'auth[server]=127.0.0.1' \
    --data-urlencode 'auth[username]=root' --data-urlencode 'auth[password]=adminer-test-pw' \
    --data-urlencode 'auth[db]=' http://127.0.0.1:8080/)
grep -q 'information_schema' <<<"$after" && grep -q 'performance_schema' <<<"$after" \
    || fail "the login did not list the databases: $(grep -o '<p class=.error.>[^<]*' <<<"$after" | head -3) ${after:0:300}"
grep -qi 'logout' <<<"$after" || fail "not logged in"
pass "a login with the MariaDB credentials lists the server's databases"

bad=$(ip netns exec "$ns" curl -s -L -c "$work/jar2" -b "$work/jar2" \
    --data-urlencode 'auth[driver]=server' --data-urlencode 'auth[server]=127.0.0.1' \
    --data-urlencode 'auth[username]=root' --data-urlencode 'auth[password]=wrong' http://127.0.0.1:8080/)
grep -q 'information_schema' <<<"$bad" && fail "a wrong password logged in"
pass "a wrong password does not log in"

# The supervisor stops both servers on SIGTERM, gracefully.
stop_image "dmc-adminer-$$" TERM || fail "adminer did not stop on SIGTERM"
grep -q 'exiting, bye-bye' "$work/dmc-adminer-$$.log" || fail "php-fpm was not stopped gracefully"
# One role per container, as two containers of a pod would run it.
run_image "$work/images/adminer:latest-amd64" "dmc-adminer-$$" "$ns" -- /usr/bin/php8.4 /usr/local/lib/dmc/supervisor.php bogus
sleep 1
grep -q "unknown role 'bogus'; use all, nginx or php-fpm" "$work/dmc-adminer-$$.log" || fail "a bad role is not explained"
pass "stops on SIGTERM; a bad role is explained"

umoci unpack --image "$work/images/adminer:latest-arm64" "$work/arm64" >/dev/null || fail "umoci unpack arm64"
for bin in /usr/sbin/nginx /usr/sbin/php-fpm8.4 /usr/bin/php8.4; do
    v=$(qemu-aarch64-static -L "$work/arm64/rootfs" "$work/arm64/rootfs$bin" -v 2>&1) || fail "arm64 $bin: $v"
done
pass "arm64 nginx, php-fpm and php run under qemu"
