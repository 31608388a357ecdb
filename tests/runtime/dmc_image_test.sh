#!/usr/bin/env bash
# dmc in the cluster: the dmc template packs the running dmc, its plugins, gpgv,
# the keyrings and the CA bundle into a micro image, and deploys a CronJob that
# runs the original tool's batch. The manifests validate (kubernetes-models); the
# CronJob's update step, run as the kubelet would run it (its numeric user, a
# read-only root, the cache on its claim, the registry credentials from their
# Secret), refreshes the signed archive indexes for real; its build step loads
# every template.
set -euo pipefail
. "$DMC_SOURCE_DIR/tests/lib.sh"
. "$DMC_SOURCE_DIR/tests/runtime/lib.sh"
. "$DMC_SOURCE_DIR/tests/kube/lib.sh"
need_root
start_work_with_registry
registry=127.0.0.1:$REG_PORT/team
codename=$(. /etc/os-release && echo "$VERSION_CODENAME")

expect_fail 1 "build the dmc image with -D $codename" -- "$DMC" -t dmc -A amd64 -D "$([ "$codename" = trixie ] && echo bookworm || echo trixie)"
"$DMC" -t dmc -A amd64 -D "$codename" -H "$registry" >"$work/build.out" 2>"$work/build.err" \
    || { tail -20 "$work/build.err"; fail "building and pushing the dmc image"; }
"$DMC" -a deploy -t dmc -A amd64 -D "$codename" -N builds --print "$work/manifests" 2>"$work/print.err" \
    || { cat "$work/print.err"; fail "--print the dmc objects"; }
ls "$work/manifests/dmc" >"$work/objects"
for kind in configmap persistentvolumeclaim serviceaccount role rolebinding cronjob; do
    grep -q -- "-$kind-dmc" "$work/objects" || fail "no $kind among the dmc objects: $(cat "$work/objects")"
done
cron=$(ls "$work"/manifests/dmc/*-cronjob-dmc.yaml)
grep -q 'concurrencyPolicy: Forbid' "$cron" || fail "the CronJob may run twice at once"
grep -q -- "- $registry" "$cron" || fail "the batch does not push to $registry"
grep -q 'secretName: dmc-registry' "$cron" || fail "no registry credentials from a Secret"
digest=sha256:$(skopeo inspect --tls-verify=false --raw "docker://$registry/dmc:latest" | sha256sum | cut -d' ' -f1)
grep -q "image: $registry/dmc@$digest" "$cron" || fail "the CronJob does not name the pushed digest"

validate_manifests "$work/validate.out" "$work/manifests" || { cat "$work/validate.out"; fail "the dmc manifests do not validate"; }
pass "the dmc image is pushed; its CronJob, claim, ServiceAccount, Role and binding validate: $(tail -1 "$work/validate.out")"

# The Role allows what dmc applies, and nothing to delete.
grep -q 'delete' "$(ls "$work"/manifests/dmc/*-role-dmc.yaml)" && fail "the Role allows deleting"
grep -q '^  - create$' "$(ls "$work"/manifests/dmc/*-role-dmc.yaml)" || fail "the Role cannot create what the batch applies first"

echo '{"auths":{"'"${registry%%/*}"'":{"auth":"dXNlcjpwdw=="}}}' >"$work/docker.json"
secret_args=(--secret "dmc-registry/.dockerconfigjson=$(cat "$work/docker.json")" --claim "dmc-cache=$work/cache")
bundle() {  # container id [extra pod_bundle options]
    local container=$1 id=$2; shift 2
    rm -rf "$work/bundle-$id"
    umoci unpack --image "$IMAGEDIR/dmc:latest-amd64" "$work/bundle-$id" >/dev/null || fail "umoci unpack dmc"
    python3 "$DMC_SOURCE_DIR/tests/runtime/pod_bundle.py" "$work/manifests" dmc "$container" \
        "$IMAGEDIR/dmc" latest-amd64 "$work/bundle-$id" none --host-network "${secret_args[@]}" "$@" >/dev/null \
        || fail "pod_bundle.py dmc/$container"
}
bundle update "dmc-update-$$"
runc run --bundle "$work/bundle-dmc-update-$$" "dmc-update-$$" >"$work/update.log" 2>&1 </dev/null \
    || { tail -20 "$work/update.log"; fail "the CronJob's update step failed under its securityContext"; }
runc delete -f "dmc-update-$$" >/dev/null 2>&1 || true
grep -q 'OK .*update.amd64' "$work/update.log" || { tail "$work/update.log"; fail "update did not refresh amd64"; }
ls "$work/cache/indexes" >/dev/null 2>&1 || find "$work/cache" -maxdepth 2 | head
[ "$(stat -c %u "$work/cache")" = 0 ] && [ -n "$(find "$work/cache" -user 10001 -print -quit)" ] \
    || fail "the cache claim holds nothing of uid 10001"
pass "the CronJob's update step refreshes the signed indexes as uid 10001 with a read-only root"

bundle build "dmc-build-$$" --arg=-l --arg=-g --arg=core,base,app --arg=-H "--arg=$registry"
runc run --bundle "$work/bundle-dmc-build-$$" "dmc-build-$$" >"$work/list.log" 2>&1 </dev/null \
    || { cat "$work/list.log"; fail "dmc in its image cannot list the batch"; }
runc delete -f "dmc-build-$$" >/dev/null 2>&1 || true
for t in nginx php mariadb adminer; do
    grep -q " $t.amd64.pack " "$work/list.log" || grep -q "$t.arm64.pack" "$work/list.log" \
        || { cat "$work/list.log"; fail "the batch in the image has no $t"; }
done
grep -q '\.push' "$work/list.log" || fail "the batch does not push"
pass "dmc in its image loads every template and plans the batch with its push"
