#!/usr/bin/env bash
# An independent engine runs what dmc pushed: the nginx image (amd64 and arm64
# in one index) goes to a loopback registry, podman pulls it (picking amd64 out
# of the index) and runs it with runc in a network namespace of the test's own,
# where it serves HTTP.
set -euo pipefail
source "$DMC_SOURCE_DIR/tests/lib.sh"
source "$DMC_SOURCE_DIR/tests/runtime/lib.sh"
need_root
command -v podman >/dev/null || fail "podman is not installed (scripts/setup installs it)"
work=$(mktemp -d)
ns=dmc-podman-$$
podman=(env -u DOCKER_CONFIG podman --root "$work/podman/root" --runroot "$work/podman/run" --storage-driver vfs
        --runtime runc --cgroup-manager=cgroupfs --events-backend file)
cleanup() {
    "${podman[@]}" rm -f -t 0 "$ns" >/dev/null 2>&1 || true
    "${podman[@]}" rmi -a -f >/dev/null 2>&1 || true
    cleanup_registry
    cleanup_containers
    rm -rf "$work"
}
trap cleanup EXIT
source "$DMC_SOURCE_DIR/tests/registry/lib.sh"
export DMC_BUILDDIR=$work/build

start_registry reg
host=127.0.0.1:$REG_PORT
run_dmc create -t nginx -A amd64,arm64 --imagedir "$work/images" -H "$host/dmc" || fail "dmc -t nginx -H failed"
ref=$(grep "^$host/dmc/nginx:latest@" "$work/create.out") || fail "no reference: $(cat "$work/create.out")"
pass "pushed $ref"

"${podman[@]}" pull -q --tls-verify=false "$host/dmc/nginx:latest" >"$work/pull.out" 2>"$work/pull.err" \
    || { cat "$work/pull.err"; fail "podman pull"; }
"${podman[@]}" image inspect --format '{{.Architecture}}' "$host/dmc/nginx:latest" | grep -qx amd64 \
    || fail "podman did not pick amd64"
pass "podman pulls the pushed index"

make_netns "$ns"
"${podman[@]}" run -d --name "$ns" --network "ns:/var/run/netns/$ns" --log-driver k8s-file \
    --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 "$host/dmc/nginx:latest" >"$work/run.out" 2>"$work/run.err" \
    || { cat "$work/run.err"; fail "podman run"; }
wait_for "$ns" curl -sf http://127.0.0.1:8080/ || { "${podman[@]}" logs "$ns" || true; fail "nginx does not answer"; }
page=$(ip netns exec "$ns" curl -s http://127.0.0.1:8080/)
grep -q 'Welcome to nginx' <<<"$page" || fail "not the default page: $page"
[ "$("${podman[@]}" inspect --format '{{.Config.User}}' "$ns")" = www-data ] || fail "not run as www-data"
pass "podman run serves the nginx default page"
