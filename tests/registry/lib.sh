# Registry tests: a real docker-registry (Debian's distribution registry) on
# 127.0.0.1, started and stopped by the test itself. Source after tests/lib.sh,
# with $work set to the test's temporary directory.

command -v docker-registry >/dev/null || fail "docker-registry is not installed (scripts/setup installs it)"
unset DMC_HOST DMC_REGISTRY_USER DMC_REGISTRY_PASSWORD DMC_REGISTRY_PASSWORD_FILE DMC_REGISTRY_CA \
      DMC_REGISTRY_CHUNK_SIZE DMC_INSECURE_REGISTRIES DMC_CONFIG OUT_level LOG_level LOG_dir || true
export HOME=$work/home DOCKER_CONFIG=$work/home/.docker DMC_CACHEDIR=${DMC_CACHEDIR:-$work/cache}
mkdir -p "$HOME"

_pids=()
cleanup_registry() {
    local p
    for p in "${_pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${_pids[@]}"; do wait "$p" 2>/dev/null || true; done
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_http URL [CURL ARGS...]: until anything answers over HTTP (any status), 10 s at most.
wait_http() {
    local url=$1 i; shift
    for i in $(seq 1 100); do
        curl -s -o /dev/null "$@" "$url" && return 0
        sleep 0.1
    done
    return 1
}

# start_registry NAME [auth-yaml-file] [tls CERT KEY]: a registry on a free port with
# its storage in $work/NAME.data (kept across restarts); sets REG_PORT and
# REG_PID, logs to $work/NAME.log. Restarting NAME reuses its port.
start_registry() {
    local name=$1 auth=${2:-} cert=${4:-} key=${5:-}
    local port_file=$work/$name.port
    [ -f "$port_file" ] || free_port >"$port_file"
    REG_PORT=$(cat "$port_file")
    {
        echo "version: 0.1"
        echo "log: {level: info, formatter: text}"
        echo "storage:"
        echo "  filesystem: {rootdirectory: $work/$name.data}"
        echo "  maintenance: {uploadpurging: {enabled: false}}"
        echo "http:"
        echo "  addr: 127.0.0.1:$REG_PORT"
        echo "  secret: dmc-test-secret"
        if [ -n "$cert" ]; then echo "  tls: {certificate: $cert, key: $key}"; fi
        if [ -n "$auth" ]; then cat "$auth"; fi
    } >"$work/$name.yml"
    docker-registry serve "$work/$name.yml" >>"$work/$name.log" 2>&1 &
    REG_PID=$!
    _pids+=("$REG_PID")
    local scheme=http
    [ -n "$cert" ] && scheme=https
    wait_http "$scheme://127.0.0.1:$REG_PORT/v2/" -k || { cat "$work/$name.log"; fail "registry $name did not start"; }
}

# start_token_server NAME USER PASSWORD [token_server.py options...]: a token server
# that grants USER, its key and certificate in $work/token.*, its log in
# $work/NAME-token.log; sets TOKEN_PORT and TOKEN_PID. Starting NAME again (after
# killing it) reuses its port.
start_token_server() {
    local name=$1 user=$2 password=$3
    shift 3
    [ -f "$work/token.key" ] || openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/token.key" \
        -out "$work/token.pem" -days 2 -subj /CN=dmc-test-token 2>/dev/null
    [ -f "$work/$name-token.port" ] || free_port >"$work/$name-token.port"
    TOKEN_PORT=$(cat "$work/$name-token.port")
    python3 "$DMC_SOURCE_DIR/tests/registry/token_server.py" --port "$TOKEN_PORT" --key "$work/token.key" \
        --cert "$work/token.pem" --user "$user" --password "$password" --log "$work/$name-token.log" "$@" &
    TOKEN_PID=$!
    _pids+=("$TOKEN_PID")
    wait_http "http://127.0.0.1:$TOKEN_PORT/token" || fail "the token server of $name did not start"
}

# start_token_registry NAME USER PASSWORD [token_server.py options...]: that token
# server and a registry NAME that takes its tokens; sets REG_PORT too.
start_token_registry() {
    start_token_server "$@"
    printf 'auth:\n  token:\n    realm: http://127.0.0.1:%s/token\n    service: dmc-test-registry\n    issuer: dmc-test-issuer\n    rootcertbundle: %s\n' \
        "$TOKEN_PORT" "$work/token.pem" >"$work/$1.auth"
    start_registry "$1" "$work/$1.auth"
}

# count LOG PATTERN: access-log lines of the registry matching an extended regex.
# start_proxy NAME UPSTREAM [proxy.py args]: tests/registry/proxy.py in front of
# UPSTREAM (HOST:PORT) on a free port, logging to $work/NAME.proxy.log; sets PROXY_PORT.
start_proxy() {
    local name=$1 upstream=$2
    shift 2
    PROXY_PORT=$(free_port)
    python3 "$DMC_SOURCE_DIR/tests/registry/proxy.py" --port "$PROXY_PORT" --upstream "$upstream" \
        --log "$work/$name.proxy.log" "$@" &
    _pids+=($!)
    wait_http "http://127.0.0.1:$PROXY_PORT/v2/" || fail "proxy $name did not start"
}

count() { grep -cE "$2" "$1" || true; }

# push_ok NAME [dmc args]: runs dmc, keeps stdout in $work/NAME.out and stderr in $work/NAME.err.
run_dmc() {
    local name=$1; shift
    "$DMC" "$@" >"$work/$name.out" 2>"$work/$name.err" || { cat "$work/$name.err" >&2; return 1; }
}

# A synthetic image layout at DIR/nginx (so that `-t nginx -a load` pushes it).
make_layout() {  # make_layout IMAGEDIR [mklayout args]
    local dir=$1; shift
    rm -rf "$dir/nginx"
    python3 "$DMC_SOURCE_DIR/tests/registry/mklayout.py" "$dir/nginx" "$@"
}

# same_blobs LAYOUT_A LAYOUT_B: both layouts hold the same set of blobs.
same_blobs() {
    diff <(ls "$1/blobs/sha256" | sort) <(ls "$2/blobs/sha256" | sort) >/dev/null
}
