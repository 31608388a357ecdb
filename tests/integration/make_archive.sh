# Builds small signed Debian archives for the archive tests. Source it; needs
# dpkg-deb, apt-ftparchive, gpg and xz.
#
#   make_key DIR                 a throwaway signing key in GNUPGHOME=DIR; DIR/key.gpg is
#                                its public key as a binary keyring, for gpgv
#   build_deb OUTDIR STAGE NAME VERSION ARCH [FIELD...]
#                                dpkg-deb --build of the files in STAGE, with a control
#                                file made of the fields given ("Depends: x (>= 1)")
#   add_to_pool ROOT COMPONENT DEB...
#                                copies the DEBs to ROOT/$POOL/COMPONENT/<first letter>/<name>/,
#                                as Debian lays them out (POOL defaults to "pool")
#   publish ROOT SUITE GNUPGHOME ARCHS COMPONENTS [-o OPTION]...
#                                indexes ROOT/$POOL/<component> into
#                                ROOT/dists/SUITE/<component>/binary-<arch>/Packages.xz,
#                                and the .dsc files under it into source/Sources.xz,
#                                writes Release and signs it as InRelease and Release.gpg;
#                                the options go to `apt-ftparchive release`; with
#                                PACKAGES_FILE set, that file is every Packages index;
#                                with GZIP_TOO set, Packages.gz is there too; with
#                                RELEASE_PADDING=N, N small Contents files under dists/SUITE/padding
#                                make the Release file as long as Debian's
#   stop_keys DIR...             stops the gpg-agents of the key directories
#   start_archive_server         archive_server.py serving $work/srv on 127.0.0.1, its
#                                requests logged to $work/requests; sets server_pid and
#                                base (http://127.0.0.1:PORT)
#   stop_archive_server          stops it, if it was started

make_key() {
    local home=$1
    mkdir -p "$home"
    chmod 700 "$home"
    GNUPGHOME=$home gpg --batch --quiet --passphrase '' \
        --quick-gen-key 'dmc test <t@example.invalid>' ed25519 sign never 2>/dev/null
    GNUPGHOME=$home gpg --batch --quiet --export >"$home/key.gpg"
    [ -s "$home/key.gpg" ] || { echo "make_key: no key in $home" >&2; return 1; }
}

stop_keys() {
    local home
    for home in "$@"; do
        [ -d "$home" ] && gpgconf --homedir "$home" --kill gpg-agent 2>/dev/null || true
    done
}

build_deb() {
    local out=$1 stage=$2 name=$3 version=$4 arch=$5
    shift 5
    mkdir -p "$out" "$stage/DEBIAN"
    {
        echo "Package: $name"
        echo "Version: $version"
        echo "Architecture: $arch"
        echo "Maintainer: dmc test <t@example.invalid>"
        local field
        for field in "$@"; do echo "$field"; done
        echo "Description: $name for the dmc archive tests"
    } >"$stage/DEBIAN/control"
    dpkg-deb --build --root-owner-group "$stage" "$out/${name}_${version}_${arch}.deb" >/dev/null
}

add_to_pool() {
    local root=$1 component=$2 deb name dir
    shift 2
    for deb in "$@"; do
        name=$(basename "$deb")
        name=${name%%_*}
        dir=$root/${POOL:-pool}/$component/${name:0:1}/$name
        mkdir -p "$dir"
        cp "$deb" "$dir/"
    done
}

publish() {
    local root=$1 suite=$2 gpghome=$3 archs=$4 components=$5
    shift 5
    local dists=$root/dists/$suite c a
    rm -rf "$dists"
    for c in $components; do
        mkdir -p "$root/${POOL:-pool}/$c"
        for a in $archs; do
            mkdir -p "$dists/$c/binary-$a"
            if [ -n "${PACKAGES_FILE:-}" ]; then
                cp "$PACKAGES_FILE" "$dists/$c/binary-$a/Packages"
            else
                (cd "$root" && apt-ftparchive --arch "$a" packages "${POOL:-pool}/$c" 2>/dev/null) \
                    >"$dists/$c/binary-$a/Packages"
            fi
            xz -k "$dists/$c/binary-$a/Packages"
            [ -z "${GZIP_TOO:-}" ] || gzip -kn "$dists/$c/binary-$a/Packages"
        done
        # Source packages (.dsc files in the pool) get a Sources index, as on Debian.
        if [ -n "$(find "$root/${POOL:-pool}/$c" -name '*.dsc' -print -quit)" ]; then
            mkdir -p "$dists/$c/source"
            (cd "$root" && apt-ftparchive sources "${POOL:-pool}/$c" 2>/dev/null) \
                >"$dists/$c/source/Sources"
            xz -k "$dists/$c/source/Sources"
        fi
    done
    if [ -n "${RELEASE_PADDING:-}" ]; then
        mkdir -p "$dists/padding"
        for ((i = 0; i < RELEASE_PADDING; i++)); do echo "$i" >"$dists/padding/Contents-$i"; done
    fi
    (cd "$root" && apt-ftparchive \
        -o APT::FTPArchive::Release::Origin=dmc-test \
        -o APT::FTPArchive::Release::Suite="$suite" \
        -o APT::FTPArchive::Release::Codename="$suite" \
        -o APT::FTPArchive::Release::Architectures="$archs" \
        -o APT::FTPArchive::Release::Components="$components" \
        "$@" release "dists/$suite") >"$root/.Release"
    mv "$root/.Release" "$dists/Release"
    # Like Debian: the Release file lists the uncompressed indexes, the mirror has only .xz.
    find "$dists" \( -name Packages -o -name Sources \) -delete
    GNUPGHOME=$gpghome gpg --batch --quiet --yes --clearsign -o "$dists/InRelease" "$dists/Release"
    GNUPGHOME=$gpghome gpg --batch --quiet --yes -abs -o "$dists/Release.gpg" "$dists/Release"
}

server_pid=
start_archive_server() {
    python3 "$(dirname "${BASH_SOURCE[0]}")/archive_server.py" "$work/srv" "$work/port" \
        "$work/requests" 2>"$work/server.log" &
    server_pid=$!
    local _
    for _ in $(seq 200); do
        [ -s "$work/port" ] && break
        sleep 0.05
    done
    [ -s "$work/port" ] || { echo "the archive server did not start: $(cat "$work/server.log")" >&2; return 1; }
    base=http://127.0.0.1:$(cat "$work/port")
}

stop_archive_server() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
}
