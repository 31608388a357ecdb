#!/bin/bash
# Prints what `apt-get install` would choose on an empty system from one Packages file,
# as sorted "name version arch" lines: the reference the dmc resolver is compared with.
#
# usage: apt_simulate.sh [--recommends] [--suggests] [--foreign ARCH]...
#                        PACKAGES_FILE ARCH PKG...
#   PACKAGES_FILE  a Packages index (.xz and .gz are decompressed here); for foreign
#                  architectures, the indexes of all architectures concatenated
#   ARCH           the native architecture (need not be this machine's)
#
# apt runs fully isolated from the host: its own config (APT_CONFIG, read before
# /etc/apt/apt.conf.d, so that directory is never read), an empty dpkg status, an empty
# lists/cache tree and a flat file: repository; nothing outside a temporary directory
# is written. APT_SIMULATE_DEBUG=1 adds apt's trace of its choices on stderr.
set -euo pipefail

recommends=false
suggests=false
foreign=()
while [[ $# -gt 0 && $1 == --* ]]; do
    case $1 in
        --recommends) recommends=true ;;
        --suggests) suggests=true ;;
        --foreign) foreign+=("$2"); shift ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
if [[ $# -lt 3 ]]; then
    echo "usage: $0 [--recommends] [--suggests] [--foreign ARCH]... PACKAGES_FILE ARCH PKG..." \
        >&2
    exit 2
fi
packages_file=$1
arch=$2
shift 2

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/repo" "$work/state/lists/partial" "$work/cache/archives/partial" \
    "$work/etc/apt.conf.d" "$work/etc/preferences.d" "$work/etc/sources.list.d" \
    "$work/etc/trusted.gpg.d" "$work/log"
: > "$work/state/status"
case $packages_file in
    *.xz) xz -dc "$packages_file" > "$work/repo/Packages" ;;
    *.gz) gzip -dc "$packages_file" > "$work/repo/Packages" ;;
    *) cp "$packages_file" "$work/repo/Packages" ;;
esac
archs=$arch
arch_list="\"$arch\";"
for a in "${foreign[@]}"; do
    archs+=",$a"
    arch_list+=" \"$a\";"
done
echo "deb [trusted=yes arch=$archs] file:$work/repo ./" > "$work/etc/sources.list"

cat > "$work/apt.conf" <<CONF
Dir "/";
Dir::Etc "$work/etc";
Dir::Etc::main "/dev/null";
Dir::Etc::parts "$work/etc/apt.conf.d";
Dir::Etc::SourceList "$work/etc/sources.list";
Dir::Etc::SourceParts "$work/etc/sources.list.d";
Dir::Etc::Preferences "/dev/null";
Dir::Etc::PreferencesParts "$work/etc/preferences.d";
Dir::Etc::TrustedParts "$work/etc/trusted.gpg.d";
Dir::State "$work/state";
Dir::State::status "$work/state/status";
Dir::State::Lists "$work/state/lists";
Dir::State::extended_states "$work/state/extended_states";
Dir::Cache "$work/cache";
Dir::Log "$work/log";
Debug::NoLocking "true";
APT::Architecture "$arch";
APT::Architectures { $arch_list };
APT::Install-Recommends "$recommends";
APT::Install-Suggests "$suggests";
Acquire::Languages "none";
Acquire::AllowInsecureRepositories "true";
APT::Sandbox::User "root";
CONF
export APT_CONFIG="$work/apt.conf"

apt-get -q update > "$work/update.log" 2>&1 || { cat "$work/update.log" >&2; exit 1; }
# APT_SIMULATE_DEBUG=1 shows apt's own trace of its choices on stderr.
debug=()
if [[ -n ${APT_SIMULATE_DEBUG:-} ]]; then
    debug=(-o Debug::pkgDepCache::Marker=1 -o Debug::pkgDepCache::AutoInstall=1
        -o Debug::pkgAutoRemove=1)
fi
# apt may fail after choosing, while ordering the unpacks (a Pre-Depends cycle gives
# "E: Conf Broken"): the choice is still what is wanted, so a failure only counts when
# nothing was chosen.
if ! apt-get -q -s "${debug[@]}" install "$@" > "$work/install.log" 2>&1; then
    if ! grep -q '^Inst ' "$work/install.log"; then
        cat "$work/install.log" >&2
        exit 1
    fi
    grep '^E: ' "$work/install.log" >&2 || true
fi
if [[ -n ${APT_SIMULATE_DEBUG:-} ]]; then grep -v '^Inst \|^Conf ' "$work/install.log" >&2; fi
# "Inst name (version origin [arch])", with " []" after it when apt has to order around
# Breaks; every Inst line must be understood.
inst='^Inst \([^ :]*\)\(:[^ ]*\)\? (\([^ ]*\) .*\[\([^]]*\)\])\( .*\)\?$'
sed -n "s/$inst/\\1 \\3 \\4/p" "$work/install.log" | sort > "$work/result"
if [[ $(grep -c '^Inst ' "$work/install.log") != $(wc -l < "$work/result") ]]; then
    echo "apt_simulate.sh: unexpected Inst lines:" >&2
    grep '^Inst ' "$work/install.log" >&2
    exit 1
fi
cat "$work/result"
