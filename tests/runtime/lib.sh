# Running built images for real: runc (as root) in a network namespace of the
# test's own, probed from inside that namespace. Source after tests/lib.sh.

# A cache shared by the tests of one build tree: content-addressed and safe for
# concurrent dmc processes, so the archive is downloaded once.
export DMC_CACHEDIR=${DMC_TEST_CACHE:-$DMC_BINARY_DIR/test-cache}

# start_work: a temporary $work removed, with the containers, on exit, and an
# environment where only the test's own settings reach dmc.
start_work() {
    work=$(mktemp -d)
    trap 'cleanup_containers; rm -rf "$work"' EXIT
    unset OUT_level LOG_level LOG_dir DMC_CONFIG SOURCE_DATE_EPOCH || true
    export HOME=$work/home DMC_BUILDDIR=$work/build
}

# start_work_with_registry: start_work, and a docker-registry on 127.0.0.1 (REG_PORT)
# for images that are pushed before they are deployed; no cluster is configured.
start_work_with_registry() {
    start_work
    . "$DMC_SOURCE_DIR/tests/registry/lib.sh"
    trap 'cleanup_containers; cleanup_registry; rm -rf "$work"' EXIT
    start_registry reg
    export IMAGEDIR=$work/images
}

need_root() { [ "$(id -u)" = 0 ] || { echo "SKIP: runtime tests need root for runc"; exit 77; }; }

_containers=()
_netns=()
cleanup_containers() {
    local c n
    for c in "${_containers[@]}"; do runc kill "$c" KILL >/dev/null 2>&1 || true; runc delete -f "$c" >/dev/null 2>&1 || true; done
    for n in "${_netns[@]}"; do ip netns del "$n" >/dev/null 2>&1 || true; done
}

# make_netns NAME: a network namespace with only loopback up.
make_netns() {
    ip netns add "$1"
    _netns+=("$1")
    ip -n "$1" link set lo up
}

# run_image LAYOUT:REF ID NETNS [/BIND_SRC:BIND_DST[:ro] | NAME=VALUE]... [-- ARGV...]
# Unpacks the image with umoci (once per ID) and starts it detached with runc, with
# bind mounts, extra environment variables and, after --, a whole new argv. Its
# output goes to $work/ID.log (appended, so restarts keep the earlier output).
run_image() {
    local ref=$1 id=$2 ns=$3; shift 3
    local bundle=$work/bundle-$id
    local binds=() args=()
    while [ $# -gt 0 ]; do
        if [ "$1" = -- ]; then shift; args=("$@"); break; fi
        binds+=("$1"); shift
    done
    [ -d "$bundle" ] || umoci unpack --image "$ref" "$bundle" >/dev/null || fail "umoci unpack $ref"
    python3 - "$bundle/config.json" "$ns" "${#args[@]}" "${args[@]}" "${binds[@]}" <<'PY'
import json, sys
path, ns, nargs = sys.argv[1], sys.argv[2], int(sys.argv[3])
args = sys.argv[4:4 + nargs]
binds = sys.argv[4 + nargs:]
c = json.load(open(path))
c["process"]["terminal"] = False
if args:
    c["process"]["args"] = args
env = [e for e in c["process"].get("env", []) if "=" in e]
for item in list(binds):
    if not item.startswith("/"):
        binds.remove(item)
        name = item.split("=", 1)[0]
        env = [e for e in env if not e.startswith(name + "=")] + [item]
c["process"]["env"] = env
c["mounts"] = [m for m in c["mounts"] if m.get("type") != "bind" or m["destination"] in ("/etc/resolv.conf",)]
for n in c["linux"]["namespaces"]:
    if n["type"] == "network":
        n["path"] = "/var/run/netns/" + ns
for b in binds:
    parts = b.split(":")
    opts = ["rbind", "ro" if len(parts) > 2 and parts[2] == "ro" else "rw"]
    c["mounts"].append({"destination": parts[1], "type": "bind", "source": parts[0], "options": opts})
json.dump(c, open(path, "w"))
PY
    runc run -d --bundle "$bundle" "$id" >>"$work/$id.log" 2>&1 </dev/null || { cat "$work/$id.log"; fail "runc run $id"; }
    _containers+=("$id")
}

# wait_for NETNS CMD...: retries CMD inside the namespace for up to 30 s.
wait_for() {
    local ns=$1; shift
    local i
    for i in $(seq 1 60); do
        if ip netns exec "$ns" "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.5
    done
    return 1
}

# stop_image ID [SIGNAL]: stops a container (SIGTERM by default), waits up to 20 s for
# it to exit, and removes it, so that the same ID can run again.
stop_image() {
    local id=$1 sig=${2:-TERM} i
    runc kill "$id" "$sig" >/dev/null 2>&1 || true
    for i in $(seq 1 40); do
        [ "$(container_status "$id")" = running ] || break
        sleep 0.5
    done
    local final
    final=$(container_status "$id")
    runc delete -f "$id" >/dev/null 2>&1 || true
    [ "$final" != running ] || return 1
}

container_status() { runc state "$1" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])' 2>/dev/null || echo gone; }

# run_pod_container MANIFEST_DIR WORKLOAD CONTAINER LAYOUT REF ID NETNS [pod_bundle.py options]:
# runs one container of a printed Deployment or StatefulSet as Kubernetes would,
# under its securityContext (tests/runtime/pod_bundle.py), detached, logging to $work/ID.log.
run_pod_container() {
    local manifests=$1 workload=$2 container=$3 layout=$4 ref=$5 id=$6 ns=$7; shift 7
    local bundle=$work/bundle-$id
    rm -rf "$bundle"
    umoci unpack --image "$layout:$ref" "$bundle" >/dev/null || fail "umoci unpack $layout:$ref"
    python3 "$DMC_SOURCE_DIR/tests/runtime/pod_bundle.py" "$manifests" "$workload" "$container" \
        "$layout" "$ref" "$bundle" "$ns" "$@" >/dev/null || fail "pod_bundle.py $workload/$container"
    runc run -d --bundle "$bundle" "$id" >>"$work/$id.log" 2>&1 </dev/null || { cat "$work/$id.log"; fail "runc run $id"; }
    _containers+=("$id")
}

# user_ids LAYOUT REF NAME: "uid:gid" of the user NAME in the image REF of the OCI
# layout LAYOUT, read from its /etc/passwd (ids a template takes from the packages).
user_ids() {
    python3 - "$1" "$2" "$3" <<'PY'
import json, sys, tarfile
layout, ref, name = sys.argv[1:4]
blob = lambda d: f"{layout}/blobs/{d.replace(':', '/')}"
index = json.load(open(f"{layout}/index.json"))
desc = next(m for m in index["manifests"] if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref)
layer = json.load(open(blob(desc["digest"])))["layers"][0]
with tarfile.open(blob(layer["digest"])) as t:
    for line in t.extractfile("etc/passwd").read().decode().splitlines():
        f = line.split(":")
        if f[0] == name:
            print(f"{f[2]}:{f[3]}")
PY
}
