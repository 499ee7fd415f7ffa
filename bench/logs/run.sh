#!/usr/bin/env bash
# The cost of the request log (one `info` line per request, the default) on the hottest request, the IdP's
# userName lookup: the same release scimd and database, served in turn with the default log level and with
# RUST_LOG=warn (no per-request line), ROUNDS rounds of each, in one run. The log goes to a file, as a
# deployment's collector would take it. Figures go to BENCHMARKS.md ("The request log").
# Usage: [DATABASE_URL=...] [ROUNDS=3] bench/logs/run.sh [CONNECTIONS] [DURATION]
set -euo pipefail
cd "$(dirname "$0")/../.."
conns=${1:-16}
dur=${2:-10s}
rounds=${ROUNDS:-3}
. bench/lib.sh
fresh_work target/bench-logs
export DATABASE_URL="${DATABASE_URL:-sqlite://$PWD/$work/scimd.db}"
"$scimd" migrate >/dev/null
new_org Bench bench-client-secret
export TOKEN=$(new_token "$org")
unlimit "$org"
serve
export BASE="/scim/v2/$org"
lua=bench/http
RUN=1 wrk -t2 -c"$conns" -d5s -s $lua/create.lua "$url" >/dev/null
python3 $lua/tool.py dump "$url$BASE" "$TOKEN" "$work/names.txt" "$work/ids.txt"
kill "$server"; wait "$server" 2>/dev/null || true

for round in $(seq 1 "$rounds"); do
    for arm in info warn; do
        if [ "$arm" = warn ]; then export RUST_LOG=warn; else unset RUST_LOG; fi
        serve
        echo "== round $round, log level $arm: userName eq lookup, $conns connections, $dur"
        NAMES="$work/names.txt" wrk -t2 -c"$conns" -d"$dur" --latency -s $lua/lookup.lua "$url" |
            grep -E "Requests/sec|99%|non-2xx"
        echo "   log lines written: $(grep -c 'request finished' "$work/server.log" || true)"
        kill "$server"; wait "$server" 2>/dev/null || true
    done
done
