# Small helpers for the script tests.

# No cluster of the machine's (a kubeconfig, or the pod the tests may run in) may
# receive a deploy: tests that deploy name their own test server.
unset KUBECONFIG DMC_KUBECONFIG DMC_CONTEXT DMC_NAMESPACE KUBERNETES_SERVICE_HOST KUBERNETES_SERVICE_PORT || true
# Each test script has its own dmc.lock where a run has no config file next to it
# ($XDG_CONFIG_HOME/dmc/dmc.lock), fresh each time the script starts.
if [ -n "${DMC_BINARY_DIR:-}" ]; then
    export XDG_CONFIG_HOME=$DMC_BINARY_DIR/test-config/$(basename "$0" .sh)
    rm -rf "$XDG_CONFIG_HOME"
    mkdir -p "$XDG_CONFIG_HOME"
    chmod 1777 "$XDG_CONFIG_HOME"  # tests run dmc as nobody too
fi
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }
# expect_fail CODE PATTERN -- CMD...: CMD must exit with CODE and print PATTERN on one stderr line.
expect_fail() {
    local code=$1 pattern=$2; shift 3
    local err rc=0
    err=$("$@" 2>&1 >/dev/null) || rc=$?
    [ "$rc" = "$code" ] || fail "'$*' exited $rc, expected $code; stderr: $err"
    grep -qE -- "$pattern" <<<"$err" || fail "'$*' did not say /$pattern/; stderr: $err"
}

# fetch_client NAME: CLIENT, the program NAME (kubectl, cosign, oras) of Debian's
# package NAME for amd64 in trixie, fetched and unpacked with dmc's own archive
# client (the NAME template of tests/plugins) into $DMC_CACHEDIR/clients, once per
# cache. Needs $work.
fetch_client() {
    local name=$1 root=$DMC_CACHEDIR/clients found
    # A tree per package set: any one will do. A fresh cache has none: the glob
    # stays unexpanded and fails the -x test.
    for found in "$root"/trixie/amd64/"$name"/*/root/usr/bin/"$name"; do
        [ -x "$found" ] && { CLIENT=$found; return 0; }
    done
    DMC_ROOTFSDIR=$root DMC_BUILDDIR=$work/$name-build "$DMC" --plugin-dir "$DMC_TEST_PLUGINS/clients" \
        -t "$name" -A amd64 -D trixie -e "$name.amd64.rootfs" >"$work/$name-fetch.log" 2>&1 \
        || { tail "$work/$name-fetch.log"; fail "fetching $name from the archive"; }
    local set
    set=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tree"])' \
        "$work/$name-build/trixie/amd64/$name/rootfs.json")
    CLIENT=$root/trixie/amd64/$name/$set/root/usr/bin/$name
    [ -x "$CLIENT" ] || fail "no $name in $root"
}
