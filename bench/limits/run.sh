#!/usr/bin/env bash
# Noisy-neighbour benchmark of the per-org limits: org B reads at a normal pace (driver.py, 20 req/s) while
# org A floods (wrk, 2 threads, 32 connections), and B's p99 is printed with and without the flood, with
# A's and B's status counts. Loopback only; about 40 s. Usage: bench/limits/run.sh [DATABASE_URL]
# (default: a fresh SQLite file; for PostgreSQL give a fresh database: createdb -h 127.0.0.1 -U postgres NAME).
set -euo pipefail
cd "$(dirname "$0")/../.."
work=target/bench-limits
rm -rf "$work" && mkdir -p "$work"
cargo build --release --bin scimd
scimd=target/release/scimd
export DATABASE_URL="${1:-sqlite://$PWD/$work/scimd.db}" RUST_LOG=warn

org_with_token() {
    local org
    org=$("$scimd" org create --name "$1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
    SCIMD_AZURE_CLIENT_SECRET=bench-client-secret "$scimd" sso set-azure --org "$org" \
        --tenant-id 11111111-2222-3333-4444-555555555555 --client-id 11111111-2222-3333-4444-666666666666 >/dev/null
    echo "$org $("$scimd" token generate --org "$org" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')"
}
read -r org_a token_a < <(org_with_token "Flooder")
read -r org_b token_b < <(org_with_token "Neighbour")

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
SCIMD_BIND="127.0.0.1:$port" SCIMD_NO_BOOTSTRAP=true "$scimd" serve >"$work/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do grep -q "listening" "$work/server.log" && break; sleep 0.1; done
grep -q "listening" "$work/server.log" || { cat "$work/server.log"; exit 1; }
url="http://127.0.0.1:$port"

echo "== org B alone (20 req/s, 15 s)"
python3 bench/limits/driver.py "$url/scim/v2/$org_b/Users?count=10" "$token_b" 20 15 | tee "$work/alone.txt"

echo "== org B while org A floods (wrk -t2 -c32)"
TOKEN="$token_a" wrk -t2 -c32 -d18s -s bench/limits/flood.lua "$url/scim/v2/$org_a/Users?count=10" >"$work/flood.txt" &
flood=$!
sleep 2 # let the flood reach its steady state before B's measurement starts
python3 bench/limits/driver.py "$url/scim/v2/$org_b/Users?count=10" "$token_b" 20 15 | tee "$work/flooded.txt"
wait "$flood"
grep -E "Requests/sec|responses" "$work/flood.txt"
echo "B p99 alone:   $(grep p99 "$work/alone.txt")"
echo "B p99 flooded: $(grep p99 "$work/flooded.txt")"
