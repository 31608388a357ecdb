# Small helpers for the script tests.
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
