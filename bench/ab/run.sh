#!/usr/bin/env bash
# Two builds of scimd, A and B, on one fresh database, served in turn, ROUNDS rounds (A then B, then B then A,
# so that a drift of the machine does not favour one): creates (POST /Users) for DURATION, then the IdP's
# `userName eq` lookups for DURATION, each with wrk (bench/http/*.lua) and p99. A change's figure of record is
# B / A within a round. Default settings except the benchmark org's raised limits (`unlimit`, bench/lib.sh).
# Figures go to BENCHMARKS.md ("Before and after: PostgreSQL round trips").
# Usage: SCIMD_A=path SCIMD_B=path [DATABASE_URL=...] [ROUNDS=3] bench/ab/run.sh [CONNECTIONS] [DURATION]
# (DATABASE_URL: a fresh PostgreSQL database, `createdb -h 127.0.0.1 -U postgres NAME`; default a fresh SQLite
# file.) Both builds must share the schema: B migrates it, so A must not be older than B's last migration.
set -euo pipefail
cd "$(dirname "$0")/../.."
conns=${1:-16}
dur=${2:-10s}
rounds=${ROUNDS:-3}
: "${SCIMD_A:?the A build (SCIMD_A=path)}" "${SCIMD_B:?the B build (SCIMD_B=path)}"
. bench/lib.sh
SCIMD_BIN=$SCIMD_B fresh_work target/bench-ab
export DATABASE_URL="${DATABASE_URL:-sqlite://$PWD/$work/scimd.db}"
"$scimd" migrate >/dev/null
new_org Bench bench-client-secret
export TOKEN=$(new_token "$org")
unlimit "$org"
export BASE="/scim/v2/$org"
lua=bench/http

# The users the lookups look up: a first batch made before the rounds, by B.
serve
RUN=1 wrk -t2 -c"$conns" -d5s -s $lua/create.lua "$url" >/dev/null
python3 $lua/tool.py dump "$url$BASE" "$TOKEN" "$work/names.txt" "$work/ids.txt"
kill "$server"; wait "$server" 2>/dev/null || true
echo "users to look up: $(wc -l <"$work/names.txt")"

arm() { # arm NAME BINARY RUN
    scimd=$2
    serve
    echo "== round $round, $1 ($2): creates, $conns connections, $dur"
    RUN=$3 wrk -t2 -c"$conns" -d"$dur" --latency -s $lua/create.lua "$url" | grep -E "Requests/sec|99%|non-2xx"
    echo "== round $round, $1: userName eq lookups, $conns connections, $dur"
    NAMES="$work/names.txt" wrk -t2 -c"$conns" -d"$dur" --latency -s $lua/lookup.lua "$url" |
        grep -E "Requests/sec|99%|non-2xx"
    kill "$server"; wait "$server" 2>/dev/null || true
}
for round in $(seq 1 "$rounds"); do
    echo "load: $(uptime)"
    if [ $((round % 2)) = 1 ]; then
        arm A "$SCIMD_A" $((round * 10 + 1)); arm B "$SCIMD_B" $((round * 10 + 2))
    else
        arm B "$SCIMD_B" $((round * 10 + 2)); arm A "$SCIMD_A" $((round * 10 + 1))
    fi
done
