#!/usr/bin/env bash
# Input that tries to escape its directory or to make dmc hang, from every source a
# hostile or careless user controls: options, environment, config file, plugin
# directories, a mirror that never answers, an index with a runaway chain.
set -euo pipefail
source "$DMC_SOURCE_DIR/tests/lib.sh"
source "$DMC_SOURCE_DIR/tests/integration/make_archive.sh"
for tool in python3 gpg apt-ftparchive xz; do
    command -v "$tool" >/dev/null || { echo "skipped: $tool is not installed"; exit 77; }
done

work=$(mktemp -d)
server_pid=
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    stop_keys "$work/key"
    rm -rf "$work" "/tmp/dmc-escape-$$"
}
trap cleanup EXIT
unset DMC_CONFIG DMC_PLUGIN_PATH DMC_ARCHS DMC_DIST DMC_MIRROR DMC_HOST DMC_IMAGEDIR IMAGEDIR \
    DMC_ROOTFSDIR DMC_BUILDDIR DMC_SOURCEDIR DMC_RETRIES SOURCE_DATE_EPOCH OUT_level LOG_level LOG_dir || true
export HOME=$work/home DMC_CACHEDIR=$work/cache
mkdir -p "$HOME" "$work/run"
cd "$work/run"

# --- 1. values that become paths ---------------------------------------------------
touch "$work/marker"
sleep 1
expect_fail 2 "option -D='/tmp/dmc-escape-$$' must be a suite name" -- "$DMC" -D "/tmp/dmc-escape-$$" -t nginx -A amd64 -o 1
expect_fail 2 "option -D='../../x' must be a suite name" -- "$DMC" -D ../../x -t nginx -A amd64 -o 1
expect_fail 2 "DMC_DIST='../x' must be a suite name" -- env DMC_DIST=../x "$DMC" -t nginx -A amd64 -o 1
printf 'dist: ../../x\n' >"$work/dist.yaml"
expect_fail 1 "dist.yaml:1: key 'dist' must be a suite name .*, not '../../x'" -- "$DMC" --config "$work/dist.yaml" -t nginx -o 1
printf 'archs: [amd64, ../up]\n' >"$work/arch.yaml"
expect_fail 1 "arch.yaml:1: key 'archs' must be an architecture name" -- "$DMC" --config "$work/arch.yaml" -t nginx -o 1
printf 'tag: ../../latest\n' >"$work/tag.yaml"
expect_fail 1 "tag.yaml:1: key 'tag' must be an image tag" -- "$DMC" --config "$work/tag.yaml" -t nginx -l
printf 'templates:\n  ../nginx:\n    x: y\n' >"$work/tmpl.yaml"
expect_fail 1 "tmpl.yaml:3: key 'templates.../nginx' is not a template name" -- "$DMC" --config "$work/tmpl.yaml" -l
# A control character never reaches a log line: refused, shown escaped.
expect_fail 2 "option -D='tri\\\\nxie' must be a value without control characters" -- "$DMC" -D "$(printf 'tri\nxie')" -l
expect_fail 2 "DMC_NAMESPACE='a\\\\x1b\[2Jb' must be" -- env DMC_NAMESPACE="$(printf 'a\033[2Jb')" "$DMC" -l
# The registry's namespace becomes repository names: checked before any task runs.
expect_fail 1 "registry '127.0.0.1:5000/../team' has a namespace that is not a valid repository path" \
    -- "$DMC" -H 127.0.0.1:5000/../team -t nginx -A amd64 -l
# Whatever is echoed back reaches the terminal escaped: no raw escape sequence.
err=$("$DMC" -t "$(printf 'ng\033[2Jinx')" -l 2>&1) && fail "an unknown template was accepted"
grep -q "unknown template 'ng\\\\x1b\[2Jinx'" <<<"$err" || fail "the template name was not shown escaped: $err"
if grep -q "$(printf '\033')" <<<"$err"; then fail "an escape character reached the console"; fi
# A plugin's template name is checked the same way.
out=$("$DMC" --plugin-dir "$DMC_TEST_PLUGINS/hostile" -t nginx -A amd64 -l 2>&1)
grep -q "escaping_name.so refused: its template name '../escaped' is not valid" <<<"$out" || fail "plugin name: $out"
# The real thing still writes where it should: prepare of nginx lands in the build directory.
"$DMC" -t nginx -A amd64 -o 1 2>/dev/null
[ -f "$work/cache/build/trixie/amd64/nginx/prepare.json" ] || fail "prepare.json is not in the build directory"
# Nothing was written outside the test's directories.
[ ! -e "/tmp/dmc-escape-$$" ] || fail "-D wrote to /tmp/dmc-escape-$$"
outside=$(find "$work" -mindepth 1 -newer "$work/marker" ! -path "$work/cache*" ! -path "$work/home*" ! -path "$work/run" \
    ! -name '*.yaml' -print)
[ -z "$outside" ] || fail "written outside the cache: $outside"
[ -z "$(ls -A "$work/run")" ] || fail "written in the working directory: $(ls -A "$work/run")"
pass "names that would escape are refused from options, environment, config and plugins"

# --- 2. a mirror that accepts and never answers ------------------------------------
port_file=$work/port
python3 - "$port_file" <<'PY' &
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(64)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
held = []
s.settimeout(1)
deadline = time.time() + 120
while time.time() < deadline:
    try:
        c, _ = s.accept()
        held.append(c)   # never answered
        open(sys.argv[1] + ".conns", "a").write("x\n")
    except socket.timeout:
        pass
PY
server_pid=$!
for _ in $(seq 50); do [ -f "$port_file" ] && break; sleep 0.1; done
port=$(cat "$port_file")
start=$(date +%s.%N)
err=$(DMC_STALL_TIMEOUT=2 DMC_RETRY_TIME=4 "$DMC" -M "http://127.0.0.1:$port/debian" -a setup -A amd64 2>&1) && fail "a stalled mirror was accepted"
took=$(python3 -c "import sys; print(round($(date +%s.%N) - $start, 1))")
echo "stalled mirror: error after $took s"
python3 -c "import sys; sys.exit(0 if $took < 10 else 1)" || fail "a stalled mirror took $took s"
grep -q "NOTICE .*waiting for http://127.0.0.1:$port: nothing received for 1 s (giving up after 2 s)" <<<"$err" || fail "no stall notice: $err"
[ "$(grep -c 'waiting for' <<<"$err")" = 1 ] || fail "more than one notice for one file: $err"
grep -qE "FAIL .*cannot fetch http://127.0.0.1:$port/debian/dists/trixie/InRelease: nothing received for 2 s after [0-9]+ attempts in [0-9.]+ s" <<<"$err" \
    || fail "the error does not name the mirror and the time: $err"
# Schemes dmc does not speak are refused before any connection.
conns_before=$(wc -l <"$port_file.conns")
start=$(date +%s)
expect_fail 2 "option -M='ftp://127.0.0.1:$port/debian' must be an http://, https:// or file:// URL \(dmc does not fetch ftp://\)" \
    -- "$DMC" -M "ftp://127.0.0.1:$port/debian" -a setup -A amd64
printf 'mirrors:\n  - url: gopher://127.0.0.1:%s/debian\n' "$port" >"$work/gopher.yaml"
expect_fail 1 "gopher.yaml:2: key 'mirrors.url' must be an http" -- "$DMC" --config "$work/gopher.yaml" -a setup -A amd64
[ "$(wc -l <"$port_file.conns")" = "$conns_before" ] || fail "dmc connected to an ftp:// mirror"
[ $(($(date +%s) - start)) -lt 5 ] || fail "refusing an ftp:// mirror took too long"
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=
pass "a stalled mirror fails in $took s with a notice; ftp:// is refused at once"

# --- 3. plugin directories that are not what they seem -----------------------------
pd=$work/plugins
mkdir -p "$pd"
mkfifo "$pd/fifo.so"
ln -s loop-b.so "$pd/loop-a.so"
ln -s loop-a.so "$pd/loop-b.so"
out=$(timeout 20 "$DMC" --plugin-dir "$pd" --plugin-dir "$work/no-such-dir" -t nginx -A amd64 -l 2>&1) \
    || fail "dmc with a FIFO in a plugin directory: exit $?, $out"
grep -q "WARNING plugin $pd/fifo.so skipped: not a regular file" <<<"$out" || fail "fifo: $out"
grep -q "WARNING plugin $pd/loop-a.so skipped: Too many levels of symbolic links" <<<"$out" || fail "loop: $out"
grep -q "WARNING plugin directory $work/no-such-dir does not exist, skipped" <<<"$out" || fail "missing dir: $out"
grep -q "nginx.amd64.prepare" <<<"$out" || fail "dmc did not go on: $out"
if [ "$(id -u)" = 0 ] && command -v runuser >/dev/null; then
    cp "$DMC_BINARY_DIR/test-plugins/external/hello.so" "$pd/unreadable.so"
    chmod 000 "$pd/unreadable.so"
    chmod 755 "$work" "$pd"
    out=$(cd / && runuser -u nobody -- env HOME=/nonexistent DMC_CACHEDIR=/tmp "$DMC" --plugin-dir "$pd" -l -t nginx -A amd64 2>&1) \
        || fail "as nobody: $out"
    grep -q "WARNING plugin $pd/unreadable.so skipped: Permission denied" <<<"$out" || fail "unreadable: $out"
fi
pass "FIFOs, symlink loops, unreadable files and missing plugin directories are named and skipped"

# --- 4. numbers, one strict rule ---------------------------------------------------
expect_fail 2 "DMC_RETRIES='1e9' must be a number between 0 and 20" -- env DMC_RETRIES=1e9 "$DMC" -l
expect_fail 2 "DMC_RETRIES='3abc' must be a number between 0 and 20" -- env DMC_RETRIES=3abc "$DMC" -l
printf 'retries: 1e9\n' >"$work/retries.yaml"
expect_fail 1 "retries.yaml:1: key 'retries' must be a number between 0 and 20, not '1e9'" -- "$DMC" --config "$work/retries.yaml" -l
expect_fail 2 "SOURCE_DATE_EPOCH='-1' must be a number between 0 and" -- env SOURCE_DATE_EPOCH=-1 "$DMC" -l
expect_fail 2 "SOURCE_DATE_EPOCH='abc' must be a number" -- env SOURCE_DATE_EPOCH=abc "$DMC" -l
expect_fail 2 "DMC_REGISTRY_CHUNK_SIZE='12MB' must be a number" -- env DMC_REGISTRY_CHUNK_SIZE=12MB "$DMC" -l
pass "numbers are parsed whole and in range, from the environment and the config file alike"

# --- 5. repeats --------------------------------------------------------------------
printf 'archs: [amd64, amd64, amd64]\n' >"$work/dup.yaml"
for how in "--config $work/dup.yaml" "-A amd64,amd64"; do
    # shellcheck disable=SC2086
    n=$("$DMC" $how -t nginx -l | grep -c 'nginx.amd64.prepare')
    [ "$n" = 1 ] || fail "$how lists nginx.amd64.prepare $n times"
done
n=$(DMC_ARCHS=amd64,amd64 "$DMC" -t nginx -l | grep -c 'nginx.amd64.prepare')
[ "$n" = 1 ] || fail "DMC_ARCHS lists nginx.amd64.prepare $n times"
printf 'dist: trixie\narchs: [amd64]\ndist: sid\n' >"$work/twice.yaml"
expect_fail 1 "twice.yaml:3: key 'dist' is given twice \(lines 1 and 3\); keep one" -- "$DMC" --config "$work/twice.yaml" -l
pass "repeated archs are one arch from every source; a key given twice names both lines"

# --- 6. a chain deeper than the resolver's limit, and long errors ------------------
make_key "$work/key"
{
    printf 'Package: top\nVersion: 1\nArchitecture: amd64\nDepends: p0\nFilename: pool/top.deb\nSize: 1\n\n'
    for i in $(seq 0 5999); do
        printf 'Package: p%d\nVersion: 1\nArchitecture: amd64\nDepends: p%d\nFilename: pool/p%d.deb\nSize: 1\n\n' "$i" $((i + 1)) "$i"
    done
    printf 'Package: p6000\nVersion: 1\nArchitecture: amd64\nFilename: pool/p6000.deb\nSize: 1\n\n'
    alternatives=$(for i in $(seq 1 60); do printf 'a-package-that-does-not-exist-anywhere-%03d | ' "$i"; done)
    printf 'Package: wide\nVersion: 1\nArchitecture: amd64\nDepends: %s nothing\nFilename: pool/wide.deb\nSize: 1\n\n' "$alternatives"
} >"$work/Packages"
PACKAGES_FILE=$work/Packages publish "$work/srv" chain "$work/key" amd64 main
printf 'dist: chain\nmirrors:\n  - url: file://%s\n    keyring: %s\n' "$work/srv" "$work/key/key.gpg" >"$work/chain.yaml"
err=$("$DMC" --config "$work/chain.yaml" -A amd64 -a resolve top 2>&1 >/dev/null) && fail "the deep chain resolved"
line=$(grep '^FAIL' <<<"$err" | grep -v 'resume with' || true)
grep -q "the dependencies of top form a chain deeper than 3000 packages, the resolver's limit" <<<"$line" \
    || fail "deep chain: $(head -c 600 <<<"$err")"
grep -q "not installable" <<<"$err" && fail "the limit was reported as a false diagnosis"
[ "${#line}" -lt 400 ] || fail "the deep-chain error is ${#line} characters long"
err=$("$DMC" --config "$work/chain.yaml" -A amd64 -a resolve wide 2>&1 >/dev/null) && fail "wide resolved"
line=$(grep '^FAIL' <<<"$err" | grep -v 'resume with' | head -1)
[ "${#line}" -lt 600 ] || fail "a console error line is ${#line} characters long"
grep -q "(cut: [0-9]* more characters; set LOG_dir to keep the whole text in a log file)" <<<"$line" || fail "cut: $line"
mkdir -p "$work/logs"
err=$(LOG_dir=$work/logs "$DMC" --config "$work/chain.yaml" -A amd64 -a resolve wide 2>&1 >/dev/null) && fail "wide resolved"
log=$(ls "$work"/logs/dmc-*.log)
grep -q "the whole text is in $log" <<<"$err" || fail "the cut line does not name the log: $err"
grep -q "a-package-that-does-not-exist-anywhere-060: no such package" "$log" || fail "the log lacks the whole text"
pass "the resolver's limit is named as such; long errors are cut on the console and whole in the log"

# --- 7. filesystem errors name their setting ---------------------------------------
touch "$work/a-file"
expect_fail 1 "^FAIL +cachedir $work/a-file cannot be used: it is not a directory; set cachedir \(DMC_CACHEDIR\) to a directory dmc can write$" \
    -- env DMC_CACHEDIR="$work/a-file" "$DMC" -t nginx -A amd64 -o 1
expect_fail 1 "builddir $work/a-file/build cannot be used: it cannot be created: $work/a-file is not a directory; set builddir \(DMC_BUILDDIR\)" \
    -- env DMC_BUILDDIR="$work/a-file/build" "$DMC" -t nginx -A amd64 -o 1
# Met halfway (a file where dmc makes a directory): still named after the setting.
mkdir -p "$work/b"
touch "$work/b/trixie"
err=$(DMC_BUILDDIR=$work/b "$DMC" -t nginx -A amd64 -o 1 2>&1) && fail "a file in the build directory was ignored"
grep -q "filesystem error" <<<"$err" && fail "a raw library message reached the user: $err"
grep -q "it is under builddir $work/b: check builddir (DMC_BUILDDIR)" <<<"$err" || fail "the setting is not named: $err"
# The innermost setting is named: the build directory inside the cache directory.
mkdir -p "$work/c/build"
touch "$work/c/build/trixie"
err=$(DMC_CACHEDIR=$work/c "$DMC" -t nginx -A amd64 -o 1 2>&1) && fail "a file in the build directory was ignored"
grep -q "it is under builddir $work/c/build: check builddir" <<<"$err" || fail "not the innermost setting: $err"
pass "filesystem errors name the setting and what to do"
