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
# A run's output is moved aside, not deleted, before the next run (all of it goes with
# the work directory at the end): on ext4 without a journal, as this machine's root
# filesystem is, every inode freed in the last minute makes each new inode cost a
# scan of the inode table (the kernel's recently_deleted), so deleting one run's
# tree just before the next would time the benchmark's own cleanup.
# $work/aside DIR...: moves each DIR that exists out of the way (a command, for the
# untimed steps of bench/compare.py too).
cat >"$work/aside" <<'SH'
#!/bin/sh
for d in "$@"; do
    [ ! -e "$d" ] || mv "$d" "$(mktemp -d "${d%/*}/.aside.XXXXXX")/"
done
SH
chmod +x "$work/aside"
needs() { # COMMAND PACKAGE: installs PACKAGE from Debian when COMMAND is missing
    command -v "$1" >/dev/null || apt-get install -y -q --no-install-recommends "$2" >/dev/null
}
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GB; $(date -u +%F)"
