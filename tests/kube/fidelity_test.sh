#!/usr/bin/env bash
# The test API server held to the real kubectl (Debian's, fetched and unpacked by
# dmc's own archive client): tests/kube/kubectl_fidelity.sh.
set -euo pipefail
. "$DMC_SOURCE_DIR/tests/lib.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export DMC_CACHEDIR=${DMC_TEST_CACHE:-$DMC_BINARY_DIR/test-cache}
. "$DMC_SOURCE_DIR/tests/kube/lib.sh"
fetch_kubectl
KUBECTL=$KUBECTL bash "$DMC_SOURCE_DIR/tests/kube/kubectl_fidelity.sh"
