# What the benchmark scripts share; source it first:  source "$(dirname "$0")/lib.sh"
# Runs from the source tree with the dmc of BUILD_DIR ($1, default build/release), in a
# work directory removed at the end, with a fresh HOME and the console quiet.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build=$(realpath "${1:-build/release}")
dmc=$build/bin/dmc
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOME=$work/home OUT_level=ERROR
measure() { python3 bench/measure.py "$@"; }
needs() { # COMMAND PACKAGE: installs PACKAGE from Debian when COMMAND is missing
    command -v "$1" >/dev/null || apt-get install -y -q --no-install-recommends "$2" >/dev/null
}
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GB; $(date -u +%F)"
