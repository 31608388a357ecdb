#!/usr/bin/env bash
# The mariadb image from the real trixie archive, amd64 and arm64: built without
# root, no shell but busybox (without applet links); run with runc on an empty
# volume it initialises the data directory from MARIADB_* and serves TCP on 3306
# as mysql (the ids a real install gives); the data survives a restart; bad or missing settings stop it with a
# message; the arm64 mariadbd runs under qemu-user.
set -euo pipefail
source "$DMC_SOURCE_DIR/tests/lib.sh"
source "$DMC_SOURCE_DIR/tests/runtime/lib.sh"
need_root
command -v mariadb >/dev/null || { echo "SKIP: needs the mariadb client (mariadb-client, see scripts/setup)"; exit 77; }

start_work

# Build as an unprivileged user, like the nginx test.
chmod 755 "$work"
mkdir -p "$DMC_CACHEDIR" "$work/images"
chown -R nobody "$work" "$DMC_CACHEDIR"
out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME="$work/home" \
    DMC_CACHEDIR="$DMC_CACHEDIR" DMC_BUILDDIR="$DMC_BUILDDIR" "$DMC" -t mariadb -A amd64,arm64 \
    --imagedir "$work/images" 2>"$work/build.log") || { cat "$work/build.log"; fail "dmc -t mariadb failed"; }
grep -qE '^mariadb .*/images/mariadb:latest sha256:[0-9a-f]{64}$' <<<"$out" || fail "no index digest printed: $out"
layout=$work/images/mariadb
grep -E 'mariadb-(amd64|arm64): ' "$work/build.log" | sed 's/^/    /' || true
pass "built as nobody"

config=$(skopeo inspect --config "oci:$layout:latest-amd64")
python3 - "$config" <<'PY' || fail "image config: $config"
import json, sys
cfg = json.loads(sys.argv[1])["config"]
assert cfg["Entrypoint"] == ["/usr/bin/busybox", "sh", "/usr/local/bin/mariadb-entrypoint"], cfg
assert cfg["Cmd"] == ["mariadbd"], cfg
assert cfg["User"] == "mysql", cfg
assert "3306/tcp" in cfg["ExposedPorts"], cfg
assert "/var/lib/mysql" in cfg["Volumes"], cfg
PY
pass "image config: busybox sh entrypoint, mariadbd, user mysql, 3306/tcp, volume /var/lib/mysql"

# Micro: busybox is the only shell and has no applet links; no other interpreter.
base=$work/base
umoci unpack --image "$layout:latest-amd64" "$base" >/dev/null || fail "umoci unpack"
root=$base/rootfs
for p in /bin/sh /usr/bin/sh /usr/bin/ls /bin/ls /usr/bin/env /usr/sbin/nologin; do
    [ ! -e "$root$p" ] && [ ! -L "$root$p" ] || fail "the image has $p"
done
links=$(find "$root" -type l -lname '*busybox*' -printf '%P\n')
[ -z "$links" ] || fail "busybox applet links in the image: $links"
others=$(find "$root" \( -name sh -o -name bash -o -name dash -o -name 'perl*' -o -name 'python*' \
    -o -name '*awk' -o -name mariadb-install-db \) -printf '%P\n')
[ -z "$others" ] || fail "other shells or interpreters in the image: $others"
[ -x "$root/usr/bin/busybox" ] && [ -x "$root/usr/sbin/mariadbd" ] || fail "no busybox or mariadbd"
grep -q '^bind-address *= *0.0.0.0' "$root/etc/mysql/my.cnf" || fail "my.cnf does not bind 0.0.0.0"
# mysql's ids are those a real install of the same packages gives: mmdebstrap runs
# mariadb-server's maintainer scripts for real, from the mirror of the host's apt sources.
ids=$(awk -F: '$1 == "mysql" {print $3 ":" $4}' "$root/etc/passwd")
[ -n "$ids" ] || fail "no mysql user in the image"
mirror=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list)
mmdebstrap --quiet --variant=essential --include=mariadb-server trixie "$work/real" "$mirror" \
    >"$work/mmdebstrap.log" 2>&1 || fail "mmdebstrap: $(tail -3 "$work/mmdebstrap.log")"
real=$(awk -F: '$1 == "mysql" {print $3 ":" $4}' "$work/real/etc/passwd")
[ "$ids" = "$real" ] || fail "mysql is $ids in the image, $real in a real install"
uid=${ids%:*} gid=${ids#*:}
rm -rf "$work/real"
pass "mysql is $ids, as a real install gives it"
pass "no shell but /usr/bin/busybox, no applet links, no ls ($(du -sk "$root" | cut -f1) KiB)"

ns=dmc-mdb-$$
make_netns "$ns"

# bundle ID VOLUME [NAME=VALUE]...: for a run in the foreground, a copy of the
# unpacked image with VOLUME on /var/lib/mysql and the variables in its environment.
bundle() {
    local id=$1 volume=$2; shift 2
    rm -rf "$work/bundle-$id"
    cp -a "$base" "$work/bundle-$id"
    python3 - "$work/bundle-$id/config.json" "$volume" "$@" <<'PY'
import json, sys
path, volume, env = sys.argv[1], sys.argv[2], sys.argv[3:]
c = json.load(open(path))
c["process"]["terminal"] = False
c["process"]["env"] += env
c["mounts"].append({"destination": "/var/lib/mysql", "type": "bind", "source": volume,
                    "options": ["rbind", "rw"]})
json.dump(c, open(path, "w"))
PY
}
volume() {  # volume NAME: a new empty directory owned by the image's mysql user
    mkdir "$work/$1"
    chown "$uid:$gid" "$work/$1"
    echo "$work/$1"
}
# start ID VOLUME [NAME=VALUE]...: runs the image detached in the namespace.
start() {
    local id=$1 volume=$2; shift 2
    run_image "$layout:latest-amd64" "$id" "$ns" "$volume:/var/lib/mysql" "$@"
}
# foreground ID VOLUME [NAME=VALUE]...: runs the image until it exits by itself
# (60 s at most); its status goes to $rc, its output to $work/ID.log.
foreground() {
    local id=$1
    shift
    bundle "$id" "$@"
    _containers+=("$id")
    rc=0
    timeout 60 runc run --bundle "$work/bundle-$id" "$id" >"$work/$id.log" 2>&1 </dev/null || rc=$?
    runc delete -f "$id" >/dev/null 2>&1 || true
    [ "$rc" != 124 ] || { cat "$work/$id.log"; fail "$id does not stop by itself"; }
}
# refused ID PATTERN VOLUME [NAME=VALUE]...: the container must stop with a
# non-zero status and PATTERN in its output, and leave VOLUME empty.
refused() {
    local id=$1 pattern=$2 volume=$3
    shift 2
    foreground "$id" "$@"
    [ "$rc" != 0 ] || { cat "$work/$id.log"; fail "$id: exit status 0"; }
    grep -qE -- "$pattern" "$work/$id.log" || { cat "$work/$id.log"; fail "$id does not say /$pattern/"; }
    [ -z "$(ls -A "$volume")" ] || fail "$id wrote to its volume: $(ls -A "$volume")"
}
# sql USER PASSWORD STATEMENTS [DB]: runs the statements over TCP from the namespace.
sql() {
    ip netns exec "$ns" mariadb --protocol=tcp -h 127.0.0.1 -P 3306 -u "$1" -p"$2" -N -B -e "$3" ${4:+"$4"}
}
ready() {  # ready ID USER PASSWORD: waits up to 90 s for the server to accept USER
    local i
    for i in $(seq 1 180); do
        sql "$2" "$3" 'SELECT 1' >/dev/null 2>&1 && return 0
        [ "$(container_status "$1")" = running ] || { cat "$work/$1.log"; fail "$1 stopped"; }
        sleep 0.5
    done
    cat "$work/$1.log"
    fail "$1 does not accept $2 over TCP"
}
stop() {  # stop ID: SIGTERM, as a container engine would, and a clean shutdown
    stop_image "$1" TERM || fail "$1 ignores SIGTERM"
    grep -q 'Shutdown complete' "$work/$1.log" || { cat "$work/$1.log"; fail "$1 did not shut down cleanly"; }
}

# Bad or missing settings: a message, a non-zero exit, nothing written.
refused mdb-nopw-$$ 'no root password option is set: set MARIADB_ROOT_PASSWORD' "$(volume v-nopw)"
refused mdb-flag-$$ "MARIADB_RANDOM_ROOT_PASSWORD='maybe' is not a yes/no value" "$(volume v-flag)" \
    MARIADB_RANDOM_ROOT_PASSWORD=maybe
refused mdb-user-$$ 'MARIADB_USER=app is set without MARIADB_PASSWORD' "$(volume v-user)" \
    MARIADB_ROOT_PASSWORD=x MARIADB_USER=app
refused mdb-two-$$ 'set only one of MARIADB_ROOT_PASSWORD, MARIADB_RANDOM_ROOT_PASSWORD' "$(volume v-two)" \
    MARIADB_ROOT_PASSWORD=x MARIADB_RANDOM_ROOT_PASSWORD=1
mkdir -m 755 "$work/v-root"
refused mdb-owner-$$ "data directory /var/lib/mysql is not writable by uid $uid" "$work/v-root" \
    MARIADB_ROOT_PASSWORD=x
# A failed initialisation says so, and so does the next start on that volume.
failed=$(volume v-failed)
foreground mdb-fail1-$$ "$failed" MARIADB_ROOT_PASSWORD=x MARIADB_DATABASE='trailing space '
[ "$rc" != 0 ] && grep -q 'mariadbd --bootstrap failed to initialise /var/lib/mysql' "$work/mdb-fail1-$$.log" \
    && grep -q 'Incorrect database name' "$work/mdb-fail1-$$.log" || { cat "$work/mdb-fail1-$$.log"; fail "a failed initialisation"; }
foreground mdb-fail2-$$ "$failed" MARIADB_ROOT_PASSWORD=x
[ "$rc" != 0 ] && grep -q 'the initialisation of /var/lib/mysql did not finish' "$work/mdb-fail2-$$.log" \
    || { cat "$work/mdb-fail2-$$.log"; fail "a start after a failed initialisation"; }
pass "refuses to start, with a message, without a root password option, on a bad yes/no value, a user without a password, two root options, a volume it cannot write, after a failed initialisation"

# First start on an empty volume: initialised from the environment, TCP on 3306.
rootpw='r00t pw'
apppw="it's a \\ \"secret\"; \$HOME"
data=$(volume data)
c1=mdb-1-$$
start "$c1" "$data" MARIADB_ROOT_PASSWORD="$rootpw" MARIADB_DATABASE=shop MARIADB_USER=app MARIADB_PASSWORD="$apppw"
ready "$c1" root "$rootpw"
grep -q 'initialising /var/lib/mysql' "$work/$c1.log" || fail "no initialisation message"
[ "$(stat -c %u "$data/mysql")" = "$uid" ] || fail "the data is not owned by $uid"
pass "initialises the empty volume and accepts root over TCP"

sql root "$rootpw" 'CREATE DATABASE kept; CREATE TABLE kept.t (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO kept.t VALUES (1, "survives")'
[ "$(sql root "$rootpw" 'SELECT v FROM kept.t WHERE id = 1')" = survives ] || fail "root cannot read the row back"
pass "root creates a table, inserts a row and reads it back"

err=$(sql root wrong 'SELECT 1' 2>&1) && fail "a wrong root password is accepted"
grep -q 'Access denied' <<<"$err" || fail "a wrong password: $err"
err=$(sql app "${apppw}x" 'SELECT 1' 2>&1) && fail "a wrong user password is accepted"
pass "a wrong password is refused"

sql app "$apppw" 'CREATE TABLE items (n INT); INSERT INTO items VALUES (42)' shop
[ "$(sql app "$apppw" 'SELECT n FROM items' shop)" = 42 ] || fail "app cannot use shop"
err=$(sql app "$apppw" 'SELECT COUNT(*) FROM mysql.global_priv' 2>&1) && fail "app reads mysql.global_priv"
grep -q 'denied' <<<"$err" || fail "app on mysql: $err"
users=$(sql root "$rootpw" "SELECT CONCAT(User, '@', Host) FROM mysql.user WHERE User IN ('root', 'app', '') ORDER BY 1" | tr '\n' ' ')
[ "$users" = "app@% root@% root@localhost " ] || fail "accounts: $users"
pass "MARIADB_DATABASE, MARIADB_USER and MARIADB_PASSWORD (with quotes and a backslash) work; accounts: $users"

pid=$(runc state "$c1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
[ "$(cat /proc/$pid/comm)" = mariadbd ] || fail "PID 1 is $(cat /proc/$pid/comm), not mariadbd"
[ "$(stat -c %u /proc/$pid)" = "$uid" ] || fail "mariadbd does not run as $uid"
! tr '\0' '\n' </proc/$pid/environ | grep -q PASSWORD= || fail "the passwords are in mariadbd's environment"
pass "mariadbd is the container's PID 1, uid $uid, without the passwords in its environment"

# Restart on the same volume, without any variable: the data is still there.
stop "$c1"
c2=mdb-2-$$
start "$c2" "$data"
ready "$c2" root "$rootpw"
[ "$(sql root "$rootpw" 'SELECT v FROM kept.t WHERE id = 1')" = survives ] || fail "the row is gone after a restart"
[ "$(sql app "$apppw" 'SELECT n FROM items' shop)" = 42 ] || fail "app's row is gone after a restart"
! grep -q initialising "$work/$c2.log" || fail "initialised again"
stop "$c2"
pass "after a restart on the same volume the rows are still there"

# A random root password, printed once; options as arguments go to mariadbd.
c3=mdb-3-$$
start "$c3" "$(volume random)" MARIADB_RANDOM_ROOT_PASSWORD=yes -- \
    /usr/bin/busybox sh /usr/local/bin/mariadb-entrypoint --max-connections=77
for i in $(seq 1 120); do grep -q 'GENERATED ROOT PASSWORD: ' "$work/$c3.log" && break; sleep 0.5; done
random=$(sed -n 's/.*GENERATED ROOT PASSWORD: \([A-Za-z0-9]*\)$/\1/p' "$work/$c3.log")
[ ${#random} = 32 ] || { cat "$work/$c3.log"; fail "no generated password"; }
ready "$c3" root "$random"
[ "$(sql root "$random" 'SELECT @@max_connections')" = 77 ] || fail "--max-connections=77 did not reach mariadbd"
stop "$c3"
pass "MARIADB_RANDOM_ROOT_PASSWORD=yes prints a password that works; options reach mariadbd"

# Started as root (with Docker's default capabilities) on a root-owned volume:
# the volume is handed to mysql and mariadbd still runs as mysql.
c4=mdb-4-$$
mkdir -m 755 "$work/rootvol"
cp -a "$base" "$work/bundle-$c4"
python3 - "$work/bundle-$c4/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["user"] = {"uid": 0, "gid": 0}
caps = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SYS_CHROOT",
        "CAP_MKNOD", "CAP_AUDIT_WRITE", "CAP_SETFCAP"]
for kind in c["process"]["capabilities"]:
    c["process"]["capabilities"][kind] = caps
json.dump(c, open(sys.argv[1], "w"))
PY
start "$c4" "$work/rootvol" MARIADB_ROOT_PASSWORD=rootpw
ready "$c4" root rootpw
pid=$(runc state "$c4" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
[ "$(stat -c %u /proc/$pid)" = "$uid" ] || fail "started as root, mariadbd runs as $(stat -c %u /proc/$pid)"
notmysql=$(find "$work/rootvol" \! -user "$uid" -printf '%P\n')
[ -z "$notmysql" ] || fail "started as root, files not owned by $uid: $notmysql"
stop "$c4"
pass "started as root: the volume is given to $uid and mariadbd runs as $uid"

# arm64: the closure is complete, mariadbd and busybox run under qemu-user.
umoci unpack --image "$layout:latest-arm64" "$work/arm64" >/dev/null || fail "umoci unpack arm64"
arm=$work/arm64/rootfs
readelf -h "$arm/usr/sbin/mariadbd" | grep -q AArch64 || fail "not an arm64 mariadbd"
version=$(qemu-aarch64-static -L "$arm" "$arm/usr/sbin/mariadbd" --version 2>&1) || fail "arm64 mariadbd: $version"
grep -q 'Ver 11\.8\.' <<<"$version" || fail "arm64 mariadbd says: $version"
bb=$(qemu-aarch64-static "$arm/usr/bin/busybox" sh -c 'echo ok' 2>&1) && [ "$bb" = ok ] || fail "arm64 busybox: $bb"
pass "arm64 mariadbd runs under qemu: $version"
