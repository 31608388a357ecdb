#!/usr/bin/env bash
# Authentication against a real docker-registry on loopback: htpasswd (bcrypt)
# Basic auth with credentials from the environment, a password file, Docker's
# config.json and a docker-credential helper; a wrong password; Bearer tokens
# from a token server, with a refused (expired) token renewed; and redirects
# that never carry the credentials to another origin.
set -euo pipefail
source "$DMC_SOURCE_DIR/tests/lib.sh"
work=$(mktemp -d)
trap 'cleanup_registry; rm -rf "$work"' EXIT
source "$DMC_SOURCE_DIR/tests/registry/lib.sh"
command -v htpasswd >/dev/null || fail "htpasswd is not installed (apache2-utils; scripts/setup installs it)"

user=dmc-tester password='s3cret:with spaces'
htpasswd -Bbn "$user" "$password" >"$work/htpasswd"
cat >"$work/basic.yml" <<EOF
auth:
  htpasswd: {realm: dmc-test, path: $work/htpasswd}
