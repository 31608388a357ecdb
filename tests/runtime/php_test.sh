#!/usr/bin/env bash
# The php image from the real trixie archive: php-fpm answers FastCGI on port 9000
# with the output of a script mounted into the container, with the extensions
# loaded; the arm64 php runs under qemu-user; no shell.
set -euo pipefail
source "$DMC_SOURCE_DIR/tests/lib.sh"
source "$DMC_SOURCE_DIR/tests/runtime/lib.sh"
need_root

start_work

out=$("$DMC" -t php -A amd64,arm64 --imagedir "$work/images" 2>"$work/build.log") \
    || { cat "$work/build.log"; fail "dmc -t php failed"; }
layout=$work/images/php
pass "built: $out"

umoci unpack --image "$layout:latest-amd64" "$work/bundle-php-$$" >/dev/null || fail "umoci unpack"
root=$work/bundle-php-$$/rootfs
[ ! -e "$root/usr/bin/sh" ] && [ ! -e "$root/usr/bin/ls" ] || fail "the php image has a shell or ls"
[ "$(readlink "$root/usr/bin/php")" = php8.4 ] || fail "no php alternatives link"
ls "$root/etc/php/8.4/fpm/conf.d/" | grep -q '^20-mysqli.ini$' || fail "mysqli is not enabled like phpenmod does"
ls "$root/etc/php/8.4/fpm/conf.d/" | grep -q '^10-opcache.ini$' || fail "opcache is not enabled with its priority"

mkdir -p "$work/www"
cat >"$work/www/test.php" <<'PHP'
<?php
$want = ['mysqli', 'pdo_mysql', 'Zend OPcache', 'mbstring', 'xml', 'ctype', 'session', 'json',
         'curl', 'gd', 'zip', 'intl'];
$missing = array_values(array_filter($want, fn($e) => !extension_loaded($e)));
echo "hello from php ", PHP_VERSION, "\n";
echo "mysqli:", function_exists('mysqli_connect') ? "yes" : "no", "\n";
echo "missing:", implode(",", $missing), "\n";
echo "user:", posix_getpwuid(posix_geteuid())['name'], "\n";
echo "tz:", date_default_timezone_get(), " ", (new DateTime('2024-07-01', new DateTimeZone('Europe/Paris')))->format('T'), "\n";
PHP
chmod -R a+rX "$work/www"
ns=dmc-php-$$
make_netns "$ns"
run_image "$layout:latest-amd64" "dmc-php-$$" "$ns" "$work/www:/var/www/html:ro"
fcgi() {
    ip netns exec "$ns" env SCRIPT_FILENAME=/var/www/html/test.php REQUEST_METHOD=GET \
        SCRIPT_NAME=/test.php QUERY_STRING= cgi-fcgi -bind -connect 127.0.0.1:9000
}
wait_for "$ns" bash -c 'SCRIPT_FILENAME=/var/www/html/test.php REQUEST_METHOD=GET cgi-fcgi -bind -connect 127.0.0.1:9000' \
    || { cat "$work/dmc-php-$$.log"; fail "php-fpm does not answer FastCGI"; }
reply=$(fcgi)
grep -q '^hello from php 8\.4' <<<"$reply" || fail "no script output: $reply"
grep -q '^mysqli:yes' <<<"$reply" || fail "mysqli not loaded: $reply"
grep -q '^missing:$' <<<"$reply" || fail "extensions missing: $reply"
grep -q '^user:www-data' <<<"$reply" || fail "php-fpm does not run as www-data: $reply"
grep -q '^tz:UTC CEST' <<<"$reply" || fail "no timezone data: $reply"
pass "FastCGI answers with the script's output, every extension loaded"

# The php command-line binary works inside the image too.
cli=$(chroot "$root" /usr/bin/php -r 'echo extension_loaded("intl") ? "intl\n" : "none\n";' 2>&1) || fail "php cli: $cli"
[ "$cli" = intl ] || fail "php cli: $cli"
pass "php cli"

umoci unpack --image "$layout:latest-arm64" "$work/arm64" >/dev/null || fail "umoci unpack arm64"
version=$(qemu-aarch64-static -L "$work/arm64/rootfs" "$work/arm64/rootfs/usr/sbin/php-fpm8.4" -v 2>&1) || fail "arm64 php-fpm: $version"
grep -q '^PHP 8\.4' <<<"$version" || fail "arm64 php-fpm says: $version"
modules=$(qemu-aarch64-static -L "$work/arm64/rootfs" "$work/arm64/rootfs/usr/bin/php8.4" -m 2>&1) || fail "arm64 php -m: $modules"
grep -q '^mysqli$' <<<"$modules" || fail "arm64 php lacks mysqli: $modules"
pass "arm64 php-fpm and its extensions load under qemu"
