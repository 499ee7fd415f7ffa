#!/usr/bin/env bash
# The IdP's hottest request, `GET /Users?filter=userName eq "..."`, served in one run by three arms on the
# same machine and the same users: scimd (release, default settings, the benchmark org's raised limits), the
# ceiling (bench/ceiling: a bare actix-web + diesel handler on the same database, table and index), and SCIMMY
# (bench/ceiling/scimmy: the fastest peer, in memory, answering with its own filter engine and, as
# `scimmy-map`, from a map by userName; skipped when node or its `npm ci` is missing). ROUNDS rounds of each,
# in turn. Figures go to BENCHMARKS.md ("The lookup against its ceiling").
# Usage: [DATABASE_URL=...] [ROUNDS=3] [USERS_FOR=10s] [SCIMD_BIN=...] [CEILING_BIN=...] bench/ceiling/run.sh [CONNECTIONS] [DURATION]
set -euo pipefail
cd "$(dirname "$0")/../.."
conns=${1:-16}
dur=${2:-10s}
rounds=${ROUNDS:-3}
. bench/lib.sh
fresh_work target/bench-ceiling
# CEILING_BIN: a ceiling built already (as SCIMD_BIN for scimd), e.g. in the same target directory.
if [ -n "${CEILING_BIN:-}" ]; then
    ceiling=$CEILING_BIN
else
    cargo build --release --bin scimd-ceiling
    ceiling=target/release/scimd-ceiling
fi
export DATABASE_URL="${DATABASE_URL:-sqlite://$PWD/$work/scimd.db}"
"$scimd" migrate >/dev/null
new_org Bench bench-client-secret
export TOKEN=$(new_token "$org")
unlimit "$org"
serve
lua=bench/http
export BASE="/scim/v2/$org"
RUN=1 wrk -t2 -c"$conns" -d"${USERS_FOR:-10s}" -s $lua/create.lua "$url" >/dev/null
python3 $lua/tool.py dump "$url$BASE" "$TOKEN" "$work/names.txt" "$work/ids.txt"
echo "users in the org: $(wc -l <"$work/names.txt")"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() { for _ in $(seq 1 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; echo "$2 did not start"; exit 1; }

cport=$(free_port)
CEILING_BIND="127.0.0.1:$cport" "$ceiling" >"$work/ceiling.log" 2>&1 &
ceiling_pid=$!
arms="scimd ceiling"
scimmy_dir=bench/ceiling/scimmy
if command -v node >/dev/null && [ -d "$scimmy_dir/node_modules" ]; then
    sport=$(free_port)
    NAMES="$PWD/$work/names.txt" PORT=$sport node "$scimmy_dir/server.js" >"$work/scimmy.log" 2>&1 &
    scimmy_pid=$!
    mport=$(free_port)
    LOOKUP=map NAMES="$PWD/$work/names.txt" PORT=$mport node "$scimmy_dir/server.js" >"$work/scimmy-map.log" 2>&1 &
    scimmy_map_pid=$!
    arms="$arms scimmy scimmy-map"
else
    echo "SCIMMY skipped: run \`npm ci\` in $scimmy_dir (needs node)"
fi
trap 'kill "$server" "$ceiling_pid" ${scimmy_pid:-} ${scimmy_map_pid:-} 2>/dev/null || true' EXIT
wait_for "http://127.0.0.1:$cport/" ceiling
if [ -n "${sport:-}" ]; then
    wait_for "http://127.0.0.1:$sport/" scimmy
    wait_for "http://127.0.0.1:$mport/" scimmy-map
fi

base_of() {
    case $1 in
        scimd) echo "$url $BASE" ;;
        ceiling) echo "http://127.0.0.1:$cport $BASE" ;;
        scimmy) echo "http://127.0.0.1:$sport /scim" ;;
        scimmy-map) echo "http://127.0.0.1:$mport /scim" ;;
    esac
}
first=$(head -1 "$work/names.txt")
for arm in $arms; do
    read -r host base < <(base_of "$arm")
    size=$(curl -s -H "Authorization: Bearer $TOKEN" "$host$base/Users?filter=userName%20eq%20%22$first%22" | wc -c)
    echo "$arm: one lookup's body is $size bytes"
done
for round in $(seq 1 "$rounds"); do
    for arm in $arms; do
        read -r host base < <(base_of "$arm")
        echo "== round $round, $arm: userName eq lookup, $conns connections, $dur"
        BASE=$base NAMES="$work/names.txt" wrk -t2 -c"$conns" -d"$dur" --latency -s $lua/lookup.lua "$host" |
            grep -E "Requests/sec|99%|non-2xx"
    done
done
