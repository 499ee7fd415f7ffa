#!/usr/bin/env bash
# Noisy-neighbour benchmark of the per-org limits: org B reads at a normal pace (driver.py, 20 req/s) while
# org A floods (wrk, 2 threads, 32 connections; once at about 60 times its limit, once as fast as wrk can),
# and B's p99 is printed with and without the flood, with
# A's and B's status counts. Loopback only; about 60 s. Usage: bench/limits/run.sh [DATABASE_URL]
# (default: a fresh SQLite file; for PostgreSQL give a fresh database: createdb -h 127.0.0.1 -U postgres NAME).
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/lib.sh
fresh_work target/bench-limits
export DATABASE_URL="${1:-sqlite://$PWD/$work/scimd.db}"

org_with_token() {
    local org
    new_org "$1" bench-client-secret
    echo "$org $(new_token "$org")"
}
read -r org_a token_a < <(org_with_token "Flooder")
read -r org_b token_b < <(org_with_token "Neighbour")

serve

echo "== org B alone (20 req/s, 15 s)"
python3 bench/limits/driver.py "$url/scim/v2/$org_b/Users?count=10" "$token_b" 20 15 | tee "$work/alone.txt"

# flood NAME DELAY_MS: B's 15 s at its pace while A floods (wrk -t2 -c32; DELAY_MS between each connection's
# requests, 0 for as fast as wrk can).
flood() {
    echo "== org B while org A floods ($1: wrk -t2 -c32, ${2} ms between a connection's requests)"
    TOKEN="$token_a" DELAY_MS=$2 wrk -t2 -c32 -d18s -s bench/limits/flood.lua "$url/scim/v2/$org_a/Users?count=10" \
        >"$work/flood-$1.txt" &
    local pid=$!
    sleep 2 # let the flood reach its steady state before B's measurement starts
    python3 bench/limits/driver.py "$url/scim/v2/$org_b/Users?count=10" "$token_b" 20 15 | tee "$work/flooded-$1.txt"
    wait "$pid"
    grep -E "Requests/sec|responses" "$work/flood-$1.txt"
}
# 60 times A's limit: the isolation figure. Then as fast as wrk can: on a 2-core machine that saturates both
# cores (the load tool's own share included), which measures the machine rather than the limits.
flood paced 10
flood saturating 0
echo "B p99 alone:               $(grep p99 "$work/alone.txt")"
echo "B p99, A at ~60x its limit: $(grep p99 "$work/flooded-paced.txt")"
echo "B p99, A saturating:        $(grep p99 "$work/flooded-saturating.txt")"
