#!/usr/bin/env bash
# The SCIM API load benchmark: a release scimd on loopback, driven by wrk (and tool.py for the single-request
# group figures), on a fresh SQLite file, or on the PostgreSQL database DATABASE_URL names (give a fresh, empty
# one: `createdb -h 127.0.0.1 -U postgres scimd_bench`; no manual ANALYZE). Figures go to BENCHMARKS.md
# ("SCIM API over HTTP"). Needs `wrk` (apt-get install -y wrk) and python3.
# Usage: [DATABASE_URL=...] bench/http/run.sh [CONNECTIONS] [DURATION]
set -euo pipefail
cd "$(dirname "$0")/../.."
conns=${1:-16}
dur=${2:-15s}
. bench/lib.sh
fresh_work target/bench-http
export DATABASE_URL="${DATABASE_URL:-sqlite://$PWD/$work/scimd.db}"
"$scimd" migrate >/dev/null

new_org Bench bench-client-secret
export TOKEN=$(new_token "$org")
unlimit "$org"
# The safety valve stays on (the default): the users below are created by this run, within the valve's hour,
# so their deactivation does not count towards it (the scale benchmark measures the counted path).

serve
export BASE="/scim/v2/$org"
lua=bench/http

echo "== create users (POST /Users), $conns connections, $dur"
RUN=1 wrk -t2 -c"$conns" -d"$dur" --latency -s $lua/create.lua "$url"
run=2
while [ "$(python3 $lua/tool.py total "$url$BASE" "$TOKEN")" -lt 102000 ]; do
    RUN=$run wrk -t2 -c"$conns" -d10s -s $lua/create.lua "$url" >/dev/null
    run=$((run + 1))
done
echo "users in the org: $(python3 $lua/tool.py total "$url$BASE" "$TOKEN")"
python3 $lua/tool.py dump "$url$BASE" "$TOKEN" "$work/names.txt" "$work/ids.txt"

echo "== userName eq lookup, $conns connections, $dur"
NAMES="$work/names.txt" wrk -t2 -c"$conns" -d"$dur" --latency -s $lua/lookup.lua "$url"

echo "== page at startIndex=1 (count=100)"
START=1 wrk -t2 -c"$conns" -d"$dur" --latency -s $lua/page.lua "$url"
echo "== page at startIndex=99901 (count=100)"
START=99901 wrk -t2 -c"$conns" -d"$dur" --latency -s $lua/page.lua "$url"

echo "== groups: adding 100 members"
python3 $lua/tool.py groups "$url$BASE" "$TOKEN" "$work/ids.txt"

echo "== PATCH deactivate (Okta path-less), $conns connections, $dur"
IDS="$work/ids.txt" THREADS=2 wrk -t2 -c"$conns" -d"$dur" --latency -s $lua/deactivate.lua "$url"
