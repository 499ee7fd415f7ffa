# Shared by the benchmarks (bench/*/run.sh) and .ci/scim_compliance.sh, sourced from the repository's root:
# a release scimd, orgs with an Azure AD SSO connection and a SCIM token made through the CLI as an operator
# would, and the server on a free loopback port. The helpers set globals (not `$(...)`), so `set -e` still
# stops the script when a CLI call fails.

# fresh_work DIR: an empty work directory in $work and a release build of scimd in $scimd.
# With SCIMD_BIN set, that build is used instead (a benchmark of a committed build, run from another tree).
fresh_work() {
    work=$1
    rm -rf "$work" && mkdir -p "$work"
    if [ -n "${SCIMD_BIN:-}" ]; then
        scimd=$SCIMD_BIN
    else
        cargo build --release --bin scimd
        scimd=target/release/scimd
    fi
}

# json_field NAME: the field NAME of the JSON object on stdin.
json_field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

# new_org NAME CLIENT_SECRET: an org with an Azure AD SSO connection; its id in $org.
new_org() {
    org=$("$scimd" org create --name "$1" --json | json_field id)
    SCIMD_AZURE_CLIENT_SECRET=$2 "$scimd" sso set-azure --org "$org" \
        --tenant-id 11111111-2222-3333-4444-555555555555 --client-id 11111111-2222-3333-4444-666666666666 >/dev/null
}

# new_token ORG: prints a fresh SCIM token of ORG.
new_token() { "$scimd" token generate --org "$1" --json | json_field token; }

# unlimit ORG: the benchmarks measure what the server does for one org at full load; at the default per-org
# limit (50/s) they would measure the limit. An operator raises a big tenant's limit the same way (README, Limits).
unlimit() { "$scimd" org limits --org "$1" --rate 1000000 --burst 1000000 --in-flight 64 >/dev/null; }

# keys_for_postgres: on PostgreSQL, serve needs its keys from outside the database; they are given as
# production gives them (files), made once per work directory, for every process and command after it.
keys_for_postgres() {
    case "${DATABASE_URL:-}" in
        postgres*)
            [ -f "$work/secret.key" ] || "$scimd" keys generate >"$work/secret.key"
            [ -f "$work/session.key" ] || "$scimd" keys generate >"$work/session.key"
            export SCIMD_SECRET_KEY_FILE="$PWD/$work/secret.key" SCIMD_SESSION_SIGNING_KEY_FILE="$PWD/$work/session.key"
            ;;
    esac
}

# serve: scimd serve on a free loopback port, logging to $work/server.log, stopped when the script exits;
# returns once it listens (or prints the log and exits), with its address in $url and its pid in $server.
serve() {
    keys_for_postgres
    local port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    SCIMD_BIND="127.0.0.1:$port" SCIMD_NO_BOOTSTRAP=true "$scimd" serve >"$work/server.log" 2>&1 &
    server=$!
    trap 'kill "$server" 2>/dev/null || true' EXIT
    for _ in $(seq 1 100); do grep -q "listening" "$work/server.log" && break; sleep 0.1; done
    grep -q "listening" "$work/server.log" || { cat "$work/server.log"; exit 1; }
    url="http://127.0.0.1:$port"
}
