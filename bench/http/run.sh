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
work=target/bench-http
rm -rf "$work" && mkdir -p "$work"
cargo build --release --bin scimd
scimd=target/release/scimd
export DATABASE_URL="${DATABASE_URL:-sqlite://$PWD/$work/scimd.db}" RUST_LOG=warn
"$scimd" migrate >/dev/null

org=$("$scimd" org create --name Bench --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
SCIMD_AZURE_CLIENT_SECRET=bench-client-secret "$scimd" sso set-azure --org "$org" \
    --tenant-id 11111111-2222-3333-4444-555555555555 --client-id 11111111-2222-3333-4444-666666666666 >/dev/null
export TOKEN=$("$scimd" token generate --org "$org" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
# The benchmark measures what the server does for one org at full load; at the default per-org limit (50/s)
# it would measure the limit. An operator raises a big tenant's limit the same way (README, Limits).
"$scimd" org limits --org "$org" --rate 1000000 --burst 1000000 --in-flight 64 >/dev/null
# The safety valve stays on (the default): the users below are created by this run, within the valve's hour,
# so their deactivation does not count towards it (the scale benchmark measures the counted path).

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
SCIMD_BIND="127.0.0.1:$port" SCIMD_NO_BOOTSTRAP=true "$scimd" serve >"$work/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do grep -q "listening" "$work/server.log" && break; sleep 0.1; done
grep -q "listening" "$work/server.log" || { cat "$work/server.log"; exit 1; }
url="http://127.0.0.1:$port"
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
